"""Rotations across daylight-saving changes, in both hemispheres.

The 2026 clock changes used here:
- Europe/Berlin: forward Sun 29 March 02:00 CET -> 03:00 CEST; back Sun 25 October 03:00 -> 02:00.
- America/New_York: forward Sun 8 March 02:00 EST -> 03:00 EDT; back Sun 1 November 02:00 -> 01:00.
- Australia/Sydney: back Sun 5 April 03:00 AEDT -> 02:00 AEST; forward Sun 4 October 02:00 -> 03:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from fireline.oncall.rotation import Layer, Restriction, Shift, layer_shifts, on_call_at

ADA, BO, CY = 1, 2, 3
HOUR = timedelta(hours=1)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def rotation(zone: str, first_handoff: datetime, unit: str = "days", length: int = 1, **more):
    """Ada, Bo and Cy rotating in `zone`; `first_handoff` is a naive local wall time."""
    start = first_handoff.replace(tzinfo=ZoneInfo(zone))
    return Layer(1, 0, (ADA, BO, CY), length, unit, start, zone, **more)


def handoffs(shifts: list[Shift]) -> list[datetime]:
    """The start of every shift and the end of the last one."""
    return [shift.start for shift in shifts] + [shifts[-1].end]


def local_times(instants: list[datetime], zone: str) -> list[time]:
    return [instant.astimezone(ZoneInfo(zone)).time() for instant in instants]


def lengths(shifts: list[Shift]) -> list[float]:
    return [(shift.end - shift.start) / HOUR for shift in shifts]


def naive(*fields: int) -> datetime:
    return datetime(*fields)


# --- daily and weekly rotations keep the local hand-off time ----------------------------------

DAILY_AT_NINE = [
    pytest.param(
        "Europe/Berlin",
        naive(2026, 3, 28, 9),
        [utc(2026, 3, 28, 8), utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)],
        [23, 24],
        id="berlin-march",
    ),
    pytest.param(
        "Europe/Berlin",
        naive(2026, 10, 24, 9),
        [utc(2026, 10, 24, 7), utc(2026, 10, 25, 8), utc(2026, 10, 26, 8)],
        [25, 24],
        id="berlin-october",
    ),
    pytest.param(
        "America/New_York",
        naive(2026, 3, 7, 9),
        [utc(2026, 3, 7, 14), utc(2026, 3, 8, 13), utc(2026, 3, 9, 13)],
        [23, 24],
        id="new-york-march",
    ),
    pytest.param(
        "America/New_York",
        naive(2026, 10, 31, 9),
        [utc(2026, 10, 31, 13), utc(2026, 11, 1, 14), utc(2026, 11, 2, 14)],
        [25, 24],
        id="new-york-november",
    ),
    pytest.param(
        "Australia/Sydney",
        naive(2026, 4, 4, 9),
        [utc(2026, 4, 3, 22), utc(2026, 4, 4, 23), utc(2026, 4, 5, 23)],
        [25, 24],
        id="sydney-april",
    ),
    pytest.param(
        "Australia/Sydney",
        naive(2026, 10, 3, 9),
        [utc(2026, 10, 2, 23), utc(2026, 10, 3, 22), utc(2026, 10, 4, 22)],
        [23, 24],
        id="sydney-october",
    ),
]


@pytest.mark.parametrize(("zone", "first", "expected", "hours"), DAILY_AT_NINE)
def test_a_daily_rotation_hands_off_at_nine_local_on_both_sides_of_the_change(
    zone, first, expected, hours
):
    layer = rotation(zone, first)
    shifts = layer_shifts(layer, expected[0], expected[-1])
    assert handoffs(shifts) == expected
    assert local_times(expected, zone) == [time(9)] * 3
    # The day of the change is 23 or 25 real hours long; the next one is back to 24.
    assert lengths(shifts) == hours
    assert [shift.user_id for shift in shifts] == [ADA, BO]
    # 08:59 local on the day of the change is still Ada's; 09:00 is Bo's.
    assert on_call_at([layer], [], expected[1] - timedelta(minutes=1)).user_id == ADA
    assert on_call_at([layer], [], expected[1]) == shifts[1]


WEEKLY_ON_MONDAYS = [
    pytest.param(
        "Europe/Berlin",
        naive(2026, 3, 23, 9),
        [utc(2026, 3, 23, 8), utc(2026, 3, 30, 7), utc(2026, 4, 6, 7)],
        [167, 168],
        id="berlin-march",
    ),
    pytest.param(
        "Europe/Berlin",
        naive(2026, 10, 19, 9),
        [utc(2026, 10, 19, 7), utc(2026, 10, 26, 8), utc(2026, 11, 2, 8)],
        [169, 168],
        id="berlin-october",
    ),
    pytest.param(
        "America/New_York",
        naive(2026, 3, 2, 9),
        [utc(2026, 3, 2, 14), utc(2026, 3, 9, 13), utc(2026, 3, 16, 13)],
        [167, 168],
        id="new-york-march",
    ),
    pytest.param(
        "America/New_York",
        naive(2026, 10, 26, 9),
        [utc(2026, 10, 26, 13), utc(2026, 11, 2, 14), utc(2026, 11, 9, 14)],
        [169, 168],
        id="new-york-november",
    ),
    pytest.param(
        "Australia/Sydney",
        naive(2026, 3, 30, 9),
        [utc(2026, 3, 29, 22), utc(2026, 4, 5, 23), utc(2026, 4, 12, 23)],
        [169, 168],
        id="sydney-april",
    ),
    pytest.param(
        "Australia/Sydney",
        naive(2026, 9, 28, 9),
        [utc(2026, 9, 27, 23), utc(2026, 10, 4, 22), utc(2026, 10, 11, 22)],
        [167, 168],
        id="sydney-october",
    ),
]


@pytest.mark.parametrize(("zone", "first", "expected", "hours"), WEEKLY_ON_MONDAYS)
def test_a_weekly_rotation_hands_off_on_monday_at_nine_local_across_the_change(
    zone, first, expected, hours
):
    layer = rotation(zone, first, unit="weeks")
    shifts = layer_shifts(layer, expected[0], expected[-1])
    assert handoffs(shifts) == expected
    assert local_times(expected, zone) == [time(9)] * 3
    assert [instant.astimezone(ZoneInfo(zone)).weekday() for instant in expected] == [0] * 3
    assert lengths(shifts) == hours
    assert on_call_at([layer], [], expected[1] - timedelta(seconds=1)).user_id == ADA
    assert on_call_at([layer], [], expected[1]).user_id == BO


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney"])
def test_a_whole_year_of_daily_hand_offs_stays_at_nine_local(zone):
    layer = rotation(zone, naive(2026, 1, 1, 9))
    start = datetime(2026, 1, 1, 9, tzinfo=ZoneInfo(zone))
    shifts = layer_shifts(layer, start, datetime(2027, 1, 1, 9, tzinfo=ZoneInfo(zone)))
    assert len(shifts) == 365
    assert set(local_times(handoffs(shifts), zone)) == {time(9)}
    # Members follow the count of hand-offs, not elapsed time divided by 24 hours.
    assert [shift.user_id for shift in shifts] == [(ADA, BO, CY)[day % 3] for day in range(365)]
    # One short day and one long day a year; the rest are 24 hours.
    assert sorted(lengths(shifts)) == [23] + [24] * 363 + [25]


def test_the_member_is_counted_in_local_days_not_in_elapsed_seconds():
    layer = rotation("Europe/Berlin", naive(2026, 1, 5, 9))
    # 1 July is 177 local days after 5 January (177 % 3 == 0), but only 176 days and 23 hours
    # after it by the clock: dividing elapsed time would still say shift 176 at 09:30 CEST.
    assert on_call_at([layer], [], utc(2026, 7, 1, 7, 30)) == Shift(
        ADA, utc(2026, 7, 1, 7), utc(2026, 7, 2, 7), layer_id=1
    )
    assert on_call_at([layer], [], utc(2026, 7, 1, 6, 59)).user_id == CY  # 176 % 3 == 2


# --- hours rotations keep exact elapsed hours ---------------------------------------------------

TWELVE_HOURS = [
    pytest.param(
        "Europe/Berlin",
        naive(2026, 3, 28, 9),
        [utc(2026, 3, 28, 8), utc(2026, 3, 28, 20), utc(2026, 3, 29, 8), utc(2026, 3, 29, 20)],
        [9, 21, 10, 22],
        id="berlin-march",
    ),
    pytest.param(
        "Europe/Berlin",
        naive(2026, 10, 24, 9),
        [utc(2026, 10, 24, 7), utc(2026, 10, 24, 19), utc(2026, 10, 25, 7), utc(2026, 10, 25, 19)],
        [9, 21, 8, 20],
        id="berlin-october",
    ),
    pytest.param(
        "America/New_York",
        naive(2026, 3, 7, 9),
        [utc(2026, 3, 7, 14), utc(2026, 3, 8, 2), utc(2026, 3, 8, 14), utc(2026, 3, 9, 2)],
        [9, 21, 10, 22],
        id="new-york-march",
    ),
    pytest.param(
        "America/New_York",
        naive(2026, 10, 31, 9),
        [utc(2026, 10, 31, 13), utc(2026, 11, 1, 1), utc(2026, 11, 1, 13), utc(2026, 11, 2, 1)],
        [9, 21, 8, 20],
        id="new-york-november",
    ),
    pytest.param(
        "Australia/Sydney",
        naive(2026, 4, 4, 9),
        [utc(2026, 4, 3, 22), utc(2026, 4, 4, 10), utc(2026, 4, 4, 22), utc(2026, 4, 5, 10)],
        [9, 21, 8, 20],
        id="sydney-april",
    ),
    pytest.param(
        "Australia/Sydney",
        naive(2026, 10, 3, 9),
        [utc(2026, 10, 2, 23), utc(2026, 10, 3, 11), utc(2026, 10, 3, 23), utc(2026, 10, 4, 11)],
        [9, 21, 10, 22],
        id="sydney-october",
    ),
]


@pytest.mark.parametrize(("zone", "first", "expected", "local_hours"), TWELVE_HOURS)
def test_twelve_hour_shifts_stay_twelve_real_hours_and_the_local_time_moves(
    zone, first, expected, local_hours
):
    layer = rotation(zone, first, unit="hours", length=12)
    shifts = layer_shifts(layer, expected[0], expected[-1])
    assert handoffs(shifts) == expected
    assert lengths(shifts) == [12, 12, 12]
    assert local_times(expected, zone) == [time(hour) for hour in local_hours]
    assert [shift.user_id for shift in shifts] == [ADA, BO, CY]
    assert on_call_at([layer], [], expected[2]).user_id == CY


# --- hand-off times the clocks skip or repeat ---------------------------------------------------

IN_THE_GAP = [
    pytest.param(
        "America/New_York",
        naive(2026, 3, 7, 2, 30),
        [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)],
        [time(2, 30), time(3), time(2, 30)],
        id="new-york",
    ),
    pytest.param(
        "Europe/Berlin",
        naive(2026, 3, 28, 2, 30),
        [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)],
        [time(2, 30), time(3), time(2, 30)],
        id="berlin",
    ),
    pytest.param(
        "Australia/Sydney",
        naive(2026, 10, 3, 2, 30),
        [utc(2026, 10, 2, 16, 30), utc(2026, 10, 3, 16), utc(2026, 10, 4, 15, 30)],
        [time(2, 30), time(3), time(2, 30)],
        id="sydney",
    ),
    pytest.param(
        # Lord Howe Island moves its clocks by half an hour: 02:00 jumps to 02:30.
        "Australia/Lord_Howe",
        naive(2026, 10, 3, 2, 15),
        [utc(2026, 10, 2, 15, 45), utc(2026, 10, 3, 15, 30), utc(2026, 10, 4, 15, 15)],
        [time(2, 15), time(2, 30), time(2, 15)],
        id="lord-howe",
    ),
]


@pytest.mark.parametrize(("zone", "first", "expected", "local"), IN_THE_GAP)
def test_a_hand_off_the_clocks_skip_happens_as_soon_as_they_have_jumped(
    zone, first, expected, local
):
    layer = rotation(zone, first)
    shifts = layer_shifts(layer, expected[0], expected[-1])
    assert handoffs(shifts) == expected
    assert local_times(expected, zone) == local
    assert on_call_at([layer], [], expected[1] - timedelta(seconds=1)).user_id == ADA
    assert on_call_at([layer], [], expected[1]).user_id == BO


IN_THE_REPEATED_HOUR = [
    pytest.param(
        "America/New_York",
        naive(2026, 10, 31, 1, 30),
        [utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)],
        id="new-york",
    ),
    pytest.param(
        "Europe/Berlin",
        naive(2026, 10, 24, 2, 30),
        [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)],
        id="berlin",
    ),
    pytest.param(
        "Australia/Sydney",
        naive(2026, 4, 4, 2, 30),
        [utc(2026, 4, 3, 15, 30), utc(2026, 4, 4, 15, 30), utc(2026, 4, 5, 16, 30)],
        id="sydney",
    ),
]


@pytest.mark.parametrize(("zone", "first", "expected"), IN_THE_REPEATED_HOUR)
def test_a_hand_off_in_the_repeated_hour_happens_the_first_time_round(zone, first, expected):
    layer = rotation(zone, first)
    shifts = layer_shifts(layer, expected[0], expected[-1])
    assert handoffs(shifts) == expected
    assert local_times(expected, zone) == [first.time()] * 3
    assert expected[1].astimezone(ZoneInfo(zone)).fold == 0
    # So the shift after the hand-off holds the repeated hour: 25 real hours.
    assert lengths(shifts) == [24, 25]
    # An hour later the wall clock shows the hand-off time again, and it is still Bo's shift.
    assert on_call_at([layer], [], expected[1] + HOUR).user_id == BO


def test_a_rotation_starting_at_the_second_occurrence_starts_exactly_then():
    new_york = ZoneInfo("America/New_York")
    second = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=new_york)  # 01:30 EST
    layer = Layer(1, 0, (ADA, BO), 1, "days", second, "America/New_York")
    shifts = layer_shifts(layer, utc(2026, 11, 1), utc(2026, 11, 3, 6, 30))
    assert handoffs(shifts) == [
        utc(2026, 11, 1, 6, 30),
        utc(2026, 11, 2, 6, 30),
        utc(2026, 11, 3, 6, 30),
    ]
    assert on_call_at([layer], [], utc(2026, 11, 1, 6, 29)) is None


def test_a_day_samoa_skipped_gets_a_short_shift_that_starts_when_the_day_after_begins():
    # Samoa crossed the date line at the end of 29 December 2011 (UTC-10), going straight to
    # 31 December 00:00 (UTC+14): 30 December never happened there.
    layer = rotation("Pacific/Apia", naive(2011, 12, 28, 9))
    shifts = layer_shifts(layer, utc(2011, 12, 28, 19), utc(2011, 12, 31, 19))
    assert handoffs(shifts) == [
        utc(2011, 12, 28, 19),
        utc(2011, 12, 29, 19),
        utc(2011, 12, 30, 10),  # 31 December 00:00, local
        utc(2011, 12, 30, 19),  # 31 December 09:00, local
        utc(2011, 12, 31, 19),
    ]
    assert [shift.user_id for shift in shifts] == [ADA, BO, CY, ADA]
    assert on_call_at([layer], [], utc(2011, 12, 30, 12)).user_id == CY
    assert on_call_at([layer], [], utc(2012, 1, 1, 12)).user_id == BO


# --- restriction windows follow local time -------------------------------------------------------


def test_a_nine_to_five_window_stays_nine_to_five_berlin_time_across_the_march_change():
    layer = rotation(
        "Europe/Berlin",
        naive(2026, 3, 23, 9),
        unit="weeks",
        restrictions=(
            Restriction(time(9), timedelta(hours=8), weekday=4),
            Restriction(time(9), timedelta(hours=8), weekday=0),
        ),
    )
    shifts = layer_shifts(layer, utc(2026, 3, 27), utc(2026, 3, 31))
    assert [(shift.user_id, shift.start, shift.end) for shift in shifts] == [
        (ADA, utc(2026, 3, 27, 8), utc(2026, 3, 27, 16)),  # Friday, CET
        (BO, utc(2026, 3, 30, 7), utc(2026, 3, 30, 15)),  # Monday, CEST
    ]


def test_a_night_window_is_an_hour_shorter_or_longer_on_the_night_of_the_change():
    nights = (Restriction(time(22), timedelta(hours=10)),)
    layer = rotation("Europe/Berlin", naive(2026, 3, 1, 9), unit="weeks", restrictions=nights)
    # 22:00 CET to 08:00 CEST, and 22:00 CEST to 08:00 CET.
    march = layer_shifts(layer, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12))
    october = layer_shifts(layer, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    assert handoffs(march) == [utc(2026, 3, 28, 21), utc(2026, 3, 29, 6)]
    assert handoffs(october) == [utc(2026, 10, 24, 20), utc(2026, 10, 25, 7)]
    assert lengths(march) == [9]
    assert lengths(october) == [11]


def test_a_window_opening_in_the_skipped_hour_opens_when_the_clocks_have_jumped():
    windows = (
        Restriction(time(2, 30), timedelta(hours=1)),  # 02:30-03:30
        Restriction(time(2, 10), timedelta(minutes=30), weekday=6),  # 02:10-02:40 on Sundays
    )
    layer = rotation("Europe/Berlin", naive(2026, 3, 1, 9), unit="weeks", restrictions=windows)
    shifts = layer_shifts(layer, utc(2026, 3, 28), utc(2026, 3, 31))
    assert [(shift.start, shift.end) for shift in shifts] == [
        (utc(2026, 3, 28, 1, 30), utc(2026, 3, 28, 2, 30)),  # Saturday, CET
        # Sunday: 02:30-03:30 becomes 03:00-03:30 CEST; 02:10-02:40 never happens.
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)),
        (utc(2026, 3, 30, 0, 30), utc(2026, 3, 30, 1, 30)),  # Monday, CEST
    ]
    # A week later the Sunday window exists and joins the daily one: 02:10-03:30.
    later = layer_shifts(layer, utc(2026, 4, 5), utc(2026, 4, 6))
    assert [(shift.start, shift.end) for shift in later] == [
        (utc(2026, 4, 5, 0, 10), utc(2026, 4, 5, 1, 30))
    ]


def test_sydney_business_hours_follow_the_april_change():
    weekdays = tuple(Restriction(time(9), timedelta(hours=8), weekday=day) for day in range(5))
    layer = rotation("Australia/Sydney", naive(2026, 3, 30, 9), unit="weeks", restrictions=weekdays)
    shifts = layer_shifts(layer, utc(2026, 4, 2, 12), utc(2026, 4, 6, 12))
    assert [(shift.user_id, shift.start, shift.end) for shift in shifts] == [
        (ADA, utc(2026, 4, 2, 22), utc(2026, 4, 3, 6)),  # Friday 3 April, AEDT
        (BO, utc(2026, 4, 5, 23), utc(2026, 4, 6, 7)),  # Monday 6 April, AEST
    ]
    assert date(2026, 4, 6).weekday() == 0
