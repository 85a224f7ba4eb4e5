"""Who is on call, as a team lead setting up a schedule would check it.

January 2026: Monday the 5th is the first hand-off; Berlin is on CET (UTC+1) all month, so a 09:00
Berlin hand-off is 08:00 UTC.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from fireline.errors import InvalidInput
from fireline.oncall.rotation import (
    InvalidRotation,
    Layer,
    Override,
    Restriction,
    Shift,
    coverage_gaps,
    final_shifts,
    layer_shifts,
    local_instant,
    on_call_at,
    validate_layer,
    validate_override,
)

BERLIN = ZoneInfo("Europe/Berlin")
ADA, BO, CY, DAN = 1, 2, 3, 4
MONDAY_HANDOFF = datetime(2026, 1, 5, 9, 0, tzinfo=BERLIN)  # 08:00 UTC
BUSINESS_HOURS = tuple(Restriction(time(9), timedelta(hours=8), weekday=day) for day in range(5))


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def weekly(**changes) -> Layer:
    """Ada, Bo and Cy take a week each, handing off on Mondays at 09:00 Berlin time."""
    fields = {
        "id": 1,
        "priority": 0,
        "members": (ADA, BO, CY),
        "shift_length": 1,
        "shift_unit": "weeks",
        "rotation_start": MONDAY_HANDOFF,
        "timezone": "Europe/Berlin",
    }
    return Layer(**(fields | changes))


def business_hours(**changes) -> Layer:
    """Dan covers weekdays 09:00-17:00 Berlin time, above the weekly rotation."""
    fields = {
        "id": 2,
        "priority": 1,
        "members": (DAN,),
        "shift_length": 1,
        "shift_unit": "days",
        "rotation_start": MONDAY_HANDOFF,
        "timezone": "Europe/Berlin",
        "restrictions": BUSINESS_HOURS,
    }
    return Layer(**(fields | changes))


def who(shifts: list[Shift]) -> list[tuple[int, datetime, datetime]]:
    return [(shift.user_id, shift.start, shift.end) for shift in shifts]


# --- a weekly rotation of three --------------------------------------------------------------


def test_a_weekly_rotation_hands_off_every_monday_at_nine_berlin_time():
    layer = weekly()
    assert on_call_at([layer], [], MONDAY_HANDOFF) == Shift(
        ADA, utc(2026, 1, 5, 8), utc(2026, 1, 12, 8), layer_id=1
    )
    # Bo takes over at 09:00 sharp the next Monday: 08:59 is still Ada's.
    monday = datetime(2026, 1, 12, 8, 59, tzinfo=BERLIN)
    assert on_call_at([layer], [], monday).user_id == ADA
    assert on_call_at([layer], [], monday + timedelta(minutes=1)).user_id == BO
    assert on_call_at([layer], [], datetime(2026, 1, 21, 3, 0, tzinfo=BERLIN)).user_id == CY
    # After Cy it is Ada's turn again.
    assert on_call_at([layer], [], utc(2026, 1, 26, 8)).user_id == ADA


def test_a_year_later_it_is_week_52_so_bo_is_on_call():
    # 4 January 2027 is 364 days, 52 weeks, after the first hand-off; 52 % 3 == 1.
    shift = on_call_at([weekly()], [], datetime(2027, 1, 4, 10, 0, tzinfo=BERLIN))
    assert shift == Shift(BO, utc(2027, 1, 4, 8), utc(2027, 1, 11, 8), layer_id=1)


def test_the_instant_may_be_given_in_any_zone_and_results_are_utc():
    new_york = datetime(2026, 1, 14, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    shift = on_call_at([weekly()], [], new_york)
    assert shift is not None
    assert shift.user_id == BO
    assert shift.start.tzinfo is UTC
    assert shift.end.tzinfo is UTC


def test_nobody_from_the_layer_is_on_call_before_the_rotation_starts():
    layer = weekly()
    assert on_call_at([layer], [], utc(2026, 1, 5, 7, 59)) is None
    assert layer_shifts(layer, utc(2026, 1, 1), utc(2026, 1, 6)) == [
        Shift(ADA, utc(2026, 1, 5, 8), utc(2026, 1, 6), layer_id=1)
    ]
    assert layer_shifts(layer, utc(2026, 1, 1), utc(2026, 1, 5)) == []


def test_the_shift_list_for_a_range_is_clipped_to_the_range():
    shifts = layer_shifts(weekly(), utc(2026, 1, 10), utc(2026, 1, 20))
    assert who(shifts) == [
        (ADA, utc(2026, 1, 10), utc(2026, 1, 12, 8)),
        (BO, utc(2026, 1, 12, 8), utc(2026, 1, 19, 8)),
        (CY, utc(2026, 1, 19, 8), utc(2026, 1, 20)),
    ]
    assert all(shift.layer_id == 1 and shift.override_id is None for shift in shifts)


def test_an_empty_or_reversed_range_has_no_shifts():
    assert layer_shifts(weekly(), utc(2026, 1, 10), utc(2026, 1, 10)) == []
    assert final_shifts([weekly()], [], utc(2026, 1, 10), utc(2026, 1, 9)) == []


def test_a_member_listed_twice_takes_two_turns():
    layer = weekly(members=(ADA, ADA, BO), shift_length=2, shift_unit="days")
    shifts = layer_shifts(layer, utc(2026, 1, 5, 8), utc(2026, 1, 17, 8))
    assert who(shifts) == [
        (ADA, utc(2026, 1, 5, 8), utc(2026, 1, 7, 8)),
        (ADA, utc(2026, 1, 7, 8), utc(2026, 1, 9, 8)),
        (BO, utc(2026, 1, 9, 8), utc(2026, 1, 11, 8)),
        (ADA, utc(2026, 1, 11, 8), utc(2026, 1, 13, 8)),
        (ADA, utc(2026, 1, 13, 8), utc(2026, 1, 15, 8)),
        (BO, utc(2026, 1, 15, 8), utc(2026, 1, 17, 8)),
    ]
    # The final schedule shows Ada's four days as one stretch.
    assert who(final_shifts([layer], [], utc(2026, 1, 5, 8), utc(2026, 1, 17, 8))) == [
        (ADA, utc(2026, 1, 5, 8), utc(2026, 1, 9, 8)),
        (BO, utc(2026, 1, 9, 8), utc(2026, 1, 11, 8)),
        (ADA, utc(2026, 1, 11, 8), utc(2026, 1, 15, 8)),
        (BO, utc(2026, 1, 15, 8), utc(2026, 1, 17, 8)),
    ]


def test_a_layer_that_ends_stops_covering_at_its_end():
    layer = weekly(ends_at=utc(2026, 1, 15, 12))
    assert who(layer_shifts(layer, utc(2026, 1, 12), utc(2026, 1, 20))) == [
        (ADA, utc(2026, 1, 12), utc(2026, 1, 12, 8)),
        (BO, utc(2026, 1, 12, 8), utc(2026, 1, 15, 12)),
    ]
    assert on_call_at([layer], [], utc(2026, 1, 15, 11, 59)) == Shift(
        BO, utc(2026, 1, 12, 8), utc(2026, 1, 15, 12), layer_id=1
    )
    assert on_call_at([layer], [], utc(2026, 1, 15, 12)) is None


def test_hourly_shifts_far_in_the_future_are_found_without_walking_the_rotation():
    layer = weekly(members=(ADA, BO, CY, DAN), shift_unit="hours", shift_length=1)
    # 1 January 2076 is 50 years (12 leap days) less 4 days and 8 hours after the first hand-off:
    # (18,262 - 4) * 24 - 8 = 438,184 hours, so 00:30 falls in shift 438,184, and 438,184 % 4 == 0.
    at = utc(2076, 1, 1, 0, 30)
    hours = (at - utc(2026, 1, 5, 8)) // timedelta(hours=1)
    assert hours == 438_184
    shift = on_call_at([layer], [], at)
    assert shift == Shift(ADA, utc(2076, 1, 1), utc(2076, 1, 1, 1), layer_id=1)


def test_daily_shifts_ten_years_on_count_local_dates():
    layer = weekly(shift_unit="days")
    # 5 January 2036 is 3,652 days after 5 January 2026; 3,652 % 3 == 1.
    assert on_call_at([layer], [], utc(2036, 1, 5, 8)).user_id == BO
    assert on_call_at([layer], [], utc(2036, 1, 5, 7, 59)).user_id == ADA


# --- restrictions ----------------------------------------------------------------------------


def test_business_hours_restrict_a_layer_to_weekdays_nine_to_five_local():
    shifts = layer_shifts(business_hours(), utc(2026, 1, 5), utc(2026, 1, 12))
    assert who(shifts) == [
        (DAN, utc(2026, 1, day, 8), utc(2026, 1, day, 16)) for day in range(5, 10)
    ]


def test_a_restriction_cuts_a_shift_and_each_piece_keeps_its_member():
    # Daily hand-off at 12:00 Berlin; the layer only covers 09:00-17:00 on Tuesdays.
    layer = weekly(
        shift_unit="days",
        rotation_start=datetime(2026, 1, 5, 12, 0, tzinfo=BERLIN),
        restrictions=(Restriction(time(9), timedelta(hours=8), weekday=1),),
    )
    assert who(layer_shifts(layer, utc(2026, 1, 5), utc(2026, 1, 14))) == [
        (ADA, utc(2026, 1, 6, 8), utc(2026, 1, 6, 11)),  # Monday noon's shift, until noon
        (BO, utc(2026, 1, 6, 11), utc(2026, 1, 6, 16)),
        (BO, utc(2026, 1, 13, 8), utc(2026, 1, 13, 11)),  # shift 7: 7 % 3 == 1
        (CY, utc(2026, 1, 13, 11), utc(2026, 1, 13, 16)),  # shift 8
    ]
    assert on_call_at([layer], [], utc(2026, 1, 6, 10)) == Shift(
        ADA, utc(2026, 1, 6, 8), utc(2026, 1, 6, 11), layer_id=1
    )
    assert on_call_at([layer], [], utc(2026, 1, 6, 16)) is None


def test_a_weekend_window_runs_from_friday_evening_to_monday_morning():
    weekend = Restriction(time(17), timedelta(hours=64), weekday=4)
    shifts = layer_shifts(weekly(restrictions=(weekend,)), utc(2026, 1, 5), utc(2026, 1, 20))
    assert who(shifts) == [
        (ADA, utc(2026, 1, 9, 16), utc(2026, 1, 12, 8)),
        (BO, utc(2026, 1, 16, 16), utc(2026, 1, 19, 8)),
    ]


def test_a_range_starting_inside_a_multi_day_window_picks_it_up():
    weekend = Restriction(time(17), timedelta(hours=64), weekday=4)
    layer = weekly(restrictions=(weekend,))
    assert who(layer_shifts(layer, utc(2026, 1, 11), utc(2026, 1, 12))) == [
        (ADA, utc(2026, 1, 11), utc(2026, 1, 12))
    ]
    assert on_call_at([layer], [], utc(2026, 1, 11, 12)) == Shift(
        ADA, utc(2026, 1, 9, 16), utc(2026, 1, 12, 8), layer_id=1
    )


def test_an_overnight_window_crosses_midnight():
    nights = Restriction(time(22), timedelta(hours=10))
    shifts = layer_shifts(weekly(restrictions=(nights,)), utc(2026, 1, 5), utc(2026, 1, 7))
    assert who(shifts) == [
        (ADA, utc(2026, 1, 5, 21), utc(2026, 1, 6, 7)),
        (ADA, utc(2026, 1, 6, 21), utc(2026, 1, 7)),
    ]


def test_overlapping_windows_add_up_and_a_full_day_window_covers_everything():
    mornings = Restriction(time(8), timedelta(hours=4))
    late_mornings = Restriction(time(10), timedelta(hours=4))
    inside_them = Restriction(time(9), timedelta(hours=1))
    layer = weekly(restrictions=(mornings, late_mornings, inside_them))
    assert who(layer_shifts(layer, utc(2026, 1, 6), utc(2026, 1, 7))) == [
        (ADA, utc(2026, 1, 6, 7), utc(2026, 1, 6, 13))
    ]
    whole_days = weekly(restrictions=(Restriction(time(0), timedelta(days=1)),))
    assert who(layer_shifts(whole_days, utc(2026, 1, 6), utc(2026, 1, 9))) == [
        (ADA, utc(2026, 1, 6), utc(2026, 1, 9))
    ]


# --- layers and overrides together -----------------------------------------------------------

TUESDAY = (utc(2026, 1, 6), utc(2026, 1, 7))


def test_the_higher_priority_layer_wins_where_layers_overlap():
    layers = [weekly(), business_hours()]
    assert who(final_shifts(layers, [], *TUESDAY)) == [
        (ADA, utc(2026, 1, 6), utc(2026, 1, 6, 8)),
        (DAN, utc(2026, 1, 6, 8), utc(2026, 1, 6, 16)),
        (ADA, utc(2026, 1, 6, 16), utc(2026, 1, 7)),
    ]
    # The answer does not depend on the order the layers come in.
    assert final_shifts(layers[::-1], [], *TUESDAY) == final_shifts(layers, [], *TUESDAY)
    assert on_call_at(layers, [], utc(2026, 1, 6, 12)) == Shift(
        DAN, utc(2026, 1, 6, 8), utc(2026, 1, 6, 16), layer_id=2
    )
    # Outside business hours the weekly layer answers, its shift cut short by Dan's window.
    assert on_call_at(layers, [], utc(2026, 1, 6, 18)) == Shift(
        ADA, utc(2026, 1, 6, 16), utc(2026, 1, 7, 8), layer_id=1
    )


def test_between_layers_of_equal_priority_the_higher_id_wins():
    early = weekly(id=7, members=(ADA,))
    late = weekly(id=9, members=(BO,))
    assert who(final_shifts([late, early], [], *TUESDAY)) == [(BO, *TUESDAY)]
    assert who(final_shifts([early, late], [], *TUESDAY)) == [(BO, *TUESDAY)]
    # With the same id as well, the later one in the sequence wins.
    twin = weekly(id=9, members=(CY,))
    assert who(final_shifts([late, twin], [], *TUESDAY)) == [(CY, *TUESDAY)]


def test_an_override_wins_over_every_layer_and_splits_the_shift_it_lands_in():
    cover = Override(user_id=CY, start=utc(2026, 1, 6, 12), end=utc(2026, 1, 6, 14), id=40)
    shifts = final_shifts([weekly(), business_hours()], [cover], *TUESDAY)
    assert shifts == [
        Shift(ADA, utc(2026, 1, 6), utc(2026, 1, 6, 8), layer_id=1),
        Shift(DAN, utc(2026, 1, 6, 8), utc(2026, 1, 6, 12), layer_id=2),
        Shift(CY, utc(2026, 1, 6, 12), utc(2026, 1, 6, 14), layer_id=None, override_id=40),
        Shift(DAN, utc(2026, 1, 6, 14), utc(2026, 1, 6, 16), layer_id=2),
        Shift(ADA, utc(2026, 1, 6, 16), utc(2026, 1, 7), layer_id=1),
    ]
    layers = [weekly(), business_hours()]
    assert on_call_at(layers, [cover], utc(2026, 1, 6, 13)) == shifts[2]
    assert on_call_at(layers, [cover], utc(2026, 1, 6, 14)) == shifts[3]
    assert on_call_at(layers, [cover], utc(2026, 1, 6, 10)) == shifts[1]


def test_an_override_covers_time_no_layer_covers():
    cover = Override(user_id=BO, start=utc(2026, 1, 1), end=utc(2026, 1, 2), id=1)
    assert on_call_at([weekly()], [cover], utc(2026, 1, 1, 12)) == Shift(
        BO, utc(2026, 1, 1), utc(2026, 1, 2), None, 1
    )
    assert who(final_shifts([weekly()], [cover], utc(2025, 12, 31), utc(2026, 1, 3))) == [
        (BO, utc(2026, 1, 1), utc(2026, 1, 2))
    ]


def test_the_newer_override_wins_where_overrides_overlap():
    older = Override(user_id=BO, start=utc(2026, 1, 6, 10), end=utc(2026, 1, 6, 20), id=5)
    newer = Override(user_id=CY, start=utc(2026, 1, 6, 12), end=utc(2026, 1, 6, 14), id=6)
    expected = [
        Shift(ADA, utc(2026, 1, 6), utc(2026, 1, 6, 10), 1),
        Shift(BO, utc(2026, 1, 6, 10), utc(2026, 1, 6, 12), None, 5),
        Shift(CY, utc(2026, 1, 6, 12), utc(2026, 1, 6, 14), None, 6),
        Shift(BO, utc(2026, 1, 6, 14), utc(2026, 1, 6, 20), None, 5),
        Shift(ADA, utc(2026, 1, 6, 20), utc(2026, 1, 7), 1),
    ]
    assert final_shifts([weekly()], [newer, older], *TUESDAY) == expected
    assert final_shifts([weekly()], [older, newer], *TUESDAY) == expected
    # Bo's stretch under the older override is cut short where the newer one starts.
    assert on_call_at([weekly()], [older, newer], utc(2026, 1, 6, 11)) == expected[1]


def test_an_unsaved_override_counts_as_the_newest():
    saved = Override(user_id=BO, start=utc(2026, 1, 6, 10), end=utc(2026, 1, 6, 12), id=99)
    preview = Override(user_id=DAN, start=utc(2026, 1, 6, 11), end=utc(2026, 1, 6, 13))
    assert who(final_shifts([], [preview, saved], *TUESDAY)) == [
        (BO, utc(2026, 1, 6, 10), utc(2026, 1, 6, 11)),
        (DAN, utc(2026, 1, 6, 11), utc(2026, 1, 6, 13)),
    ]
    second_preview = Override(user_id=CY, start=utc(2026, 1, 6, 12), end=utc(2026, 1, 6, 13))
    assert on_call_at([], [preview, second_preview], utc(2026, 1, 6, 12)).user_id == CY


def test_adjacent_pieces_merge_only_when_they_share_user_and_source():
    # Ada covers herself by override right after her own layer shift ends: two sources, two shifts.
    own = Override(user_id=ADA, start=utc(2026, 1, 12, 8), end=utc(2026, 1, 12, 10), id=3)
    again = Override(user_id=ADA, start=utc(2026, 1, 12, 10), end=utc(2026, 1, 12, 12), id=4)
    shifts = final_shifts([weekly()], [own, again], utc(2026, 1, 12), utc(2026, 1, 12, 13))
    assert [(shift.user_id, shift.layer_id, shift.override_id) for shift in shifts] == [
        (ADA, 1, None),
        (ADA, None, 3),
        (ADA, None, 4),
        (BO, 1, None),
    ]
    # A single-member layer is one long stretch in the final schedule.
    solo = weekly(members=(DAN,), shift_unit="days")
    assert who(final_shifts([solo], [], utc(2026, 1, 6), utc(2026, 1, 20))) == [
        (DAN, utc(2026, 1, 6), utc(2026, 1, 20))
    ]


# --- gaps --------------------------------------------------------------------------------------


def test_a_business_hours_only_schedule_has_gaps_every_night_and_weekend():
    shifts = final_shifts([business_hours()], [], utc(2026, 1, 8), utc(2026, 1, 13))
    assert coverage_gaps(shifts, utc(2026, 1, 8), utc(2026, 1, 13)) == [
        (utc(2026, 1, 8), utc(2026, 1, 8, 8)),
        (utc(2026, 1, 8, 16), utc(2026, 1, 9, 8)),
        (utc(2026, 1, 9, 16), utc(2026, 1, 12, 8)),  # the weekend
        (utc(2026, 1, 12, 16), utc(2026, 1, 13)),
    ]


def test_gaps_accept_overlapping_unsorted_shifts_in_any_zone():
    shifts = [
        Shift(BO, utc(2026, 1, 6, 5), utc(2026, 1, 6, 9), layer_id=2),
        Shift(ADA, datetime(2026, 1, 6, 2, tzinfo=BERLIN), utc(2026, 1, 6, 6), layer_id=1),
        Shift(CY, utc(2026, 1, 6, 7), utc(2026, 1, 6, 8), layer_id=3),
        Shift(CY, utc(2026, 1, 6, 12), utc(2026, 1, 8), layer_id=3),
        Shift(DAN, utc(2026, 1, 7, 12), utc(2026, 1, 9), layer_id=4),  # past the range
    ]
    assert coverage_gaps(shifts, *TUESDAY) == [
        (utc(2026, 1, 6), utc(2026, 1, 6, 1)),
        (utc(2026, 1, 6, 9), utc(2026, 1, 6, 12)),
    ]


def test_a_fully_covered_range_has_no_gaps_and_an_empty_schedule_is_one_gap():
    assert coverage_gaps(final_shifts([weekly()], [], *TUESDAY), *TUESDAY) == []
    assert coverage_gaps([], *TUESDAY) == [TUESDAY]
    assert coverage_gaps([], utc(2026, 1, 7), utc(2026, 1, 6)) == []


# --- validation ----------------------------------------------------------------------------

NAIVE = datetime(2026, 1, 5, 9, 0)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"members": ()}, "members", "a layer needs at least one member"),
        ({"shift_length": 0}, "shift_length", "must be from 1 to 52 weeks, got 0"),
        ({"shift_length": 53}, "shift_length", "must be from 1 to 52 weeks, got 53"),
        (
            {"shift_length": 8785, "shift_unit": "hours"},
            "shift_length",
            "must be from 1 to 8784 hours, got 8785",
        ),
        ({"shift_unit": "months"}, "shift_unit", "must be one of hours, days, weeks, got 'months'"),
        ({"rotation_start": NAIVE}, "rotation_start", "must be a timezone-aware datetime"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "unknown time zone 'Mars/Olympus_Mons'"),
        ({"timezone": "../etc/passwd"}, "timezone", "unknown time zone '../etc/passwd'"),
        ({"ends_at": NAIVE}, "ends_at", "must be a timezone-aware datetime"),
        ({"ends_at": MONDAY_HANDOFF}, "ends_at", "must be after rotation_start"),
        (
            {"restrictions": (Restriction(time(9, tzinfo=UTC), timedelta(hours=8)),)},
            "restrictions[0].start_time",
            "is a local wall-clock time; give it without a time zone",
        ),
        (
            {"restrictions": (*BUSINESS_HOURS, Restriction(time(9), timedelta(hours=8), 7))},
            "restrictions[5].weekday",
            "must be 0 (Monday) to 6 (Sunday), got 7",
        ),
        (
            {"restrictions": (Restriction(time(9), timedelta(0)),)},
            "restrictions[0].duration",
            "a window repeating every day must last more than 0 and at most one day",
        ),
        (
            {"restrictions": (Restriction(time(9), timedelta(hours=25)),)},
            "restrictions[0].duration",
            "a window repeating every day must last more than 0 and at most one day",
        ),
        (
            {"restrictions": (Restriction(time(9), timedelta(days=7, seconds=1), weekday=0),)},
            "restrictions[0].duration",
            "a window repeating every week must last more than 0 and at most one week",
        ),
    ],
)
def test_an_invalid_layer_is_refused_naming_the_field(changes, field, message):
    layer = weekly(**changes)
    with pytest.raises(InvalidRotation) as raised:
        validate_layer(layer)
    assert raised.value.field == field
    assert raised.value.message == message
    assert str(raised.value) == f"{field}: {message}"
    # Every entry point refuses it the same way.
    for call in (
        lambda: layer_shifts(layer, *TUESDAY),
        lambda: final_shifts([weekly(), layer], [], *TUESDAY),
        lambda: on_call_at([layer], [], TUESDAY[0]),
    ):
        with pytest.raises(InvalidRotation, match=re.escape(message)):
            call()


def test_the_longest_allowed_shifts_and_windows_are_accepted():
    validate_layer(weekly(shift_length=52))
    validate_layer(weekly(shift_length=366, shift_unit="days"))
    validate_layer(weekly(restrictions=(Restriction(time(0), timedelta(days=7), weekday=6),)))
    validate_layer(weekly(restrictions=(Restriction(time(0), timedelta(days=1)),)))


def test_an_invalid_rotation_is_a_value_error_and_a_422_problem_for_the_api():
    error = InvalidRotation("members", "a layer needs at least one member")
    assert isinstance(error, ValueError)
    assert isinstance(error, InvalidInput)
    assert error.status == 422
    assert error.problem()["errors"] == [
        {"field": "members", "message": "a layer needs at least one member"}
    ]


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        (Override(ADA, utc(2026, 1, 6, 10), utc(2026, 1, 6, 10)), "end", "must end after it"),
        (Override(ADA, utc(2026, 1, 6, 10), utc(2026, 1, 6, 9)), "end", "must end after it"),
        (Override(ADA, NAIVE, utc(2026, 1, 6)), "start", "must be a timezone-aware datetime"),
        (Override(ADA, utc(2026, 1, 6), NAIVE), "end", "must be a timezone-aware datetime"),
    ],
)
def test_an_invalid_override_is_refused_naming_the_field(override, field, message):
    with pytest.raises(InvalidRotation, match=message) as raised:
        validate_override(override)
    assert raised.value.field == field
    with pytest.raises(InvalidRotation, match=message):
        final_shifts([], [override], *TUESDAY)
    with pytest.raises(InvalidRotation, match=message):
        on_call_at([], [override], TUESDAY[0])


def test_naive_query_instants_are_refused():
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        layer_shifts(weekly(), NAIVE, utc(2026, 1, 7))
    with pytest.raises(ValueError, match="end must be a timezone-aware datetime"):
        final_shifts([weekly()], [], utc(2026, 1, 7), NAIVE)
    with pytest.raises(ValueError, match="at must be a timezone-aware datetime"):
        on_call_at([weekly()], [], NAIVE)
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        coverage_gaps([], NAIVE, utc(2026, 1, 7))


# --- many layers -----------------------------------------------------------------------------


def test_five_hourly_layers_over_two_weeks_tile_the_fortnight_with_the_override_on_top():
    layers = [
        weekly(
            id=layer_id,
            priority=layer_id % 3,
            members=(ADA, BO, CY, DAN),
            shift_unit="hours",
            rotation_start=MONDAY_HANDOFF + timedelta(minutes=7 * layer_id),
            restrictions=BUSINESS_HOURS if layer_id == 4 else (),
        )
        for layer_id in range(5)
    ]
    cover = Override(user_id=DAN, start=utc(2026, 3, 3, 10), end=utc(2026, 3, 4, 10), id=1)
    shifts = final_shifts(layers, [cover], utc(2026, 3, 1), utc(2026, 3, 15))
    assert shifts[0].start == utc(2026, 3, 1)
    assert shifts[-1].end == utc(2026, 3, 15)
    assert all(a.end <= b.start for a, b in itertools.pairwise(shifts))
    covering = [s for s in shifts if s.start < cover.end and s.end > cover.start]
    assert [(s.user_id, s.start, s.end) for s in covering] == [(DAN, cover.start, cover.end)]


# --- local wall-clock times ------------------------------------------------------------------


def test_local_instant_reads_an_ordinary_wall_time_in_the_zone():
    assert local_instant(datetime(2026, 1, 5, 9), BERLIN) == utc(2026, 1, 5, 8)
    assert local_instant(datetime(2026, 7, 6, 9), BERLIN) == utc(2026, 7, 6, 7)
