"""Alerts and the people who work them: finding one, acknowledging, resolving. Services never
commit; the request or job that calls them does. How events from monitoring change alerts is in
`fireline.alerts.ingest` (re-exported here).

"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.alerts import ingest as applying
from fireline.alerts.ingest import OPEN, Outcome, ingest, ingest_many
from fireline.audit.service import record
from fireline.errors import Conflict, NotFound
from fireline.incidents.recording import add_entry
from fireline.models import Alert, AlertStatus, Incident

__all__ = ["OPEN", "Outcome", "ingest", "ingest_many"]


def get_alert(session: Session, alert_id: int, *, for_update: bool = False) -> Alert:
    statement = select(Alert).where(Alert.id == alert_id)
    if for_update:
        statement = statement.with_for_update()
    alert = session.scalars(statement).first()
    if alert is None:
        raise NotFound(f"No alert {alert_id}.")
    return alert


def acknowledge(session: Session, *, actor: Actor, alert: Alert, now: datetime) -> Alert:
    """A person takes the alert: paging stops. Acknowledging twice changes nothing."""
    if alert.status == AlertStatus.RESOLVED:
        raise AlertAlreadyResolved("The alert is already resolved.")
    if alert.status == AlertStatus.ACKNOWLEDGED:
        return alert
    before = snapshot(alert)
    applying.acknowledge(session, alert=alert, now=now, user_id=actor.user_id, by=actor.label)
    _audit(session, actor=actor, now=now, action="alert.acknowledge", alert=alert, before=before)
    return alert


def resolve(session: Session, *, actor: Actor, alert: Alert, now: datetime) -> Alert:
    """A person resolves the alert: paging stops; the same key opens a new alert next time."""
    if alert.status == AlertStatus.RESOLVED:
        return alert
    before = snapshot(alert)
    applying.resolve(session, alert=alert, now=now, user_id=actor.user_id, by=actor.label)
    _audit(session, actor=actor, now=now, action="alert.resolve", alert=alert, before=before)
    return alert


class AlertAlreadyResolved(Conflict):
    pass


def link(
    session: Session, *, actor: Actor, now: datetime, alert: Alert, incident: Incident
) -> Alert:
    """Attach the alert to the incident: its timeline and the audit log say so. Linking it to
    the incident it already belongs to changes nothing."""
    if alert.incident_id == incident.id:
        return alert
    alert.incident_id = incident.id
    alert.updated_at = now
    add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="alert",
        body=f"{actor.label} linked alert #{alert.id}: {alert.summary}.",
        details={"alert_id": alert.id},
    )
    record(
        session,
        actor=actor,
        action="alert.link",
        entity_type="alert",
        entity_id=alert.id,
        at=now,
        after={"incident_id": alert.incident_id},
    )
    return alert


def snapshot(alert: Alert) -> dict[str, Any]:
    return {
        "status": alert.status,
        "acknowledged_by_id": alert.acknowledged_by_id,
        "resolved_by_id": alert.resolved_by_id,
    }


def _audit(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    action: str,
    alert: Alert,
    before: dict[str, Any],
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        entity_type="alert",
        entity_id=alert.id,
        at=now,
        before=before,
        after=snapshot(alert),
    )
