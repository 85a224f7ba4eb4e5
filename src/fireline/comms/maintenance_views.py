"""A status page's scheduled maintenance, for responders: what is upcoming, in progress and past;
the form that announces one (its four parts start from the "Scheduled maintenance" template);
and each maintenance's own page, to post an update or move its status on, reschedule it while
it has not started, or cancel it.

Times are typed in UTC (datetime-local inputs, labelled so): a status page speaks UTC."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.alerts.maintenance_views import instant
from fireline.api.deps import AppClock, AppSettings, DbSession
from fireline.clock import as_utc
from fireline.comms import components, pages, public_incidents, publishing, templates
from fireline.comms import maintenance as maintenances
from fireline.comms.public_views import STATUS_WORDS
from fireline.comms.publishing import PublicParts
from fireline.comms.views import (
    PAGES,
    Code,
    PageSlug,
    notice_of,
    page_path,
    public_path,
    refusal,
)
from fireline.errors import AppError, FieldProblem, InvalidInput, NotFound
from fireline.models import (
    PublicIncident,
    PublicKind,
    PublicStatus,
    StatusPage,
    UpdateTemplate,
)
from fireline.models.comms import MAINTENANCE_STATUSES
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    PostedForm,
    Refusal,
    all_or_nothing,
    all_ticked,
    is_ticked,
    see_other,
    settings_page,
    text_of,
)

router = APIRouter(include_in_schema=False)
MAINTENANCE = PAGES + "/{slug}/maintenance"
SHOWN = 200  # maintenances listed on the page, newest first
TEMPLATE_NAME = "Scheduled maintenance"
PARTS = ("current_impact", "doing_now", "users_should")
FRIENDLY = {"name": "Say what the work is."}
LIVE = (PublicStatus.IN_PROGRESS.value, PublicStatus.VERIFYING.value)
WINDOW = ("name", "scheduled_for", "scheduled_until")  # what announcing or rescheduling needs


def _local(moment: datetime | None) -> str:
    """An instant as a datetime-local input shows it, in UTC."""
    return "" if moment is None else as_utc(moment).strftime("%Y-%m-%dT%H:%M")


def _required(*checks: tuple[str, str]) -> None:
    """Refuse at once every field named in `checks` whose value was left empty."""
    problems = [FieldProblem(name, "is required") for name, value in checks if not value]
    if problems:
        detail = "; ".join(
            f"{p.field.split('.')[-1].replace('_', ' ')}: {p.message}" for p in problems
        )
        raise InvalidInput(detail=detail.capitalize(), errors=problems)


def _minutes(text: str, field: str) -> int | None:
    if not text:
        return None
    if not re.fullmatch(r"\d{1,6}", text):
        raise InvalidInput.on(field, "must be a whole number of minutes, or blank for none")
    return int(text)


def _in_form(error: AppError, prefix: str = "") -> Refusal:
    """The refusal with the service's `components[2]` as the form's `components`."""
    if isinstance(error, InvalidInput) and error.errors:
        renamed = [FieldProblem(re.sub(r"\[\d+\]$", "", p.field), p.message) for p in error.errors]
        error = InvalidInput(detail=error.detail, errors=renamed)
    return refusal(error, prefix=prefix, friendly=FRIENDLY)


def _parts(values: dict[str, Any], names: list[str]) -> PublicParts:
    """The four parts as typed, {components} and {next_update} filled in like a template's."""
    next_update = instant(values["next_update_at"], "UTC", "next_update_at")
    typed = UpdateTemplate(**{part: values[part] for part in PARTS})
    filled = templates.fill(typed, components=names, next_update=next_update)
    return PublicParts(**filled, next_update_at=next_update)


def _prefilled(db: Session) -> dict[str, str]:
    """The parts of the "Scheduled maintenance" template (or the first scheduled one)."""
    found = templates.list_templates(db, audience="public", status="scheduled")
    chosen = next((t for t in found if t.name == TEMPLATE_NAME), found[0] if found else None)
    return {part: getattr(chosen, part) if chosen else "" for part in PARTS}


def _new(db: Session) -> dict[str, Any]:
    return {
        "name": "",
        "scheduled_for": "",
        "scheduled_until": "",
        "components": [],
        **_prefilled(db),
        "next_update_at": "",
        "auto_transition": True,
        "remind_minutes": "60",
    }


