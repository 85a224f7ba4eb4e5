"""JSON routes for internal audiences, stakeholder updates and the support macro."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from fireline.api.deps import (
    AppClock,
    AppSettings,
    DbSession,
    IncidentReader,
    StatusPageAdmin,
    StatusPageWriter,
)
from fireline.api.responses import json_response
from fireline.comms import audiences, stakeholders
from fireline.comms.macro import support_macro
from fireline.comms.stakeholder_schemas import (
    AudienceCreate,
    AudienceCreated,
    AudienceOut,
    AudienceUpdate,
    MacroOut,
    StakeholderUpdateIn,
    StakeholderUpdateOut,
)
from fireline.errors import InvalidInput
from fireline.incidents.queries import get_incident

router = APIRouter(prefix="/api/v1", tags=["stakeholder updates"])


@router.get("/audiences", response_model=list[AudienceOut])
def list_audiences(principal: StatusPageAdmin, db: DbSession) -> Response:
    """Every audience by name, with its recipients."""
    return json_response([AudienceOut.of(audience) for audience in audiences.list_audiences(db)])


@router.post("/audiences", status_code=201, response_model=AudienceCreated)
def create_audience(
    body: AudienceCreate,
    principal: StatusPageAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Add an audience. Its webhook signing secret is shown only in this answer."""
    audience = audiences.create_audience(
        db,
        actor=principal.actor,
        now=clock.now(),
        name=body.name,
        kind=body.kind,
        description=body.description,
        recipients=[recipient.model_dump() for recipient in body.recipients],
        allow_private=settings.webhook_allow_private_targets,
    )
    out = AudienceCreated(
        **AudienceOut.of(audience).model_dump(), signing_secret=audience.secret or ""
    )
    return json_response(out, status_code=201)


@router.get("/audiences/{audience_id}", response_model=AudienceOut)
def get_audience(audience_id: int, principal: StatusPageAdmin, db: DbSession) -> Response:
    return json_response(AudienceOut.of(audiences.get_audience(db, audience_id)))


@router.patch("/audiences/{audience_id}", response_model=AudienceOut)
def update_audience(
    audience_id: int,
    body: AudienceUpdate,
    principal: StatusPageAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    audience = audiences.get_audience(db, audience_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidInput.on(name, "cannot be null")
    audience = audiences.update_audience(
        db,
        actor=principal.actor,
        now=clock.now(),
        audience=audience,
        changes=changes,
        allow_private=settings.webhook_allow_private_targets,
    )
    return json_response(AudienceOut.of(audience))


@router.delete("/audiences/{audience_id}", status_code=204)
def delete_audience(
    audience_id: int, principal: StatusPageAdmin, db: DbSession, clock: AppClock
) -> Response:
    audience = audiences.get_audience(db, audience_id)
    audiences.delete_audience(db, actor=principal.actor, now=clock.now(), audience=audience)
    return Response(status_code=204)


@router.post(
    "/incidents/{ref}/stakeholder-updates", status_code=201, response_model=StakeholderUpdateOut
)
def send_stakeholder_update(
    ref: str,
    body: StakeholderUpdateIn,
    principal: StatusPageWriter,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Send the internal update (time, current status, impact, next update) to the audiences
    named: it meets the internal-update clock, and the exec notice when an executives audience
    is among them. Deliveries go out after the commit, each retried until it lands."""
    incident = get_incident(db, ref, for_update=True)
    result = stakeholders.send_stakeholder_update(
        db,
        actor=principal.actor,
        now=clock.now(),
        settings=settings,
        incident=incident,
        audiences=audiences.find_audiences(db, body.audiences),
        current_status=body.current_status,
        impact=body.impact,
        doing_now=body.doing_now,
        next_update_at=body.next_update_at,
    )
    return json_response(StakeholderUpdateOut.of(incident.reference, result), status_code=201)


@router.get("/incidents/{ref}/macro", response_model=MacroOut)
def macro(ref: str, principal: IncidentReader, db: DbSession, settings: AppSettings) -> Response:
    """A ready reply for support agents, linking to the incident's public page; 409 when the
    incident has not been published on a status page."""
    incident = get_incident(db, ref)
    return json_response(MacroOut.of(support_macro(db, incident, base_url=settings.base_url)))
