"""Use cases for on-call schedules, and who is on call when.

Stored rows become rotation.py's pure dataclasses through `layers_of` and `overrides_of`; the
time maths lives there. Layers are in layers.py, overrides in overrides.py, role schedules and
escalation policies in roles.py and policies.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from fireline.accounts.principal import Actor
from fireline.accounts.service import get_team, parse_id, slugify
from fireline.audit.service import record
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    RoleSchedule,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    Team,
    User,
)
from fireline.oncall.layers import insert_layer, layer_of, layer_snapshot
from fireline.oncall.people import users_by_id
from fireline.oncall.rotation import Layer, Override, Shift, final_shifts, on_call_at

MAX_RANGE = timedelta(days=93)
_INSTANT = timedelta(microseconds=1)  # `[at, at + _INSTANT)` is the instant `at`


@dataclass(frozen=True)
class OnCall:
    """Someone on call, and the shift (from a layer or an override) that puts them there."""

    user: User
    shift: Shift


@dataclass(frozen=True)
class ScheduleOnCall:
    schedule: Schedule
    on_call: OnCall | None


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


# --- rows as rotation dataclasses ---------------------------------------------------------------


def layers_of(schedule: Schedule) -> list[Layer]:
    """The schedule's rotations (its layers must be loaded)."""
    return [layer_of(row) for row in schedule.layers]


def overrides_of(rows: Iterable[ScheduleOverride]) -> list[Override]:
    return [Override(row.user_id, row.starts_at, row.ends_at, row.id) for row in rows]


# --- lookups ------------------------------------------------------------------------------------


def _query() -> Select[Schedule]:
    return (
        select(Schedule)
        .options(selectinload(Schedule.layers), selectinload(Schedule.team))
        .execution_options(populate_existing=True)
    )


def list_schedules(
    session: Session, *, after_id: int | None = None, limit: int | None = None
) -> list[Schedule]:
    """Schedules in the order they were made, with layers and team loaded."""
    query = _query().order_by(Schedule.id).limit(limit)
    if after_id is not None:
        query = query.where(Schedule.id > after_id)
    return list(session.scalars(query))


def find_schedule(session: Session, ref: int | str) -> Schedule | None:
    """A schedule by id or slug (a slug may itself be all digits), or None."""
    text = str(ref).strip()
    schedule_id = parse_id(text)
    found = session.scalar(_query().where(Schedule.id == schedule_id)) if schedule_id else None
    return found or session.scalar(_query().where(Schedule.slug == text))


def find_schedule_by_token(session: Session, token: str) -> Schedule | None:
    """The schedule whose calendar feed this secret opens, or None."""
    return session.scalar(_query().where(Schedule.calendar_token == token))


def get_schedule(session: Session, ref: int | str) -> Schedule:
    schedule = find_schedule(session, ref)
    if schedule is None:
        raise NotFound(detail=f"No schedule '{ref}'.")
    return schedule


def check_zone(name: str, *, field: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.on(field, f"unknown time zone '{name}'") from None
    return name


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise InvalidInput.on("end", "must be after start")
    if end - start > MAX_RANGE:
        raise InvalidInput.on("end", f"a range may span at most {MAX_RANGE.days} days")


def _team(session: Session, ref: str | None) -> Team | None:
    if ref is None:
        return None
    try:
        return get_team(session, ref)
    except NotFound:
        raise InvalidInput.on("team", f"no team '{ref}'") from None


# --- schedules ----------------------------------------------------------------------------------


def _snapshot(schedule: Schedule) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "slug": schedule.slug,
        "description": schedule.description,
        "timezone": schedule.timezone,
        "team_id": schedule.team_id,
    }


