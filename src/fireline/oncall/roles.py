"""Role schedules: an incident role (commander, tech lead, …) filled by default from a schedule.

`schedules.default_holder` answers who that is at a given instant; this module changes which
schedule each role follows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.errors import InvalidInput, NotFound
from fireline.models import SINGLE_HOLDER_ROLES, RoleSchedule, Schedule


def check_role(role: str) -> str:
    if role not in SINGLE_HOLDER_ROLES:
        raise InvalidInput.on("role", f"must be one of {', '.join(SINGLE_HOLDER_ROLES)}")
    return role


def list_role_schedules(session: Session) -> list[RoleSchedule]:
    return list(session.scalars(select(RoleSchedule).order_by(RoleSchedule.role)))


def set_role_schedule(
    session: Session, *, actor: Actor, now: datetime, role: str, schedule: Schedule
) -> RoleSchedule:
    """From now on `role` is filled by default from whoever `schedule` has on call."""
    row = session.get(RoleSchedule, check_role(role))
    before = None if row is None else {"schedule_id": row.schedule_id}
    if row is None:
        row = RoleSchedule(role=role, schedule_id=schedule.id, updated_at=now)
        session.add(row)
    else:
        row.schedule_id = schedule.id
        row.updated_at = now
    record(
        session,
        actor=actor,
        action="role_schedule.set",
        entity_type="role_schedule",
        entity_id=role,
        at=now,
        before=before,
        after={"schedule_id": schedule.id},
    )
    session.flush()
    return row


def remove_role_schedule(session: Session, *, actor: Actor, now: datetime, role: str) -> None:
    row = session.get(RoleSchedule, check_role(role))
    if row is None:
        raise NotFound(detail=f"The {role.replace('_', ' ')} role follows no schedule.")
    record(
        session,
        actor=actor,
        action="role_schedule.delete",
        entity_type="role_schedule",
        entity_id=role,
        at=now,
        before={"schedule_id": row.schedule_id},
    )
    session.delete(row)
    session.flush()
