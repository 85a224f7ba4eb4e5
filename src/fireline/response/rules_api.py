"""JSON routes for automation rules, their runs, and the holiday calendar."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, StringConstraints

from fireline.api.deps import AppClock, AutomationAdmin, DbSession, IncidentReader
from fireline.api.responses import json_response
from fireline.errors import InvalidInput, NotFound
from fireline.incidents.queries import parse_reference
from fireline.response import holidays, rules
from fireline.response.rules_schemas import RuleCreate, RuleOut, RuleUpdate, RunOut

router = APIRouter(prefix="/api/v1", tags=["automation"])


@router.get("/automation-rules", response_model=list[RuleOut])
def list_rules(principal: IncidentReader, db: DbSession) -> Response:
    """Every rule, the shipped defaults included: what Fireline does on its own, and when."""
    return json_response([RuleOut.of(rule) for rule in rules.list_rules(db)])


@router.post("/automation-rules", status_code=201, response_model=RuleOut)
def create_rule(
    body: RuleCreate, principal: AutomationAdmin, db: DbSession, clock: AppClock
) -> Response:
    rule = rules.create_rule(db, actor=principal.actor, now=clock.now(), body=body)
    return json_response(RuleOut.of(rule), status_code=201)


@router.get("/automation-rules/{rule_id}", response_model=RuleOut)
def get_rule(rule_id: int, principal: IncidentReader, db: DbSession) -> Response:
    return json_response(RuleOut.of(rules.get_rule(db, rule_id)))


@router.patch("/automation-rules/{rule_id}", response_model=RuleOut)
def update_rule(
    rule_id: int, body: RuleUpdate, principal: AutomationAdmin, db: DbSession, clock: AppClock
) -> Response:
    rule = rules.get_rule(db, rule_id)
    changes: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set}
    for name, value in changes.items():
        if value is None:
            raise InvalidInput.on(name, "cannot be null")
    rule = rules.update_rule(db, actor=principal.actor, now=clock.now(), rule=rule, changes=changes)
    return json_response(RuleOut.of(rule))


@router.delete("/automation-rules/{rule_id}", status_code=204)
def delete_rule(
    rule_id: int, principal: AutomationAdmin, db: DbSession, clock: AppClock
) -> Response:
    rules.delete_rule(db, actor=principal.actor, now=clock.now(), rule=rules.get_rule(db, rule_id))
    return Response(status_code=204)


@router.get("/automation-runs", response_model=list[RunOut])
def list_runs(
    principal: IncidentReader,
    db: DbSession,
    rule: int | None = None,
    incident: Annotated[str | None, Query(description="Reference or number: INC-42.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    """What the rules did, newest first: each run with the outcome of every action."""
    incident_id = None
    if incident is not None:
        try:
            incident_id = parse_reference(incident)
        except NotFound as error:
            raise InvalidInput.on("incident", "use a number or reference, e.g. INC-42") from error
    runs = rules.list_runs(db, rule_id=rule, incident_id=incident_id, limit=limit)
    return json_response(
        [
            RunOut(
                id=run.id,
                rule_id=run.rule_id,
                incident=f"INC-{run.incident_id}" if run.incident_id else None,
                trigger=run.trigger,
                ran_at=run.ran_at,
                outcome=run.outcome,
            )
            for run in runs
        ]
    )


class HolidayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: date
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class HolidayOut(BaseModel):
    day: date
    name: str


@router.get("/holidays", response_model=list[HolidayOut])
def list_holidays(principal: IncidentReader, db: DbSession) -> Response:
    """Days that are not business days, for the clocks counted in business days (the
    postmortem meeting)."""
    return json_response([HolidayOut(day=h.day, name=h.name) for h in holidays.list_all(db)])


@router.put("/holidays/{day}", response_model=HolidayOut)
def set_holiday(
    day: date, body: HolidayIn, principal: AutomationAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Add a holiday, or rename one. Clocks already planned follow on their next reading."""
    if body.day != day:
        raise InvalidInput.on("day", "must match the day in the path")
    holiday = holidays.put(db, actor=principal.actor, now=clock.now(), day=day, name=body.name)
    return json_response(HolidayOut(day=holiday.day, name=holiday.name))


@router.delete("/holidays/{day}", status_code=204)
def delete_holiday(
    day: date, principal: AutomationAdmin, db: DbSession, clock: AppClock
) -> Response:
    holidays.remove(db, actor=principal.actor, now=clock.now(), day=day)
    return Response(status_code=204)
