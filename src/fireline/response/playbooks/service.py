"""Playbooks: the library of checklists (admins keep it) and attaching them to incidents, by their
conditions or by hand.

Attaching copies the playbook's tasks onto the incident, so editing a playbook later never
rewrites the checklist a team is already working from. Attachments are never undone by a later
change: an incident lowered from SEV1 keeps its checklist, and what was done stays done."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import structlog
from pydantic import ValidationError
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.incidents.lifecycle import Status
from fireline.models import Incident, IncidentPlaybook, IncidentTask, Playbook
from fireline.response.conditions import (
    Conditions,
    Subject,
    check_severities,
    matches,
    severity_levels,
    subject_of,
)
from fireline.response.playbooks.checklist import (
    next_position,
    schedule_task_timers,
    write_change,
)
from fireline.response.playbooks.schemas import PlaybookCreate, PlaybookUpdate, TaskTemplate

log = structlog.get_logger()

SYSTEM = Actor.system("playbooks")
# Playbooks are for incidents being worked: not before they are declared, nor once declined or
# closed. A resolved incident still gets what a late severity change asks for.
NOT_ATTACHABLE = frozenset({Status.TRIAGE.value, Status.DECLINED.value, Status.CLOSED.value})


class MalformedPlaybook(Conflict):
    title = "The playbook cannot be used as stored"
    slug = "malformed-playbook"


# --- the library ---------------------------------------------------------------------------------


def list_playbooks(session: Session) -> list[Playbook]:
    return list(session.scalars(select(Playbook).order_by(Playbook.slug)))


def get_playbook(session: Session, slug: str, *, for_update: bool = False) -> Playbook:
    """The playbook with this slug; with `for_update`, locked so that two admins' changes are
    applied one after the other (each audited against what it replaced)."""
    query = select(Playbook).where(Playbook.slug == slug.strip())
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    playbook = session.scalar(query)
    if playbook is None:
        raise NotFound(detail=f"No playbook '{slug}'.")
    return playbook


def _snapshot(playbook: Playbook) -> dict[str, object]:
    return {
        "slug": playbook.slug,
        "name": playbook.name,
        "description": playbook.description,
        "conditions": playbook.conditions,
        "tasks": playbook.tasks,
        "enabled": playbook.enabled,
    }


def _checked(session: Session, conditions: Conditions) -> Conditions:
    """The conditions, refused (naming the field) when no incident could ever meet them."""
    if conditions.obligation_kinds:
        raise InvalidInput.on(
            "conditions.obligation_kinds",
            "playbooks attach to incidents, not to obligations; leave this out",
        )
    check_severities(session, conditions, field="conditions")
    return conditions


def create_playbook(
    session: Session, *, actor: Actor, now: datetime, playbook_in: PlaybookCreate
) -> Playbook:
    """A new playbook; a slug already taken is a Conflict."""
    conditions = _checked(session, playbook_in.conditions)
    if session.scalar(select(Playbook.id).where(Playbook.slug == playbook_in.slug)) is not None:
        raise Conflict(detail=f"A playbook with slug '{playbook_in.slug}' already exists.")
    playbook = Playbook(
        slug=playbook_in.slug,
        name=playbook_in.name,
        description=playbook_in.description,
        conditions=conditions.stored(),
        tasks=[task.model_dump(mode="json") for task in playbook_in.tasks],
        enabled=playbook_in.enabled,
        created_at=now,
        updated_at=now,
    )
    session.add(playbook)
    session.flush()
    record(
        session,
        actor=actor,
        action="playbook.create",
        entity_type="playbook",
        entity_id=playbook.slug,
        at=now,
        after=_snapshot(playbook),
    )
    return playbook


def update_playbook(
    session: Session, *, actor: Actor, now: datetime, playbook: Playbook, changes: PlaybookUpdate
) -> Playbook:
    """The playbook with `changes` applied. Incidents it is attached to keep their checklists;
    a playbook enabled or widened attaches to matching incidents at their next change."""
    before = _snapshot(playbook)
    if changes.conditions is not None:
        playbook.conditions = _checked(session, changes.conditions).stored()
    if changes.tasks is not None:
        playbook.tasks = [task.model_dump(mode="json") for task in changes.tasks]
    for name in ("name", "description", "enabled"):
        value = getattr(changes, name)
        if value is not None:
            setattr(playbook, name, value)
    after = _snapshot(playbook)
    if after != before:
        playbook.updated_at = now
        record(
            session,
            actor=actor,
            action="playbook.update",
            entity_type="playbook",
            entity_id=playbook.slug,
            at=now,
            before=before,
            after=after,
        )
    session.flush()
    return playbook


# --- attaching -----------------------------------------------------------------------------------


def attach_matching(
    session: Session, *, incident: Incident, now: datetime
) -> list[IncidentPlaybook]:
    """Attach every enabled playbook whose conditions the incident meets and that it lacks;
    returns the new attachments. Incidents in triage, declined or closed get none. The incident's
    severity and services must be loaded (as every incident write route has them)."""
    if incident.status in NOT_ATTACHABLE:
        return []
    enabled = select(Playbook).where(Playbook.enabled.is_(True)).order_by(Playbook.id)
    playbooks = list(session.scalars(enabled))
    if not playbooks:
        return []
    levels = severity_levels(session)
    subject = subject_of(incident)
    wanted = [playbook for playbook in playbooks if _meets(playbook, subject, levels)]
    if not wanted:
        return []
    held = set(
        session.scalars(
            select(IncidentPlaybook.playbook_id).where(IncidentPlaybook.incident_id == incident.id)
        )
    )
    attached = []
    for playbook in wanted:
        if playbook.id in held:
            continue
        try:
            attachment = _attach(
                session,
                incident=incident,
                playbook=playbook,
                now=now,
                actor=SYSTEM,
                reason=_why(playbook, incident, subject),
            )
        except MalformedPlaybook as error:  # refused before anything was written
            log.warning("playbook_not_attached", playbook=playbook.slug, error=error.detail)
            continue
        attached.append(attachment)
    return attached


def attach(
    session: Session,
    *,
    incident: Incident,
    playbook_slug: str,
    now: datetime,
    actor: Actor,
    reason: str = "",
) -> IncidentPlaybook:
    """Attach the playbook by hand (or by an automation rule), whatever its conditions and even
    when disabled: `enabled` governs only attaching by conditions. Attaching a playbook the
    incident has already is a no-op returning that attachment."""
    playbook = session.scalar(select(Playbook).where(Playbook.slug == playbook_slug.strip()))
    if playbook is None:
        raise InvalidInput.on("playbook", f"no playbook '{playbook_slug.strip()}'")
    existing = find_attachment(session, incident, playbook)
    if existing is not None:
        return existing
    if incident.status in NOT_ATTACHABLE:
        raise Conflict(
            detail=f"{incident.reference} is {incident.status}; playbooks are attached to "
            "declared incidents that are not closed."
        )
    return _attach(
        session, incident=incident, playbook=playbook, now=now, actor=actor, reason=reason
    )


def find_attachment(
    session: Session, incident: Incident, playbook: Playbook
) -> IncidentPlaybook | None:
    return session.scalar(
        select(IncidentPlaybook)
        .where(
            IncidentPlaybook.incident_id == incident.id,
            IncidentPlaybook.playbook_id == playbook.id,
        )
        .options(joinedload(IncidentPlaybook.playbook))
    )


def attachments(session: Session, incident: Incident) -> list[tuple[IncidentPlaybook, int, int]]:
    """The incident's playbooks in the order attached, each with its task count and how many
    of those are done."""
    counts = {
        playbook_id: (total, done)
        for playbook_id, total, done in session.execute(
            select(
                IncidentTask.playbook_id,
                func.count(),
                func.count(case((IncidentTask.done_at.is_not(None), 1))),
            )
            .where(IncidentTask.incident_id == incident.id)
            .group_by(IncidentTask.playbook_id)
        )
    }
    query = (
        select(IncidentPlaybook)
        .where(IncidentPlaybook.incident_id == incident.id)
        .options(joinedload(IncidentPlaybook.playbook))
        .order_by(IncidentPlaybook.attached_at, IncidentPlaybook.id)
    )
    return [
        (attachment, *counts.get(attachment.playbook_id, (0, 0)))
        for attachment in session.scalars(query)
    ]


def _meets(playbook: Playbook, subject: Subject, levels: Mapping[str, int]) -> bool:
    try:
        return matches(playbook.conditions, subject, levels)
    except ValidationError:
        # Stored conditions are checked when written; ones edited in the database by hand must
        # not fail every write to every incident.
        log.warning("playbook_conditions_unreadable", playbook=playbook.slug)
        return False


def _why(playbook: Playbook, incident: Incident, subject: Subject) -> str:
    """What about the incident matched: `SEV1 incident`, `SEV2 incident affecting checkout`."""
    reason = f"{incident.severity.key} incident"
    if playbook.conditions.get("types"):
        reason += f" of type {incident.type}"
    wanted = set(playbook.conditions.get("services") or ())
    if wanted:
        reason += " affecting " + ", ".join(sorted(subject.services & wanted))
    if playbook.conditions.get("statuses"):
        reason += f" ({incident.status})"
    return reason


def _templates(playbook: Playbook) -> list[TaskTemplate]:
    try:
        return [TaskTemplate.model_validate(task) for task in playbook.tasks]
    except ValidationError as error:
        raise MalformedPlaybook(
            detail=f"Playbook '{playbook.slug}' has a task that cannot be read "
            f"({error.errors()[0]['msg']}); fix its tasks, then attach it again."
        ) from None


def _attach(
    session: Session,
    *,
    incident: Incident,
    playbook: Playbook,
    now: datetime,
    actor: Actor,
    reason: str,
) -> IncidentPlaybook:
    templates = _templates(playbook)
    attachment = IncidentPlaybook(
        incident_id=incident.id, playbook_id=playbook.id, attached_at=now, reason=reason
    )
    attachment.playbook = playbook
    session.add(attachment)
    start = next_position(session, incident)
    declared = incident.declared_at
    tasks = [
        IncidentTask(
            incident_id=incident.id,
            playbook_id=playbook.id,
            position=start + offset,
            title=template.title,
            phase=template.phase,
            owner_role=template.owner_role,
            due_at=None
            if declared is None or template.due_minutes is None
            else declared + timedelta(minutes=template.due_minutes),
            note="",
            created_at=now,
        )
        for offset, template in enumerate(templates)
    ]
    session.add_all(tasks)
    session.flush()
    past_due = sum(1 for task in tasks if task.due_at is not None and task.due_at <= now)
    count = f"{len(tasks)} task{'' if len(tasks) == 1 else 's'}"
    write_change(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="playbook_attached",
        body=f"Playbook attached: {playbook.name} ({count})"
        + (f" — {reason}" if reason else "")
        + (f"; {past_due} already past due." if past_due else "."),
        details={
            "playbook": playbook.slug,
            "tasks": len(tasks),
            "past_due": past_due,
            "reason": reason,
        },
    )
    schedule_task_timers(session, incident=incident, tasks=tasks, now=now)
    return attachment
