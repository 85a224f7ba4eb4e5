"""JSON routes for schedules, their rotation layers, and the shifts they make."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime
from sqlalchemy.orm import Session

from fireline.api.deps import AppClock, DbSession, OnCallAdmin, OnCallReader
from fireline.api.pagination import Page, decode_id_cursor, encode_id_cursor
from fireline.api.responses import json_response
from fireline.models import Schedule, ScheduleLayer, User
from fireline.oncall import layers as layer_service
from fireline.oncall import schedules as service
from fireline.oncall.layers import layer_of
from fireline.oncall.people import users_by_id
from fireline.oncall.rotation import Shift, coverage_gaps, layer_shifts
from fireline.oncall.schemas import (
    Gap,
    LayerCreate,
    LayerOut,
    LayerUpdate,
    RestrictionOut,
    RowId,
    ScheduleCreate,
    ScheduleOut,
    ScheduleUpdate,
    ShiftOut,
    ShiftsOut,
    TeamSummary,
    UserSummary,
)

router = APIRouter(tags=["on-call"])

DEFAULT_RANGE = timedelta(days=14)
Start = Annotated[
    AwareDatetime | None, Query(description="From this instant (default: now), with its zone.")
]
End = Annotated[
    AwareDatetime | None,
    Query(description="Until this instant (default: two weeks after start); at most 93 days."),
]


def layer_out(layer: ScheduleLayer, users: dict[int, User]) -> LayerOut:
    return LayerOut(
        id=layer.id,
        name=layer.name,
        priority=layer.priority,
        members=[UserSummary.of(users[member]) for member in layer.members if member in users],
        shift_length=layer.shift_length,
        shift_unit=layer.shift_unit,
        rotation_start=layer.rotation_start,
        timezone=layer.timezone,
        restrictions=[RestrictionOut(**window) for window in layer.restrictions],
        ends_at=layer.ends_at,
    )


def schedules_out(db: Session, schedules: Sequence[Schedule], now: datetime) -> list[ScheduleOut]:
    """The schedules as the API shows them: layers highest priority first, and who is on call."""
    current = {
        answer.schedule.id: answer.on_call
        for answer in service.who_is_on_call(
            db, at=now, schedule_ids=[schedule.id for schedule in schedules]
        )
    }
    users = users_by_id(
        db, (member for s in schedules for layer in s.layers for member in layer.members)
    )
    answers = []
    for schedule in schedules:
        person = current.get(schedule.id)
        answers.append(
            ScheduleOut(
                id=schedule.id,
                slug=schedule.slug,
                name=schedule.name,
                description=schedule.description,
                timezone=schedule.timezone,
                team=TeamSummary.of(schedule.team),
                layers=[layer_out(layer, users) for layer in reversed(schedule.layers)],
                on_call_now=ShiftOut.of(person.shift, person.user) if person else None,
                created_at=schedule.created_at,
                updated_at=schedule.updated_at,
            )
        )
    return answers


def _one(db: Session, schedule: Schedule, now: datetime) -> ScheduleOut:
    return schedules_out(db, [schedule], now)[0]


def shifts_out(db: Session, shifts: Sequence[Shift], start: datetime, end: datetime) -> ShiftsOut:
    users = users_by_id(db, (shift.user_id for shift in shifts))
    return ShiftsOut(
        start=start,
        end=end,
        shifts=[ShiftOut.of(shift, users[shift.user_id]) for shift in shifts],
        gaps=[Gap(start=gap[0], end=gap[1]) for gap in coverage_gaps(shifts, start, end)],
    )


def _range(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    start = start or now
    end = end or start + DEFAULT_RANGE
    service.check_range(start, end)
    return start, end


@router.get("/schedules", response_model=Page[ScheduleOut])
def list_schedules(
    principal: OnCallReader,
    db: DbSession,
    clock: AppClock,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Every schedule in the order they were made, each with its layers and who is on call now."""
    schedules = service.list_schedules(db, after_id=decode_id_cursor(cursor), limit=limit)
    more = len(schedules) == limit
    return json_response(
        Page(
            items=schedules_out(db, schedules, clock.now()),
            next_cursor=encode_id_cursor(schedules[-1].id) if more else None,
        )
    )


