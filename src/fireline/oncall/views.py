"""On-call pages: who is on call now, and the list of schedules.

Everyone signed in may read them. Each schedule says who holds it now, until when, and who
takes over next; each escalation policy, whom its first level would page now. A person's own
calendar feed (their shifts on every schedule) is offered here, with a button that makes its
secret URL or replaces it. Admins make schedules from the list; a schedule's own page
(schedule_views.py) draws its timeline and edits it.

The page also says which schedule fills each incident role by default (roles.py) and whom that
gives now; on-call admins choose the schedule there, one small form per role.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from fireline.accounts import service as accounts
from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.alerts.maintenance_views import time_zones
from fireline.api.deps import AppClock, AppSettings, DbSession
from fireline.errors import AppError, FieldProblem, InvalidInput, NotFound
from fireline.models import SINGLE_HOLDER_ROLES, Schedule, User
from fireline.oncall import feeds, policies, roles, schedules
from fireline.oncall.people import users_by_id
from fireline.oncall.rotation import Shift
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import PostedForm, Refusal, all_or_nothing, text_of
from fireline.web.templating import page, role_name

router = APIRouter(include_in_schema=False)
ONCALL = "/oncall"
SCHEDULES = "/oncall/schedules"
LOOK_AHEAD = timedelta(days=14)  # how far "next on call" looks
NAME_LENGTH = 200  # the name columns' width
DESCRIPTION_LENGTH = 5000
NOTICES = {
    "calendar": "Your calendar link is new: subscriptions to any earlier link have stopped.",
    "role": "Saved: the role follows the schedule chosen.",
}
NEW_SCHEDULE = {"name": "", "description": "", "timezone": "UTC"}


@dataclass(frozen=True)
class Holder:
    """A schedule, whoever it has on call now and until when, and who takes over next."""

    schedule: Schedule
    now: Shift | None
    next: Shift | None


@dataclass(frozen=True)
class RoleSource:
    """An incident role, the schedule that fills it by default (if any) and whom that gives now."""

    role: str
    schedule: Schedule | None
    holder: User | None


def role_sources(db: Session, now: datetime) -> list[RoleSource]:
    """Every single-holder incident role, in the order incidents list them."""
    chosen = {row.role: row.schedule_id for row in roles.list_role_schedules(db)}
    found = []
    for role in SINGLE_HOLDER_ROLES:
        schedule = schedules.find_schedule(db, chosen[role]) if role in chosen else None
        holder = schedules.default_holder(db, role=role, at=now) if schedule else None
        found.append(RoleSource(role, schedule, holder))
    return found


def active_people(db: Session) -> list[User]:
    """Everyone who can be put on call, by name."""
    return [user for user in accounts.list_users(db) if user.is_active]


def zone_choices() -> list[tuple[str, str]]:
    return [(zone, zone.replace("_", " ")) for zone in time_zones()]


def checked_zone(name: str, field: str) -> str:
    if name not in time_zones():
        raise InvalidInput.on(field, "choose a time zone from the list")
    return name


def required(*checks: tuple[str, str, str]) -> None:
    """Refuse at once every field left empty that must be filled, each with its reason."""
    problems = [FieldProblem(name, reason) for name, value, reason in checks if not value]
    if problems:
        raise InvalidInput(
            detail="; ".join(p.message for p in problems).capitalize() + ".", errors=problems
        )


def no_longer_than(value: str, limit: int, field: str) -> None:
    if len(value) > limit:
        raise InvalidInput.on(field, f"at most {limit} characters, please")


def prefixed(error: AppError, prefix: str = "") -> Refusal:
    """The refusal with a service's field names (`timezone`, `restrictions[0].duration`) as the
    form's (`schedule.timezone`, `layer.restrictions.0.minutes`), its summary in words."""
    if not error.errors:
        return Refusal.of(error)

    def named(field: str) -> str:
        field = field.replace("[", ".").replace("]", "").replace(".duration", ".minutes")
        return field if not prefix or field.startswith(f"{prefix}.") else f"{prefix}.{field}"

    fields = {named(problem.field): problem.message for problem in error.errors}
    summary = "; ".join(f"{_readable(name, prefix)}: {message}" for name, message in fields.items())
    return Refusal(status=error.status, summary=summary, fields=fields)


def _readable(field: str, prefix: str) -> str:
    """`layer-7.restrictions.0.minutes` as "Restriction 1, minutes"."""
    words: list[str] = []
    for part in field.removeprefix(f"{prefix}.").split("."):
        if part.isdigit() and words:
            words[-1] = f"{words[-1].removesuffix('s')} {int(part) + 1},"
        else:
            words.append(part.replace("_", " "))
    return " ".join(words).rstrip(",").capitalize()


def _next_after(
    db: Session, schedule: Schedule, current: Shift | None, now: datetime
) -> Shift | None:
    """The first shift starting once the current one ends (or after now), within two weeks."""
    shifts = schedules.final_schedule(db, schedule=schedule, start=now, end=now + LOOK_AHEAD)
    after = current.end if current else now
    return next((s for s in shifts if s.start >= after), None)


def holders(db: Session, now: datetime) -> list[Holder]:
    found = []
    for answer in schedules.who_is_on_call(db, at=now):
        current = answer.on_call.shift if answer.on_call else None
        found.append(
            Holder(answer.schedule, current, _next_after(db, answer.schedule, current, now))
        )
    return found


def _calendar_url(settings: Any, user: User) -> str | None:
    if user.calendar_token is None:
        return None
    return str(settings.base_url).rstrip("/") + feeds.user_feed_path(user.calendar_token)


