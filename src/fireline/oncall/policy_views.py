"""Escalation policy pages: the list, and each policy's page with whom every level would page
now and the services it pages for. On-call admins edit a policy there, or make a new one;
everyone else reads it.

The levels editor is one fieldset per level (its delay, and the people and schedules it pages
as two multiple selects) with a "remove" box, and one spare blank level after them: filled in,
it is added when the policy is saved; left blank, it is skipped. A policy's levels are saved
whole (policies.update_policy replaces them), so the form is the policy as it will be.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.api.deps import AppClock, DbSession
from fireline.catalog import service as catalog
from fireline.errors import AppError, InvalidInput
from fireline.models import EscalationPolicy, Schedule, User
from fireline.oncall import policies, schedules
from fireline.oncall.schemas import LevelIn, TargetIn
from fireline.oncall.views import (
    DESCRIPTION_LENGTH,
    NAME_LENGTH,
    active_people,
    no_longer_than,
    prefixed,
    required,
)
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    PostedForm,
    Refusal,
    RowId,
    all_or_nothing,
    all_ticked,
    is_ticked,
    text_of,
)
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)
POLICIES = "/oncall/policies"
MAX_LEVELS = 20
MAX_DELAY = 1440
REPEATS = [
    ("0", "Do not repeat"),
    *((str(n), f"{n} more time{'s' if n > 1 else ''}") for n in range(1, 10)),
]
NOTICES = {
    "created": "The escalation policy is made.",
    "saved": "Saved.",
    "deleted": "The escalation policy is deleted.",
}
SPARE = {"delay_minutes": "15", "users": [], "schedules": [], "spare": True}


def _stored(db: Session, policy: EscalationPolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "description": policy.description,
        "repeat": str(policy.repeat),
        "levels": [
            {
                "delay_minutes": str(level.delay_minutes),
                "users": [str(t.user_id) for t in level.targets if t.user_id is not None],
                "schedules": [str(t.schedule_id) for t in level.targets if t.schedule_id],
                "spare": False,
            }
            for level in policy.levels
        ],
        "services": [s.slug for s in policies.services_of(db, [policy.id])[policy.id]],
    }


NEW_POLICY: dict[str, Any] = {
    "name": "",
    "description": "",
    "repeat": "0",
    "levels": [],
    "services": [],
}


def _posted(form: FormData) -> dict[str, Any]:
    """The form as typed: removed levels and a blank spare one dropped."""
    levels = []
    for n in range(MAX_LEVELS + 1):
        if f"levels.{n}.delay_minutes" not in form:
            break
        level = {
            "delay_minutes": text_of(form, f"levels.{n}.delay_minutes"),
            "users": all_ticked(form, f"levels.{n}.users"),
            "schedules": all_ticked(form, f"levels.{n}.schedules"),
            "spare": False,
        }
        blank_spare = is_ticked(form, f"levels.{n}.spare") and not (
            level["users"] or level["schedules"]
        )
        if not blank_spare and not is_ticked(form, f"levels.{n}.remove"):
            levels.append(level)
    return {
        "name": text_of(form, "name"),
        "description": text_of(form, "description"),
        "repeat": text_of(form, "repeat"),
        "levels": levels,
        "services": all_ticked(form, "services"),
    }


def _ids(refs: list[str], field: str) -> list[int]:
    if not all(re.fullmatch(r"\d{1,18}", ref) for ref in refs):
        raise InvalidInput.on(field, "choose from the list")
    return [int(ref) for ref in refs]


def _levels(typed: list[dict[str, Any]]) -> list[LevelIn]:
    if len(typed) > MAX_LEVELS:
        raise InvalidInput.on("levels", f"a policy has at most {MAX_LEVELS} levels")
    levels = []
    for n, level in enumerate(typed):
        delay = level["delay_minutes"]
        if not re.fullmatch(r"\d{1,4}", delay) or not 1 <= int(delay) <= MAX_DELAY:
            raise InvalidInput.on(
                f"levels.{n}.delay_minutes", f"a number of minutes from 1 to {MAX_DELAY}"
            )
        users = _ids(level["users"], f"levels.{n}.targets")
        schedule_ids = _ids(level["schedules"], f"levels.{n}.targets")
        targets = [TargetIn(type="user", id=user) for user in users]
        targets += [TargetIn(type="schedule", id=sid) for sid in schedule_ids]
        levels.append(LevelIn(delay_minutes=int(delay), targets=targets))
    return levels


def _checked(typed: dict[str, Any]) -> dict[str, Any]:
    """The policy's fields as update_policy takes them, or InvalidInput naming the field."""
    required(("name", typed["name"], "give the policy a name"))
    no_longer_than(typed["name"], NAME_LENGTH, "name")
    no_longer_than(typed["description"], DESCRIPTION_LENGTH, "description")
    if typed["repeat"] not in dict(REPEATS):
        raise InvalidInput.on("repeat", "choose from the list")
    return {
        "name": typed["name"],
        "description": typed["description"],
        "repeat": int(typed["repeat"]),
        "levels": _levels(typed["levels"]),
    }