def create_schedule(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    name: str,
    slug: str | None = None,
    description: str = "",
    timezone: str = "UTC",
    team: str | None = None,
    layers: Sequence[dict[str, Any]] = (),
) -> Schedule:
    """A new schedule, with its layers (each a dict of LayerCreate's fields) if any are given."""
    slug = slug or slugify(name)
    clash = select(Schedule.id).where(
        (func.lower(Schedule.name) == name.lower()) | (Schedule.slug == slug)
    )
    if session.scalar(clash) is not None:
        raise Conflict(detail=f"A schedule named '{name}' or with slug '{slug}' already exists.")
    owner = _team(session, team)
    schedule = Schedule(
        name=name,
        slug=slug,
        description=description,
        timezone=check_zone(timezone, field="timezone"),
        team_id=owner.id if owner else None,
        calendar_token=new_calendar_token(),
        created_at=now,
        updated_at=now,
    )
    session.add(schedule)
    session.flush()
    rows = [
        insert_layer(
            session, schedule_id=schedule.id, now=now, values=values, prefix=f"layers.{n}."
        )
        for n, values in enumerate(layers)
    ]
    record(
        session,
        actor=actor,
        action="schedule.create",
        entity_type="schedule",
        entity_id=schedule.id,
        at=now,
        after={**_snapshot(schedule), "layers": [layer_snapshot(row) for row in rows]},
    )
    return get_schedule(session, schedule.id)


def update_schedule(
    session: Session, *, actor: Actor, now: datetime, schedule: Schedule, changes: dict[str, Any]
) -> Schedule:
    """Change the given fields (name, description, timezone, team; a null team clears it)."""
    before = _snapshot(schedule)
    name = changes.get("name")
    if name is not None:
        clash = select(Schedule.id).where(
            func.lower(Schedule.name) == name.lower(), Schedule.id != schedule.id
        )
        if session.scalar(clash) is not None:
            raise Conflict(detail=f"A schedule named '{name}' already exists.")
        schedule.name = name
    if changes.get("description") is not None:
        schedule.description = changes["description"]
    if changes.get("timezone") is not None:
        schedule.timezone = check_zone(changes["timezone"], field="timezone")
    if "team" in changes:
        owner = _team(session, changes["team"])
        schedule.team_id = owner.id if owner else None
    schedule.updated_at = now
    record(
        session,
        actor=actor,
        action="schedule.update",
        entity_type="schedule",
        entity_id=schedule.id,
        at=now,
        before=before,
        after=_snapshot(schedule),
    )
    session.flush()
    return get_schedule(session, schedule.id)


def delete_schedule(session: Session, *, actor: Actor, now: datetime, schedule: Schedule) -> None:
    """Delete a schedule nothing pages through; Conflict naming the policies or roles that do."""
    policies = list(
        session.scalars(
            select(EscalationPolicy.name)
            .join(EscalationLevel, EscalationLevel.policy_id == EscalationPolicy.id)
            .join(EscalationTarget, EscalationTarget.level_id == EscalationLevel.id)
            .where(EscalationTarget.schedule_id == schedule.id)
            .distinct()
            .order_by(EscalationPolicy.name)
        )
    )
    roles = list(
        session.scalars(
            select(RoleSchedule.role)
            .where(RoleSchedule.schedule_id == schedule.id)
            .order_by(RoleSchedule.role)
        )
    )
    if policies or roles:
        users = [f"escalation policy '{name}'" for name in policies]
        users += [f"the default {role.replace('_', ' ')}" for role in roles]
        raise Conflict(
            detail=f"Schedule '{schedule.slug}' is still used by {', '.join(users)}; "
            "remove it there first.",
            extra={"escalation_policies": policies, "roles": roles},
        )
    record(
        session,
        actor=actor,
        action="schedule.delete",
        entity_type="schedule",
        entity_id=schedule.id,
        at=now,
        before={**_snapshot(schedule), "layers": [layer_snapshot(row) for row in schedule.layers]},
    )
    session.delete(schedule)
    session.flush()


# --- who is on call -----------------------------------------------------------------------------


