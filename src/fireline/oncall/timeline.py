"""Where shifts sit on the schedule page's two-week timeline: pure layout, no I/O.

The timeline starts at midnight of a day in the schedule's zone and spans fourteen of its days;
each shift becomes a block placed by percent of that span, so the page draws it with CSS alone.
Days are placed the same way, so a day that daylight saving makes 23 or 25 hours long is drawn
that much narrower or wider, and the blocks stay under their days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fireline.oncall.rotation import Shift, local_instant

DAYS_SHOWN = 14


@dataclass(frozen=True)
class Span:
    """A stretch of the timeline: where it starts and how wide it is, in percent of the whole."""

    left: float
    width: float

    @property
    def style(self) -> str:
        return f"left: {self.left:.4f}%; width: {self.width:.4f}%"


@dataclass(frozen=True)
class Day:
    day: date
    span: Span


@dataclass(frozen=True)
class Block:
    """A shift (or a gap, with no user) as drawn; start and end are the shift's own, even where
    the drawing is cut at the timeline's edges."""

    user_id: int | None
    start: datetime
    end: datetime
    span: Span
    layer_id: int | None = None
    override_id: int | None = None


@dataclass(frozen=True)
class Window:
    """Fourteen days of the schedule's zone, from midnight of `first_day`."""

    first_day: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return midnight(self.first_day, self.zone)

    @property
    def end(self) -> datetime:
        return midnight(self.first_day + timedelta(days=DAYS_SHOWN), self.zone)

    @property
    def previous(self) -> date:
        return self.first_day - timedelta(days=DAYS_SHOWN)

    @property
    def next(self) -> date:
        return self.first_day + timedelta(days=DAYS_SHOWN)

    def span(self, start: datetime, end: datetime) -> Span:
        """Where `[start, end)` sits, clipped to the window."""
        total = (self.end - self.start).total_seconds()
        first = max(start, self.start)
        last = min(end, self.end)
        left = (first - self.start).total_seconds() / total * 100
        width = max((last - first).total_seconds(), 0) / total * 100
        return Span(left=round(left, 4), width=round(width, 4))

    def days(self) -> list[Day]:
        return [
            Day(day=day, span=self.span(midnight(day, self.zone), midnight(next_day, self.zone)))
            for day, next_day in (
                (self.first_day + timedelta(days=n), self.first_day + timedelta(days=n + 1))
                for n in range(DAYS_SHOWN)
            )
        ]

    def blocks(self, shifts: Sequence[Shift]) -> list[Block]:
        return [
            Block(
                user_id=shift.user_id,
                start=shift.start,
                end=shift.end,
                span=self.span(shift.start, shift.end),
                layer_id=shift.layer_id,
                override_id=shift.override_id,
            )
            for shift in shifts
        ]

    def gaps(self, gaps: Sequence[tuple[datetime, datetime]]) -> list[Block]:
        return [Block(user_id=None, start=s, end=e, span=self.span(s, e)) for s, e in gaps]

    def now_at(self, now: datetime) -> Span | None:
        """Where the "now" line goes, if now is inside the window."""
        if not self.start <= now < self.end:
            return None
        return Span(left=self.span(self.start, now).width, width=0)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant `day` begins in `zone` (a skipped midnight: the first instant after it)."""
    return local_instant(datetime(day.year, day.month, day.day), zone)  # noqa: DTZ001


def today_in(zone: ZoneInfo, now: datetime) -> date:
    return now.astimezone(zone).date()


def span_in_words(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """`Mon 5 Jan 09:00 to Tue 6 Jan 09:00 (Europe/Berlin)`: a block's hover text."""

    def local(instant: datetime) -> str:
        at = instant.astimezone(zone)
        return f"{at:%a} {at.day} {at:%b %H:%M}"

    return f"{local(start)} to {local(end)} ({zone.key})"
