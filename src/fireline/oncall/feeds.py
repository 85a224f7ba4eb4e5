"""iCalendar feeds of on-call shifts, behind secret URLs people subscribe to in their calendar.

A schedule's feed has everyone's shifts; a person's feed has their own shifts on every schedule.
Each covers two weeks back to thirteen weeks ahead. The secret in the URL is the only credential,
so rotating it revokes every subscription made with the old URL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.models import Schedule, User
from fireline.oncall.ical import calendar
from fireline.oncall.people import users_by_id
from fireline.oncall.schedules import (
    final_schedule,
    find_schedule_by_token,
    list_schedules,
    new_calendar_token,
)

FEED_PAST = timedelta(weeks=2)
FEED_AHEAD = timedelta(weeks=13)
_MAX_TOKEN_LENGTH = 64  # the columns' width


def schedule_feed_path(token: str) -> str:
    return f"/oncall/calendars/schedules/{token}.ics"


def user_feed_path(token: str) -> str:
    return f"/oncall/calendars/users/{token}.ics"


def schedule_by_token(session: Session, token: str) -> Schedule | None:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return find_schedule_by_token(session, token)


def user_by_token(session: Session, token: str) -> User | None:
    """The active user whose personal feed this secret opens, or None."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return session.scalar(select(User).where(User.calendar_token == token, User.is_active))


def rotate_schedule_token(
    session: Session, *, actor: Actor, now: datetime, schedule: Schedule
) -> str:
    """A new secret for the schedule's feed; the old URL stops working at once."""
    schedule.calendar_token = new_calendar_token()
    schedule.updated_at = now
    record(
        session,
        actor=actor,
        action="schedule.calendar.rotate",
        entity_type="schedule",
        entity_id=schedule.id,
        at=now,
    )
    session.flush()
    return schedule.calendar_token


def rotate_user_token(session: Session, *, actor: Actor, now: datetime, user: User) -> str:
    """A new secret for the user's own feed (made on first use); any old URL stops working."""
    had_one = user.calendar_token is not None
    token = new_calendar_token()
    user.calendar_token = token
    user.updated_at = now
    record(
        session,
        actor=actor,
        action="user.calendar.rotate" if had_one else "user.calendar.create",
        entity_type="user",
        entity_id=user.id,
        at=now,
    )
    session.flush()
    return token


def schedule_feed(session: Session, *, schedule: Schedule, now: datetime) -> bytes:
    """Everyone's shifts on `schedule` around `now`, as iCalendar (its layers must be loaded)."""
    shifts = final_schedule(session, schedule=schedule, start=now - FEED_PAST, end=now + FEED_AHEAD)
    users = users_by_id(session, (shift.user_id for shift in shifts))
    return calendar(
        name=schedule.name,
        shifts=shifts,
        user_names={user_id: user.name for user_id, user in users.items()},
        uid_prefix=_uid_prefix(schedule),
        now=now,
    )


def user_feed(session: Session, *, user: User, now: datetime) -> bytes:
    """`user`'s own shifts on every schedule around `now`, as iCalendar."""
    feed = Calendar.from_ical(
        calendar(name=f"On call: {user.name}", shifts=[], user_names={}, uid_prefix="", now=now)
    )
    for schedule in list_schedules(session):
        shifts = final_schedule(
            session, schedule=schedule, start=now - FEED_PAST, end=now + FEED_AHEAD
        )
        mine = [shift for shift in shifts if shift.user_id == user.id]
        if not mine:
            continue
        # Rendered per schedule, so each event names its schedule and keeps the UID it has in
        # the schedule's own feed.
        events = Calendar.from_ical(
            calendar(
                name=schedule.name,
                shifts=mine,
                user_names={user.id: user.name},
                uid_prefix=_uid_prefix(schedule),
                now=now,
            )
        )
        for event in events.walk("VEVENT"):
            feed.add_component(event)
    serialised: bytes = feed.to_ical()
    return serialised


def _uid_prefix(schedule: Schedule) -> str:
    return f"fireline-schedule-{schedule.id}"
