"""The on-call calendar feed, read back the way a calendar app would read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from fireline.oncall.ical import PRODID, calendar, shift_uid
from fireline.oncall.rotation import Layer, Override, Shift, final_shifts

BERLIN = ZoneInfo("Europe/Berlin")
ADA, BO, CY = 1, 2, 3
NAMES = {ADA: "Ada Lovelace", BO: "Bo Diddley"}
NOW = datetime(2026, 1, 4, 18, 30, tzinfo=UTC)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def export(shifts, *, now=NOW, name="Payments primary") -> Calendar:
    feed = calendar(
        name=name, shifts=shifts, user_names=NAMES, uid_prefix="fireline-schedule-7", now=now
    )
    assert isinstance(feed, bytes)
    return Calendar.from_ical(feed)


def events(feed: Calendar) -> list:
    return list(feed.walk("VEVENT"))


WEEK_OF_ADA = Shift(ADA, utc(2026, 1, 5, 8), utc(2026, 1, 12, 8), layer_id=1)
WEEK_OF_BO = Shift(BO, utc(2026, 1, 12, 8), utc(2026, 1, 19, 8), layer_id=1)


def test_the_feed_is_a_named_calendar_with_one_event_per_shift():
    feed = export([WEEK_OF_ADA, WEEK_OF_BO])
    assert feed.name == "VCALENDAR"
    assert str(feed["PRODID"]) == PRODID == "-//Fireline//On-call//EN"
    assert str(feed["VERSION"]) == "2.0"
    assert str(feed["X-WR-CALNAME"]) == "Payments primary"
    assert str(feed["METHOD"]) == "PUBLISH"
    assert len(events(feed)) == 2


def test_an_event_says_who_is_on_call_when_in_utc():
    (event,) = events(export([WEEK_OF_ADA]))
    assert str(event["SUMMARY"]) == "On call: Ada Lovelace"
    assert str(event["DESCRIPTION"]) == (
        "Ada Lovelace is on call for Payments primary, from rotation layer 1."
    )
    assert event.decoded("DTSTART") == utc(2026, 1, 5, 8)
    assert event.decoded("DTEND") == utc(2026, 1, 12, 8)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTSTAMP") == NOW
    assert str(event["UID"]) == "fireline-schedule-7-1-20260105T080000Z"
    # Being on call does not block the calendar.
    assert str(event["TRANSP"]) == "TRANSPARENT"


def test_times_are_written_as_utc_whatever_zone_the_shift_and_now_come_in():
    shift = Shift(
        ADA, datetime(2026, 3, 29, 9, tzinfo=BERLIN), datetime(2026, 3, 30, 9, tzinfo=BERLIN), 1
    )
    now = datetime(2026, 3, 1, 12, tzinfo=BERLIN)
    raw = calendar(name="S", shifts=[shift], user_names=NAMES, uid_prefix="p", now=now)
    assert b"DTSTART:20260329T070000Z" in raw
    assert b"DTEND:20260330T070000Z" in raw
    assert b"DTSTAMP:20260301T110000Z" in raw
    assert b"UID:p-1-20260329T070000Z" in raw


def test_the_same_shift_exported_again_keeps_its_uid():
    first = export([WEEK_OF_ADA, WEEK_OF_BO])
    # A week later, with a new shift added and Bo's shift cut short by an override.
    shortened = Shift(BO, utc(2026, 1, 12, 8), utc(2026, 1, 15, 8), layer_id=1)
    later = export([shortened, WEEK_OF_ADA], now=NOW + timedelta(days=7))
    uids = [str(event["UID"]) for event in events(first)]
    assert [str(event["UID"]) for event in events(later)] == uids
    assert uids == [
        "fireline-schedule-7-1-20260105T080000Z",
        "fireline-schedule-7-2-20260112T080000Z",
    ]
    assert shift_uid("fireline-schedule-7", shortened) == uids[1]
    # Someone else starting at the same instant is a different event.
    assert (
        shift_uid("fireline-schedule-7", Shift(CY, utc(2026, 1, 12, 8), utc(2026, 1, 13), 1))
        != (uids[1])
    )


def test_events_come_in_time_order():
    feed = export([WEEK_OF_BO, WEEK_OF_ADA])
    assert [event.decoded("DTSTART") for event in events(feed)] == [
        utc(2026, 1, 5, 8),
        utc(2026, 1, 12, 8),
    ]


def test_overrides_and_unknown_users_are_described_plainly():
    shifts = [
        Shift(CY, utc(2026, 1, 6, 12), utc(2026, 1, 6, 14), layer_id=None, override_id=40),
        Shift(BO, utc(2026, 1, 6, 14), utc(2026, 1, 6, 15), layer_id=None),
    ]
    covered, preview = events(export(shifts))
    assert str(covered["SUMMARY"]) == "On call: user 3"
    assert str(covered["DESCRIPTION"]) == (
        "user 3 is on call for Payments primary, covering through override 40."
    )
    assert str(preview["DESCRIPTION"]) == (
        "Bo Diddley is on call for Payments primary, covering through an override."
    )


def test_names_with_commas_and_semicolons_survive_the_round_trip():
    feed = calendar(
        name="Ops; EU, night",
        shifts=[WEEK_OF_ADA],
        user_names={ADA: "Lovelace, Ada; PhD"},
        uid_prefix="x",
        now=NOW,
    )
    parsed = Calendar.from_ical(feed)
    assert str(parsed["X-WR-CALNAME"]) == "Ops; EU, night"
    assert str(events(parsed)[0]["SUMMARY"]) == "On call: Lovelace, Ada; PhD"


def test_an_empty_schedule_is_an_empty_calendar():
    feed = export([])
    assert events(feed) == []
    assert str(feed["X-WR-CALNAME"]) == "Payments primary"


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="now must be a timezone-aware datetime"):
        calendar(
            name="S",
            shifts=[],
            user_names={},
            uid_prefix="p",
            now=datetime(2026, 1, 1),
        )


def test_a_feed_of_the_final_schedule_shows_the_override_splitting_a_shift():
    layer = Layer(
        1, 0, (ADA, BO), 1, "weeks", datetime(2026, 1, 5, 9, tzinfo=BERLIN), "Europe/Berlin"
    )
    cover = Override(user_id=BO, start=utc(2026, 1, 7, 8), end=utc(2026, 1, 8, 8), id=12)
    shifts = final_shifts([layer], [cover], utc(2026, 1, 5, 8), utc(2026, 1, 12, 8))
    feed = events(export(shifts))
    assert [
        (str(event["SUMMARY"]), event.decoded("DTSTART"), event.decoded("DTEND")) for event in feed
    ] == [
        ("On call: Ada Lovelace", utc(2026, 1, 5, 8), utc(2026, 1, 7, 8)),
        ("On call: Bo Diddley", utc(2026, 1, 7, 8), utc(2026, 1, 8, 8)),
        ("On call: Ada Lovelace", utc(2026, 1, 8, 8), utc(2026, 1, 12, 8)),
    ]
    assert len({str(event["UID"]) for event in feed}) == 3
