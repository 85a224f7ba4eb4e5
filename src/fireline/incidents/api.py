"""JSON routes for incidents, their roles and timeline, and the severity policy."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from fireline.api.deps import AppClock, DbSession, IncidentReader, IncidentWriter, SeverityAdmin
from fireline.api.idempotency import run_idempotent
from fireline.api.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    decode_id_cursor,
    decode_time_cursor,
    encode_id_cursor,
    encode_time_cursor,
)
from fireline.api.responses import json_response
from fireline.errors import FieldProblem, InvalidInput
from fireline.incidents import service, severities, timeline
from fireline.incidents.lifecycle import (
    ALLOWED_TRANSITIONS,
    Milestone,
    Status,
    can_transition,
    resolution_blockers,
)
from fireline.incidents.schemas import (
    IncidentCreate,
    IncidentOut,
    IncidentRole,
    IncidentUpdate,
    Instant,
    PinChange,
    ReasonRequest,
    ResolutionCheck,
    ResolveRequest,
    RoleAssign,
    RoleAssignmentOut,
    SeverityAssessment,
    SeverityChange,
    SeverityOut,
    SeverityProposalOut,
    SeverityUpdate,
    StatusChange,
    ThreadCreate,
    ThreadOut,
    TimelineEntryCreate,
    TimelineEntryOut,
    TimestampsUpdate,
)
from fireline.incidents.severity_assistant import SeverityAnswers, propose_severity
from fireline.oncall.defaults import default_commander
from fireline.response.reactions import after_change, after_status_change
from fireline.response.triggers import Trigger

router = APIRouter(prefix="/api/v1", tags=["incidents"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


@router.post("/incidents", status_code=201, response_model=IncidentOut)
def declare_incident(
    body: IncidentCreate,
    request: Request,
    principal: IncidentWriter,
    db: DbSession,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Declare an incident (or report one in triage). Repeat with the same Idempotency-Key to get
    the first result back instead of a duplicate."""
    now = clock.now()

    def _on_call(at: datetime) -> int | None:
        # Nobody named: whoever is on call leads (the commander schedule, else the service's).
        person = default_commander(db, services=body.services, at=at)
        return person.id if person is not None else None

    def create() -> dict[str, object]:
        incident = service.declare(
            db,
            actor=principal.actor,
            now=now,
            title=body.title,
            severity=body.severity,
            summary=body.summary,
            services=body.services,
            incident_type=body.type,
            customer_impact=body.customer_impact,
            resolution_criteria=body.resolution_criteria,
            status=Status(body.status),
            impact_started_at=body.impact_started_at,
            detected_at=body.detected_at,
            commander=body.commander if body.commander is not None else _on_call(now),
        )
        after_change(
            db,
            incident=incident,
            now=now,
            trigger=Trigger.INCIDENT_DECLARED if incident.declared_at else None,
        )
        return IncidentOut.of(incident).model_dump(mode="json")

    response = run_idempotent(
        db,
        principal=principal,
        key=idempotency_key,
        method="POST",
        path=request.url.path,
        payload=body.model_dump(mode="json"),
        now=now,
        create=create,
    )
    reference = json.loads(bytes(response.body))["reference"]
    response.headers["Location"] = f"/api/v1/incidents/{reference}"
    return response


@router.get("/incidents", response_model=Page[IncidentOut])
def list_incidents(
    principal: IncidentReader,
    db: DbSession,
    status: Annotated[list[Status] | None, Query(description="Repeat for several.")] = None,
    severity: Annotated[
        list[str] | None, Query(description="SEV1..SEV4; repeat for several.")
    ] = None,
    service_slug: Annotated[str | None, Query(alias="service")] = None,
    declared_after: Instant | None = None,
    declared_before: Instant | None = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in the title or summary.")
    ] = None,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """Incidents, newest first, filtered; follow `next_cursor` for the next page."""
    for key in severity or []:
        service.get_severity(db, key)
    if declared_after and declared_before and declared_after >= declared_before:
        raise InvalidInput.on("declared_before", "must be after declared_after")
    incidents = service.list_incidents(
        db,
        where=service.IncidentFilter(
            statuses=status or (),
            severities=[key.upper() for key in severity or []],
            service=service_slug,
            declared_after=declared_after,
            declared_before=declared_before,
            search=q,
        ),
        after_id=decode_id_cursor(cursor),
        limit=limit,
    )
    more = len(incidents) == limit
    return json_response(
        Page(
            items=[IncidentOut.of(incident) for incident in incidents],
            next_cursor=encode_id_cursor(incidents[-1].id) if more else None,
        )
    )


