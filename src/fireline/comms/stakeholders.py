"""Internal stakeholder updates: the internal template of design.md §4 (time, current status,
impact, next update ETA) sent to audiences by email, webhook and Slack.

Sending one writes the `internal_update` timeline entry (meeting the internal-update clock)
and queues one durable delivery per recipient in the same transaction; an update that reaches
an executives audience is also the exec notice. When an incident whose severity asks for an exec
notice is declared, or raised to such a severity, `exec_notice_wanted` queues one
`comms.exec_notice` job, which sends the update composed from the seeded internal template to
every executives audience — once, however often the job runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.clock import as_utc
from fireline.comms.audiences import list_audiences
from fireline.comms.templates import fill
from fireline.config import Settings
from fireline.errors import InvalidInput, NotFound
from fireline.incidents.lifecycle import Status
from fireline.incidents.queries import get_incident
from fireline.incidents.recording import utc_text
from fireline.incidents.timeline import write_entry
from fireline.jobs.handlers import Handler, JobContext
from fireline.jobs.queue import enqueue
from fireline.models import (
    Audience,
    AudienceKind,
    Delivery,
    Incident,
    TimelineEntry,
    Transport,
    UpdateTemplate,
)
from fireline.notify.notice import Notice
from fireline.notify.render import render
from fireline.notify.service import incident_ref, queue_message
from fireline.response.clocks import ClockPolicy
from fireline.response.service import (
    EXEC_NOTICE_KIND,
    INTERNAL,
    UpdateParts,
    incident_facts,
    post_update,
)

EVENT = "stakeholder.update"
EXEC_NOTICE_JOB = "comms.exec_notice"
SEEDED_TEMPLATE = "Stakeholder update"
# Said of what the team is doing when the sender leaves it out.
DEFAULT_DOING_NOW = "The response team is working on it."
_QUIET = frozenset({Status.TRIAGE.value, Status.DECLINED.value})
_OVER = frozenset({Status.RESOLVED.value, Status.CLOSED.value})


@dataclass(frozen=True)
class Sent:
    """One delivery of an update, and the audience it was for."""

    audience: Audience
    delivery: Delivery


@dataclass(frozen=True)
class StakeholderUpdateResult:
    """What sending did: the `internal_update` entry, the audiences, a delivery per distinct
    recipient, and the `exec_notice` entry when an executives audience was among them."""

    entry: TimelineEntry
    audiences: list[Audience]
    sent: list[Sent]
    exec_notice: TimelineEntry | None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def subject(incident: Incident) -> str:
    """`[SEV1] INC-12 stakeholder update: Checkout down`, on one line."""
    return _one_line(
        f"[{incident.severity.key}] {incident.reference} stakeholder update: {incident.title}"
    )


def _facts(
    *,
    now: datetime,
    current_status: str,
    impact: str,
    doing_now: str,
    next_update_at: datetime | None,
) -> tuple[tuple[str, str], ...]:
    next_update = "none scheduled" if next_update_at is None else utc_text(next_update_at)
    return (
        ("Time", utc_text(now)),
        ("Current status", current_status),
        ("Impact", impact),
        ("What we are doing", doing_now),
        ("Next update", next_update),
    )


def _notice(incident: Incident, facts: tuple[tuple[str, str], ...], *, base_url: str) -> Notice:
    return Notice(
        event=EVENT,
        headline=f"{incident.reference} stakeholder update: {incident.title}",
        body="\n\n".join(f"{label}: {value}" for label, value in facts),
        incident=incident_ref(incident, base_url),
        facts=facts,
    )


def _message(transport: Transport, notice: Notice, incident: Incident) -> dict[str, Any]:
    message = render(transport, notice)
    if transport is Transport.EMAIL:
        message["subject"] = subject(incident)
    elif transport is Transport.WEBHOOK:  # the parts by name, for receivers that file them
        message["stakeholder_update"] = {
            _one_line(label).lower().replace(" ", "_"): value for label, value in notice.facts
        }
    return message


def _queue(
    session: Session,
    *,
    incident: Incident,
    audience: Audience,
    recipient: dict[str, Any],
    notice: Notice,
    key: str,
    now: datetime,
) -> Delivery:
    """A delivery to one audience recipient and its `notify.deliver` job; webhooks are signed
    with the audience's secret. The key names the update's timeline entry, so one update never
    queues the same delivery twice."""
    transport = Transport(recipient["transport"])
    return queue_message(
        session,
        event=notice.event,
        transport=transport,
        target=str(recipient["target"]),
        message=_message(transport, notice, incident),
        reason=f"Stakeholder update to the {audience.name} audience ({audience.kind}).",
        key=key,
        now=now,
        incident=incident,
        audience=audience,
    )


def _required(field: str, value: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput.on(field, "must not be blank")
    return text


def send_stakeholder_update(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    settings: Settings,
    incident: Incident,
    audiences: Sequence[Audience],
    current_status: str,
    impact: str,
    doing_now: str | None = None,
    next_update_at: datetime | None = None,
) -> StakeholderUpdateResult:
    """Send a stakeholder update to `audiences` (the incident's severity loaded): the
    `internal_update` timeline entry naming them, one delivery per distinct recipient, and the
    exec notice when an executives audience is among them.

    Raises InvalidInput for no audience, a blank status or impact, or a next update not in
    the future; Conflict for an incident in triage or declined (see post_update)."""
    if not audiences:
        raise InvalidInput.on("audiences", "name at least one audience")
    current_status = _required("current_status", current_status)
    impact = _required("impact", impact)
    doing_now = (doing_now or "").strip() or DEFAULT_DOING_NOW
    entry = post_update(
        session,
        actor=actor,
        now=now,
        incident=incident,
        parts=UpdateParts(
            audience=INTERNAL,
            current_impact=impact,
            doing_now=doing_now,
            next_update_at=next_update_at,
        ),
    )
    entry.body = f"Current status: {current_status}\n{entry.body}"
    facts = _facts(
        now=now,
        current_status=current_status,
        impact=impact,
        doing_now=doing_now,
        next_update_at=next_update_at,
    )
    notice = _notice(incident, facts, base_url=settings.base_url)
    sent: list[Sent] = []
    reached: set[tuple[str, str]] = set()
    for audience in audiences:
        for index, recipient in enumerate(audience.recipients):
            destination = (str(recipient["transport"]), str(recipient["target"]))
            if destination in reached:
                continue  # someone in two audiences hears it once
            reached.add(destination)
            key = f"stakeholder-update:{entry.id}:{audience.id}:{index}"
            delivery = _queue(
                session,
                incident=incident,
                audience=audience,
                recipient=recipient,
                notice=notice,
                key=key,
                now=now,
            )
            sent.append(Sent(audience=audience, delivery=delivery))
    entry.details = {
        **entry.details,
        "current_status": current_status,
        "audiences": [
            {"id": audience.id, "name": audience.name, "kind": audience.kind}
            for audience in audiences
        ],
        "deliveries": [each.delivery.id for each in sent],
    }
    executives = [a for a in audiences if a.kind == AudienceKind.EXECUTIVES.value]
    exec_notice = None
    if executives:
        exec_notice = _record_exec_notice(
            session, actor=actor, now=now, incident=incident, audiences=executives, entry=entry
        )
    session.flush()
    return StakeholderUpdateResult(
        entry=entry, audiences=list(audiences), sent=sent, exec_notice=exec_notice
    )


def _record_exec_notice(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    audiences: list[Audience],
    entry: TimelineEntry,
) -> TimelineEntry:
    """The `exec_notice` entry that meets the exec-notice obligation (as an automation rule's
    exec notice writes it), pointing at the stakeholder update that carried it."""
    names = ", ".join(audience.name for audience in audiences)
    details = {"audiences": [audience.name for audience in audiences], "update_entry_id": entry.id}
    return write_entry(
        session,
        actor=actor,
        now=now,
        incident=incident,
        kind=EXEC_NOTICE_KIND,
        body=f"Exec notice sent to {names} with the stakeholder update.",
        details=details,
        audited=details,
    )


# --- The automatic exec notice -----------------------------------------------------------------


def _executives(session: Session) -> list[Audience]:
    return [a for a in list_audiences(session, kind=AudienceKind.EXECUTIVES) if a.recipients]


def exec_notice_wanted(session: Session, *, incident: Incident, now: datetime) -> bool:
    """Queue the automatic exec notice if the incident (severity loaded) is active, its
    severity asks for one, and an executives audience has recipients; True when queued. Call
    after a declaration or a severity change; the job checks everything again when it runs."""
    if not incident.severity.exec_notice or incident.status in _QUIET | _OVER:
        return False
    if not _executives(session):
        return False  # nobody to tell: the obligation stays owed, and is reminded as usual
    enqueue(
        session,
        kind=EXEC_NOTICE_JOB,
        payload={"incident_id": incident.id},
        now=now,
        dedupe_key=f"exec-notice:{incident.id}",
    )
    return True


def _seeded_template(session: Session) -> UpdateTemplate | None:
    query = select(UpdateTemplate).where(UpdateTemplate.audience == INTERNAL)
    named = session.scalars(query.where(UpdateTemplate.name == SEEDED_TEMPLATE)).first()
    return named or session.scalars(query.order_by(UpdateTemplate.id)).first()


def compose_exec_notice(
    session: Session, incident: Incident, now: datetime
) -> tuple[str, str, str, datetime | None]:
    """current_status, impact, doing_now and next_update_at of the automatic exec notice, from
    the seeded internal template and the incident's facts (its services and severity loaded)."""
    policy = ClockPolicy.from_severity(incident.severity)
    cadence = policy.internal_cadence_minutes or policy.internal_update_minutes
    next_update_at = None if not cadence else now + timedelta(minutes=cadence)
    template = _seeded_template(session)
    services = [service.name for service in incident.services]
    parts = (
        fill(template, components=services, next_update=next_update_at)
        if template is not None
        else {}
    )
    declared = incident.declared_at or now
    current_status = (
        f"{incident.severity.key} {incident.status} since {utc_text(as_utc(declared))}: "
        f"{incident.title}"
    )
    impact = incident.customer_impact.strip() or parts.get("current_impact") or incident.title
    doing_now = parts.get("doing_now") or DEFAULT_DOING_NOW
    return current_status, impact, doing_now, next_update_at


def make_send_exec_notice(settings: Settings) -> Handler:
    """The `comms.exec_notice` handler: the stakeholder update to every executives audience,
    unless the exec notice went already (a rerun of this job, an automation rule, a person)."""

    def send_exec_notice(session: Session, payload: dict[str, Any], context: JobContext) -> None:
        try:
            incident = get_incident(session, int(payload["incident_id"]), for_update=True)
        except NotFound:
            return
        if not incident.severity.exec_notice or incident.status in _QUIET | _OVER:
            return  # lowered, declined or resolved since it was queued
        if incident_facts(session, incident).exec_notified_at is not None:
            return
        audiences = _executives(session)
        if not audiences:
            return
        current_status, impact, doing_now, next_update_at = compose_exec_notice(
            session, incident, context.now
        )
        send_stakeholder_update(
            session,
            actor=Actor(user_id=None, label="Fireline exec notice", via="automation"),
            now=context.now,
            settings=settings,
            incident=incident,
            audiences=audiences,
            current_status=current_status,
            impact=impact,
            doing_now=doing_now,
            next_update_at=next_update_at,
        )

    return send_exec_notice
