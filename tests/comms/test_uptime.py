"""Uptime bars: a component's days, counted as the page says it counts them.

The snapshot is taken on 27 November 2026 at noon UTC; the window is the 90 days ending then.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fireline.comms.snapshot import UPTIME_DAYS
from fireline.comms.uptime import StatusChange, uptime_days, window_uptime
from fireline.models import ComponentStatus

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)
FIRST_DAY = date(2026, 8, 30)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def by_day(days) -> dict[date, object]:
    return {d.day: d for d in days}


def test_the_window_is_ninety_utc_days_oldest_first_ending_today():
    days = uptime_days([], started_at=LONG_AGO, now=NOW)
    assert len(days) == UPTIME_DAYS == 90
    assert days[0].day == FIRST_DAY
    assert days[-1].day == date(2026, 11, 27)
    assert [d.day for d in days] == sorted(d.day for d in days)


def test_a_component_that_was_always_up_has_full_days_and_today_until_now():
    days = uptime_days([], started_at=LONG_AGO, now=NOW)
    assert all(d.counted_minutes == 1440 for d in days[:-1])
    assert days[-1].counted_minutes == 720
    assert all(d.uptime == 1.0 and d.worst == "operational" for d in days)
    assert all(d.incidents == () for d in days)
    assert window_uptime(days) == 100.0


def test_an_outage_across_midnight_counts_on_both_days_and_names_its_incident_on_both():
    changes = [
        StatusChange("major_outage", at(25, 23), "Checkout down"),
        StatusChange("operational", at(26, 1, 30), "Checkout down"),
    ]
    days = by_day(uptime_days(changes, started_at=LONG_AGO, now=NOW))
    before, during, after = days[date(2026, 11, 25)], days[date(2026, 11, 26)], days[NOW.date()]
    assert (before.major_minutes, during.major_minutes, after.major_minutes) == (60, 90, 0)
    assert before.uptime == pytest.approx(1 - 60 / 1440)
    assert during.uptime == pytest.approx(1 - 90 / 1440)
    assert before.worst == during.worst == "major_outage"
    assert after.worst == "operational"
    assert before.incidents == during.incidents == ("Checkout down",)
    assert after.incidents == ()
    counted = 89 * 1440 + 720
    assert window_uptime(list(days.values())) == pytest.approx(100 * (1 - 150 / counted))


def test_a_component_created_mid_window_counts_only_from_its_start():
    days = by_day(uptime_days([], started_at=at(26, 6, 0, 30), now=NOW))
    assert days[date(2026, 11, 25)].counted_minutes == 0
    assert days[date(2026, 11, 25)].uptime is None
    assert days[date(2026, 11, 25)].worst is None
    assert days[date(2026, 11, 26)].counted_minutes == 18 * 60
    assert days[NOW.date()].counted_minutes == 720
    assert window_uptime(list(days.values())) == 100.0


def test_a_partial_outage_today_costs_three_tenths_of_its_minutes():
    changes = [StatusChange("partial_outage", at(27, 10), "Slow search")]
    today = uptime_days(changes, started_at=LONG_AGO, now=NOW)[-1]
    assert (today.counted_minutes, today.partial_minutes) == (720, 120)
    assert today.uptime == pytest.approx(1 - 0.3 * 120 / 720)  # 0.95
    assert today.worst == "partial_outage"
    assert today.incidents == ("Slow search",)


def test_maintenance_and_degraded_performance_cost_no_uptime():
    changes = [
        StatusChange("under_maintenance", at(26, 2), "Database upgrade"),
        StatusChange("degraded_performance", at(26, 6)),
        StatusChange("operational", at(26, 7)),
    ]
    day = by_day(uptime_days(changes, started_at=LONG_AGO, now=NOW))[date(2026, 11, 26)]
    assert (day.maintenance_minutes, day.degraded_minutes) == (240, 60)
    assert day.uptime == 1.0
    assert day.worst == "degraded_performance"
    assert day.incidents == ("Database upgrade",)


def test_the_last_change_before_the_window_gives_the_status_at_its_start():
    changes = [StatusChange("major_outage", datetime(2026, 8, 1, tzinfo=UTC), "Old outage")]
    days = uptime_days(changes, started_at=LONG_AGO, now=NOW)
    assert all(d.uptime == 0.0 and d.major_minutes == d.counted_minutes for d in days)
    # The incident touched every day it kept the component down, not only the day it began.
    assert all(d.incidents == ("Old outage",) for d in days)
    assert window_uptime(days) == 0.0


def test_with_no_change_at_all_the_initial_status_holds_throughout():
    days = uptime_days([], started_at=LONG_AGO, now=NOW, initial="partial_outage")
    assert days[-1].partial_minutes == 720
    assert window_uptime(days) == pytest.approx(70.0)


def test_seconds_are_dropped_and_changes_are_taken_in_time_order():
    changes = [
        StatusChange("operational", at(27, 9, 10, 59)),
        StatusChange("major_outage", at(27, 9, 0, 45)),
    ]
    today = uptime_days(changes, started_at=LONG_AGO, now=NOW + timedelta(seconds=59))[-1]
    assert today.major_minutes == 10
    assert today.counted_minutes == 720


def test_an_outage_ending_at_midnight_does_not_touch_the_next_day():
    changes = [
        StatusChange("major_outage", at(25, 22), "Evening outage"),
        StatusChange("operational", at(26, 0)),
    ]
    days = by_day(uptime_days(changes, started_at=LONG_AGO, now=NOW))
    assert days[date(2026, 11, 25)].incidents == ("Evening outage",)
    assert days[date(2026, 11, 26)].incidents == ()
    assert days[date(2026, 11, 26)].major_minutes == 0


def test_a_change_recorded_after_the_snapshot_is_not_counted():
    changes = [StatusChange("major_outage", at(27, 13), "Later")]
    today = uptime_days(changes, started_at=LONG_AGO, now=NOW)[-1]
    assert today.major_minutes == 0
    assert today.incidents == ()


def test_a_component_started_after_the_snapshot_counts_nothing():
    days = uptime_days([], started_at=at(28, 0), now=NOW)
    assert all(d.counted_minutes == 0 and d.uptime is None for d in days)
    assert window_uptime(days) is None


# --- Properties ---------------------------------------------------------------------------

WINDOW_MINUTES = UPTIME_DAYS * 1440
statuses = st.sampled_from([status.value for status in ComponentStatus])
offsets = st.integers(min_value=-3 * 1440, max_value=WINDOW_MINUTES)
change_lists = st.lists(
    st.tuples(offsets, statuses, st.sampled_from([None, "A", "B"])), max_size=30
)


def history(raw) -> list[StatusChange]:
    start = datetime(2026, 8, 30, tzinfo=UTC)
    return [
        StatusChange(status, start + timedelta(minutes=offset), name)
        for offset, status, name in raw
    ]


@given(change_lists, offsets)
def test_every_day_is_within_bounds(raw, started):
    started_at = datetime(2026, 8, 30, tzinfo=UTC) + timedelta(minutes=started)
    days = uptime_days(history(raw), started_at=started_at, now=NOW)
    for d in days:
        spent = d.major_minutes + d.partial_minutes + d.degraded_minutes + d.maintenance_minutes
        assert 0 <= spent <= d.counted_minutes <= 1440
        assert (d.uptime is None) == (d.counted_minutes == 0)
        if d.uptime is not None:
            assert 0.0 <= d.uptime <= 1.0
    percent = window_uptime(days)
    assert percent is None or 0.0 <= percent <= 100.0


@given(change_lists, offsets)
def test_a_history_with_no_outage_is_one_hundred_percent(raw, started):
    started_at = datetime(2026, 8, 30, tzinfo=UTC) + timedelta(minutes=started)
    harmless = [(o, s, n) for o, s, n in raw if s not in ("major_outage", "partial_outage")]
    days = uptime_days(history(harmless), started_at=started_at, now=NOW)
    assert all(d.uptime in (None, 1.0) for d in days)
    assert window_uptime(days) in (None, 100.0)


@given(change_lists)
def test_downtime_only_grows_when_an_outage_is_made_worse(raw):
    """Turning every partial outage into a major one never raises uptime."""
    worse = [(o, "major_outage" if s == "partial_outage" else s, n) for o, s, n in raw]
    before = window_uptime(uptime_days(history(raw), started_at=LONG_AGO, now=NOW))
    after = window_uptime(uptime_days(history(worse), started_at=LONG_AGO, now=NOW))
    assert before is not None
    assert after is not None
    assert after <= before
