"""JSON routes for playbooks (admins keep the library) and an incident's checklist (responders
work it; viewers read it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from fireline.api.deps import AppClock, DbSession, IncidentReader, IncidentWriter, PlaybookAdmin
from fireline.api.responses import json_response
from fireline.incidents.queries import get_incident
from fireline.models import IncidentTask
from fireline.response.playbooks import checklist, service
from fireline.response.playbooks.schemas import (
    AttachedPlaybookOut,
    PlaybookAttach,
    PlaybookCreate,
    PlaybookOut,
    PlaybookUpdate,
    TaskCreate,
    TaskNote,
    TaskOut,
)

router = APIRouter(prefix="/api/v1")

_ALREADY_ATTACHED: dict[int | str, dict[str, Any]] = {
    200: {"model": AttachedPlaybookOut, "description": "Already attached."}
}


# --- the library ---------------------------------------------------------------------------------


@router.get("/playbooks", response_model=list[PlaybookOut], tags=["playbooks"])
def list_playbooks(principal: IncidentReader, db: DbSession) -> list[PlaybookOut]:
    """Every playbook, by slug: its conditions (which declared incidents get it) and tasks."""
    return [PlaybookOut.of(playbook) for playbook in service.list_playbooks(db)]


@router.get("/playbooks/{slug}", response_model=PlaybookOut, tags=["playbooks"])
def get_playbook(slug: str, principal: IncidentReader, db: DbSession) -> Response:
    return json_response(PlaybookOut.of(service.get_playbook(db, slug)))


@router.post("/playbooks", status_code=201, response_model=PlaybookOut, tags=["playbooks"])
def create_playbook(
    body: PlaybookCreate, principal: PlaybookAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Add a playbook (admins). It attaches to each declared incident meeting its conditions
    from that incident's next change on."""
    playbook = service.create_playbook(db, actor=principal.actor, now=clock.now(), playbook_in=body)
    return json_response(PlaybookOut.of(playbook), status_code=201)


@router.patch("/playbooks/{slug}", response_model=PlaybookOut, tags=["playbooks"])
def update_playbook(
    slug: str, body: PlaybookUpdate, principal: PlaybookAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Change a playbook (admins). Incidents it is attached to keep the tasks they were given."""
    playbook = service.update_playbook(
        db,
        actor=principal.actor,
        now=clock.now(),
        playbook=service.get_playbook(db, slug, for_update=True),
        changes=body,
    )
    return json_response(PlaybookOut.of(playbook))


# --- an incident's playbooks and tasks ----------------------------------------------------------


@router.get("/incidents/{ref}/playbooks", response_model=list[AttachedPlaybookOut], tags=["tasks"])
def list_attached(ref: str, principal: IncidentReader, db: DbSession) -> list[AttachedPlaybookOut]:
    """The playbooks attached to the incident, why, and how many of their tasks are done."""
    incident = get_incident(db, ref)
    return [
        AttachedPlaybookOut.of(attachment, tasks=total, done=done)
        for attachment, total, done in service.attachments(db, incident)
    ]


@router.post(
    "/incidents/{ref}/playbooks",
    status_code=201,
    response_model=AttachedPlaybookOut,
    responses=_ALREADY_ATTACHED,
    tags=["tasks"],
)
def attach_playbook(
    ref: str, body: PlaybookAttach, principal: IncidentWriter, db: DbSession, clock: AppClock
) -> Response:
    """Attach a playbook by hand, whatever its conditions: its tasks join the checklist, due
    relative to the declaration. Attaching one the incident has already answers 200 with it."""
    incident = get_incident(db, ref, for_update=True)
    held = {attachment.playbook_id for attachment, _, _ in service.attachments(db, incident)}
    attachment = service.attach(
        db,
        incident=incident,
        playbook_slug=body.playbook,
        now=clock.now(),
        actor=principal.actor,
        reason=body.reason,
    )
    _, total, done = next(
        row for row in service.attachments(db, incident) if row[0].id == attachment.id
    )
    return json_response(
        AttachedPlaybookOut.of(attachment, tasks=total, done=done),
        status_code=200 if attachment.playbook_id in held else 201,
    )


@router.get("/incidents/{ref}/tasks", response_model=list[TaskOut], tags=["tasks"])
def list_tasks(
    ref: str, principal: IncidentReader, db: DbSession, clock: AppClock
) -> list[TaskOut]:
    """The incident's checklist in order, each task open, overdue or done as of now."""
    incident = get_incident(db, ref)
    tasks = checklist.list_tasks(db, incident)
    slugs = checklist.playbook_slugs(db, tasks)
    now = clock.now()
    return [_out(task, now, slugs) for task in tasks]


@router.post("/incidents/{ref}/tasks", status_code=201, response_model=TaskOut, tags=["tasks"])
def add_task(
    ref: str, body: TaskCreate, principal: IncidentWriter, db: DbSession, clock: AppClock
) -> Response:
    """Add a task by hand, at the end of the checklist."""
    incident = get_incident(db, ref, for_update=True)
    now = clock.now()
    task = checklist.add_task(
        db,
        actor=principal.actor,
        now=now,
        incident=incident,
        title=body.title,
        phase=body.phase,
        owner_role=body.owner_role,
        due_at=body.due_at,
    )
    return json_response(_out(task, now, {}), status_code=201)


@router.post("/incidents/{ref}/tasks/{task_id}/complete", response_model=TaskOut, tags=["tasks"])
def complete_task(
    ref: str,
    task_id: int,
    principal: IncidentWriter,
    db: DbSession,
    clock: AppClock,
    body: TaskNote | None = None,
) -> Response:
    """Tick a task off as done by you, now. A task already done answers 409."""
    incident = get_incident(db, ref, for_update=True)
    now = clock.now()
    task = checklist.complete_task(
        db,
        actor=principal.actor,
        now=now,
        incident=incident,
        task_id=task_id,
        note=body.note if body else "",
    )
    return json_response(_out_one(db, task, now))


@router.post("/incidents/{ref}/tasks/{task_id}/reopen", response_model=TaskOut, tags=["tasks"])
def reopen_task(
    ref: str,
    task_id: int,
    principal: IncidentWriter,
    db: DbSession,
    clock: AppClock,
    body: TaskNote | None = None,
) -> Response:
    """Mark a done task as not done again. A task that is not done answers 409."""
    incident = get_incident(db, ref, for_update=True)
    now = clock.now()
    task = checklist.reopen_task(
        db,
        actor=principal.actor,
        now=now,
        incident=incident,
        task_id=task_id,
        note=body.note if body else "",
    )
    return json_response(_out_one(db, task, now))


def _out(task: IncidentTask, now: datetime, slugs: dict[int, str]) -> TaskOut:
    return TaskOut.of(
        task,
        state=checklist.task_state(task, now),
        late=checklist.is_late(task),
        playbook=slugs.get(task.playbook_id) if task.playbook_id is not None else None,
    )


def _out_one(db: Session, task: IncidentTask, now: datetime) -> TaskOut:
    return _out(task, now, checklist.playbook_slugs(db, [task]))
