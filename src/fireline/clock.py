"""Time, read through an injectable clock so timers are tested by moving time, not by sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move time forward by `delta` (or timedelta(**kwargs)); returns the new instant."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += step
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = as_utc(instant)


def as_utc(instant: datetime) -> datetime:
    """The instant in UTC; a naive datetime is taken to be UTC already (as SQLite returns them)."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)
