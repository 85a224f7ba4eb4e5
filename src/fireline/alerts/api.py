"""JSON routes for alerts: the alert list, one alert with its log, acknowledge, resolve, link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from fireline.alerts import service
from fireline.alerts.admin_schemas import ChangeEventOut
from fireline.alerts.changes import changes_before_impact
from fireline.alerts.history import history_of
from fireline.alerts.schemas import AlertDetailOut, AlertLink, AlertLogOut, AlertOut
from fireline.api.deps import AlertReader, AlertWriter, AppClock, DbSession, IncidentReader
from fireline.api.pagination import Page, decode_id_cursor, encode_id_cursor
from fireline.api.responses import json_response
from fireline.catalog.service import get_service
from fireline.errors import InvalidInput, NotFound
from fireline.incidents.queries import get_incident, parse_reference
from fireline.models import Alert, AlertStatus

router = APIRouter(prefix="/api/v1", tags=["alerts"])


@router.get("/alerts", response_model=Page[AlertOut])
def list_alerts(
    principal: AlertReader,
    db: DbSession,
    status: Annotated[
        list[AlertStatus] | None, Query(description="Any of these statuses (repeatable).")
    ] = None,
    open_only: Annotated[
        bool, Query(alias="open", description="Only alerts not yet resolved.")
    ] = False,
    severity: Annotated[list[str] | None, Query()] = None,
    service_ref: Annotated[str | None, Query(alias="service", description="Id or slug.")] = None,
    incident: Annotated[str | None, Query(description="Reference: INC-42.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in the summary.")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Alerts, newest first, with filters."""
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if status:
        query = query.where(Alert.status.in_([s.value for s in status]))
    if open_only:
        query = query.where(Alert.status.in_(service.OPEN))
    if severity:
        query = query.where(Alert.severity.in_(severity))
    if service_ref is not None:
        query = query.where(Alert.service_id == get_service(db, service_ref).id)
    if incident is not None:
        try:
            query = query.where(Alert.incident_id == parse_reference(incident))
        except NotFound as error:
            raise InvalidInput.on("incident", "use a number or reference, e.g. INC-42") from error
    if q:
        for word in q.split():
            query = query.where(Alert.summary.ilike(f"%{_escape_like(word)}%", escape="\\"))
    after = decode_id_cursor(cursor)
    if after is not None:
        query = query.where(Alert.id < after)
    alerts = list(db.scalars(query))
    more = len(alerts) == limit
    return json_response(
        Page(
            items=[AlertOut.of(alert) for alert in alerts],
            next_cursor=encode_id_cursor(alerts[-1].id) if more else None,
        )
    )


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _detail(db: DbSession, alert: Alert) -> Response:
    entries = history_of(db, alert)
    out = AlertOut.of(alert).model_dump()
    return json_response(AlertDetailOut(**out, log=[AlertLogOut.of(entry) for entry in entries]))


@router.get("/incidents/{ref}/changes", response_model=list[ChangeEventOut])
def incident_changes(
    ref: str, principal: IncidentReader, db: DbSession, clock: AppClock
) -> Response:
    """Changes (deploys, configuration pushes) recorded on the incident's services from six
    hours before its impact began until it was detected, newest first."""
    incident = get_incident(db, ref)
    changes = changes_before_impact(db, incident=incident, now=clock.now())
    return json_response([ChangeEventOut.of(change) for change in changes])


@router.get("/alerts/{alert_id}", response_model=AlertDetailOut)
def get_alert(alert_id: int, principal: AlertReader, db: DbSession) -> Response:
    """One alert and its log: triggered, paged, escalated, acknowledged, resolved."""
    return _detail(db, service.get_alert(db, alert_id))


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertDetailOut)
def acknowledge_alert(
    alert_id: int, principal: AlertWriter, db: DbSession, clock: AppClock
) -> Response:
    """Take the alert: paging stops. Acknowledging an acknowledged alert changes nothing; a
    resolved one cannot be acknowledged (409)."""
    alert = service.get_alert(db, alert_id, for_update=True)
    service.acknowledge(db, actor=principal.actor, alert=alert, now=clock.now())
    db.flush()
    return _detail(db, alert)


@router.post("/alerts/{alert_id}/resolve", response_model=AlertDetailOut)
def resolve_alert(
    alert_id: int, principal: AlertWriter, db: DbSession, clock: AppClock
) -> Response:
    """Resolve the alert: paging stops, and the next trigger with its key opens a new alert."""
    alert = service.get_alert(db, alert_id, for_update=True)
    service.resolve(db, actor=principal.actor, alert=alert, now=clock.now())
    db.flush()
    return _detail(db, alert)


@router.put("/alerts/{alert_id}/incident", response_model=AlertDetailOut)
def link_alert(
    alert_id: int, body: AlertLink, principal: AlertWriter, db: DbSession, clock: AppClock
) -> Response:
    """Attach the alert to an incident (its timeline says so)."""
    alert = service.get_alert(db, alert_id, for_update=True)
    incident = get_incident(db, body.incident, for_update=True)
    service.link(db, actor=principal.actor, now=clock.now(), alert=alert, incident=incident)
    db.flush()
    return _detail(db, alert)
