"""Overrides: someone covers a stretch of a schedule in place of whoever its layers say.

Anyone with the on-call write permission (responders) may add an override for any active person,
themselves or a colleague: at 3 a.m. the person arranging cover is often the one handing off, not
the one taking over. Every override added or removed is in the audit log with who did it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.errors import InvalidInput, NotFound
from fireline.models import Schedule, ScheduleOverride
from fireline.oncall.people import resolve_user


def _snapshot(override: ScheduleOverride) -> dict[str, Any]:
    return {
        "id": override.id,
        "user_id": override.user_id,
        "start": override.starts_at.isoformat(),
        "end": override.ends_at.isoformat(),
        "reason": override.reason,
    }


def list_overrides(
    session: Session,
    *,
    schedule: Schedule,
    start: datetime,
    end: datetime | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = 50,
) -> list[ScheduleOverride]:
    """The schedule's overrides still running at `start` (and beginning before `end`), in the
    order they start; `after` continues from the (start, id) of the last one seen."""
    query = (
        select(ScheduleOverride)
        .options(selectinload(ScheduleOverride.user))
        .where(ScheduleOverride.schedule_id == schedule.id, ScheduleOverride.ends_at > start)
        .order_by(ScheduleOverride.starts_at, ScheduleOverride.id)
        .limit(limit)
    )
    if end is not None:
        query = query.where(ScheduleOverride.starts_at < end)
    if after is not None:
        starts_at, last_id = after
        query = query.where(
            or_(
                ScheduleOverride.starts_at > starts_at,
                (ScheduleOverride.starts_at == starts_at) & (ScheduleOverride.id > last_id),
            )
        )
    return list(session.scalars(query))


def get_override(session: Session, *, schedule: Schedule, override_id: int) -> ScheduleOverride:
    override = session.scalar(
        select(ScheduleOverride)
        .options(selectinload(ScheduleOverride.user))
        .where(ScheduleOverride.id == override_id, ScheduleOverride.schedule_id == schedule.id)
    )
    if override is None:
        raise NotFound(detail=f"Schedule '{schedule.slug}' has no override {override_id}.")
    return override


def add_override(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    schedule: Schedule,
    user: int | str,
    start: datetime,
    end: datetime,
    reason: str = "",
) -> ScheduleOverride:
    """`user` (an id or email) covers the schedule from `start` until `end`."""
    if end <= start:
        raise InvalidInput.on("end", "an override must end after it starts")
    covering = resolve_user(session, user, field="user")
    override = ScheduleOverride(
        schedule_id=schedule.id,
        user_id=covering.id,
        starts_at=start,
        ends_at=end,
        reason=reason,
        created_by_id=actor.user_id,
        created_at=now,
    )
    session.add(override)
    session.flush()
    record(
        session,
        actor=actor,
        action="schedule.override.create",
        entity_type="schedule",
        entity_id=schedule.id,
        at=now,
        after=_snapshot(override),
    )
    return get_override(session, schedule=schedule, override_id=override.id)


def remove_override(
    session: Session, *, actor: Actor, now: datetime, override: ScheduleOverride
) -> None:
    record(
        session,
        actor=actor,
        action="schedule.override.delete",
        entity_type="schedule",
        entity_id=override.schedule_id,
        at=now,
        before=_snapshot(override),
    )
    session.delete(override)
    session.flush()
