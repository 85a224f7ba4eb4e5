"""Properties every schedule must have, whatever its layers, overrides, zones and clock changes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fireline.oncall.rotation import (
    Layer,
    Override,
    Restriction,
    Shift,
    coverage_gaps,
    final_shifts,
    layer_shifts,
    local_instant,
    on_call_at,
)

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # half-hour clock changes
    "Asia/Kolkata",  # a half-hour offset, no clock changes
]
# Ranges often start a few days before one of 2026's clock changes in these zones.
CLOCK_CHANGES = [
    datetime(2026, month, day, tzinfo=UTC)
    for month, day in [(3, 8), (3, 29), (4, 5), (10, 4), (10, 25), (11, 1)]
]
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
MAX_SHIFT = {"hours": 30, "days": 3, "weeks": 2}

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@dataclass(frozen=True)
class Scenario:
    layers: list[Layer]
    overrides: list[Override]
    start: datetime
    end: datetime
    samples: list[datetime]


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


@st.composite
def restrictions(draw) -> Restriction:
    opens = time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 10, 15, 30, 45])))
    weekday = draw(st.none() | st.integers(0, 6))
    longest = 24 * 60 if weekday is None else 7 * 24 * 60
    return Restriction(opens, minutes(draw(st.integers(1, longest))), weekday)


@st.composite
def layers(draw, near: datetime) -> Layer:
    zone = draw(st.sampled_from(ZONES))
    unit = draw(st.sampled_from(["hours", "days", "weeks"]))
    rotation_start = near + minutes(draw(st.integers(-60 * 24 * 60, 5 * 24 * 60)))
    ends_at = draw(
        st.none() | st.integers(1, 60 * 24 * 60).map(lambda m: rotation_start + minutes(m))
    )
    return Layer(
        id=draw(st.integers(1, 4)),
        priority=draw(st.integers(0, 2)),
        members=tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))),
        shift_length=draw(st.integers(1, MAX_SHIFT[unit])),
        shift_unit=unit,
        rotation_start=rotation_start.astimezone(ZoneInfo(zone)),
        timezone=zone,
        restrictions=tuple(draw(st.lists(restrictions(), max_size=2))),
        ends_at=ends_at,
    )


@st.composite
def overrides(draw, near: datetime) -> Override:
    start = near + minutes(draw(st.integers(-2 * 24 * 60, 10 * 24 * 60)))
    return Override(
        user_id=draw(st.integers(1, 7)),
        start=start,
        end=start + minutes(draw(st.integers(1, 3 * 24 * 60))),
        id=draw(st.none() | st.integers(1, 5)),
    )


@st.composite
def scenarios(draw) -> Scenario:
    anywhere = st.integers(0, 340 * 24 * 60).map(lambda m: YEAR_START + minutes(m))
    near_a_change = st.builds(
        lambda change, offset: change + minutes(offset),
        st.sampled_from(CLOCK_CHANGES),
        st.integers(-5 * 24 * 60, 24 * 60),
    )
    start = draw(anywhere | near_a_change)
    length = draw(st.integers(1, 10 * 24 * 60))
    end = start + minutes(length)
    offsets = draw(st.lists(st.integers(0, length - 1), min_size=1, max_size=8))
    return Scenario(
        layers=draw(st.lists(layers(start), max_size=4)),
        overrides=draw(st.lists(overrides(start), max_size=3)),
        start=start,
        end=end,
        samples=[start + minutes(offset) for offset in offsets],
    )


def owner(shift: Shift | None) -> tuple[int, int | None, int | None] | None:
    return None if shift is None else (shift.user_id, shift.layer_id, shift.override_id)


def covering(shifts: list[Shift], instant: datetime) -> Shift | None:
    return next((shift for shift in shifts if shift.start <= instant < shift.end), None)


def boundaries(scenario: Scenario) -> list[datetime]:
    """Sample instants plus every piece boundary inside the range, where mistakes hide."""
    instants = list(scenario.samples)
    for layer in scenario.layers:
        for shift in layer_shifts(layer, scenario.start, scenario.end):
            instants += [shift.start, shift.end - MICROSECOND]
    for override in scenario.overrides:
        instants += [override.start, override.end, override.end - MICROSECOND]
    return [instant for instant in instants if scenario.start <= instant < scenario.end]


def expected_owner(scenario: Scenario, instant: datetime):
    """Who should be on call at `instant`, by the precedence rules, from each source alone."""
    overriding = [
        (override.id is None, override.id or 0, position, override)
        for position, override in enumerate(scenario.overrides)
        if override.start <= instant < override.end
    ]
    if overriding:
        override = max(overriding)[-1]
        return (override.user_id, None, override.id)
    layered = []
    for position, layer in enumerate(scenario.layers):
        shift = covering(layer_shifts(layer, scenario.start, scenario.end), instant)
        if shift is not None:
            layered.append(((layer.priority, layer.id, position), shift.user_id, layer.id))
    if layered:
        _, user_id, layer_id = max(layered)
        return (user_id, layer_id, None)
    return None


@PROPERTY_SETTINGS
@given(scenarios())
def test_the_final_schedule_is_sorted_never_overlaps_and_merges_neighbours(scenario):
    shifts = final_shifts(scenario.layers, scenario.overrides, scenario.start, scenario.end)
    for shift in shifts:
        assert scenario.start <= shift.start < shift.end <= scenario.end
        assert shift.start.tzinfo is UTC
        assert shift.end.tzinfo is UTC
    for before, after in pairwise(shifts):
        assert before.end <= after.start
        # Neighbours that touch are different people, or the same person from another source.
        assert before.end < after.start or owner(before) != owner(after)


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_instant_some_layer_or_override_covers_is_covered_in_the_final_schedule(scenario):
    start, end = scenario.start, scenario.end
    pieces = [shift for layer in scenario.layers for shift in layer_shifts(layer, start, end)]
    pieces += [Shift(o.user_id, o.start, o.end, None, o.id) for o in scenario.overrides]
    final = final_shifts(scenario.layers, scenario.overrides, start, end)
    assert coverage_gaps(final, start, end) == coverage_gaps(pieces, start, end)


@PROPERTY_SETTINGS
@given(scenarios())
def test_overrides_then_the_highest_priority_layer_decide_who_is_on_call(scenario):
    final = final_shifts(scenario.layers, scenario.overrides, scenario.start, scenario.end)
    for instant in boundaries(scenario):
        assert owner(covering(final, instant)) == expected_owner(scenario, instant)


@PROPERTY_SETTINGS
@given(scenarios())
def test_on_call_at_agrees_with_the_final_schedule(scenario):
    layers, overrides = scenario.layers, scenario.overrides
    final = final_shifts(layers, overrides, scenario.start, scenario.end)
    for instant in boundaries(scenario):
        answer = on_call_at(layers, overrides, instant)
        expected = covering(final, instant)
        assert owner(answer) == owner(expected)
        if answer is None or expected is None:
            continue
        assert answer.start <= instant < answer.end
        # Within the range, the answer lies inside the final shift covering the instant ...
        assert expected.start <= max(answer.start, scenario.start)
        assert min(answer.end, scenario.end) <= expected.end
        # ... and over its own span the final schedule is exactly that one shift.
        assert final_shifts(layers, overrides, answer.start, answer.end) == [answer]


def in_a_window(layer: Layer, instant: datetime) -> bool:
    zone = ZoneInfo(layer.timezone)
    local_date = instant.astimezone(zone).date()
    for restriction in layer.restrictions:
        for days_before in range(9):
            day = local_date - timedelta(days=days_before)
            if restriction.weekday is not None and day.weekday() != restriction.weekday:
                continue
            opens = datetime.combine(day, restriction.start_time)
            closes = opens + restriction.duration
            if local_instant(opens, zone) <= instant < local_instant(closes, zone):
                return True
    return False


@PROPERTY_SETTINGS
@given(scenarios())
def test_restricted_shifts_are_the_rotation_cut_to_its_windows(scenario):
    start, end = scenario.start, scenario.end
    for layer in scenario.layers:
        restricted = layer_shifts(layer, start, end)
        unrestricted = layer_shifts(replace(layer, restrictions=()), start, end)
        for before, after in pairwise(restricted):
            assert before.end <= after.start
        instants = list(scenario.samples)
        for piece in restricted:
            assert start <= piece.start < piece.end <= end
            instants += [piece.start, piece.start + (piece.end - piece.start) / 2]
            instants.append(piece.end - MICROSECOND)
        for instant in instants:
            shift = covering(unrestricted, instant)
            inside = shift is not None and (not layer.restrictions or in_a_window(layer, instant))
            piece = covering(restricted, instant)
            assert (piece is not None) == inside
            if piece is not None:
                # A piece belongs to the member whose rotation shift it was cut from.
                assert shift.start <= piece.start
                assert piece.end <= shift.end
                assert piece.user_id == shift.user_id


@PROPERTY_SETTINGS
@given(scenarios())
def test_hand_offs_keep_their_local_time_or_their_elapsed_hours_and_count_members(scenario):
    for restricted in scenario.layers:
        layer = replace(restricted, restrictions=())
        zone = ZoneInfo(layer.timezone)
        first = layer.rotation_start.astimezone(UTC)
        first_date = first.astimezone(zone).date()
        handoff_time = first.astimezone(zone).time()
        until = min(scenario.end, layer.ends_at or scenario.end)
        # Every shift from the very first hand-off on, unclipped but for the last one.
        every = layer_shifts(layer, first, scenario.end)
        assert (every == []) == (first >= until)
        for before, after in pairwise(every):
            assert before.end == after.start
        for index, shift in enumerate(every):
            assert shift.user_id == layer.members[index % len(layer.members)]
            if layer.shift_unit == "hours":
                assert shift.start == first + index * timedelta(hours=layer.shift_length)
                continue
            local = shift.start.astimezone(zone)
            period = layer.shift_length * (7 if layer.shift_unit == "weeks" else 1)
            assert local.date() == first_date + timedelta(days=index * period)
            if index and local.time() != handoff_time:
                # The hand-off time did not exist that day: this is the jump's first instant,
                # where the wall clock passes the hand-off time in one step.
                just_before = (shift.start - MICROSECOND).astimezone(zone)
                assert just_before.time() < handoff_time < local.time()
            elif index:
                assert local.fold == 0
        if every:
            assert every[-1].end == until
        # Asking for the range alone gives the same shifts, clipped to it.
        clipped = [
            replace(shift, start=max(shift.start, scenario.start))
            for shift in every
            if shift.end > scenario.start
        ]
        assert layer_shifts(layer, scenario.start, scenario.end) == clipped


@PROPERTY_SETTINGS
@given(scenarios(), st.floats(0, 1))
def test_splitting_the_range_in_two_changes_nothing(scenario, where):
    start, end = scenario.start, scenario.end
    middle = start + (end - start) * where
    whole = final_shifts(scenario.layers, scenario.overrides, start, end)
    halves = final_shifts(scenario.layers, scenario.overrides, start, middle)
    second = final_shifts(scenario.layers, scenario.overrides, middle, end)
    touching = halves and second and halves[-1].end == second[0].start == middle
    if touching and owner(halves[-1]) == owner(second[0]):
        halves[-1] = replace(halves[-1], end=second[0].end)
        second = second[1:]
    assert halves + second == whole
