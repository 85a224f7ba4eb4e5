"""Business days as a postmortem owner counts them: "review meeting within 5 business days"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fireline.response.calendar import (
    DEFAULT_DAY_ENDS,
    DEFAULT_WEEKEND,
    BusinessCalendar,
    require_aware,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC_CALENDAR = BusinessCalendar()
# January 2026: Monday the 5th, Friday the 9th, Saturday the 10th.
FRIDAY = datetime(2026, 1, 9, 15, 30, tzinfo=UTC)
SATURDAY = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def close_of(day: date, zone: ZoneInfo | timezone = UTC, hour: int = 17) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def test_the_default_calendar_is_utc_monday_to_friday_closing_at_five():
    assert UTC_CALENDAR.time_zone == "UTC"
    assert UTC_CALENDAR.weekend == DEFAULT_WEEKEND == frozenset({5, 6})
    assert UTC_CALENDAR.holidays == frozenset()
    assert UTC_CALENDAR.day_ends == DEFAULT_DAY_ENDS == time(17, 0)
    assert UTC_CALENDAR.zone == ZoneInfo("UTC")


def test_weekdays_are_business_days_and_weekends_and_holidays_are_not():
    calendar = BusinessCalendar(holidays=frozenset({date(2026, 1, 7)}))
    assert calendar.is_business_day(date(2026, 1, 5))  # Monday
    assert calendar.is_business_day(date(2026, 1, 9))  # Friday
    assert not calendar.is_business_day(date(2026, 1, 10))  # Saturday
    assert not calendar.is_business_day(date(2026, 1, 11))  # Sunday
    assert not calendar.is_business_day(date(2026, 1, 7))  # the holiday, a Wednesday


def test_friday_plus_five_business_days_skips_the_weekend():
    assert UTC_CALENDAR.add_business_days(FRIDAY, 5) == close_of(date(2026, 1, 16))
    assert UTC_CALENDAR.add_business_days(FRIDAY, 1) == close_of(date(2026, 1, 12))


def test_a_holiday_inside_the_span_pushes_the_result_one_more_day():
    calendar = BusinessCalendar(holidays=frozenset({date(2026, 1, 14)}))
    assert calendar.add_business_days(FRIDAY, 5) == close_of(date(2026, 1, 19))


def test_a_holiday_after_the_span_changes_nothing():
    calendar = BusinessCalendar(holidays=frozenset({date(2026, 1, 19)}))
    assert calendar.add_business_days(FRIDAY, 5) == close_of(date(2026, 1, 16))


def test_a_holiday_on_the_last_day_moves_the_result_past_the_next_weekend():
    calendar = BusinessCalendar(holidays=frozenset({date(2026, 1, 16)}))
    assert calendar.add_business_days(FRIDAY, 5) == close_of(date(2026, 1, 19))


def test_a_start_on_a_saturday_counts_from_monday():
    assert UTC_CALENDAR.add_business_days(SATURDAY, 1) == close_of(date(2026, 1, 12))
    assert UTC_CALENDAR.add_business_days(SATURDAY, 5) == close_of(date(2026, 1, 16))


def test_only_the_start_date_counts_not_the_time_of_day():
    after_close = datetime(2026, 1, 9, 23, 59, tzinfo=UTC)
    early = datetime(2026, 1, 9, 0, 1, tzinfo=UTC)
    assert UTC_CALENDAR.add_business_days(after_close, 1) == close_of(date(2026, 1, 12))
    assert UTC_CALENDAR.add_business_days(early, 1) == close_of(date(2026, 1, 12))


def test_zero_days_is_the_close_of_the_start_date_or_of_the_next_business_day():
    assert UTC_CALENDAR.add_business_days(FRIDAY, 0) == close_of(date(2026, 1, 9))
    assert UTC_CALENDAR.add_business_days(SATURDAY, 0) == close_of(date(2026, 1, 12))
    # After the close the same day's close is already past: documented, and kept date-only.
    late = datetime(2026, 1, 9, 18, 0, tzinfo=UTC)
    assert UTC_CALENDAR.add_business_days(late, 0) == close_of(date(2026, 1, 9))


def test_the_start_date_is_the_local_date_in_the_calendars_time_zone():
    berlin = BusinessCalendar(time_zone="Europe/Berlin")
    # Friday 23:30 UTC is already Saturday 00:30 in Berlin, so counting starts from Monday.
    friday_night = datetime(2026, 1, 9, 23, 30, tzinfo=UTC)
    assert berlin.add_business_days(friday_night, 1) == close_of(date(2026, 1, 12), BERLIN)
    assert UTC_CALENDAR.add_business_days(friday_night, 1) == close_of(date(2026, 1, 12))
    # A start given in another offset is the same instant: the result does not change.
    same_instant = friday_night.astimezone(timezone(timedelta(hours=-8)))
    assert berlin.add_business_days(same_instant, 1) == close_of(date(2026, 1, 12), BERLIN)


def test_results_are_aware_utc_instants():
    result = BusinessCalendar(time_zone="Europe/Berlin").add_business_days(FRIDAY, 1)
    assert result.tzinfo is UTC
    assert result == datetime(2026, 1, 12, 16, 0, tzinfo=UTC)  # 17:00 CET


def test_the_dst_week_in_berlin_keeps_five_pm_local():
    berlin = BusinessCalendar(time_zone="Europe/Berlin")
    # Clocks go forward on Sunday 29 March 2026: Friday closes at 16:00 UTC, Monday at 15:00.
    friday = datetime(2026, 3, 27, 9, 0, tzinfo=BERLIN)
    assert berlin.add_business_days(friday, 0) == datetime(2026, 3, 27, 16, 0, tzinfo=UTC)
    assert berlin.add_business_days(friday, 1) == datetime(2026, 3, 30, 15, 0, tzinfo=UTC)
    # And back on Sunday 25 October 2026: Friday closes at 15:00 UTC, Monday at 16:00.
    october = datetime(2026, 10, 23, 9, 0, tzinfo=BERLIN)
    assert berlin.add_business_days(october, 0) == datetime(2026, 10, 23, 15, 0, tzinfo=UTC)
    assert berlin.add_business_days(october, 1) == datetime(2026, 10, 26, 16, 0, tzinfo=UTC)
    for days in range(6):
        result = berlin.add_business_days(friday, days).astimezone(BERLIN)
        assert result.time() == time(17, 0)


def test_a_close_inside_a_dst_gap_is_read_with_the_offset_before_the_jump():
    # 02:30 does not exist in Berlin on 29 March 2026; with a Saturday-only weekend that Sunday
    # is a business day, and its close is read as 02:30 CET (01:30 UTC).
    calendar = BusinessCalendar(
        time_zone="Europe/Berlin", weekend=frozenset({5}), day_ends=time(2, 30)
    )
    assert calendar.closes_at(date(2026, 3, 29)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_custom_weekend_and_close():
    # A Friday-Saturday weekend closing at 18:00 in New York.
    calendar = BusinessCalendar(
        time_zone="America/New_York", weekend=frozenset({4, 5}), day_ends=time(18, 0)
    )
    thursday = datetime(2026, 1, 8, 12, 0, tzinfo=NEW_YORK)
    assert calendar.add_business_days(thursday, 1) == close_of(date(2026, 1, 11), NEW_YORK, 18)
    assert calendar.is_business_day(date(2026, 1, 11))  # Sunday
    assert not calendar.is_business_day(date(2026, 1, 9))  # Friday


def test_sets_and_lists_are_accepted_and_the_calendar_stays_hashable():
    calendar = BusinessCalendar(weekend={5, 6}, holidays=[date(2026, 1, 1)])  # type: ignore[arg-type]
    assert calendar.weekend == frozenset({5, 6})
    assert calendar.holidays == frozenset({date(2026, 1, 1)})
    assert hash(calendar) == hash(BusinessCalendar(holidays=frozenset({date(2026, 1, 1)})))


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        UTC_CALENDAR.add_business_days(datetime(2026, 1, 9, 10, 0), 1)


def test_negative_days_are_refused():
    with pytest.raises(ValueError, match="must not be negative"):
        UTC_CALENDAR.add_business_days(FRIDAY, -1)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../etc/passwd", ""])
def test_an_unknown_time_zone_is_refused(zone):
    with pytest.raises(ValueError, match="unknown time zone"):
        BusinessCalendar(time_zone=zone)


@pytest.mark.parametrize("weekend", [frozenset({7}), frozenset({-1, 6})])
def test_weekend_days_must_be_weekday_numbers(weekend):
    with pytest.raises(ValueError, match="weekday numbers"):
        BusinessCalendar(weekend=weekend)


def test_the_weekend_cannot_cover_the_whole_week():
    with pytest.raises(ValueError, match="whole week"):
        BusinessCalendar(weekend=frozenset(range(7)))


def test_the_close_is_a_local_wall_clock_time():
    with pytest.raises(ValueError, match="without a time zone"):
        BusinessCalendar(day_ends=time(17, 0, tzinfo=UTC))


def test_require_aware_returns_the_instant_or_names_what_was_naive():
    assert require_aware(FRIDAY, "start") is FRIDAY
    with pytest.raises(ValueError, match="now must be a timezone-aware datetime"):
        require_aware(datetime(2026, 1, 9), "now")


ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
STARTS = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2030, 12, 31),
    timezones=st.sampled_from([UTC, BERLIN, NEW_YORK, ZoneInfo("Pacific/Auckland")]),
)


@st.composite
def calendars_and_starts(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime]:
    start = draw(STARTS)
    zone = draw(ZONES)
    local_start = start.astimezone(ZoneInfo(zone)).date()
    weekend = draw(st.frozensets(st.integers(0, 6), max_size=6))
    offsets = draw(st.frozensets(st.integers(-3, 90), max_size=25))
    holidays = frozenset(local_start + timedelta(days=offset) for offset in offsets)
    day_ends = draw(st.sampled_from([time(17, 0), time(9, 30), time(0, 0), time(23, 59)]))
    calendar = BusinessCalendar(zone, weekend, holidays, day_ends)
    return calendar, start


def business_days_between(calendar: BusinessCalendar, first: date, last: date) -> int:
    """Business days d with first <= d <= last."""
    days = (last - first).days + 1
    return sum(calendar.is_business_day(first + timedelta(days=n)) for n in range(days))


@settings(max_examples=300, deadline=None)
@given(calendars_and_starts(), st.integers(1, 40))
def test_the_result_is_a_business_day_exactly_days_business_days_later(calendar_and_start, days):
    calendar, start = calendar_and_start
    result = calendar.add_business_days(start, days)
    local = result.astimezone(calendar.zone)
    start_date = start.astimezone(calendar.zone).date()
    assert result.tzinfo is UTC
    assert calendar.is_business_day(local.date())
    assert local.date() > start_date
    assert business_days_between(calendar, start_date + timedelta(days=1), local.date()) == days
    assert local.time() == calendar.day_ends  # none of the drawn closes falls in a DST gap


@settings(max_examples=200, deadline=None)
@given(calendars_and_starts())
def test_zero_days_is_the_first_business_day_on_or_after_the_start_date(calendar_and_start):
    calendar, start = calendar_and_start
    result = calendar.add_business_days(start, 0).astimezone(calendar.zone).date()
    start_date = start.astimezone(calendar.zone).date()
    assert calendar.is_business_day(result)
    assert result >= start_date
    assert business_days_between(calendar, start_date, result - timedelta(days=1)) == 0


@settings(max_examples=200, deadline=None)
@given(calendars_and_starts(), st.integers(0, 30), st.integers(0, 30))
def test_adding_more_days_never_gives_an_earlier_close(calendar_and_start, days, more):
    calendar, start = calendar_and_start
    assert calendar.add_business_days(start, days) <= calendar.add_business_days(start, days + more)
