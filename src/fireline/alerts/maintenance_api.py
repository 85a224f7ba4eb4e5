"""JSON routes for quiet times and recent changes: maintenance windows, silences, change events.

Responders set up maintenance windows and silences (AlertWriter); anyone who reads alerts may
see them, and the change events monitoring tools report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime
from sqlalchemy import or_, select

from fireline.alerts import maintenance
from fireline.alerts.admin_schemas import (
    ChangeEventOut,
    MaintenanceWindowCreate,
    MaintenanceWindowOut,
    MaintenanceWindowUpdate,
    SilenceCreate,
    SilenceOut,
    TimeState,
)
from fireline.alerts.integrations import find_service
from fireline.api.deps import AlertReader, AlertWriter, AppClock, DbSession
from fireline.api.pagination import (
    Page,
    decode_id_cursor,
    decode_time_cursor,
    encode_id_cursor,
    encode_time_cursor,
)
from fireline.api.responses import json_response
from fireline.errors import InvalidInput
from fireline.models import ChangeEvent, MaintenanceWindow, Service

router = APIRouter(prefix="/api/v1", tags=["maintenance and silences"])
Limit = Annotated[int, Query(ge=1, le=200)]
State = Annotated[TimeState | None, Query(description="active, upcoming or past, now.")]


def _services(db: DbSession, refs: list[str]) -> list[Service]:
    return [find_service(db, ref, field=f"services[{index}]") for index, ref in enumerate(refs)]


def _window_out(window: MaintenanceWindow, now: datetime) -> MaintenanceWindowOut:
    return MaintenanceWindowOut.of(window, maintenance.state_of(window, now))


# --- Maintenance windows ---------------------------------------------------------------------


@router.get("/maintenance-windows", response_model=Page[MaintenanceWindowOut])
def list_maintenance_windows(
    principal: AlertReader,
    db: DbSession,
    clock: AppClock,
    state: State = None,
    service_ref: Annotated[str | None, Query(alias="service", description="Id or slug.")] = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Response:
    """Maintenance windows, newest first: while one is active its services page nobody."""
    now = clock.now()
    items = maintenance.list_windows(
        db,
        now=now,
        state=state,
        service=find_service(db, service_ref) if service_ref else None,
        before_id=decode_id_cursor(cursor),
        limit=limit,
    )
    more = len(items) == limit
    return json_response(
        Page(
            items=[_window_out(item, now) for item in items],
            next_cursor=encode_id_cursor(items[-1].id) if more else None,
        )
    )


@router.post("/maintenance-windows", status_code=201, response_model=MaintenanceWindowOut)
def create_maintenance_window(
    body: MaintenanceWindowCreate, principal: AlertWriter, db: DbSession, clock: AppClock
) -> Response:
    """Planned work on services: their new alerts are recorded as suppressed, nobody is paged."""
    now = clock.now()
    window = maintenance.create_window(
        db,
        actor=principal.actor,
        now=now,
        description=body.description,
        services=_services(db, body.services),
        starts_at=body.starts_at,
        ends_at=body.ends_at,
    )
    return json_response(_window_out(window, now), status_code=201)


@router.get("/maintenance-windows/{window_id}", response_model=MaintenanceWindowOut)
def get_maintenance_window(
    window_id: int, principal: AlertReader, db: DbSession, clock: AppClock
) -> Response:
    return json_response(_window_out(maintenance.get_window(db, window_id), clock.now()))


@router.patch("/maintenance-windows/{window_id}", response_model=MaintenanceWindowOut)
def update_maintenance_window(
    window_id: int,
    body: MaintenanceWindowUpdate,
    principal: AlertWriter,
    db: DbSession,
    clock: AppClock,
) -> Response:
    now = clock.now()
    window = maintenance.get_window(db, window_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidInput.on(name, "cannot be null")
    if "services" in changes:
        changes["services"] = _services(db, changes["services"])
    window = maintenance.update_window(
        db, actor=principal.actor, now=now, window=window, changes=changes
    )
    return json_response(_window_out(window, now))


@router.delete("/maintenance-windows/{window_id}", status_code=204)
def delete_maintenance_window(
    window_id: int, principal: AlertWriter, db: DbSession, clock: AppClock
) -> Response:
    window = maintenance.get_window(db, window_id)
    maintenance.delete_window(db, actor=principal.actor, now=clock.now(), window=window)
    return Response(status_code=204)


@router.post("/maintenance-windows/{window_id}/end", response_model=MaintenanceWindowOut)
def end_maintenance_window(
    window_id: int, principal: AlertWriter, db: DbSession, clock: AppClock
) -> Response:
    """The work is done early: end the window now, so alerts page again."""
    now = clock.now()
    window = maintenance.get_window(db, window_id)
    window = maintenance.end_window(db, actor=principal.actor, now=now, window=window)
    return json_response(_window_out(window, now))


# --- Silences --------------------------------------------------------------------------------


@router.get("/silences", response_model=Page[SilenceOut])
def list_silences(
    principal: AlertReader,
    db: DbSession,
    clock: AppClock,
    state: State = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Response:
    """Silences, newest first."""
    now = clock.now()
    items = maintenance.list_silences(
        db, now=now, state=state, before_id=decode_id_cursor(cursor), limit=limit
    )
    more = len(items) == limit
    return json_response(
        Page(
            items=[SilenceOut.of(item, maintenance.state_of(item, now)) for item in items],
            next_cursor=encode_id_cursor(items[-1].id) if more else None,
        )
    )


@router.post("/silences", status_code=201, response_model=SilenceOut)
def create_silence(
    body: SilenceCreate, principal: AlertWriter, db: DbSession, clock: AppClock
) -> Response:
    """Suppress new alerts matching every condition until `ends_at`."""
    now = clock.now()
    silence = maintenance.create_silence(
        db,
        actor=principal.actor,
        now=now,
        comment=body.comment,
        conditions=body.conditions,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
    )
    return json_response(
        SilenceOut.of(silence, maintenance.state_of(silence, now)), status_code=201
    )


@router.get("/silences/{silence_id}", response_model=SilenceOut)
def get_silence(
    silence_id: int, principal: AlertReader, db: DbSession, clock: AppClock
) -> Response:
    silence = maintenance.get_silence(db, silence_id)
    return json_response(SilenceOut.of(silence, maintenance.state_of(silence, clock.now())))


@router.delete("/silences/{silence_id}", status_code=204)
def expire_silence(
    silence_id: int, principal: AlertWriter, db: DbSession, clock: AppClock
) -> Response:
    """End the silence now (one not started yet is removed)."""
    silence = maintenance.get_silence(db, silence_id)
    maintenance.expire_silence(db, actor=principal.actor, now=clock.now(), silence=silence)
    return Response(status_code=204)


# --- Change events ---------------------------------------------------------------------------


@router.get("/change-events", response_model=Page[ChangeEventOut])
def list_change_events(
    principal: AlertReader,
    db: DbSession,
    service_ref: Annotated[str | None, Query(alias="service", description="Id or slug.")] = None,
    since: Annotated[AwareDatetime | None, Query(description="Only changes from then on.")] = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Response:
    """Changes (deploys, configuration pushes) monitoring tools reported, newest first."""
    query = (
        select(ChangeEvent)
        .order_by(ChangeEvent.occurred_at.desc(), ChangeEvent.id.desc())
        .limit(limit)
    )
    if service_ref is not None:
        query = query.where(ChangeEvent.service_id == find_service(db, service_ref).id)
    if since is not None:
        query = query.where(ChangeEvent.occurred_at >= since)
    position = decode_time_cursor(cursor)
    if position is not None:
        at, last_id = position
        query = query.where(
            or_(
                ChangeEvent.occurred_at < at,
                (ChangeEvent.occurred_at == at) & (ChangeEvent.id < last_id),
            )
        )
    items = list(db.scalars(query))
    more = len(items) == limit
    return json_response(
        Page(
            items=[ChangeEventOut.of(item) for item in items],
            next_cursor=encode_time_cursor(items[-1].occurred_at, items[-1].id) if more else None,
        )
    )