def _index(
    request: Request,
    db: Session,
    me: Principal,
    page: StatusPage,
    values: dict[str, Any] | None = None,
    refused: Refusal | None = None,
) -> Response:
    shown = public_incidents.list_public_incidents(
        db, page, kind=PublicKind.MAINTENANCE, limit=SHOWN
    )
    upcoming = [m for m in shown if m.status == PublicStatus.SCHEDULED.value]
    context = {
        "current": PAGES,
        "page": page,
        "public_path": public_path(page),
        "upcoming": sorted(upcoming, key=lambda m: as_utc(m.scheduled_for or m.started_at)),
        "active": [m for m in shown if m.status in LIVE],
        "past": [m for m in shown if m.status == PublicStatus.COMPLETED.value],
        "components": [(c.code, c.name) for c in components.list_components(db, page)],
        "values": values or _new(db),
        "status_words": STATUS_WORDS,
        "can_admin": me.can(Permission.STATUSPAGE_ADMIN),
        "notice": notice_of(request),
    }
    return settings_page(request, "statuspages/maintenance.html", context, refusal=refused)


def _posted(form: FormData, prefix: str = "") -> dict[str, Any]:
    names = ("name", "scheduled_for", "scheduled_until", *PARTS, "next_update_at")
    values: dict[str, Any] = {name: text_of(form, prefix + name) for name in names}
    values["remind_minutes"] = text_of(form, prefix + "remind_minutes")
    values["auto_transition"] = is_ticked(form, prefix + "auto_transition")
    return values


@router.get(MAINTENANCE)
def maintenance_list(slug: PageSlug, request: Request, me: WebUser, db: DbSession) -> Response:
    """The page's maintenances, upcoming, in progress and past, and the form to announce one."""
    require(me, Permission.STATUSPAGE_WRITE)
    return _index(request, db, me, pages.get_page(db, slug))


