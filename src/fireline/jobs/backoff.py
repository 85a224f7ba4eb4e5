"""How long a failed job waits before its next attempt: pure time maths, no I/O."""

from __future__ import annotations

import random
from datetime import timedelta

BASE = timedelta(seconds=10)
FACTOR = 2
CAP = timedelta(hours=1)
# 2**9 * 10 s already passes the cap; a larger exponent would only build huge numbers.
_MAX_EXPONENT = 9


def ceiling(attempt: int) -> timedelta:
    """The longest wait after failed attempt number `attempt` (1 for the first): 10 s, 20 s,
    40 s … doubling up to one hour."""
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    return min(CAP, BASE * int(FACTOR ** min(attempt - 1, _MAX_EXPONENT)))


def backoff(attempt: int, rng: random.Random) -> timedelta:
    """The wait before retrying after failed attempt `attempt`: uniform in [0, ceiling(attempt)].

    Full jitter spreads out the retries of jobs that failed together (a webhook endpoint that was
    down for everyone), so they do not all come back at the same instant."""
    return timedelta(seconds=rng.uniform(0, ceiling(attempt).total_seconds()))
