"""An incident's tasks: listed with their state now, completed, reopened, added by hand, and the
timers that notice when one falls overdue.

A task's state is computed from the clock each time it is read (never stored), so it cannot drift
from its due time. Every change writes a timeline entry and an audit record in the caller's
transaction; the caller holds the incident's row lock, which serialises changes to its tasks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.clock import as_utc
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.incidents.lifecycle import Status
from fireline.incidents.queries import LARGEST_ID
from fireline.incidents.recording import add_entry
from fireline.jobs.queue import Timer, enqueue_timers
from fireline.models import Incident, IncidentTask, Job, Playbook, TimelineEntry
from fireline.response.playbooks.schemas import TaskState

TASK_DUE_JOB = "playbooks.task_due"
# Incidents that are over take no new work; their tasks can still be ticked off for the record.
FINISHED = frozenset({Status.CLOSED.value, Status.DECLINED.value})


class TaskAlreadyDone(Conflict):
    title = "The task is already done"
    slug = "task-already-done"


class TaskNotDone(Conflict):
    title = "The task is not done"
    slug = "task-not-done"


def task_state(task: IncidentTask, now: datetime) -> TaskState:
    """Done once ticked off; overdue from its due instant on; open otherwise."""
    if task.done_at is not None:
        return TaskState.DONE
    if task.due_at is not None and as_utc(task.due_at) <= as_utc(now):
        return TaskState.OVERDUE
    return TaskState.OPEN


def is_late(task: IncidentTask) -> bool:
    """Whether the task was done after its due instant."""
    return (
        task.done_at is not None
        and task.due_at is not None
        and as_utc(task.done_at) > as_utc(task.due_at)
    )


def clock_time(instant: datetime, now: datetime) -> str:
    """`10:15 UTC` today, `2026-01-08 10:20 UTC` on another day."""
    instant, now = as_utc(instant), as_utc(now)
    return instant.strftime("%H:%M UTC" if instant.date() == now.date() else "%Y-%m-%d %H:%M UTC")


def list_tasks(session: Session, incident: Incident) -> list[IncidentTask]:
    """The incident's tasks in checklist order, with who did them loaded."""
    query = (
        select(IncidentTask)
        .where(IncidentTask.incident_id == incident.id)
        .options(selectinload(IncidentTask.done_by))
        .order_by(IncidentTask.position, IncidentTask.id)
    )
    return list(session.scalars(query))


def playbook_slugs(session: Session, tasks: Iterable[IncidentTask]) -> dict[int, str]:
    """Playbook id → slug, for the playbooks the tasks came from."""
    ids = {task.playbook_id for task in tasks if task.playbook_id is not None}
    if not ids:
        return {}
    query = select(Playbook.id, Playbook.slug).where(Playbook.id.in_(ids))
    return dict(session.execute(query).all())


def get_task(session: Session, incident: Incident, task_id: int) -> IncidentTask:
    missing = NotFound(detail=f"{incident.reference} has no task {task_id}.")
    if not 0 < task_id <= LARGEST_ID:
        raise missing
    task = session.scalar(
        select(IncidentTask)
        .where(IncidentTask.id == task_id, IncidentTask.incident_id == incident.id)
        .options(selectinload(IncidentTask.done_by))
        .execution_options(populate_existing=True)
    )
    if task is None:
        raise missing
    return task


def next_position(session: Session, incident: Incident) -> int:
    """Where a task added now goes: after every task the incident has."""
    last = session.scalar(
        select(func.max(IncidentTask.position)).where(IncidentTask.incident_id == incident.id)
    )
    return 0 if last is None else last + 1


def complete_task(
    session: Session, *, actor: Actor, now: datetime, incident: Incident, task_id: int, note: str
) -> IncidentTask:
    """Tick the task off as done by `actor` now; a task already done is a TaskAlreadyDone."""
    task = get_task(session, incident, task_id)
    if task.done_at is not None:
        who = task.done_by.name if task.done_by is not None else "Fireline"
        raise TaskAlreadyDone(
            detail=f"Task {task.id} “{task.title}” was already done at "
            f"{clock_time(task.done_at, now)} by {who}; reopen it to do it again."
        )
    task.done_at, task.done_by_id, task.note = now, actor.user_id, note
    write_change(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="task_done",
        body=f"{actor.label} completed the task “{task.title}”." + (f" {note}" if note else ""),
        details={"task_id": task.id, "title": task.title, "note": note, "late": is_late(task)},
    )
    return get_task(session, incident, task.id)


