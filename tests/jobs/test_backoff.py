"""Retry delays: exponential with full jitter, never beyond an hour."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from statistics import mean

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fireline.jobs.backoff import CAP, backoff, ceiling

attempts = st.integers(min_value=1, max_value=10_000)
seeds = st.integers(min_value=0, max_value=2**32)


def test_the_ceiling_doubles_from_ten_seconds_up_to_an_hour():
    assert [ceiling(n).total_seconds() for n in range(1, 11)] == [
        10,
        20,
        40,
        80,
        160,
        320,
        640,
        1280,
        2560,
        3600,
    ]
    assert ceiling(1000) == CAP


@given(attempt=attempts, seed=seeds)
def test_a_delay_is_never_negative_and_never_beyond_its_ceiling_or_the_cap(attempt, seed):
    delay = backoff(attempt, random.Random(seed))

    assert timedelta(0) <= delay <= ceiling(attempt) <= CAP


@given(attempt=attempts, seed=seeds)
def test_the_same_seed_gives_the_same_delay(attempt, seed):
    assert backoff(attempt, random.Random(seed)) == backoff(attempt, random.Random(seed))


@given(attempt=attempts)
def test_the_ceiling_never_shrinks_from_one_attempt_to_the_next(attempt):
    assert ceiling(attempt) <= ceiling(attempt + 1)


@given(seed=seeds)
def test_delays_grow_in_expectation_until_the_cap(seed):
    rng = random.Random(seed)
    averages = [mean(backoff(n, rng).total_seconds() for _ in range(400)) for n in range(1, 10)]

    # Full jitter averages half the ceiling; each step doubles the ceiling, so the average grows
    # by far more than sampling noise until the ceiling reaches the cap.
    for earlier, later in itertools.pairwise(averages):
        assert later > earlier
    assert averages[-1] < CAP.total_seconds()


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempts_are_counted_from_one(attempt):
    with pytest.raises(ValueError, match="from 1"):
        ceiling(attempt)
