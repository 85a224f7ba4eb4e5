"""Incidents from alerts: declared by rule, their roles from on-call, acknowledged with the page.

An incident declared for an alert is detected when the alert started. Its commander is whoever
the incident-commander schedule has on call, when one is set up; otherwise the role stays open
until someone acknowledges the alert's page, and that person takes command (assigning a
commander is what acknowledges an incident, so the incident's time to acknowledge is the
page's). The other single-holder roles are filled from their schedules the same way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.alerts.rulebook import DeclareSpec
from fireline.incidents import service as incidents
from fireline.incidents.queries import get_incident
from fireline.incidents.recording import add_entry
from fireline.incidents.roles import assign, holder
from fireline.models import Alert, Incident, Service, User
from fireline.oncall.schedules import default_holder
from fireline.response.reactions import after_change
from fireline.response.triggers import Trigger

DECLARING_ACTOR = Actor.system("alerts")
TITLE_LIMIT = 300
ROLES_FROM_ONCALL = ("commander", "tech_lead", "comms_lead", "scribe")


def declare_from_alert(
    session: Session,
    *,
    alert: Alert,
    service: Service,
    severity: str,
    rule: DeclareSpec,
    now: datetime,
) -> Incident:
    """Declare an incident for `alert` at `severity`, link the alert, fill roles from on-call."""
    incident = incidents.declare(
        session,
        actor=DECLARING_ACTOR,
        now=now,
        title=alert.summary[:TITLE_LIMIT],
        severity=severity,
        summary=f"Declared by the rule “{rule.name}” for an alert on {service.name}.",
        services=[service.slug],
        detected_at=min(alert.started_at, now),
    )
    alert.incident_id = incident.id
    add_entry(
        session,
        incident=incident,
        actor=DECLARING_ACTOR,
        now=now,
        kind="alert",
        body=f"Alert #{alert.id} linked: {alert.summary} ({alert.severity}, from {alert.source}).",
        details={"alert_id": alert.id, "dedup_key": alert.dedup_key, "rule_id": rule.id},
    )
    for role in ROLES_FROM_ONCALL:
        person = default_holder(session, role=role, at=now)
        if person is not None:
            assign(
                session, incident=incident, actor=DECLARING_ACTOR, now=now, role=role, user=person
            )
    session.flush()
    incident = get_incident(session, incident.id)
    after_change(session, incident=incident, now=now, trigger=Trigger.INCIDENT_DECLARED)
    return incident


def acknowledge_incident(
    session: Session, *, alert: Alert, now: datetime, by: str, user_id: int | None
) -> None:
    """The alert of an incident was acknowledged: say so on its timeline, and when nobody leads
    the incident yet, the person who acknowledged takes command."""
    if alert.incident_id is None:
        return
    incident = get_incident(session, alert.incident_id, for_update=True)
    actor = Actor(user_id=user_id, label=by, via="alerts")
    add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="alert",
        body=f"{by} acknowledged alert #{alert.id}: {alert.summary}.",
        details={"alert_id": alert.id},
    )
    person = session.get(User, user_id) if user_id is not None else None
    if person is not None and person.is_active and holder(incident, "commander") is None:
        assign(session, incident=incident, actor=actor, now=now, role="commander", user=person)
        session.flush()
        after_change(session, incident=get_incident(session, incident.id), now=now)