def reopen_task(
    session: Session, *, actor: Actor, now: datetime, incident: Incident, task_id: int, note: str
) -> IncidentTask:
    """Mark a done task as not done again. Its overdue timer needs no setting again: one done
    before its due time kept its timer, which looks at the task afresh when it fires."""
    task = get_task(session, incident, task_id)
    if task.done_at is None:
        raise TaskNotDone(detail=f"Task {task.id} “{task.title}” is not done; nothing to reopen.")
    task.done_at, task.done_by_id, task.note = None, None, ""
    write_change(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="task_reopened",
        body=f"{actor.label} reopened the task “{task.title}”." + (f" {note}" if note else ""),
        details={"task_id": task.id, "title": task.title, "note": note},
    )
    return get_task(session, incident, task.id)


def add_task(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    title: str,
    phase: str = "",
    owner_role: str | None = None,
    due_at: datetime | None = None,
) -> IncidentTask:
    """A task added by hand at the end of the checklist, with its overdue timer when due."""
    if incident.status in FINISHED:
        raise Conflict(detail=f"{incident.reference} is {incident.status}; reopen it to add tasks.")
    if due_at is not None and as_utc(due_at) <= as_utc(now):
        raise InvalidInput.on("due_at", "must be in the future")
    task = IncidentTask(
        incident_id=incident.id,
        playbook_id=None,
        position=next_position(session, incident),
        title=title,
        phase=phase,
        owner_role=owner_role,
        due_at=due_at,
        note="",
        created_at=now,
    )
    session.add(task)
    session.flush()
    owner = f" for the {owner_role.replace('_', ' ')}" if owner_role else ""
    due = f", due {clock_time(due_at, now)}" if due_at is not None else ""
    write_change(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="task_added",
        body=f"{actor.label} added the task “{title}”{owner}{due}.",
        details={
            "task_id": task.id,
            "title": title,
            "owner_role": owner_role,
            "due_at": None if due_at is None else as_utc(due_at).isoformat(),
        },
    )
    schedule_task_timers(session, incident=incident, tasks=[task], now=now)
    return get_task(session, incident, task.id)


def write_change(
    session: Session,
    *,
    incident: Incident,
    actor: Actor,
    now: datetime,
    kind: str,
    body: str,
    details: dict[str, Any],
) -> TimelineEntry:
    """The timeline entry for a change to the checklist, and its audit record
    (`incident.<kind>`, with the entry's id and the same details)."""
    entry = add_entry(
        session, incident=incident, actor=actor, now=now, kind=kind, body=body, details=details
    )
    session.flush()
    record(
        session,
        actor=actor,
        action=f"incident.{kind}",
        entity_type="incident",
        entity_id=incident.reference,
        at=now,
        after={"entry_id": entry.id, **details},
    )
    return entry


def due_key(task: IncidentTask, due_at: datetime) -> str:
    """One overdue timer per task and due instant."""
    return f"task_due:{task.id}:{as_utc(due_at).isoformat()}"


def schedule_task_timers(
    session: Session, *, incident: Incident, tasks: Iterable[IncidentTask], now: datetime
) -> list[Job]:
    """Enqueue, in the caller's transaction, a `playbooks.task_due` job at the due instant of
    each open task due after `now`; a timer already pending is left as it is. A task already past
    due gets none: it shows as overdue, and announcing a whole backlog at once would bury the
    timeline (raising a SEV3 to SEV1 after an hour attaches 18 tasks that are all past due)."""
    timers = [
        Timer(
            kind=TASK_DUE_JOB,
            payload={
                "incident_id": incident.id,
                "task_id": task.id,
                "due_at": as_utc(task.due_at).isoformat(),
            },
            run_at=as_utc(task.due_at),
            dedupe_key=due_key(task, task.due_at),
        )
        for task in tasks
        if task.done_at is None and task.due_at is not None and as_utc(task.due_at) > as_utc(now)
    ]
    return enqueue_timers(session, timers=timers, now=now)