def overrides_between(
    session: Session, schedule_ids: Iterable[int], start: datetime, end: datetime
) -> list[ScheduleOverride]:
    """Overrides of those schedules overlapping `[start, end)`, oldest first."""
    return list(
        session.scalars(
            select(ScheduleOverride)
            .where(
                ScheduleOverride.schedule_id.in_(list(schedule_ids)),
                ScheduleOverride.ends_at > start,
                ScheduleOverride.starts_at < end,
            )
            .order_by(ScheduleOverride.id)
        )
    )


def final_schedule(
    session: Session, *, schedule: Schedule, start: datetime, end: datetime
) -> list[Shift]:
    """Who is actually on call within `[start, end)`, overrides applied (layers must be loaded)."""
    overrides = overrides_between(session, [schedule.id], start, end)
    return final_shifts(layers_of(schedule), overrides_of(overrides), start, end)


def _shifts_at(
    session: Session, layers: dict[int, list[Layer]], at: datetime
) -> dict[int, Shift | None]:
    """The final shift covering `at` on each schedule (layers keyed by schedule id)."""
    # First with the overrides covering `at`, which decide who is on call; then again with those
    # overlapping that person's stretch, since a later override cuts the stretch short.
    covering = _by_schedule(overrides_between(session, layers, at, at + _INSTANT), layers)
    shifts = {sid: on_call_at(layers[sid], covering[sid], at) for sid in layers}
    spans = [shift for shift in shifts.values() if shift is not None]
    if not spans:
        return shifts
    start, end = min(s.start for s in spans), max(s.end for s in spans)
    nearby = _by_schedule(overrides_between(session, layers, start, end), layers)
    return {
        sid: on_call_at(layers[sid], nearby[sid], at) if shift else None
        for sid, shift in shifts.items()
    }


def _by_schedule(
    rows: Iterable[ScheduleOverride], schedule_ids: Iterable[int]
) -> dict[int, list[Override]]:
    grouped: dict[int, list[ScheduleOverride]] = {sid: [] for sid in schedule_ids}
    for row in rows:
        grouped[row.schedule_id].append(row)
    return {sid: overrides_of(found) for sid, found in grouped.items()}


def on_call(session: Session, *, schedule_id: int, at: datetime) -> list[OnCall]:
    """Who the schedule has on call at `at`: one person, or nobody (an empty list) in a gap.

    The shift is the stretch the final schedule shows around `at`: it starts and ends where
    that person's rotation shift or override does, or where another override takes over."""
    rows = session.scalars(select(ScheduleLayer).where(ScheduleLayer.schedule_id == schedule_id))
    shift = _shifts_at(session, {schedule_id: [layer_of(row) for row in rows]}, at)[schedule_id]
    if shift is None:
        return []
    return [OnCall(user=users_by_id(session, [shift.user_id])[shift.user_id], shift=shift)]


def who_is_on_call(
    session: Session, *, at: datetime, schedule_ids: Sequence[int] | None = None
) -> list[ScheduleOnCall]:
    """For each schedule (every one, or those named), by name, who is on call at `at`."""
    query = _query().order_by(Schedule.name)
    if schedule_ids is not None:
        query = query.where(Schedule.id.in_(list(schedule_ids)))
    schedules: list[Schedule] = list(session.scalars(query))
    shifts = _shifts_at(session, {schedule.id: layers_of(schedule) for schedule in schedules}, at)
    users = users_by_id(session, (shift.user_id for shift in shifts.values() if shift))
    answers = []
    for schedule in schedules:
        shift = shifts[schedule.id]
        person = OnCall(user=users[shift.user_id], shift=shift) if shift else None
        answers.append(ScheduleOnCall(schedule=schedule, on_call=person))
    return answers


def default_holder(session: Session, *, role: str, at: datetime) -> User | None:
    """Who should hold incident `role` at `at` by default: whoever the role's schedule has on
    call then, if that person is active; None without a role schedule, in a gap, or when the
    person on call has been deactivated."""
    schedule_id = session.scalar(select(RoleSchedule.schedule_id).where(RoleSchedule.role == role))
    if schedule_id is None:
        return None
    people = [person.user for person in on_call(session, schedule_id=schedule_id, at=at)]
    return next((user for user in people if user.is_active), None)
