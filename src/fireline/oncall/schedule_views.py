"""A schedule's page: who is on call now, a two-week timeline (a row per layer and the final
schedule, with the gaps nobody covers), the final shifts again as a table for screen readers
and small screens, the overrides with a form to add one, and the calendar feed.

Responders add and remove overrides; admins also edit the schedule and its layers (forms in
layer_views.py, drawn here). Times are typed as a date and time in a chosen time zone, the
schedule's own unless the person picks another, and stored in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.alerts.maintenance_views import instant
from fireline.api.deps import AppClock, AppSettings, DbSession
from fireline.config import Settings
from fireline.errors import AppError
from fireline.models import Schedule
from fireline.oncall import feeds, overrides, schedules
from fireline.oncall.layer_forms import SHIFT_UNITS, layer_forms
from fireline.oncall.layers import layer_of
from fireline.oncall.people import users_by_id
from fireline.oncall.rotation import coverage_gaps, layer_shifts
from fireline.oncall.timeline import Block, Window, span_in_words, today_in
from fireline.oncall.views import (
    DESCRIPTION_LENGTH,
    NAME_LENGTH,
    SCHEDULES,
    active_people,
    checked_zone,
    no_longer_than,
    prefixed,
    required,
    zone_choices,
)
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import PostedForm, Refusal, all_or_nothing, text_of
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)
OVERRIDES_SHOWN = 100
REASON_LENGTH = 2000
TONES = 6  # block colours; a person keeps theirs across rows
NOTICES = {
    "created": "The schedule is made: add a rotation layer to put people on call.",
    "saved": "Saved.",
    "override": "The override is set: it shows on the final schedule.",
    "override-removed": "The override is removed.",
    "layer-added": "The layer is added.",
    "layer-saved": "The layer is saved.",
    "layer-deleted": "The layer is deleted.",
    "calendar": "The calendar link is new: subscriptions to the old one have stopped.",
}
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True)
class Lane:
    """One row of the timeline: a layer's own shifts, or the final schedule with its gaps."""

    title: str
    blocks: list[Block]
    final: bool = False


def schedule_path(schedule: Schedule) -> str:
    return f"{SCHEDULES}/{schedule.slug}"


def first_day_of(text: str, zone: ZoneInfo, now: datetime) -> date:
    """The day the timeline starts: `?start=2026-01-19`, or today in the schedule's zone."""
    try:
        asked = date.fromisoformat(text)
    except ValueError:
        return today_in(zone, now)
    # Far-off years are refused quietly: day arithmetic near date.max would overflow.
    return asked if 1970 <= asked.year <= 2200 else today_in(zone, now)


def _lanes(db: Session, schedule: Schedule, window: Window) -> tuple[list[Lane], list[Block]]:
    start, end = window.start, window.end
    lanes = [
        Lane(layer.name, window.blocks(layer_shifts(layer_of(layer), start, end)))
        for layer in reversed(schedule.layers)
    ]
    final = schedules.final_schedule(db, schedule=schedule, start=start, end=end)
    gaps = window.gaps(coverage_gaps(final, start, end))
    drawn = sorted([*window.blocks(final), *gaps], key=lambda block: block.start)
    lanes.append(Lane("Final schedule", drawn, final=True))
    return lanes, drawn


def new_override(schedule: Schedule) -> dict[str, str]:
    return {"user": "", "start": "", "end": "", "timezone": schedule.timezone, "reason": ""}


def schedule_page(
    request: Request,
    db: Session,
    me: Principal,
    now: datetime,
    settings: Settings,
    schedule: Schedule,
    *,
    override: dict[str, str] | None = None,
    details: dict[str, str] | None = None,
    layer_form: dict[str, Any] | None = None,
    refusal: Refusal | None = None,
) -> Response:
    """The schedule's page; a refused form comes back filled in as typed, with its reasons."""
    zone = ZoneInfo(schedule.timezone)
    window = Window(first_day_of(request.query_params.get("start", ""), zone, now), zone)
    lanes, final = _lanes(db, schedule, window)
    upcoming = overrides.list_overrides(db, schedule=schedule, start=now, limit=OVERRIDES_SHOWN)
    current = schedules.on_call(db, schedule_id=schedule.id, at=now)
    mentioned = [b.user_id for lane in lanes for b in lane.blocks if b.user_id is not None]
    mentioned += [m for layer in schedule.layers for m in layer.members]
    mentioned += [o.created_by_id for o in upcoming if o.created_by_id is not None]
    token = schedule.calendar_token
    context = {
        "nav": "oncall",
        "schedule": schedule,
        "path": schedule_path(schedule),
        "window": window,
        "days": window.days(),
        "now_line": window.now_at(now),
        "lanes": lanes,
        "final": final,
        "layer_names": {layer.id: layer.name for layer in schedule.layers},
        "in_words": lambda block: span_in_words(block.start, block.end, zone),
        "tone": lambda user_id: f"tone-{user_id % TONES}",
        "names": {uid: user.name for uid, user in users_by_id(db, mentioned).items()},
        "current": current[0] if current else None,
        "overrides": upcoming,
        "calendar_url": settings.base_url.rstrip("/") + feeds.schedule_feed_path(token),
        "can_write": me.can(Permission.ONCALL_WRITE),
        "can_admin": me.can(Permission.ONCALL_ADMIN),
        "people": [(str(user.id), f"{user.name} ({user.email})") for user in active_people(db)],
        "zones": zone_choices(),
        "units": SHIFT_UNITS,
        "weekdays": [("", "Every day"), *((str(n), day) for n, day in enumerate(WEEKDAYS))],
        "override": override or new_override(schedule),
        "details": details or _details(schedule),
        "layer_forms": layer_forms(schedule, layer_form),
        "editing": layer_form["prefix"] if layer_form else None,
        "problems": refusal,
        "notice": NOTICES.get(request.query_params.get("done", "")),
    }
    status = refusal.status if refusal else 200
    return page(request, "oncall/schedule.html", context, status_code=status)


