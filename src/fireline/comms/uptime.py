"""A component's uptime, day by day, from the statuses it went through. Pure, no I/O.

Uptime (as the page publishes it): for each UTC day, the counted minutes are those the
component existed and that had already happened (today counts up to the snapshot's time);
downtime = major outage minutes + 0.3 * partial outage minutes; uptime = 1 - downtime / counted
minutes. Degraded performance and maintenance count as up. The window's uptime is the same
formula over all UPTIME_DAYS days together.

Instants are taken to the whole minute (seconds dropped), so every minute of a day is in
exactly one status. Before its first recorded change a component is in `initial` status.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from fireline.comms.indicator import worst_status
from fireline.comms.snapshot import UPTIME_DAYS, DayUptime
from fireline.models.comms import ComponentStatus

PARTIAL_OUTAGE_WEIGHT = 0.3
_DAY = timedelta(days=1)
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class StatusChange:
    """A component entering `status` at `at`, with the name of the public incident (or
    maintenance) that made the change, if one did."""

    status: str
    at: datetime
    incident: str | None = None


@dataclass(frozen=True)
class _Span:
    status: str
    start: datetime
    end: datetime
    incident: str | None


def uptime_days(
    changes: Iterable[StatusChange],
    *,
    started_at: datetime,
    now: datetime,
    initial: str = ComponentStatus.OPERATIONAL.value,
) -> tuple[DayUptime, ...]:
    """UPTIME_DAYS days of the component, oldest first, ending with `now`'s UTC day.

    A day's `incidents` names, in order of first appearance, each public incident that made a
    change that day or whose change put the component in a status other than operational for
    part of the day."""
    end = _minute(now)
    first_day = end.date() - timedelta(days=UPTIME_DAYS - 1)
    window_start = datetime.combine(first_day, time(), UTC)
    existed_from = min(max(_minute(started_at), window_start), end)
    days = [_Tally(first_day + timedelta(days=offset)) for offset in range(UPTIME_DAYS)]
    for span in _spans(sorted(changes, key=lambda c: c.at), initial, window_start, end):
        first = (span.start - window_start) // _DAY
        # A span ending at midnight does not touch the next day.
        last = (span.end - _MINUTE - window_start) // _DAY if span.end > span.start else first
        for tally in days[first : min(last, UPTIME_DAYS - 1) + 1]:
            tally.add(span, existed_from)
    return tuple(tally.result(existed_from, end) for tally in days)


def window_uptime(days: Sequence[DayUptime]) -> float | None:
    """The uptime percent (0 to 100) over `days` together; None when no minute was counted."""
    counted = sum(day.counted_minutes for day in days)
    if counted == 0:
        return None
    major = sum(day.major_minutes for day in days)
    partial = sum(day.partial_minutes for day in days)
    return 100 * _uptime(major, partial, counted)


def _uptime(major: int, partial: int, counted: int) -> float:
    return 1 - (major + PARTIAL_OUTAGE_WEIGHT * partial) / counted


def _minute(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(second=0, microsecond=0)


def _spans(
    changes: list[StatusChange], initial: str, window_start: datetime, end: datetime
) -> Iterator[_Span]:
    """The statuses from window_start to end, each with the incident that set it, and an
    empty span at each change an incident made within the window."""
    status, since, incident = initial, window_start, None
    for change in changes:
        at = min(max(_minute(change.at), window_start), end)
        if at > since:
            yield _Span(status, since, at, incident)
        status, since, incident = change.status, max(at, since), change.incident
        if change.incident is not None and window_start <= _minute(change.at) <= end:
            yield _Span(change.status, at, at, change.incident)
    if end > since:
        yield _Span(status, since, end, incident)


class _Tally:
    """One day's minutes in each status and the incidents that touched it, added span by span."""

    def __init__(self, day: date) -> None:
        self.day = day
        self.start = datetime.combine(day, time(), UTC)
        self.minutes = dict.fromkeys(_STATUSES, 0)
        self.incidents: list[str] = []

    def add(self, span: _Span, existed_from: datetime) -> None:
        # A change that only brought the component back to operational touches its day alone.
        touches = span.start == span.end or span.status != ComponentStatus.OPERATIONAL
        if span.incident is not None and touches and span.incident not in self.incidents:
            self.incidents.append(span.incident)
        start = max(span.start, existed_from, self.start)
        finish = min(span.end, self.start + _DAY)
        if finish > start:
            self.minutes[span.status] += (finish - start) // _MINUTE

    def result(self, existed_from: datetime, end: datetime) -> DayUptime:
        counted_from, counted_to = max(self.start, existed_from), min(self.start + _DAY, end)
        counted = max(0, (counted_to - counted_from) // _MINUTE)
        present = [status for status, spent in self.minutes.items() if spent > 0]
        major = self.minutes[ComponentStatus.MAJOR_OUTAGE.value]
        partial = self.minutes[ComponentStatus.PARTIAL_OUTAGE.value]
        return DayUptime(
            day=self.day,
            counted_minutes=counted,
            major_minutes=major,
            partial_minutes=partial,
            degraded_minutes=self.minutes[ComponentStatus.DEGRADED_PERFORMANCE.value],
            maintenance_minutes=self.minutes[ComponentStatus.UNDER_MAINTENANCE.value],
            uptime=_uptime(major, partial, counted) if counted else None,
            worst=worst_status(present) if present else None,
            incidents=tuple(self.incidents),
        )


_STATUSES = tuple(status.value for status in ComponentStatus)
