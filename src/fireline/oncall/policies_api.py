"""JSON routes for escalation policies, the services they page for, and whom they page when."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime
from sqlalchemy.orm import Session

from fireline.api.deps import AppClock, DbSession, OnCallAdmin, OnCallReader
from fireline.api.pagination import Page, decode_id_cursor, encode_id_cursor
from fireline.api.responses import json_response
from fireline.models import EscalationPolicy, EscalationTarget, Schedule, User
from fireline.oncall import policies as service
from fireline.oncall.schemas import (
    LevelOnCallOut,
    LevelOut,
    PolicyIn,
    PolicyOnCallAt,
    PolicyOut,
    PolicyPatch,
    PolicyServicesIn,
    RowId,
    ServiceSummary,
    TargetOut,
    TeamSummary,
    UserSummary,
)

router = APIRouter(tags=["on-call"])


def _target_out(
    target: EscalationTarget, users: dict[int, User], schedules: dict[int, Schedule]
) -> TargetOut:
    if target.user_id is not None:
        user = users[target.user_id]
        return TargetOut(type="user", id=user.id, name=user.name, email=user.email)
    schedule = schedules[target.schedule_id or 0]
    return TargetOut(type="schedule", id=schedule.id, name=schedule.name, slug=schedule.slug)


def policies_out(db: Session, policies: Sequence[EscalationPolicy]) -> list[PolicyOut]:
    users, schedules = service.target_names(db, policies)
    teams = service.teams_of(db, policies)
    services = service.services_of(db, [policy.id for policy in policies])
    return [
        PolicyOut(
            id=policy.id,
            name=policy.name,
            description=policy.description,
            team=TeamSummary.of(teams.get(policy.team_id or 0)),
            repeat=policy.repeat,
            levels=[
                LevelOut(
                    position=level.position,
                    delay_minutes=level.delay_minutes,
                    targets=[_target_out(t, users, schedules) for t in level.targets],
                )
                for level in policy.levels
            ],
            services=[
                ServiceSummary(id=item.id, slug=item.slug, name=item.name)
                for item in services[policy.id]
            ],
            created_at=policy.created_at,
            updated_at=policy.updated_at,
        )
        for policy in policies
    ]


def _one(db: Session, policy: EscalationPolicy) -> PolicyOut:
    return policies_out(db, [policy])[0]


@router.get("/escalation-policies", response_model=Page[PolicyOut])
def list_policies(
    principal: OnCallReader,
    db: DbSession,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Every escalation policy in the order they were made, with levels, targets and services."""
    found = service.list_policies(db, after_id=decode_id_cursor(cursor), limit=limit)
    more = len(found) == limit
    return json_response(
        Page(
            items=policies_out(db, found),
            next_cursor=encode_id_cursor(found[-1].id) if more else None,
        )
    )


@router.post("/escalation-policies", status_code=201, response_model=PolicyOut)
def create_policy(
    body: PolicyIn, principal: OnCallAdmin, db: DbSession, clock: AppClock
) -> Response:
    policy = service.create_policy(
        db,
        actor=principal.actor,
        now=clock.now(),
        name=body.name,
        description=body.description,
        team=body.team,
        repeat=body.repeat,
        levels=body.levels,
    )
    return json_response(_one(db, policy), status_code=201)


@router.get("/escalation-policies/{policy_id}", response_model=PolicyOut)
def get_policy(policy_id: RowId, principal: OnCallReader, db: DbSession) -> Response:
    return json_response(_one(db, service.get_policy(db, policy_id)))


@router.put("/escalation-policies/{policy_id}", response_model=PolicyOut)
def replace_policy(
    policy_id: RowId, body: PolicyIn, principal: OnCallAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Replace the whole policy: every field, and every level with the ones given."""
    changes = {name: getattr(body, name) for name in PolicyIn.model_fields}
    policy = service.update_policy(
        db,
        actor=principal.actor,
        now=clock.now(),
        policy=service.get_policy(db, policy_id),
        changes=changes,
    )
    return json_response(_one(db, policy))


@router.patch("/escalation-policies/{policy_id}", response_model=PolicyOut)
def update_policy(
    policy_id: RowId, body: PolicyPatch, principal: OnCallAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Change the fields given; `levels`, when given, replaces every level."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    policy = service.update_policy(
        db,
        actor=principal.actor,
        now=clock.now(),
        policy=service.get_policy(db, policy_id),
        changes=changes,
    )
    return json_response(_one(db, policy))


@router.delete("/escalation-policies/{policy_id}", status_code=204)
def delete_policy(
    policy_id: RowId, principal: OnCallAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Delete a policy; refused (409, naming them) while services or routing rules use it."""
    policy = service.get_policy(db, policy_id)
    service.delete_policy(db, actor=principal.actor, now=clock.now(), policy=policy)
    return Response(status_code=204)


@router.put("/escalation-policies/{policy_id}/services", response_model=PolicyOut)
def set_services(
    policy_id: RowId,
    body: PolicyServicesIn,
    principal: OnCallAdmin,
    db: DbSession,
    clock: AppClock,
) -> Response:
    """The services this policy pages for, all at once: services listed take this policy, and
    those that had it but are not listed are left without one."""
    policy = service.get_policy(db, policy_id)
    service.set_policy_services(
        db, actor=principal.actor, now=clock.now(), policy=policy, services=body.services
    )
    return json_response(_one(db, policy))


@router.get("/escalation-policies/{policy_id}/on-call", response_model=PolicyOnCallAt)
def paged_at(
    policy_id: RowId,
    principal: OnCallReader,
    db: DbSession,
    clock: AppClock,
    at: Annotated[AwareDatetime | None, Query(description="The instant (default: now).")] = None,
) -> Response:
    """Whom each level would page at `at`, schedules resolved to whoever is on call then."""
    instant = at or clock.now()
    policy = service.get_policy(db, policy_id)
    return json_response(
        PolicyOnCallAt(
            id=policy.id,
            name=policy.name,
            at=instant,
            levels=[
                LevelOnCallOut(
                    position=level.position,
                    delay_minutes=level.delay_minutes,
                    users=[
                        UserSummary.of(user)
                        for user in service.targets_at(db, level=level, at=instant)
                    ],
                )
                for level in policy.levels
            ],
        )
    )
