"""JSON routes for the response: posting status updates and reading what an incident owes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from fireline.accounts.permissions import Permission
from fireline.api.deps import AppClock, AppSettings, DbSession, IncidentReader, IncidentWriter
from fireline.api.responses import json_response
from fireline.comms import public_incidents, publishing
from fireline.comms.publishing_schemas import PublicStatusUpdateCreate
from fireline.errors import Conflict, InvalidInput
from fireline.incidents.queries import get_incident
from fireline.incidents.schemas import TimelineEntryOut
from fireline.models import PublicStatus
from fireline.models.comms import ENDED_STATUSES
from fireline.response import service
from fireline.response.clocks import ObligationKind
from fireline.response.reactions import after_change
from fireline.response.schemas import ObligationOut, WaiverCreate

router = APIRouter(prefix="/api/v1", tags=["response"])


@router.post("/incidents/{ref}/updates", status_code=201, response_model=TimelineEntryOut)
def post_update(
    ref: str,
    body: PublicStatusUpdateCreate,
    principal: IncidentWriter,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Post a public or internal status update: current impact, what is being done, what users
    should do (public updates) and when the next update comes. It lands on the timeline as a
    `public_update` or `internal_update` entry and meets the update the incident owes.
    Incidents in triage or declined owe no updates and refuse them (409).

    A public update of an incident published on a status page (an unresolved public incident)
    is posted there too, which needs statuspage:write; `status` moves the public incident to
    investigating, identified or monitoring, and is refused for any other update."""
    incident = get_incident(db, ref, for_update=True)
    now = clock.now()
    parts = service.UpdateParts(
        audience=body.audience,
        current_impact=body.current_impact,
        doing_now=body.doing_now,
        users_should=body.users_should,
        next_update_at=body.next_update_at,
    )
    public = None
    if body.audience == service.PUBLIC and publishing.allows_updates(incident):
        public = public_incidents.public_incident_for(db, incident)
    if public is None or public.status in ENDED_STATUSES:
        if body.status is not None:
            raise InvalidInput.on(
                "status", "is set only by a public update of a published, unresolved incident"
            )
        entry = service.post_update(
            db, actor=principal.actor, now=now, incident=incident, parts=parts
        )
        after_change(db, incident=incident, now=now)
        return json_response(TimelineEntryOut.of(entry), status_code=201)
    principal.require(Permission.STATUSPAGE_WRITE)
    update = publishing.post_public_update(
        db,
        actor=principal.actor,
        now=now,
        base_url=settings.base_url,
        public_incident=public,
        status=PublicStatus(body.status or public.status),
        parts=publishing.PublicParts(
            current_impact=body.current_impact,
            doing_now=body.doing_now,
            users_should=body.users_should or "",
            next_update_at=body.next_update_at,
        ),
    )
    posted = public_incidents.timeline_entry_of(db, update)
    if posted is None:  # pragma: no cover - an incident taking updates always gets its entry
        raise Conflict(detail=f"{incident.reference} took no timeline entry.")
    return json_response(TimelineEntryOut.of(posted), status_code=201)


@router.get("/incidents/{ref}/obligations", response_model=list[ObligationOut])
def list_obligations(
    ref: str, principal: IncidentReader, db: DbSession, clock: AppClock
) -> list[ObligationOut]:
    """What the incident owes and has owed — acknowledgement, public and internal updates, exec
    notice, then the post-incident summary and postmortem — with each one's state now, by due
    time.

    The obligations are derived from the incident's record (its status, milestones and timeline)
    each time they are read, never stored, so nothing can drift from what happened. Timers remind
    each owner before a deadline and record a missed one, escalated to the commander, on the
    timeline."""
    incident = get_incident(db, ref)
    return [ObligationOut.of(o) for o in service.obligations(db, incident, clock.now())]


@router.post(
    "/incidents/{ref}/obligations/{kind}/{sequence}/waive",
    status_code=201,
    response_model=TimelineEntryOut,
)
def waive_obligation(
    ref: str,
    kind: ObligationKind,
    sequence: Annotated[int, Path(ge=0, le=10_000)],
    body: WaiverCreate,
    principal: IncidentWriter,
    db: DbSession,
    clock: AppClock,
) -> Response:
    """Waive one obligation the incident still owes, saying why (it goes on the timeline): a
    SEV2 with no customer-visible impact needs no status page update, say. Its reminders stop;
    for a recurring update, the next falls due a cadence after the waived one."""
    incident = get_incident(db, ref, for_update=True)
    now = clock.now()
    entry = service.waive(
        db,
        actor=principal.actor,
        now=now,
        incident=incident,
        kind=kind,
        sequence=sequence,
        reason=body.reason,
    )
    after_change(db, incident=incident, now=now)
    return json_response(TimelineEntryOut.of(entry), status_code=201)
