"""JSON routes for on-call: overrides, who is on call, and the roles filled from schedules.

Schedules and layers (schedules_api.py) and escalation policies (policies_api.py) are included
here, so the application mounts one router for the whole domain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.api.deps import AppClock, DbSession, OnCallAdmin, OnCallReader, OnCallWriter
from fireline.api.pagination import Page, decode_time_cursor, encode_time_cursor
from fireline.api.responses import json_response
from fireline.errors import InvalidInput
from fireline.models import RoleSchedule, Schedule, ScheduleOverride
from fireline.oncall import overrides, policies, roles, schedules
from fireline.oncall.policies_api import router as policies_router
from fireline.oncall.schedules_api import router as schedules_router
from fireline.oncall.schemas import (
    OnCallOut,
    OverrideCreate,
    OverrideOut,
    PolicyOnCallOut,
    RoleScheduleIn,
    RoleScheduleOut,
    RowId,
    ScheduleOnCallOut,
    ScheduleSummary,
    ShiftOut,
    UserSummary,
)

router = APIRouter(prefix="/api/v1", tags=["on-call"])
router.include_router(schedules_router)
router.include_router(policies_router)


def _override_out(override: ScheduleOverride) -> OverrideOut:
    return OverrideOut(
        id=override.id,
        schedule_id=override.schedule_id,
        user=UserSummary.of(override.user),
        start=override.starts_at,
        end=override.ends_at,
        reason=override.reason,
        created_by_id=override.created_by_id,
        created_at=override.created_at,
    )


@router.get("/schedules/{ref}/overrides", response_model=Page[OverrideOut])
def list_overrides(
    ref: str,
    principal: OnCallReader,
    db: DbSession,
    clock: AppClock,
    start: Annotated[
        AwareDatetime | None, Query(description="Still running at this instant (default: now).")
    ] = None,
    end: Annotated[AwareDatetime | None, Query(description="Starting before this.")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """The schedule's current and coming overrides, in the order they start."""
    found = overrides.list_overrides(
        db,
        schedule=schedules.get_schedule(db, ref),
        start=start or clock.now(),
        end=end,
        after=decode_time_cursor(cursor),
        limit=limit,
    )
    last = found[-1] if len(found) == limit else None
    return json_response(
        Page(
            items=[_override_out(override) for override in found],
            next_cursor=encode_time_cursor(last.starts_at, last.id) if last else None,
        )
    )


@router.post("/schedules/{ref}/overrides", status_code=201, response_model=OverrideOut)
def add_override(
    ref: str, body: OverrideCreate, principal: OnCallWriter, db: DbSession, clock: AppClock
) -> Response:
    """Someone covers the schedule for a while. Responders may arrange cover for themselves or
    for a colleague; the audit log records who did."""
    override = overrides.add_override(
        db,
        actor=principal.actor,
        now=clock.now(),
        schedule=schedules.get_schedule(db, ref),
        user=body.user,
        start=body.start,
        end=body.end,
        reason=body.reason,
    )
    return json_response(_override_out(override), status_code=201)


@router.delete("/schedules/{ref}/overrides/{override_id}", status_code=204)
def remove_override(
    ref: str, override_id: RowId, principal: OnCallWriter, db: DbSession, clock: AppClock
) -> Response:
    schedule = schedules.get_schedule(db, ref)
    override = overrides.get_override(db, schedule=schedule, override_id=override_id)
    overrides.remove_override(db, actor=principal.actor, now=clock.now(), override=override)
    return Response(status_code=204)


def _schedule_named(db: Session, ref: int | str, field: str) -> Schedule:
    schedule = schedules.find_schedule(db, ref)
    if schedule is None:
        raise InvalidInput.on(field, f"no schedule '{ref}'")
    return schedule


@router.get("/oncall", response_model=OnCallOut)
def who_is_on_call(
    principal: OnCallReader,
    db: DbSession,
    clock: AppClock,
    at: Annotated[AwareDatetime | None, Query(description="The instant (default: now).")] = None,
    schedule: Annotated[
        list[str] | None, Query(description="Only these schedules (slug or id); repeatable.")
    ] = None,
) -> Response:
    """Who each schedule has on call at `at`, and who each escalation policy's first level would
    page then. With `schedule`, only those schedules and the policies paging them first."""
    instant = at or clock.now()
    chosen = (
        None
        if schedule is None
        else [_schedule_named(db, ref, f"schedule.{n}").id for n, ref in enumerate(schedule)]
    )
    answers = schedules.who_is_on_call(db, at=instant, schedule_ids=chosen)
    first_levels = []
    for policy in policies.list_policies(db):
        for level in policy.levels[:1]:  # every saved policy has a first level
            if chosen is not None and not any(t.schedule_id in chosen for t in level.targets):
                continue
            people = policies.targets_at(db, level=level, at=instant)
            first_levels.append(
                PolicyOnCallOut(
                    id=policy.id, name=policy.name, level_1=[UserSummary.of(u) for u in people]
                )
            )
    return json_response(
        OnCallOut(
            at=instant,
            schedules=[
                ScheduleOnCallOut(
                    id=answer.schedule.id,
                    slug=answer.schedule.slug,
                    name=answer.schedule.name,
                    on_call=(
                        ShiftOut.of(answer.on_call.shift, answer.on_call.user)
                        if answer.on_call
                        else None
                    ),
                )
                for answer in answers
            ],
            escalation_policies=first_levels,
        )
    )


def _role_schedules_out(
    db: Session, rows: list[RoleSchedule], now: datetime
) -> list[RoleScheduleOut]:
    found = {
        s.id: s
        for s in db.scalars(select(Schedule).where(Schedule.id.in_([r.schedule_id for r in rows])))
    }
    answers = []
    for row in rows:
        schedule = found[row.schedule_id]
        holder = schedules.default_holder(db, role=row.role, at=now)
        answers.append(
            RoleScheduleOut(
                role=row.role,
                schedule=ScheduleSummary(id=schedule.id, slug=schedule.slug, name=schedule.name),
                on_call_now=UserSummary.of(holder) if holder else None,
                updated_at=row.updated_at,
            )
        )
    return answers


@router.get("/role-schedules", response_model=list[RoleScheduleOut])
def list_role_schedules(principal: OnCallReader, db: DbSession, clock: AppClock) -> Response:
    """Incident roles filled by default from a schedule, and who would fill each now."""
    return json_response(_role_schedules_out(db, roles.list_role_schedules(db), clock.now()))


@router.put("/role-schedules/{role}", response_model=RoleScheduleOut)
def set_role_schedule(
    role: str, body: RoleScheduleIn, principal: OnCallAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Fill `role` (commander, tech_lead, comms_lead, scribe) from whoever the schedule has on
    call."""
    now = clock.now()
    row = roles.set_role_schedule(
        db,
        actor=principal.actor,
        now=now,
        role=roles.check_role(role),
        schedule=_schedule_named(db, body.schedule, "schedule"),
    )
    return json_response(_role_schedules_out(db, [row], now)[0])


@router.delete("/role-schedules/{role}", status_code=204)
def remove_role_schedule(
    role: str, principal: OnCallAdmin, db: DbSession, clock: AppClock
) -> Response:
    roles.remove_role_schedule(db, actor=principal.actor, now=clock.now(), role=role)
    return Response(status_code=204)