def _details(schedule: Schedule) -> dict[str, str]:
    return {
        "name": schedule.name,
        "description": schedule.description,
        "timezone": schedule.timezone,
    }


def done(schedule: Schedule, what: str, anchor: str, first_day: date | None = None) -> Response:
    start = f"&start={first_day.isoformat()}" if first_day else ""
    return RedirectResponse(
        f"{schedule_path(schedule)}?done={what}{start}#{anchor}", status_code=303
    )


@router.get(SCHEDULES + "/{ref}")
def schedule_view(
    ref: str,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Who is on call when, for two weeks from today (or from `?start=`)."""
    require(me, Permission.ONCALL_READ)
    schedule = schedules.get_schedule(db, ref)
    return schedule_page(request, db, me, clock.now(), settings, schedule)


@router.post(SCHEDULES + "/{ref}")
def schedule_edit(
    ref: str,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    require(me, Permission.ONCALL_ADMIN)
    schedule = schedules.get_schedule(db, ref)
    values = {name: text_of(form, f"schedule.{name}") for name in ("name", "description")}
    values["timezone"] = text_of(form, "schedule.timezone")
    try:
        with all_or_nothing(db):
            required(("schedule.name", values["name"], "give the schedule a name"))
            no_longer_than(values["name"], NAME_LENGTH, "schedule.name")
            no_longer_than(values["description"], DESCRIPTION_LENGTH, "schedule.description")
            checked_zone(values["timezone"], "schedule.timezone")
            schedules.update_schedule(
                db, actor=me.actor, now=clock.now(), schedule=schedule, changes=values
            )
    except AppError as error:
        refusal = prefixed(error, "schedule")
        schedule = schedules.get_schedule(db, schedule.id)  # as stored, not as refused
        return schedule_page(
            request, db, me, clock.now(), settings, schedule, details=values, refusal=refusal
        )
    return done(schedule, "saved", "details")


@router.post(SCHEDULES + "/{ref}/overrides")
def override_add(
    ref: str,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """Someone covers the schedule for a while: themselves or a colleague."""
    require(me, Permission.ONCALL_WRITE)
    schedule = schedules.get_schedule(db, ref)
    values = {name: text_of(form, f"override.{name}") for name in new_override(schedule)}
    now = clock.now()
    try:
        with all_or_nothing(db):
            required(
                ("override.user", values["user"], "choose who covers"),
                ("override.start", values["start"], "say when the cover starts"),
                ("override.end", values["end"], "say when the cover ends"),
            )
            no_longer_than(values["reason"], REASON_LENGTH, "override.reason")
            zone = checked_zone(values["timezone"], "override.timezone")
            start = instant(values["start"], zone, "override.start")
            end = instant(values["end"], zone, "override.end")
            made = overrides.add_override(
                db,
                actor=me.actor,
                now=now,
                schedule=schedule,
                user=values["user"],
                start=cast("datetime", start),  # required above
                end=cast("datetime", end),
                reason=values["reason"],
            )
    except AppError as error:
        refusal = prefixed(error, "override")
        return schedule_page(
            request, db, me, now, settings, schedule, override=values, refusal=refusal
        )
    # Shown on the timeline: the two weeks it starts in, when that is not the current two.
    zone_info = ZoneInfo(schedule.timezone)
    window = Window(today_in(zone_info, now), zone_info)
    beyond = not window.start <= made.starts_at < window.end
    first_day = made.starts_at.astimezone(zone_info).date() if beyond else None
    return done(schedule, "override", "overrides", first_day)


@router.post(SCHEDULES + "/{ref}/calendar/rotate")
def calendar_rotate(ref: str, me: WebUser, db: DbSession, clock: AppClock) -> Response:
    """A new secret URL for the schedule's feed; the old one stops working at once."""
    require(me, Permission.ONCALL_ADMIN)
    schedule = schedules.get_schedule(db, ref)
    feeds.rotate_schedule_token(db, actor=me.actor, now=clock.now(), schedule=schedule)
    return done(schedule, "calendar", "calendar")