@router.get("/incidents/{ref}", response_model=IncidentOut)
def get_incident(ref: str, principal: IncidentReader, db: DbSession) -> Response:
    """One incident, by number or reference (`42` or `INC-42`)."""
    return json_response(IncidentOut.of(service.get_incident(db, ref)))


@router.patch("/incidents/{ref}", response_model=IncidentOut)
def update_incident(
    ref: str, body: IncidentUpdate, principal: IncidentWriter, db: DbSession, clock: AppClock
) -> Response:
    incident = service.get_incident(db, ref, for_update=True)
    changes = body.model_dump(exclude_unset=True)
    now = clock.now()
    incident = service.update_fields(
        db, actor=principal.actor, now=now, incident=incident, changes=changes
    )
    after_change(db, incident=incident, now=now)
    return json_response(IncidentOut.of(incident))


@router.post("/incidents/{ref}/status", response_model=IncidentOut)
def change_status(
    ref: str, body: StatusChange, principal: IncidentWriter, db: DbSession, clock: AppClock
) -> Response:
    """Move the incident along its lifecycle; resolving checks the resolution gate."""
    incident = service.get_incident(db, ref, for_update=True)
    before = incident.status
    now = clock.now()
    incident = service.change_status(
        db, actor=principal.actor, now=now, incident=incident, status=body.status, note=body.note
    )
    after_status_change(db, incident=incident, now=now, before=before)
    return json_response(IncidentOut.of(incident))


@router.post("/incidents/{ref}/severity", response_model=IncidentOut)
def change_severity(
    ref: str, body: SeverityChange, principal: IncidentWriter, db: DbSession, clock: AppClock
) -> Response:
    incident = service.get_incident(db, ref, for_update=True)
    before = incident.severity.key
    now = clock.now()
    incident = service.change_severity(
        db,
        actor=principal.actor,
        now=now,
        incident=incident,
        severity=body.severity,
        reason=body.reason,
    )
    if incident.severity.key != before:
        details = {"from": before, "to": incident.severity.key}
        after_change(
            db, incident=incident, now=now, trigger=Trigger.SEVERITY_CHANGED, details=details
        )
    return json_response(IncidentOut.of(incident))


@router.get("/incidents/{ref}/resolution-check", response_model=ResolutionCheck)
def resolution_check(
    ref: str, principal: IncidentReader, db: DbSession, clock: AppClock
) -> ResolutionCheck:
    """What the resolution gate still needs before this incident can be resolved."""
    incident = service.get_incident(db, ref)
    blockers = resolution_blockers(service.resolution_facts(incident, clock.now()))
    current = Status(incident.status)
    if not can_transition(current, Status.RESOLVED):
        # Resolving would be refused for the status alone; say so rather than "resolvable".
        blockers.insert(
            0,
            FieldProblem(
                "status",
                f"A {current.value} incident cannot be resolved; from {current.value} it can go "
                f"to: {', '.join(sorted(s.value for s in ALLOWED_TRANSITIONS[current]))}.",
            ),
        )
    return ResolutionCheck(resolvable=not blockers, blockers=[b.as_dict() for b in blockers])


@router.post("/incidents/{ref}/resolve", response_model=IncidentOut)
def resolve(
    ref: str, body: ResolveRequest, principal: IncidentWriter, db: DbSession, clock: AppClock
) -> Response:
    """Resolve, recording what the gate asks for; a 409 lists every condition still unmet."""
    incident = service.get_incident(db, ref, for_update=True)
    before = incident.status
    now = clock.now()
    incident = service.resolve(
        db,
        actor=principal.actor,
        now=now,
        incident=incident,
        resolution_criteria=body.resolution_criteria,
        criteria_met=body.criteria_met,
        customer_impact_ended=body.customer_impact_ended,
        postmortem_owner=body.postmortem_owner,
        postmortem_due_at=body.postmortem_due_at,
        monitoring_waiver_reason=body.monitoring_waiver_reason,
        note=body.note,
    )
    after_status_change(db, incident=incident, now=now, before=before)
    return json_response(IncidentOut.of(incident))


