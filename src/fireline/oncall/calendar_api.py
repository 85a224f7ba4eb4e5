"""On-call calendar feeds: public iCalendar URLs with a secret in them, and the API to get and
rotate those URLs.

The feeds take no sign-in (calendar apps cannot send one); the secret in the URL is the
credential, and an unknown or rotated secret is a plain 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from fireline.accounts.service import get_user
from fireline.api.deps import AppClock, AppSettings, DbSession, OnCallAdmin, OnCallReader
from fireline.api.problems import problem_response
from fireline.api.responses import json_response
from fireline.config import Settings
from fireline.errors import NotFound
from fireline.oncall import feeds
from fireline.oncall.schedules import get_schedule
from fireline.oncall.schemas import CalendarLink

router = APIRouter(tags=["on-call calendars"])

ICALENDAR = "text/calendar; charset=utf-8"
# Calendar apps poll; a few minutes of staleness is fine and spares the database.
FEED_CACHE = "private, max-age=300"


FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The shifts as an iCalendar (RFC 5545) feed.",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    }
}


def _feed(body: bytes) -> Response:
    return Response(body, media_type=ICALENDAR, headers={"Cache-Control": FEED_CACHE})


def _no_feed(request: Request) -> Response:
    # Answered as problem+json here: outside /api/ the error handler would render a web page,
    # and a calendar app asking for a feed is no browser.
    missing = NotFound(detail="No calendar at this address; it may have been rotated.")
    return problem_response(missing, request)


def _link(settings: Settings, path: str) -> CalendarLink:
    return CalendarLink(url=settings.base_url.rstrip("/") + path)


@router.get(
    "/oncall/calendars/schedules/{token}.ics", response_class=Response, responses=FEED_RESPONSES
)
def schedule_feed(token: str, request: Request, db: DbSession, clock: AppClock) -> Response:
    """Everyone's shifts on one schedule, two weeks back to thirteen weeks ahead."""
    schedule = feeds.schedule_by_token(db, token)
    if schedule is None:
        return _no_feed(request)
    return _feed(feeds.schedule_feed(db, schedule=schedule, now=clock.now()))


@router.get(
    "/oncall/calendars/users/{token}.ics", response_class=Response, responses=FEED_RESPONSES
)
def user_feed(token: str, request: Request, db: DbSession, clock: AppClock) -> Response:
    """One person's own shifts on every schedule, two weeks back to thirteen weeks ahead."""
    user = feeds.user_by_token(db, token)
    if user is None:
        return _no_feed(request)
    return _feed(feeds.user_feed(db, user=user, now=clock.now()))


@router.get("/api/v1/schedules/{ref}/calendar", response_model=CalendarLink)
def schedule_calendar(
    ref: str, principal: OnCallReader, db: DbSession, settings: AppSettings
) -> Response:
    """The secret URL of the schedule's calendar feed, to subscribe to."""
    schedule = get_schedule(db, ref)
    return json_response(_link(settings, feeds.schedule_feed_path(schedule.calendar_token)))


@router.post("/api/v1/schedules/{ref}/calendar/rotate", response_model=CalendarLink)
def rotate_schedule_calendar(
    ref: str, principal: OnCallAdmin, db: DbSession, clock: AppClock, settings: AppSettings
) -> Response:
    """A new secret URL for the schedule's feed; subscriptions to the old one stop working."""
    token = feeds.rotate_schedule_token(
        db, actor=principal.actor, now=clock.now(), schedule=get_schedule(db, ref)
    )
    return json_response(_link(settings, feeds.schedule_feed_path(token)))


@router.get("/api/v1/users/me/calendar", response_model=CalendarLink)
def my_calendar(principal: OnCallReader, db: DbSession, settings: AppSettings) -> Response:
    """The secret URL of your own on-call calendar; null until you make one by rotating."""
    token = get_user(db, principal.user_id).calendar_token
    if token is None:
        return json_response(CalendarLink(url=None))
    return json_response(_link(settings, feeds.user_feed_path(token)))


@router.post("/api/v1/users/me/calendar/rotate", response_model=CalendarLink)
def rotate_my_calendar(
    principal: OnCallReader, db: DbSession, clock: AppClock, settings: AppSettings
) -> Response:
    """Make your calendar URL, or replace it: subscriptions to the old one stop working."""
    token = feeds.rotate_user_token(
        db, actor=principal.actor, now=clock.now(), user=get_user(db, principal.user_id)
    )
    return json_response(_link(settings, feeds.user_feed_path(token)))