@router.post(MAINTENANCE)
def maintenance_schedule(
    slug: PageSlug,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """Announce a maintenance: its first update goes on the page and to subscribers."""
    require(me, Permission.STATUSPAGE_WRITE)
    page = pages.get_page(db, slug)
    values = _posted(form) | {"components": all_ticked(form, "components")}
    try:
        with all_or_nothing(db):
            _required(*((name, values[name]) for name in WINDOW))
            affected = publishing.components_named(db, page, values["components"])
            scheduled = maintenances.schedule_maintenance(
                db,
                actor=me.actor,
                now=clock.now(),
                base_url=settings.base_url,
                page=page,
                name=values["name"],
                scheduled_for=_at(values["scheduled_for"], "scheduled_for"),
                scheduled_until=_at(values["scheduled_until"], "scheduled_until"),
                components=values["components"],
                parts=_parts(values, [c.name for c in affected]),
                auto_transition=values["auto_transition"],
                remind_minutes=_minutes(values["remind_minutes"], "remind_minutes"),
            )
    except AppError as error:
        return _index(request, db, me, page, values, _in_form(error))
    return _done(page, scheduled, "scheduled")


def _at(text: str, field: str) -> datetime:
    moment = instant(text, "UTC", field)
    if moment is None:  # pragma: no cover - _required refused it first
        raise InvalidInput.on(field, "is required")
    return moment


def _done(page: StatusPage, maintenance: PublicIncident, what: str) -> Response:
    return see_other(f"{page_path(page)}/maintenance/{maintenance.code}", what)


# --- One maintenance ---------------------------------------------------------------------------


def _maintenance(db: Session, page: StatusPage, code: str) -> PublicIncident:
    found = public_incidents.get_public_incident(db, code, kind=PublicKind.MAINTENANCE)
    if found.page_id != page.id:
        raise NotFound(detail=f"No maintenance {code!r} on page '{page.slug}'.")
    return found


def _one(
    request: Request,
    db: Session,
    me: Principal,
    page: StatusPage,
    maintenance: PublicIncident,
    *,
    update: dict[str, Any] | None = None,
    reschedule: dict[str, Any] | None = None,
    refused: Refusal | None = None,
) -> Response:
    current = PublicStatus(maintenance.status)
    context = {
        "current": PAGES,
        "page": page,
        "public_path": public_path(page),
        "m": maintenance,
        "affected": public_incidents.components_of(db, maintenance),
        "updates": public_incidents.updates_of(db, maintenance),
        "status_words": STATUS_WORDS,
        "next_statuses": [
            (s.value, STATUS_WORDS[s.value])
            for s in MAINTENANCE_STATUSES[MAINTENANCE_STATUSES.index(current) :]
        ],
        "update": update
        or {"status": current.value, "next_update_at": "", **dict.fromkeys(PARTS, "")},
        "reschedule": reschedule
        or {
            "name": maintenance.name,
            "scheduled_for": _local(maintenance.scheduled_for),
            "scheduled_until": _local(maintenance.scheduled_until),
            "remind_minutes": str(maintenance.remind_minutes or ""),
            "auto_transition": maintenance.auto_transition,
        },
        "can_admin": me.can(Permission.STATUSPAGE_ADMIN),
        "notice": notice_of(request),
    }
    return settings_page(request, "statuspages/maintenance_one.html", context, refusal=refused)


@router.get(MAINTENANCE + "/{code}")
def maintenance_page(
    slug: PageSlug, code: Code, request: Request, me: WebUser, db: DbSession
) -> Response:
    """The maintenance with its updates, and what may be done with it now."""
    require(me, Permission.STATUSPAGE_WRITE)
    page = pages.get_page(db, slug)
    return _one(request, db, me, page, _maintenance(db, page, code))


@router.post(MAINTENANCE + "/{code}/updates")
def maintenance_update(
    slug: PageSlug,
    code: Code,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """Post an update, moving the status on when another is chosen: in progress puts its
    components under maintenance, completed returns them."""
    require(me, Permission.STATUSPAGE_WRITE)
    page = pages.get_page(db, slug)
    maintenance = _maintenance(db, page, code)
    values = _posted(form, "update.") | {"status": text_of(form, "update.status")}
    try:
        with all_or_nothing(db):
            try:
                status = PublicStatus(values["status"])
            except ValueError:
                raise InvalidInput.on("status", "choose a status from the list") from None
            names = [c.name for c in public_incidents.components_of(db, maintenance)]
            maintenances.update_maintenance(
                db,
                actor=me.actor,
                now=clock.now(),
                base_url=settings.base_url,
                maintenance=maintenance,
                parts=_parts(values, names),
                status=status,
            )
    except AppError as error:
        maintenance = _maintenance(db, page, code)
        refused = _in_form(error, "update")
        return _one(request, db, me, page, maintenance, update=values, refused=refused)
    return _done(page, maintenance, "posted")


@router.post(MAINTENANCE + "/{code}/reschedule")
def maintenance_reschedule(
    slug: PageSlug,
    code: Code,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Change the name, window, reminder or automatic transitions of a maintenance not yet
    started; new timers are set."""
    require(me, Permission.STATUSPAGE_WRITE)
    page = pages.get_page(db, slug)
    maintenance = _maintenance(db, page, code)
    values = _posted(form, "reschedule.")
    try:
        with all_or_nothing(db):
            _required(*((name, values[name]) for name in WINDOW))
            remind = _minutes(values["remind_minutes"], "remind_minutes")
            maintenances.reschedule_maintenance(
                db,
                actor=me.actor,
                now=clock.now(),
                maintenance=maintenance,
                name=values["name"],
                scheduled_for=_at(values["scheduled_for"], "scheduled_for"),
                scheduled_until=_at(values["scheduled_until"], "scheduled_until"),
                remind_minutes=remind,
                clear_reminder=remind is None,
                auto_transition=values["auto_transition"],
            )
    except AppError as error:
        maintenance = _maintenance(db, page, code)
        refused = _in_form(error, "reschedule")
        return _one(request, db, me, page, maintenance, reschedule=values, refused=refused)
    return _done(page, maintenance, "rescheduled")


@router.post(MAINTENANCE + "/{code}/cancel")
def maintenance_cancel(
    slug: PageSlug,
    code: Code,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """Cancel it with the reason given, which readers see as its last update."""
    require(me, Permission.STATUSPAGE_WRITE)
    page = pages.get_page(db, slug)
    maintenance = _maintenance(db, page, code)
    try:
        with all_or_nothing(db):
            maintenances.cancel_maintenance(
                db,
                actor=me.actor,
                now=clock.now(),
                base_url=settings.base_url,
                maintenance=maintenance,
                note=text_of(form, "cancel.note"),
            )
    except AppError as error:
        maintenance = _maintenance(db, page, code)
        return _one(request, db, me, page, maintenance, refused=_in_form(error, "cancel"))
    return _done(page, maintenance, "cancelled")
