"""JSON routes for heartbeats, and the public URL their jobs ping (the key is the credential)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from fireline.alerts import heartbeats
from fireline.alerts.admin_schemas import HeartbeatCreate, HeartbeatOut, HeartbeatUpdate, PingOut
from fireline.alerts.integrations import find_service
from fireline.api.deps import AppClock, AppSettings, DbSession, IntegrationsAdmin
from fireline.api.pagination import Page, decode_id_cursor, encode_id_cursor
from fireline.api.responses import json_response
from fireline.config import Settings
from fireline.errors import InvalidInput
from fireline.models import Heartbeat

router = APIRouter(prefix="/api/v1", tags=["heartbeats"])
ping_router = APIRouter(tags=["ingest"])


def _out(settings: Settings, heartbeat: Heartbeat) -> HeartbeatOut:
    return HeartbeatOut.of(
        heartbeat,
        ping_url=heartbeats.ping_url(settings, heartbeat),
        due_by=heartbeats.due_by(heartbeat),
    )


@router.get("/heartbeats", response_model=Page[HeartbeatOut])
def list_heartbeats(
    principal: IntegrationsAdmin,
    db: DbSession,
    settings: AppSettings,
    service_ref: Annotated[str | None, Query(alias="service", description="Id or slug.")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Heartbeats in the order they were made, with their ping URLs and deadlines."""
    items = heartbeats.list_heartbeats(
        db,
        service=find_service(db, service_ref) if service_ref else None,
        after_id=decode_id_cursor(cursor),
        limit=limit,
    )
    more = len(items) == limit
    return json_response(
        Page(
            items=[_out(settings, item) for item in items],
            next_cursor=encode_id_cursor(items[-1].id) if more else None,
        )
    )


@router.post("/heartbeats", status_code=201, response_model=HeartbeatOut)
def create_heartbeat(
    body: HeartbeatCreate,
    principal: IntegrationsAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """A URL for a scheduled job to call every `interval_minutes`; when it stays silent past
    the grace, an alert fires on the service."""
    heartbeat = heartbeats.create_heartbeat(
        db,
        actor=principal.actor,
        now=clock.now(),
        service=find_service(db, body.service),
        name=body.name,
        interval_minutes=body.interval_minutes,
        grace_minutes=body.grace_minutes,
        severity=body.severity,
    )
    return json_response(_out(settings, heartbeat), status_code=201)


@router.get("/heartbeats/{heartbeat_id}", response_model=HeartbeatOut)
def get_heartbeat(
    heartbeat_id: int, principal: IntegrationsAdmin, db: DbSession, settings: AppSettings
) -> Response:
    return json_response(_out(settings, heartbeats.get_heartbeat(db, heartbeat_id)))


@router.patch("/heartbeats/{heartbeat_id}", response_model=HeartbeatOut)
def update_heartbeat(
    heartbeat_id: int,
    body: HeartbeatUpdate,
    principal: IntegrationsAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    heartbeat = heartbeats.get_heartbeat(db, heartbeat_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidInput.on(name, "cannot be null")
    if "service" in changes:
        changes["service"] = find_service(db, changes["service"])
    heartbeat = heartbeats.update_heartbeat(
        db, actor=principal.actor, now=clock.now(), heartbeat=heartbeat, changes=changes
    )
    return json_response(_out(settings, heartbeat))


@router.delete("/heartbeats/{heartbeat_id}", status_code=204)
def delete_heartbeat(
    heartbeat_id: int, principal: IntegrationsAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Remove the heartbeat; an alert it fired is resolved."""
    heartbeat = heartbeats.get_heartbeat(db, heartbeat_id)
    heartbeats.delete_heartbeat(db, actor=principal.actor, now=clock.now(), heartbeat=heartbeat)
    return Response(status_code=204)


@ping_router.get(
    "/integrations/heartbeat/{key}",
    response_model=PingOut,
    summary="Heartbeat ping (GET, for tools that can only fetch a URL)",
    operation_id="ping_heartbeat_get",
)
@ping_router.post(
    "/integrations/heartbeat/{key}",
    response_model=PingOut,
    summary="Heartbeat ping",
    operation_id="ping_heartbeat_post",
)
def ping_heartbeat(key: str, db: DbSession, clock: AppClock) -> Response:
    """A scheduled job checks in: the heartbeat is up until `due_by`, and an alert its silence
    fired is resolved. No sign-in: the key in the URL is the credential."""
    heartbeat = heartbeats.record_ping(db, key=key, now=clock.now())
    due = heartbeats.due_by(heartbeat)
    return json_response(PingOut(status=heartbeat.status, due_by=due or clock.now()))
