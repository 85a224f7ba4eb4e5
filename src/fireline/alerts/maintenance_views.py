"""The maintenance page, for responders: maintenance windows (planned work on services) and
silences (alerts matching conditions), active, upcoming and past; a form for each, and the
button that ends one now.

Times are typed as a date and time in a chosen time zone (UTC unless the person picks another;
with script, the browser's own zone is offered first) and stored in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo, available_timezones

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.alerts import maintenance
from fireline.alerts.integrations import find_service
from fireline.alerts.rule_views import (
    FIELDS,
    OPERATORS,
    ConditionRows,
    conditions_in_words,
    in_rows,
)
from fireline.alerts.views import names_of
from fireline.api.deps import AppClock, DbSession
from fireline.catalog import service as catalog
from fireline.errors import AppError, FieldProblem, InvalidInput
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    PostedForm,
    Refusal,
    RowId,
    all_or_nothing,
    all_ticked,
    text_of,
)
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)
MAINTENANCE = "/maintenance"
PAST_SHOWN = 20
CURRENT_SHOWN = 200
NOTICES = {
    "window": "The maintenance window is set: its services page nobody while it lasts.",
    "silence": "The silence is set: matching alerts page nobody while it lasts.",
    "ended": "Ended: alerts page again from now.",
    "cancelled": "Cancelled before it started.",
}
NEW_WINDOW = {"description": "", "services": [], "starts_at": "", "ends_at": "", "time_zone": "UTC"}
NEW_SILENCE = {"comment": "", "starts_at": "", "ends_at": "", "time_zone": "UTC"}


@cache
def time_zones() -> list[str]:
    """UTC first, then every zone the system knows, by name."""
    return ["UTC", *sorted(zone for zone in available_timezones() if zone != "UTC")]


def instant(text: str, zone_name: str, field: str) -> datetime | None:
    """A date and time typed in the zone chosen, in UTC; None when left blank."""
    if not text:
        return None
    try:
        typed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput.on(field, "is not a date and time, e.g. 2026-01-05T10:30") from None
    if typed.tzinfo is None:
        typed = typed.replace(tzinfo=ZoneInfo(zone_name))
    return typed.astimezone(UTC)


def _require(*checks: tuple[str, Any, str]) -> None:
    """Refuse at once every field left empty that must be filled, each with its reason."""
    problems = [FieldProblem(name, reason) for name, value, reason in checks if not value]
    if problems:
        detail = "; ".join(
            f"{p.field.split('.')[-1].replace('_', ' ')}: {p.message}" for p in problems
        )
        raise InvalidInput(detail=detail.capitalize(), errors=problems)


def _zone(values: dict[str, Any], prefix: str) -> str:
    zone = values["time_zone"]
    if zone not in time_zones():
        raise InvalidInput.on(f"{prefix}.time_zone", "choose a time zone from the list")
    return str(zone)


def _prefixed(error: AppError, prefix: str) -> Refusal:
    """The refusal with the service's field names (`ends_at`) as the form's (`window.ends_at`)."""
    error = in_rows(error)
    if isinstance(error, InvalidInput) and error.errors:
        renamed = [
            FieldProblem(
                p.field if p.field.startswith(("conditions.", prefix)) else f"{prefix}.{p.field}",
                p.message,
            )
            for p in error.errors
        ]
        error = InvalidInput(detail=error.detail, errors=renamed)
    return Refusal.of(error)


def _posted(form: FormData, prefix: str, *names: str) -> dict[str, Any]:
    return {
        name: text_of(form, f"{prefix}.{name}")
        for name in (*names, "starts_at", "ends_at", "time_zone")
    }


def _page(
    request: Request,
    db: Session,
    me: Principal,
    clock: AppClock,
    *,
    window: dict[str, Any] | None = None,
    silence: dict[str, Any] | None = None,
    rows: ConditionRows | None = None,
    refusal: Refusal | None = None,
) -> Response:
    now = clock.now()

    def windows(state: maintenance.TimeState, limit: int) -> list[Any]:
        return maintenance.list_windows(db, now=now, state=state, limit=limit)

    def silences(state: maintenance.TimeState, limit: int) -> list[Any]:
        return maintenance.list_silences(db, now=now, state=state, limit=limit)

    shown_windows = {
        "active": windows("active", CURRENT_SHOWN),
        "upcoming": windows("upcoming", CURRENT_SHOWN),
        "past": windows("past", PAST_SHOWN),
    }
    shown_silences = {
        "active": silences("active", CURRENT_SHOWN),
        "upcoming": silences("upcoming", CURRENT_SHOWN),
        "past": silences("past", PAST_SHOWN),
    }
    everyone = [*shown_windows.values(), *shown_silences.values()]
    creators = names_of(db, [item.created_by_id for group in everyone for item in group])
    context = {
        "nav": "maintenance",
        "windows": shown_windows,
        "silences": shown_silences,
        "creators": creators,
        "in_words": conditions_in_words,
        "can_write": me.can(Permission.ALERTS_WRITE),
        "services": [(s.slug, s.name) for s in catalog.list_services(db)],
        "zones": [(zone, zone.replace("_", " ")) for zone in time_zones()],
        "window": window or NEW_WINDOW,
        "silence": silence or NEW_SILENCE,
        "rows": (rows or ConditionRows.stored([])).padded,
        "fields": FIELDS,
        "operators": OPERATORS,
        "problems": refusal,
        "notice": NOTICES.get(request.query_params.get("done", "")),
    }
    status = refusal.status if refusal else 200
    return page(request, "maintenance/index.html", context, status_code=status)


def _done(what: str, anchor: str) -> Response:
    return RedirectResponse(f"{MAINTENANCE}?done={what}#{anchor}", status_code=303)


@router.get(MAINTENANCE)
def maintenance_page(request: Request, me: WebUser, db: DbSession, clock: AppClock) -> Response:
    """What is quiet now, what will be, and what was."""
    require(me, Permission.ALERTS_READ)
    return _page(request, db, me, clock)


@router.post(MAINTENANCE + "/windows")
def window_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    require(me, Permission.ALERTS_WRITE)
    values = _posted(form, "window", "description") | {
        "services": all_ticked(form, "window.services")
    }
    try:
        with all_or_nothing(db):
            _require(
                ("window.description", values["description"], "say what the work is"),
                ("window.services", values["services"], "choose at least one service"),
                ("window.ends_at", values["ends_at"], "say when the work ends"),
            )
            zone = _zone(values, "window")
            ends_at = instant(values["ends_at"], zone, "window.ends_at")
            maintenance.create_window(
                db,
                actor=me.actor,
                now=clock.now(),
                description=values["description"],
                services=[
                    find_service(db, slug, field="window.services") for slug in values["services"]
                ],
                starts_at=instant(values["starts_at"], zone, "window.starts_at"),
                ends_at=cast("datetime", ends_at),  # required above
            )
    except AppError as error:
        return _page(request, db, me, clock, window=values, refusal=_prefixed(error, "window"))
    return _done("window", "windows")


@router.post(MAINTENANCE + "/windows/{window_id}/end")
def window_end(
    window_id: RowId, request: Request, me: WebUser, db: DbSession, clock: AppClock
) -> Response:
    """End an active window now; one that has not started is cancelled (removed)."""
    require(me, Permission.ALERTS_WRITE)
    window = maintenance.get_window(db, window_id)
    now = clock.now()
    state = maintenance.state_of(window, now)
    if state == "upcoming":
        maintenance.delete_window(db, actor=me.actor, now=now, window=window)
        return _done("cancelled", "windows")
    try:
        with all_or_nothing(db):
            maintenance.end_window(db, actor=me.actor, now=now, window=window)
    except AppError as error:
        return _page(request, db, me, clock, refusal=Refusal.of(error))
    return _done("ended", "windows")


@router.post(MAINTENANCE + "/silences")
def silence_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    require(me, Permission.ALERTS_WRITE)
    values = _posted(form, "silence", "comment")
    rows = ConditionRows.posted(form)
    try:
        with all_or_nothing(db):
            _require(
                ("silence.comment", values["comment"], "say why these alerts are silenced"),
                ("conditions.0", rows.conditions, "give at least one condition"),
                ("silence.ends_at", values["ends_at"], "say when the silence ends"),
            )
            zone = _zone(values, "silence")
            ends_at = instant(values["ends_at"], zone, "silence.ends_at")
            maintenance.create_silence(
                db,
                actor=me.actor,
                now=clock.now(),
                comment=values["comment"],
                conditions=rows.conditions,
                starts_at=instant(values["starts_at"], zone, "silence.starts_at"),
                ends_at=cast("datetime", ends_at),  # required above
            )
    except AppError as error:
        refusal = _prefixed(error, "silence")
        return _page(request, db, me, clock, silence=values, rows=rows, refusal=refusal)
    return _done("silence", "silences")


@router.post(MAINTENANCE + "/silences/{silence_id}/end")
def silence_end(silence_id: RowId, me: WebUser, db: DbSession, clock: AppClock) -> Response:
    """End the silence now; one not started yet is removed."""
    require(me, Permission.ALERTS_WRITE)
    silence = maintenance.get_silence(db, silence_id)
    now = clock.now()
    upcoming = maintenance.state_of(silence, now) == "upcoming"
    maintenance.expire_silence(db, actor=me.actor, now=now, silence=silence)
    return _done("cancelled" if upcoming else "ended", "silences")
