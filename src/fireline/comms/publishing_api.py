"""JSON routes for what customers are told: public incidents, their updates, the closing update
and report, and scheduled maintenance.

Publishing and updating need statuspage:write; reading needs incidents:read. Every answer that
carries words customers will read lists `warnings` about guesses at the cause; they never block.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.api.deps import (
    AppClock,
    AppSettings,
    DbSession,
    IncidentReader,
    StatusPageWriter,
)
from fireline.api.pagination import Page, decode_id_cursor, encode_id_cursor
from fireline.api.responses import json_response
from fireline.comms import maintenance as maintenances
from fireline.comms import public_incidents, publishing
from fireline.comms.publishing_schemas import (
    ComponentRefOut,
    MaintenanceChange,
    MaintenanceCreate,
    MaintenanceUpdateCreate,
    PublicIncidentCreate,
    PublicIncidentOut,
    PublicUpdateCreate,
    PublicUpdateCreated,
    PublicUpdateOut,
    ReportIn,
    ResolveCreate,
)
from fireline.comms.wording import warnings_for
from fireline.errors import InvalidInput, NotFound
from fireline.incidents.queries import get_incident
from fireline.models import (
    ComponentStatus,
    Impact,
    PublicIncident,
    PublicKind,
    PublicStatus,
    PublicUpdate,
    StatusPage,
)

router = APIRouter(prefix="/api/v1", tags=["public incidents and maintenance"])

Limit = Annotated[int, Query(ge=1, le=200)]


def _page(db: Session, slug: str) -> StatusPage:
    if len(slug) > 60 or "\x00" in slug:
        raise NotFound(detail=f"No status page {slug[:60]!r}.")
    page = db.scalar(select(StatusPage).where(StatusPage.slug == slug))
    if page is None:
        raise NotFound(detail=f"No status page {slug!r}.")
    return page


def _out(
    db: Session, public_incident: PublicIncident, warnings: list[str] | None = None
) -> PublicIncidentOut:
    components = [
        ComponentRefOut(code=c.code, name=c.name, status=c.status)
        for c in public_incidents.components_of(db, public_incident)
    ]
    return PublicIncidentOut.of(
        public_incident,
        page=db.get_one(StatusPage, public_incident.page_id),
        components=components,
        updates=public_incidents.updates_of(db, public_incident),
        warnings=warnings,
    )


def _created(db: Session, update: PublicUpdate, warnings: list[str]) -> Response:
    public_incident = db.get_one(PublicIncident, update.public_incident_id)
    body = PublicUpdateCreated(
        update=PublicUpdateOut.of(update),
        public_incident=_out(db, public_incident, warnings),
        warnings=warnings,
    )
    return json_response(body, status_code=201)


def _statuses(changes: dict[str, ComponentStatus]) -> dict[str, ComponentStatus]:
    return {code.strip(): status for code, status in changes.items()}


# --- Public incidents ------------------------------------------------------------------------


@router.post("/status-pages/{slug}/incidents", status_code=201, response_model=PublicIncidentOut)
def publish_incident(
    slug: str,
    body: PublicIncidentCreate,
    principal: StatusPageWriter,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Publish a public incident on the page, with its first update; name the internal
    incident (`INC-12`) to link them: each public update then meets its update clocks."""
    page = _page(db, slug)
    incident = None
    if body.incident is not None:
        try:
            incident = get_incident(db, body.incident, for_update=True)
        except NotFound as error:
            raise InvalidInput.on("incident", error.detail) from None
    public_incident = publishing.publish_incident(
        db,
        actor=principal.actor,
        now=clock.now(),
        base_url=settings.base_url,
        page=page,
        incident=incident,
        name=body.name,
        status=PublicStatus(body.status),
        components=_statuses(body.components),
        parts=body.parts(),
        impact=None if body.impact is None else Impact(body.impact),
        started_at=body.started_at,
    )
    warnings = warnings_for(body.name, body.current_impact, body.doing_now, body.users_should)
    return json_response(_out(db, public_incident, warnings), status_code=201)


