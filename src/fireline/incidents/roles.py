"""Incident roles: commander (one at a time, hand-offs recorded), technical lead, communications
lead, scribe, and any number of subject-matter experts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fireline.accounts.principal import Actor
from fireline.accounts.service import find_user
from fireline.audit.service import record
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.incidents import lifecycle
from fireline.incidents.lifecycle import Status
from fireline.incidents.queries import find_active_user, get_incident
from fireline.incidents.recording import add_entry, apply_timestamps, timestamps_of
from fireline.models import (
    SINGLE_HOLDER_ROLES,
    Incident,
    RoleAssignment,
    User,
)

ROLE_NAMES = {
    "commander": "incident commander",
    "tech_lead": "technical lead",
    "comms_lead": "communications lead",
    "scribe": "scribe",
    "sme": "subject-matter expert",
}


def holder(incident: Incident, role: str) -> RoleAssignment | None:
    for assignment in incident.roles:
        if assignment.role == role and assignment.ended_at is None:
            return assignment
    return None


def assign(
    session: Session, *, incident: Incident, actor: Actor, now: datetime, role: str, user: User
) -> None:
    previous = holder(incident, role) if role in SINGLE_HOLDER_ROLES else None
    if role == "sme" and any(
        a.role == "sme" and a.ended_at is None and a.user_id == user.id for a in incident.roles
    ):
        raise Conflict(
            detail=f"{user.name} is already a subject-matter expert on {incident.reference}."
        )
    if previous is not None:
        if previous.user_id == user.id:
            raise Conflict(
                detail=f"{user.name} is already the {ROLE_NAMES[role]} of {incident.reference}."
            )
        previous.ended_at = now
        previous.ended_by_id = actor.user_id
        # The hand-off must reach the database before the new holder's row, or the one-holder
        # index trips.
        session.flush()
    incident.roles.append(
        RoleAssignment(
            incident_id=incident.id,
            role=role,
            user_id=user.id,
            user=user,
            assigned_at=now,
            assigned_by_id=actor.user_id,
        )
    )
    if previous is not None:
        body = f"{actor.label} handed {ROLE_NAMES[role]} from {previous.user.name} to {user.name}."
    else:
        body = f"{actor.label} made {user.name} {ROLE_NAMES[role]}."
    add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="role_change",
        body=body,
        details={
            "role": role,
            "user_id": user.id,
            "previous_user_id": previous.user_id if previous else None,
        },
    )
    if role == "commander":
        apply_timestamps(
            incident, lifecycle.acknowledge(Status(incident.status), timestamps_of(incident), now)
        )
    incident.updated_at = now
    record(
        session,
        actor=actor,
        action="incident.role.assign",
        entity_type="incident",
        entity_id=incident.reference,
        at=now,
        before={"role": role, "user_id": previous.user_id} if previous else None,
        after={"role": role, "user_id": user.id},
    )


def assign_role(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    role: str,
    user_ref: str | int,
) -> Incident:
    user = find_active_user(session, user_ref, "user")
    assign(session, incident=incident, actor=actor, now=now, role=role, user=user)
    session.flush()
    return get_incident(session, incident.id)


def unassign_role(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    role: str,
    user_ref: str | int | None,
) -> Incident:
    if role == "commander":
        raise Conflict(
            detail="An incident always has a commander once assigned; hand the role to "
            "someone else instead of removing it."
        )
    holders = [a for a in incident.roles if a.role == role and a.ended_at is None]
    if user_ref is not None:
        # No active check: someone who has left must still be releasable from their role.
        try:
            user = find_user(session, str(user_ref))
        except NotFound:
            raise InvalidInput.on("user", f"no user '{user_ref}'") from None
        holders = [a for a in holders if a.user_id == user.id]
    if not holders:
        raise NotFound(
            detail=f"Nobody holds {ROLE_NAMES[role]} on {incident.reference}"
            + (f" as {user_ref}" if user_ref is not None else "")
            + "."
        )
    for assignment in holders:
        assignment.ended_at = now
        assignment.ended_by_id = actor.user_id
        add_entry(
            session,
            incident=incident,
            actor=actor,
            now=now,
            kind="role_change",
            body=f"{actor.label} released {assignment.user.name} from {ROLE_NAMES[role]}.",
            details={"role": role, "user_id": None, "previous_user_id": assignment.user_id},
        )
        record(
            session,
            actor=actor,
            action="incident.role.release",
            entity_type="incident",
            entity_id=incident.reference,
            at=now,
            before={"role": role, "user_id": assignment.user_id},
        )
    incident.updated_at = now
    session.flush()
    return get_incident(session, incident.id)


def role_history(session: Session, incident: Incident) -> list[RoleAssignment]:
    query = (
        select(RoleAssignment)
        .where(RoleAssignment.incident_id == incident.id)
        .options(selectinload(RoleAssignment.user))
        .order_by(RoleAssignment.assigned_at, RoleAssignment.id)
    )
    return list(session.scalars(query))
