"""What the response engine says when it notifies someone: a Notice for each trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fireline.clock import as_utc
from fireline.incidents.roles import holder
from fireline.models import Incident
from fireline.notify.notice import Notice
from fireline.notify.service import incident_ref
from fireline.response.triggers import Event, Trigger

ROLE_NAMES = {
    "commander": "incident commander",
    "tech_lead": "technical lead",
    "comms_lead": "communications lead",
    "scribe": "scribe",
    "sme": "subject-matter expert",
    "postmortem_owner": "postmortem owner",
}
OBLIGATION_NAMES = {
    "acknowledge": "the acknowledgement",
    "first_public_update": "the first public update",
    "public_update": "the next public update",
    "internal_update": "the internal stakeholder update",
    "exec_notice": "the exec notice",
    "post_incident_summary": "the post-incident summary",
    "postmortem_meeting": "the postmortem meeting",
    "postmortem_completion": "the postmortem",
}


def role_name(role: str) -> str:
    return ROLE_NAMES.get(role, role.replace("_", " "))


def _when(text: Any) -> str:
    try:
        instant = as_utc(datetime.fromisoformat(str(text)))
    except ValueError:
        return str(text)
    return instant.strftime("%Y-%m-%d %H:%M UTC")


def describe(incident: Incident, event: Event, *, base_url: str) -> Notice:
    """The notice for `event` on `incident` (severity, services and roles loaded)."""
    ref = incident.reference
    details = event.details
    headline, body = _headline(incident, event)
    facts: list[tuple[str, str]] = [
        ("Severity", incident.severity.key),
        ("Status", incident.status),
    ]
    commander = holder(incident, "commander")
    facts.append(("Commander", commander.user.name if commander else "nobody yet"))
    if incident.services:
        facts.append(("Services", ", ".join(service.name for service in incident.services)))
    if "due_at" in details:
        facts.append(("Due", _when(details["due_at"])))
    facts.append(("War room", incident.war_room))
    return Notice(
        event=event.trigger.value,
        headline=f"{ref}: {headline}",
        body=body,
        incident=incident_ref(incident, base_url),
        facts=tuple(facts),
    )


def _headline(incident: Incident, event: Event) -> tuple[str, str]:  # noqa: PLR0911 - one per trigger
    details = event.details
    impact = incident.customer_impact or incident.summary
    match event.trigger:
        case Trigger.INCIDENT_DECLARED:
            return f"{incident.severity.key} declared: {incident.title}", impact
        case Trigger.SEVERITY_CHANGED:
            change = f"severity changed from {details.get('from')} to {details.get('to')}"
            return f"{change}: {incident.title}", impact
        case Trigger.STATUS_CHANGED:
            return f"now {details.get('to')}: {incident.title}", impact
        case Trigger.ROLE_ASSIGNED:
            role = role_name(str(details.get("role", "")))
            return f"new {role}: {incident.title}", f"{details.get('user')} is now the {role}."
        case Trigger.OBLIGATION_DUE_SOON:
            what = OBLIGATION_NAMES.get(str(details.get("kind")), "an obligation")
            owner = role_name(str(details.get("owner_role", "")))
            due = _when(details.get("due_at"))
            body = f"Reminder for the {owner}: {what} of {incident.title} is due at {due}."
            return f"{what} is due at {due}", body
        case Trigger.OBLIGATION_MISSED:
            what = OBLIGATION_NAMES.get(str(details.get("kind")), "an obligation")
            owner = role_name(str(details.get("owner_role", "")))
            due = _when(details.get("due_at"))
            body = (
                f"{what.capitalize()} of {incident.title} was due at {due} and has not been "
                f"done (owner: the {owner})."
            )
            return f"missed: {what} was due at {due}", body
        case Trigger.TASK_OVERDUE:
            title = str(details.get("title", "a task"))
            return f"task overdue: {title}", (
                f"The task \u201c{title}\u201d was due at {_when(details.get('due_at'))}."
            )
