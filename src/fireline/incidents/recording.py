"""What every change to an incident leaves behind: a timeline entry and an audit record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.clock import as_utc
from fireline.errors import Conflict
from fireline.incidents import lifecycle
from fireline.incidents.lifecycle import Milestone
from fireline.models import (
    Incident,
    TimelineEntry,
    TimelineThread,
)

COMMAND_THREAD = "command"


def snapshot(incident: Incident) -> dict[str, Any]:
    """The incident's own fields, for the audit log's before/after."""
    data: dict[str, Any] = {
        "title": incident.title,
        "summary": incident.summary,
        "severity": incident.severity.key,
        "type": incident.type,
        "status": incident.status,
        "customer_impact": incident.customer_impact,
        "resolution_criteria": incident.resolution_criteria,
        "criteria_met": incident.criteria_met,
        "customer_impact_ended": incident.customer_impact_ended,
        "postmortem_owner_id": incident.postmortem_owner_id,
        "postmortem_due_at": iso(incident.postmortem_due_at),
        "monitoring_waiver_reason": incident.monitoring_waiver_reason,
        "war_room": incident.war_room,
    }
    data.update(
        {milestone.value: iso(getattr(incident, milestone.value)) for milestone in Milestone}
    )
    return data


def iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()


def utc_text(instant: datetime) -> str:
    return as_utc(instant).isoformat().replace("+00:00", "Z")


def timestamps_of(incident: Incident) -> dict[Milestone, datetime | None]:
    return {milestone: getattr(incident, milestone.value) for milestone in Milestone}


def apply_timestamps(incident: Incident, timestamps: lifecycle.Timestamps) -> None:
    for milestone, instant in timestamps.items():
        setattr(incident, milestone.value, instant)


def command_thread(session: Session, incident: Incident) -> TimelineThread:
    """The incident's command thread (looked up once per unit of work)."""
    known: dict[Incident, TimelineThread] = session.info.setdefault("command_threads", {})
    if incident in known:
        return known[incident]
    thread = session.scalar(
        select(TimelineThread).where(
            TimelineThread.incident_id == incident.id, TimelineThread.is_command.is_(True)
        )
    )
    if thread is None:  # pragma: no cover - every incident is created with one
        raise Conflict(detail=f"{incident.reference} has no command thread.")
    known[incident] = thread
    return thread


def open_command_thread(
    session: Session, *, incident: Incident, actor: Actor, now: datetime
) -> TimelineThread:
    """Start a new incident's command thread; it is written with the incident in one flush."""
    thread = TimelineThread(
        incident=incident,
        name=COMMAND_THREAD,
        is_command=True,
        created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(thread)
    session.info.setdefault("command_threads", {})[incident] = thread
    return thread


def add_entry(
    session: Session,
    *,
    incident: Incident,
    actor: Actor,
    now: datetime,
    kind: str,
    body: str,
    details: dict[str, Any] | None = None,
    thread: TimelineThread | None = None,
    occurred_at: datetime | None = None,
    pinned: bool = False,
) -> TimelineEntry:
    """Append a timeline entry (the command thread unless another is named)."""
    # Linked by object, not id, so entries of an incident not yet written go out in its flush.
    entry = TimelineEntry(
        incident=incident,
        thread=thread or command_thread(session, incident),
        kind=kind,
        body=body,
        details=details or {},
        author_id=actor.user_id,
        occurred_at=occurred_at or now,
        created_at=now,
        pinned=pinned,
    )
    session.add(entry)
    return entry


def audit_change(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    action: str,
    incident: Incident,
    before: dict[str, Any] | None,
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        entity_type="incident",
        entity_id=incident.reference,
        at=now,
        before=before,
        after=snapshot(incident),
    )