@router.post("/schedules", status_code=201, response_model=ScheduleOut)
def create_schedule(
    body: ScheduleCreate, principal: OnCallAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Make a schedule, with its rotation layers if given (the last listed is on top)."""
    now = clock.now()
    schedule = service.create_schedule(
        db,
        actor=principal.actor,
        now=now,
        name=body.name,
        slug=body.slug,
        description=body.description,
        timezone=body.timezone,
        team=body.team,
        layers=[layer.model_dump() for layer in body.layers],
    )
    return json_response(_one(db, schedule, now), status_code=201)


@router.get("/schedules/{ref}", response_model=ScheduleOut)
def get_schedule(ref: str, principal: OnCallReader, db: DbSession, clock: AppClock) -> Response:
    """A schedule by slug or id."""
    return json_response(_one(db, service.get_schedule(db, ref), clock.now()))


@router.patch("/schedules/{ref}", response_model=ScheduleOut)
def update_schedule(
    ref: str, body: ScheduleUpdate, principal: OnCallAdmin, db: DbSession, clock: AppClock
) -> Response:
    now = clock.now()
    schedule = service.update_schedule(
        db,
        actor=principal.actor,
        now=now,
        schedule=service.get_schedule(db, ref),
        changes=body.model_dump(exclude_unset=True),
    )
    return json_response(_one(db, schedule, now))


@router.delete("/schedules/{ref}", status_code=204)
def delete_schedule(ref: str, principal: OnCallAdmin, db: DbSession, clock: AppClock) -> Response:
    """Delete a schedule; refused (409) while an escalation policy or a role still uses it."""
    schedule = service.get_schedule(db, ref)
    service.delete_schedule(db, actor=principal.actor, now=clock.now(), schedule=schedule)
    return Response(status_code=204)


@router.post("/schedules/{ref}/layers", status_code=201, response_model=LayerOut)
def add_layer(
    ref: str, body: LayerCreate, principal: OnCallAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Add a rotation layer; without a priority it goes on top of the others."""
    layer = layer_service.add_layer(
        db,
        actor=principal.actor,
        now=clock.now(),
        schedule=service.get_schedule(db, ref),
        values=body.model_dump(),
    )
    return json_response(layer_out(layer, users_by_id(db, layer.members)), status_code=201)


@router.patch("/schedules/{ref}/layers/{layer_id}", response_model=LayerOut)
def update_layer(
    ref: str,
    layer_id: RowId,
    body: LayerUpdate,
    principal: OnCallAdmin,
    db: DbSession,
    clock: AppClock,
) -> Response:
    schedule = service.get_schedule(db, ref)
    layer = layer_service.update_layer(
        db,
        actor=principal.actor,
        now=clock.now(),
        schedule=schedule,
        layer=layer_service.get_layer(db, schedule=schedule, layer_id=layer_id),
        changes=body.model_dump(exclude_unset=True),
    )
    return json_response(layer_out(layer, users_by_id(db, layer.members)))


@router.delete("/schedules/{ref}/layers/{layer_id}", status_code=204)
def delete_layer(
    ref: str, layer_id: RowId, principal: OnCallAdmin, db: DbSession, clock: AppClock
) -> Response:
    schedule = service.get_schedule(db, ref)
    layer = layer_service.get_layer(db, schedule=schedule, layer_id=layer_id)
    layer_service.delete_layer(
        db, actor=principal.actor, now=clock.now(), schedule=schedule, layer=layer
    )
    return Response(status_code=204)


@router.get("/schedules/{ref}/shifts", response_model=ShiftsOut)
def final_shifts(
    ref: str,
    principal: OnCallReader,
    db: DbSession,
    clock: AppClock,
    start: Start = None,
    end: End = None,
) -> Response:
    """Who is actually on call, overrides applied, and the gaps nobody covers."""
    start, end = _range(start, end, clock.now())
    schedule = service.get_schedule(db, ref)
    shifts = service.final_schedule(db, schedule=schedule, start=start, end=end)
    return json_response(shifts_out(db, shifts, start, end))


@router.get("/schedules/{ref}/layers/{layer_id}/shifts", response_model=ShiftsOut)
def layer_shift_list(
    ref: str,
    layer_id: RowId,
    principal: OnCallReader,
    db: DbSession,
    clock: AppClock,
    start: Start = None,
    end: End = None,
) -> Response:
    """One layer's own shifts, before overrides and other layers: a row of the timeline."""
    start, end = _range(start, end, clock.now())
    schedule = service.get_schedule(db, ref)
    layer = layer_service.get_layer(db, schedule=schedule, layer_id=layer_id)
    return json_response(shifts_out(db, layer_shifts(layer_of(layer), start, end), start, end))