@router.post("/incidents/{ref}/decline", response_model=IncidentOut)
def decline(
    ref: str, body: ReasonRequest, principal: IncidentWriter, db: DbSession, clock: AppClock
) -> Response:
    """Decide that a reported incident in triage is not an incident."""
    incident = service.get_incident(db, ref, for_update=True)
    before = incident.status
    now = clock.now()
    incident = service.decline(
        db, actor=principal.actor, now=now, incident=incident, reason=body.reason
    )
    after_status_change(db, incident=incident, now=now, before=before)
    return json_response(IncidentOut.of(incident))


@router.post("/incidents/{ref}/reopen", response_model=IncidentOut)
def reopen(
    ref: str, body: ReasonRequest, principal: IncidentWriter, db: DbSession, clock: AppClock
) -> Response:
    incident = service.get_incident(db, ref, for_update=True)
    before = incident.status
    now = clock.now()
    incident = service.reopen(
        db, actor=principal.actor, now=now, incident=incident, reason=body.reason
    )
    after_status_change(db, incident=incident, now=now, before=before)
    return json_response(IncidentOut.of(incident))


@router.patch("/incidents/{ref}/timestamps", response_model=IncidentOut)
def set_timestamps(
    ref: str, body: TimestampsUpdate, principal: IncidentWriter, db: DbSession, clock: AppClock
) -> Response:
    """Correct when impact started, was detected, reported or acknowledged; order is enforced."""
    incident = service.get_incident(db, ref, for_update=True)
    changes = {Milestone(name): getattr(body, name) for name in body.model_fields_set}
    if not changes:
        raise InvalidInput(detail="Send at least one timestamp to change.")
    now = clock.now()
    incident = service.set_timestamps(
        db, actor=principal.actor, now=now, incident=incident, changes=changes
    )
    after_change(db, incident=incident, now=now)
    return json_response(IncidentOut.of(incident))


@router.post("/incidents/{ref}/roles", response_model=IncidentOut)
def assign_role(
    ref: str, body: RoleAssign, principal: IncidentWriter, db: DbSession, clock: AppClock
) -> Response:
    """Give someone a role; for single-holder roles the previous holder hands it over."""
    incident = service.get_incident(db, ref, for_update=True)
    now = clock.now()
    incident = service.assign_role(
        db, actor=principal.actor, now=now, incident=incident, role=body.role, user_ref=body.user
    )
    details = {"role": body.role, "user": body.user}
    after_change(db, incident=incident, now=now, trigger=Trigger.ROLE_ASSIGNED, details=details)
    return json_response(IncidentOut.of(incident))


@router.delete("/incidents/{ref}/roles/{role}", response_model=IncidentOut)
def release_role(
    ref: str,
    role: IncidentRole,
    principal: IncidentWriter,
    db: DbSession,
    clock: AppClock,
    user: Annotated[str | None, Query(description="For SMEs: which one (id or email).")] = None,
) -> Response:
    incident = service.get_incident(db, ref, for_update=True)
    return json_response(
        IncidentOut.of(
            service.unassign_role(
                db,
                actor=principal.actor,
                now=clock.now(),
                incident=incident,
                role=role,
                user_ref=user,
            )
        )
    )


@router.get("/incidents/{ref}/roles", response_model=list[RoleAssignmentOut])
def role_history(ref: str, principal: IncidentReader, db: DbSession) -> list[RoleAssignmentOut]:
    """Everyone who held a role, with when they took and handed it over."""
    incident = service.get_incident(db, ref)
    return [RoleAssignmentOut.of(assignment) for assignment in service.role_history(db, incident)]


