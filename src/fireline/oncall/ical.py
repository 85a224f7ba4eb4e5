"""On-call shifts as an iCalendar feed, for people to subscribe to in their own calendar app.

Each shift becomes one event whose UID depends only on the feed's `uid_prefix`, the user and the
shift's start, so exporting the same shift again updates the event in the subscriber's calendar
instead of adding a copy. Events are marked transparent: being on call does not make anyone busy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from icalendar import Calendar, Event

from fireline.oncall.rotation import Shift

PRODID = "-//Fireline//On-call//EN"


def calendar(
    *,
    name: str,
    shifts: Sequence[Shift],
    user_names: Mapping[int, str],
    uid_prefix: str,
    now: datetime,
) -> bytes:
    """The VCALENDAR named `name`, one VEVENT per shift, serialised as iCalendar bytes.

    Events read "On call: Ada Lovelace" with the schedule and the source (rotation layer or
    override) in the description; times are in UTC and DTSTAMP is `now`. A user missing from
    `user_names` shows as "user <id>". Raises ValueError for a naive `now`.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    stamp = now.astimezone(UTC)
    feed = Calendar()
    feed.add("prodid", PRODID)
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", name)
    for shift in sorted(shifts, key=lambda shift: shift.start):
        feed.add_component(_event(shift, name, user_names, uid_prefix, stamp))
    serialised: bytes = feed.to_ical()
    return serialised


def shift_uid(uid_prefix: str, shift: Shift) -> str:
    """The event UID of `shift`: the same user starting at the same instant gets the same UID."""
    start = shift.start.astimezone(UTC)
    return f"{uid_prefix}-{shift.user_id}-{start:%Y%m%dT%H%M%SZ}"


def _event(
    shift: Shift, name: str, user_names: Mapping[int, str], uid_prefix: str, stamp: datetime
) -> Event:
    person = user_names.get(shift.user_id, f"user {shift.user_id}")
    event = Event()
    event.add("uid", shift_uid(uid_prefix, shift))
    event.add("dtstamp", stamp)
    event.add("dtstart", shift.start.astimezone(UTC))
    event.add("dtend", shift.end.astimezone(UTC))
    event.add("summary", f"On call: {person}")
    event.add("description", f"{person} is on call for {name}, {_source(shift)}.")
    event.add("transp", "TRANSPARENT")
    return event


def _source(shift: Shift) -> str:
    if shift.override_id is not None:
        return f"covering through override {shift.override_id}"
    if shift.layer_id is None:
        return "covering through an override"
    return f"from rotation layer {shift.layer_id}"
