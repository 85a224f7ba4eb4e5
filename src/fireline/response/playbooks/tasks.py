"""The playbook jobs: a task's overdue timer.

A timer only says when to look again. When it fires, the task is read afresh: one done since,
given another due time, or on an incident no longer being worked (resolved, closed) is stale and
records nothing. Otherwise the task's `task_overdue` entry is written once, however many times
the job runs, and the automation rules listening for `task.overdue` run."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.clock import as_utc
from fireline.errors import NotFound
from fireline.incidents.lifecycle import ACTIVE_STATUSES
from fireline.incidents.queries import get_incident
from fireline.models import Incident, IncidentTask, TimelineEntry
from fireline.response import automation
from fireline.response.playbooks.checklist import TASK_DUE_JOB, clock_time, write_change
from fireline.response.triggers import Event, Trigger

if TYPE_CHECKING:
    from fireline.jobs.handlers import JobContext

__all__ = ["OVERDUE_ENTRY", "TASK_DUE_JOB", "fire_task_due"]

log = structlog.get_logger()

OVERDUE_ENTRY = "task_overdue"
_WATCHED = frozenset(status.value for status in ACTIVE_STATUSES)


def fire_task_due(session: Session, payload: dict[str, Any], context: JobContext) -> None:
    """The `playbooks.task_due` handler: record that a task still open is overdue, and tell the
    automation rules, once per task and due instant."""
    now = context.now
    try:
        incident = get_incident(session, int(payload["incident_id"]), for_update=True)
    except NotFound:
        log.warning("task_timer_incident_gone", incident_id=payload["incident_id"])
        return
    due_at = as_utc(datetime.fromisoformat(payload["due_at"]))
    task = session.scalar(
        select(IncidentTask)
        .where(IncidentTask.id == int(payload["task_id"]), IncidentTask.incident_id == incident.id)
        .execution_options(populate_existing=True)
    )
    if (
        task is None
        or task.done_at is not None
        or task.due_at is None
        or as_utc(task.due_at) != due_at
        or incident.status not in _WATCHED
    ):
        return
    details: dict[str, Any] = {
        "task_id": task.id,
        "title": task.title,
        "owner_role": task.owner_role,
        "due_at": due_at.isoformat(),
    }
    if _already_noted(session, incident, details):
        return
    owner = f" (owner: {task.owner_role.replace('_', ' ')})" if task.owner_role else ""
    write_change(
        session,
        incident=incident,
        actor=Actor.system("playbooks"),
        now=now,
        kind=OVERDUE_ENTRY,
        body=f"Overdue: “{task.title}” was due at {clock_time(due_at, now)}{owner}.",
        details=details,
    )
    event = Event(
        trigger=Trigger.TASK_OVERDUE, key=f"task:{task.id}:{due_at.isoformat()}", details=details
    )
    automation.fire(session, incident=incident, event=event, now=now)


def _already_noted(session: Session, incident: Incident, details: dict[str, Any]) -> bool:
    """Whether this task's overdue entry for this due instant is on the timeline already."""
    noted = session.scalars(
        select(TimelineEntry.details).where(
            TimelineEntry.incident_id == incident.id, TimelineEntry.kind == OVERDUE_ENTRY
        )
    )
    return any(
        found.get("task_id") == details["task_id"] and found.get("due_at") == details["due_at"]
        for found in noted
    )
