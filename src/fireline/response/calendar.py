"""Business days, the calendar the learning clocks count in: "review meeting in 5 business days".

A BusinessCalendar knows its time zone, which weekdays are the weekend, which dates are holidays
and when the business day ends. Dates are local dates in that time zone; instants going in and
coming out are timezone-aware, and results are returned in UTC. Everything here is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Monday is 0, as in date.weekday().
SATURDAY, SUNDAY = 5, 6
DEFAULT_WEEKEND: frozenset[int] = frozenset({SATURDAY, SUNDAY})
DEFAULT_DAY_ENDS = time(17, 0)
_NO_HOLIDAYS: frozenset[date] = frozenset()
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class BusinessCalendar:
    """Which days are business days, and when each one ends, in one time zone.

    `weekend` holds weekday numbers (Monday is 0); `holidays` are local dates in `time_zone`;
    `day_ends` is the local wall-clock time a business day closes at. Raises ValueError for an
    unknown time zone, a weekday outside 0 to 6, a weekend covering the whole week, or a `day_ends`
    carrying its own time zone.
    """

    time_zone: str = "UTC"
    weekend: frozenset[int] = DEFAULT_WEEKEND
    holidays: frozenset[date] = _NO_HOLIDAYS
    day_ends: time = DEFAULT_DAY_ENDS

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from error
        # Callers may hand in sets or lists; frozensets keep the calendar hashable.
        object.__setattr__(self, "weekend", frozenset(self.weekend))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        if not self.weekend <= set(range(7)):
            raise ValueError("weekend days are weekday numbers from 0 (Monday) to 6 (Sunday)")
        if len(self.weekend) == 7:
            raise ValueError("the weekend cannot cover the whole week: no day would be left")
        if self.day_ends.tzinfo is not None:
            raise ValueError("day_ends is a local wall-clock time; give it without a time zone")

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.time_zone)

    def is_business_day(self, day: date) -> bool:
        """True when `day` (a local date) is neither a weekend day nor a holiday."""
        return day.weekday() not in self.weekend and day not in self.holidays

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """The close of the business day lying `days` business days after `start`'s local date.

        Only the local date of `start` counts, not its time of day: a Friday 18:00 start plus one
        business day is Monday at `day_ends`. A start on a weekend or a holiday counts from the
        next business day (Saturday plus one is Monday). Exactly `days` business days lie after
        the start's date up to and including the result's date. With `days` 0 the result is the
        close of the start's date if it is a business day, else of the next business day — which
        may be earlier than `start` when it comes after the close.

        The result is timezone-aware, in UTC; `day_ends` stays the same local wall-clock time
        across daylight-saving changes. Raises ValueError for a naive `start` or negative `days`.
        """
        require_aware(start, "start")
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        day = start.astimezone(self.zone).date()
        if days == 0:
            while not self.is_business_day(day):
                day += _ONE_DAY
        for _ in range(days):
            day += _ONE_DAY
            while not self.is_business_day(day):
                day += _ONE_DAY
        return self.closes_at(day)

    def closes_at(self, day: date) -> datetime:
        """The instant (aware, in UTC) the local date `day` reaches `day_ends`.

        A wall-clock time skipped by a daylight-saving jump is read with the offset in force
        before the jump (PEP 495's fold=0), so it still maps to one definite instant.
        """
        return datetime.combine(day, self.day_ends, tzinfo=self.zone).astimezone(UTC)


def require_aware(instant: datetime, name: str) -> datetime:
    """`instant` itself once it is known to be timezone-aware; ValueError naming `name` if not."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return instant