def _now_page(
    request: Request,
    db: Session,
    me: Principal,
    now: datetime,
    settings: Any,
    *,
    chosen: dict[str, str] | None = None,
    refusal: Refusal | None = None,
) -> Response:
    found = holders(db, now)
    first_levels = [
        (policy, policies.targets_at(db, level=policy.levels[0], at=now) if policy.levels else [])
        for policy in sorted(policies.list_policies(db), key=lambda p: p.name.lower())
    ]
    people = users_by_id(db, (s.user_id for h in found for s in (h.now, h.next) if s is not None))
    sources = role_sources(db, now)
    stored = {s.role: str(s.schedule.id) if s.schedule else "" for s in sources}
    context = {
        "nav": "oncall",
        "holders": found,
        "people_names": {user_id: user.name for user_id, user in people.items()},
        "first_levels": first_levels,
        "calendar_url": _calendar_url(settings, accounts.get_user(db, me.user_id)),
        "notice": None if refusal else NOTICES.get(request.query_params.get("done", "")),
        "can_admin": me.can(Permission.ONCALL_ADMIN),
        "role_sources": sources,
        "role_choices": {**stored, **(chosen or {})},
        "schedule_choices": [
            (str(s.id), s.name)
            for s in sorted(schedules.list_schedules(db), key=lambda s: s.name.lower())
        ],
        "problems": refusal,
    }
    status = refusal.status if refusal else 200
    return page(request, "oncall/now.html", context, status_code=status)


@router.get(ONCALL)
def oncall_now(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, settings: AppSettings
) -> Response:
    """Who is on call now on every schedule, whom each escalation policy pages first, and who
    would fill each incident role."""
    require(me, Permission.ONCALL_READ)
    return _now_page(request, db, me, clock.now(), settings)


@router.post(ONCALL + "/roles/{role}")
def role_schedule_set(
    role: str,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """Choose the schedule that fills `role` by default, or none."""
    require(me, Permission.ONCALL_ADMIN)
    if role not in SINGLE_HOLDER_ROLES:
        raise NotFound(detail=f"No incident role '{role}' follows a schedule.")
    field = f"role.{role}"
    value = text_of(form, field)
    now = clock.now()
    try:
        with all_or_nothing(db):
            schedule = schedules.find_schedule(db, value) if value else None
            if value and schedule is None:
                raise InvalidInput.on(field, "choose a schedule from the list, or None")
            if schedule is not None:
                roles.set_role_schedule(db, actor=me.actor, now=now, role=role, schedule=schedule)
            elif role in {row.role for row in roles.list_role_schedules(db)}:
                roles.remove_role_schedule(db, actor=me.actor, now=now, role=role)
    except AppError as error:
        refusal = Refusal.of(error)
        if error.errors:  # "role.commander: …" in words
            refusal = replace(refusal, summary=f"{role_name(role)}: {error.errors[0].message}.")
        return _now_page(request, db, me, now, settings, chosen={role: value}, refusal=refusal)
    return RedirectResponse(f"{ONCALL}?done=role#roles", status_code=303)


@router.post(ONCALL + "/calendar/rotate")
def rotate_my_calendar(me: WebUser, db: DbSession, clock: AppClock) -> Response:
    """Make your own calendar link, or replace it: the old one stops working at once."""
    require(me, Permission.ONCALL_READ)
    user = accounts.get_user(db, me.user_id)
    feeds.rotate_user_token(db, actor=me.actor, now=clock.now(), user=user)
    return RedirectResponse(f"{ONCALL}?done=calendar#calendar", status_code=303)


def _list_page(
    request: Request,
    db: Session,
    me: Principal,
    now: datetime,
    *,
    values: dict[str, str] | None = None,
    refusal: Refusal | None = None,
) -> Response:
    found = holders(db, now)
    context = {
        "nav": "oncall",
        "holders": found,
        "people_names": {
            user_id: user.name
            for user_id, user in users_by_id(db, (h.now.user_id for h in found if h.now)).items()
        },
        "can_admin": me.can(Permission.ONCALL_ADMIN),
        "values": values or NEW_SCHEDULE,
        "zones": zone_choices(),
        "problems": refusal,
    }
    status = refusal.status if refusal else 200
    return page(request, "oncall/schedules.html", context, status_code=status)


@router.get(SCHEDULES)
def schedule_list(request: Request, me: WebUser, db: DbSession, clock: AppClock) -> Response:
    require(me, Permission.ONCALL_READ)
    return _list_page(request, db, me, clock.now())


@router.post(SCHEDULES)
def schedule_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Make an empty schedule; its layers are added on its own page."""
    require(me, Permission.ONCALL_ADMIN)
    values = {name: text_of(form, f"schedule.{name}") for name in NEW_SCHEDULE}
    try:
        with all_or_nothing(db):
            required(("schedule.name", values["name"], "give the schedule a name"))
            no_longer_than(values["name"], NAME_LENGTH, "schedule.name")
            no_longer_than(values["description"], DESCRIPTION_LENGTH, "schedule.description")
            made = schedules.create_schedule(
                db,
                actor=me.actor,
                now=clock.now(),
                name=values["name"],
                description=values["description"],
                timezone=checked_zone(values["timezone"], "schedule.timezone"),
            )
    except AppError as error:
        refusal = prefixed(error, "schedule")
        return _list_page(request, db, me, clock.now(), values=values, refusal=refusal)
    return RedirectResponse(f"{SCHEDULES}/{made.slug}?done=created", status_code=303)