def _page(
    request: Request,
    db: Session,
    me: Principal,
    now: Any,
    policy: EscalationPolicy | None,
    *,
    values: dict[str, Any] | None = None,
    refusal: Refusal | None = None,
) -> Response:
    shown = values or (_stored(db, policy) if policy else NEW_POLICY)
    users: dict[int, User] = {}
    targets: dict[int, Schedule] = {}
    paged: list[tuple[Any, list[Any]]] = []
    services: list[Any] = []
    if policy is not None:
        users, targets = policies.target_names(db, [policy])
        paged = [(level, policies.targets_at(db, level=level, at=now)) for level in policy.levels]
        services = policies.services_of(db, [policy.id])[policy.id]
    context = {
        "nav": "oncall",
        "policy": policy,
        "values": {**shown, "levels": [*shown["levels"], SPARE]},
        "target_users": users,
        "target_schedules": targets,
        "paged": paged,
        "services": services,
        "can_admin": me.can(Permission.ONCALL_ADMIN),
        "people": [(str(u.id), f"{u.name} ({u.email})") for u in active_people(db)],
        "all_schedules": [(str(s.id), s.name) for s in schedules.list_schedules(db)],
        "all_services": [(s.slug, s.name) for s in catalog.list_services(db)],
        "repeats": REPEATS,
        "problems": refusal,
        "notice": NOTICES.get(request.query_params.get("done", "")),
    }
    status = refusal.status if refusal else 200
    return page(request, "oncall/policy.html", context, status_code=status)


@router.get(POLICIES)
def policy_list(request: Request, me: WebUser, db: DbSession, clock: AppClock) -> Response:
    """Every escalation policy by name, whom its first level pages now, and its services."""
    require(me, Permission.ONCALL_READ)
    found = sorted(policies.list_policies(db), key=lambda p: p.name.lower())
    now = clock.now()
    users, targets = policies.target_names(db, found)
    context = {
        "nav": "oncall",
        "policies": found,
        "first": {
            p.id: policies.targets_at(db, level=p.levels[0], at=now) if p.levels else []
            for p in found
        },
        "services": policies.services_of(db, [p.id for p in found]),
        "target_users": users,
        "target_schedules": targets,
        "can_admin": me.can(Permission.ONCALL_ADMIN),
        "notice": NOTICES.get(request.query_params.get("done", "")),
    }
    return page(request, "oncall/policies.html", context)


@router.get(POLICIES + "/new")
def policy_new(request: Request, me: WebUser, db: DbSession, clock: AppClock) -> Response:
    require(me, Permission.ONCALL_ADMIN)
    return _page(request, db, me, clock.now(), None)


@router.post(POLICIES)
def policy_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    require(me, Permission.ONCALL_ADMIN)
    typed = _posted(form)
    now = clock.now()
    try:
        with all_or_nothing(db):
            made = policies.create_policy(db, actor=me.actor, now=now, **_checked(typed))
            policies.set_policy_services(
                db, actor=me.actor, now=now, policy=made, services=typed["services"]
            )
    except AppError as error:
        return _page(request, db, me, now, None, values=typed, refusal=prefixed(error))
    return RedirectResponse(f"{POLICIES}/{made.id}?done=created", status_code=303)


@router.get(POLICIES + "/{policy_id}")
def policy_view(
    policy_id: RowId, request: Request, me: WebUser, db: DbSession, clock: AppClock
) -> Response:
    require(me, Permission.ONCALL_READ)
    return _page(request, db, me, clock.now(), policies.get_policy(db, policy_id))


@router.post(POLICIES + "/{policy_id}")
def policy_edit(
    policy_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Save the whole policy: its fields, every level, and the services it pages for."""
    require(me, Permission.ONCALL_ADMIN)
    policy = policies.get_policy(db, policy_id)
    typed = _posted(form)
    now = clock.now()
    try:
        with all_or_nothing(db):
            policies.update_policy(
                db, actor=me.actor, now=now, policy=policy, changes=_checked(typed)
            )
            policies.set_policy_services(
                db, actor=me.actor, now=now, policy=policy, services=typed["services"]
            )
    except AppError as error:
        stored = policies.get_policy(db, policy_id)
        return _page(request, db, me, now, stored, values=typed, refusal=prefixed(error))
    return RedirectResponse(f"{POLICIES}/{policy.id}?done=saved", status_code=303)