@router.get("/incidents/{ref}/timeline", response_model=Page[TimelineEntryOut])
def read_timeline(
    ref: str,
    principal: IncidentReader,
    db: DbSession,
    thread: str | None = None,
    kind: Annotated[list[str] | None, Query()] = None,
    pinned: bool | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    """The timeline, oldest first; filter by thread, kind or pinned."""
    incident = service.get_incident(db, ref)
    entries = timeline.read_timeline(
        db,
        incident=incident,
        thread_name=thread,
        kinds=kind,
        pinned=pinned,
        after=decode_time_cursor(cursor),
        limit=limit,
    )
    more = len(entries) == limit
    return json_response(
        Page(
            items=[TimelineEntryOut.of(entry) for entry in entries],
            next_cursor=encode_time_cursor(entries[-1].occurred_at, entries[-1].id)
            if more
            else None,
        )
    )


@router.post("/incidents/{ref}/timeline", status_code=201, response_model=TimelineEntryOut)
def add_timeline_entry(
    ref: str, body: TimelineEntryCreate, principal: IncidentWriter, db: DbSession, clock: AppClock
) -> Response:
    """Add a note or a decision."""
    incident = service.get_incident(db, ref, for_update=True)
    entry = timeline.add_note(
        db,
        actor=principal.actor,
        now=clock.now(),
        incident=incident,
        kind=body.kind,
        body=body.body,
        thread_name=body.thread,
        occurred_at=body.occurred_at,
        pinned=body.pinned,
    )
    return json_response(TimelineEntryOut.of(entry), status_code=201)


@router.put("/incidents/{ref}/timeline/{entry_id}/pin", response_model=TimelineEntryOut)
def pin_entry(
    ref: str,
    entry_id: int,
    body: PinChange,
    principal: IncidentWriter,
    db: DbSession,
    clock: AppClock,
) -> Response:
    incident = service.get_incident(db, ref, for_update=True)
    entry = timeline.set_pinned(
        db,
        actor=principal.actor,
        now=clock.now(),
        incident=incident,
        entry_id=entry_id,
        pinned=body.pinned,
    )
    return json_response(TimelineEntryOut.of(entry))


@router.get("/incidents/{ref}/threads", response_model=list[ThreadOut])
def list_threads(ref: str, principal: IncidentReader, db: DbSession) -> list[ThreadOut]:
    incident = service.get_incident(db, ref)
    return [
        ThreadOut(id=t.id, name=t.name, is_command=t.is_command, created_at=t.created_at)
        for t in timeline.list_threads(db, incident)
    ]


@router.post("/incidents/{ref}/threads", status_code=201, response_model=ThreadOut)
def create_thread(
    ref: str, body: ThreadCreate, principal: IncidentWriter, db: DbSession, clock: AppClock
) -> ThreadOut:
    """Open a thread for one subsystem's investigation."""
    incident = service.get_incident(db, ref, for_update=True)
    thread = timeline.create_thread(
        db, actor=principal.actor, now=clock.now(), incident=incident, name=body.name
    )
    return ThreadOut(
        id=thread.id, name=thread.name, is_command=thread.is_command, created_at=thread.created_at
    )


# --- severities --------------------------------------------------------------------------------


@router.get("/severities", response_model=list[SeverityOut], tags=["severities"])
def list_severities(principal: IncidentReader, db: DbSession) -> list[SeverityOut]:
    """The severity policy: what each level means and the clocks it sets."""
    return [SeverityOut.of(severity) for severity in severities.list_severities(db)]


@router.get("/severities/{key}", response_model=SeverityOut, tags=["severities"])
def get_severity(key: str, principal: IncidentReader, db: DbSession) -> SeverityOut:
    return SeverityOut.of(severities.get_by_key(db, key))


@router.patch("/severities/{key}", response_model=SeverityOut, tags=["severities"])
def update_severity(
    key: str, body: SeverityUpdate, principal: SeverityAdmin, db: DbSession, clock: AppClock
) -> SeverityOut:
    """Tune a severity's definition and response targets (admins)."""
    severity = severities.get_by_key(db, key)
    changed = severities.update_severity(
        db,
        actor=principal.actor,
        now=clock.now(),
        severity=severity,
        changes=body.model_dump(exclude_unset=True),
    )
    return SeverityOut.of(changed)


@router.post("/severity-assistant", response_model=SeverityProposalOut, tags=["severities"])
def assess_severity(body: SeverityAssessment, principal: IncidentReader) -> SeverityProposalOut:
    """Answer four questions about impact; get a proposed severity and the reason in words."""
    proposal = propose_severity(SeverityAnswers(**body.model_dump()))
    return SeverityProposalOut(
        severity=proposal.severity, reasons=list(proposal.reasons), summary=proposal.summary
    )