@router.get("/status-pages/{slug}/incidents", response_model=Page[PublicIncidentOut])
def list_public_incidents(
    slug: str,
    principal: IncidentReader,
    db: DbSession,
    status: Annotated[
        PublicStatus | None, Query(description="Only public incidents in this status.")
    ] = None,
    unresolved: Annotated[bool, Query(description="Only those not resolved yet.")] = False,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Response:
    """The page's public incidents, newest first, with their updates."""
    items = public_incidents.list_public_incidents(
        db,
        _page(db, slug),
        status=status,
        unresolved=unresolved,
        before_id=decode_id_cursor(cursor),
        limit=limit,
    )
    more = len(items) == limit
    return json_response(
        Page(
            items=[_out(db, item) for item in items],
            next_cursor=encode_id_cursor(items[-1].id) if more else None,
        )
    )


@router.get("/public-incidents/{code}", response_model=PublicIncidentOut)
def get_public_incident(code: str, principal: IncidentReader, db: DbSession) -> Response:
    """A public incident or maintenance, with its updates, newest first."""
    return json_response(_out(db, public_incidents.get_public_incident(db, code)))


@router.post(
    "/public-incidents/{code}/updates", status_code=201, response_model=PublicUpdateCreated
)
def post_public_update(
    code: str,
    body: PublicUpdateCreate,
    principal: StatusPageWriter,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Post an update: the four parts, the status, and components whose status changes. A
    resolved incident takes only a `postmortem` update."""
    public_incident = public_incidents.get_public_incident(
        db, code, for_update=True, kind=PublicKind.INCIDENT
    )
    update = publishing.post_public_update(
        db,
        actor=principal.actor,
        now=clock.now(),
        base_url=settings.base_url,
        public_incident=public_incident,
        status=PublicStatus(body.status),
        parts=body.parts(),
        components=_statuses(body.components),
        impact=None if body.impact is None else Impact(body.impact),
    )
    warnings = warnings_for(body.current_impact, body.doing_now, body.users_should)
    return _created(db, update, warnings)


@router.post(
    "/public-incidents/{code}/resolve", status_code=201, response_model=PublicUpdateCreated
)
def resolve_public_incident(
    code: str,
    body: ResolveCreate,
    principal: StatusPageWriter,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Resolve with the closing update: what happened, when it started and ended, and what was
    done. Affected components return to operational unless another incident holds them."""
    public_incident = public_incidents.get_public_incident(
        db, code, for_update=True, kind=PublicKind.INCIDENT
    )
    update = publishing.resolve_public_incident(
        db,
        actor=principal.actor,
        now=clock.now(),
        base_url=settings.base_url,
        public_incident=public_incident,
        what_happened=body.what_happened,
        what_was_done=body.what_was_done,
        started_at=body.started_at,
        ended_at=body.ended_at,
    )
    return _created(db, update, warnings_for(body.what_happened, body.what_was_done))


@router.put("/public-incidents/{code}/report", response_model=PublicIncidentOut)
def publish_report(
    code: str, body: ReportIn, principal: StatusPageWriter, db: DbSession, clock: AppClock
) -> Response:
    """Publish (or revise) the post-incident report of a resolved incident: apology, summary,
    impact, root cause, what was done and what will prevent it; the status becomes
    postmortem."""
    public_incident = public_incidents.get_public_incident(
        db, code, for_update=True, kind=PublicKind.INCIDENT
    )
    publishing.publish_report(
        db,
        actor=principal.actor,
        now=clock.now(),
        public_incident=public_incident,
        apology=body.apology,
        summary=body.summary,
        impact=body.impact,
        root_cause=body.root_cause,
        what_was_done=body.what_was_done,
        prevention=body.prevention,
    )
    return json_response(_out(db, public_incident))


# --- Scheduled maintenance -------------------------------------------------------------------


@router.post("/status-pages/{slug}/maintenances", status_code=201, response_model=PublicIncidentOut)
def schedule_maintenance(
    slug: str,
    body: MaintenanceCreate,
    principal: StatusPageWriter,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Announce a maintenance window; with `auto_transition` it starts and completes on its
    own, and subscribers are reminded `remind_minutes` before it starts."""
    maintenance = maintenances.schedule_maintenance(
        db,
        actor=principal.actor,
        now=clock.now(),
        base_url=settings.base_url,
        page=_page(db, slug),
        name=body.name,
        scheduled_for=body.scheduled_for,
        scheduled_until=body.scheduled_until,
        components=[code.strip() for code in body.components],
        parts=body.parts(),
        auto_transition=body.auto_transition,
        remind_minutes=body.remind_minutes,
    )
    warnings = warnings_for(body.current_impact, body.doing_now, body.users_should)
    return json_response(_out(db, maintenance, warnings), status_code=201)


@router.patch("/maintenances/{code}", response_model=PublicIncidentOut)
def change_maintenance(
    code: str,
    body: MaintenanceChange,
    principal: StatusPageWriter,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Rename or reschedule (the start while scheduled, the end until completed), change the
    reminder or automatic transitions (`remind_minutes: null` turns the reminder off); or
    cancel with `cancel_reason`, alone."""
    maintenance = public_incidents.get_public_incident(
        db, code, for_update=True, kind=PublicKind.MAINTENANCE
    )
    now = clock.now()
    changes = body.model_fields_set
    if body.cancel_reason is not None:
        if changes - {"cancel_reason"}:
            raise InvalidInput.on("cancel_reason", "cancels; send it without other changes")
        maintenances.cancel_maintenance(
            db,
            actor=principal.actor,
            now=now,
            base_url=settings.base_url,
            maintenance=maintenance,
            note=body.cancel_reason,
        )
    else:
        maintenances.reschedule_maintenance(
            db,
            actor=principal.actor,
            now=now,
            maintenance=maintenance,
            name=body.name,
            scheduled_for=body.scheduled_for,
            scheduled_until=body.scheduled_until,
            remind_minutes=body.remind_minutes,
            clear_reminder="remind_minutes" in changes and body.remind_minutes is None,
            auto_transition=body.auto_transition,
        )
    return json_response(_out(db, maintenance))


@router.post("/maintenances/{code}/updates", status_code=201, response_model=PublicUpdateCreated)
def post_maintenance_update(
    code: str,
    body: MaintenanceUpdateCreate,
    principal: StatusPageWriter,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Post an update, moving the status forward when given: scheduled → in_progress →
    verifying → completed."""
    maintenance = public_incidents.get_public_incident(
        db, code, for_update=True, kind=PublicKind.MAINTENANCE
    )
    update = maintenances.update_maintenance(
        db,
        actor=principal.actor,
        now=clock.now(),
        base_url=settings.base_url,
        maintenance=maintenance,
        parts=body.parts(),
        status=None if body.status is None else PublicStatus(body.status),
    )
    warnings = warnings_for(body.current_impact, body.doing_now, body.users_should)
    return _created(db, update, warnings)
