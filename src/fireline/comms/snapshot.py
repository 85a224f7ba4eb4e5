"""A status page as its readers see it, read from the database in one go.

Every public rendering — the HTML pages, the Statuspage-compatible JSON, the feeds — is made
from a PageSnapshot and nothing else, so the public cache (comms/cache.py) holds one snapshot per
page and the database is read once per change, not once per request. The types are plain frozen
data; load_snapshot() builds one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

UPTIME_DAYS = 90


@dataclass(frozen=True)
class PageInfo:
    code: str
    slug: str
    name: str
    description: str
    homepage_url: str
    support_url: str
    time_zone: str
    is_default: bool
    version: int
    updated_at: datetime
    # Where the page lives: {base_url}/status for the default page, {base_url}/status/{slug}
    # otherwise. Permalinks and feed links start here.
    url: str


@dataclass(frozen=True)
class DayUptime:
    """One day (UTC) of one component: minutes in each counted status and the day's uptime.

    `counted_minutes` is the part of the day the component existed and the day had happened
    (today counts up to the snapshot's time); `uptime` is None on a day with no counted minutes.
    Formula (published on the page): downtime = major outage minutes + 0.3 * partial outage
    minutes; uptime = 1 - downtime / counted minutes. Degraded performance and maintenance
    count as up."""

    day: date
    counted_minutes: int
    major_minutes: int
    partial_minutes: int
    degraded_minutes: int
    maintenance_minutes: int
    uptime: float | None
    # The worst status the component was in that day (colours the bar); None with no minutes.
    worst: str | None
    # Names of the public incidents that touched the component that day (the bar's tooltip).
    incidents: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComponentView:
    code: str
    name: str
    description: str
    status: str  # a ComponentStatus value
    position: int
    group_code: str | None
    showcase: bool
    only_show_if_degraded: bool
    started_at: datetime
    created_at: datetime
    updated_at: datetime
    # UPTIME_DAYS days, oldest first, ending with the snapshot's day.
    uptime_days: tuple[DayUptime, ...]
    # Over the UPTIME_DAYS window, by the same formula; None when nothing was counted.
    uptime_percent: float | None


@dataclass(frozen=True)
class GroupView:
    code: str
    name: str
    description: str
    position: int
    status: str  # the worst status of its components
    component_codes: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AffectedComponent:
    code: str
    name: str
    old_status: str | None
    new_status: str


@dataclass(frozen=True)
class UpdateView:
    code: str
    status: str
    body: str
    parts: dict[str, Any]
    closing: bool
    affected_components: tuple[AffectedComponent, ...]
    display_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class ComponentRef:
    code: str
    name: str
    status: str  # the component's status now


@dataclass(frozen=True)
class IncidentView:
    """A public incident or maintenance (`kind`), with its updates newest first."""

    code: str
    kind: str  # incident | maintenance
    name: str
    status: str
    impact: str
    started_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    scheduled_for: datetime | None
    scheduled_until: datetime | None
    created_at: datetime
    updated_at: datetime
    shortlink: str  # the permalink page, absolute
    components: tuple[ComponentRef, ...]
    updates: tuple[UpdateView, ...]
    # The public post-incident report's parts once published (apology, summary, impact,
    # root_cause, what_was_done, prevention), else empty.
    report: dict[str, str]
    report_published_at: datetime | None

    @property
    def unresolved(self) -> bool:
        return self.status not in {"resolved", "postmortem", "completed"}


@dataclass(frozen=True)
class Indicator:
    """The page's overall status: Statuspage's status.indicator and status.description."""

    indicator: str  # none | minor | major | critical
    description: str  # "All Systems Operational", …


@dataclass(frozen=True)
class PageSnapshot:
    page: PageInfo
    built_at: datetime
    indicator: Indicator
    groups: tuple[GroupView, ...]
    # Every component, in page order: grouped ones by (group position, position), ungrouped
    # ones by position, groups and ungrouped components interleaved by position.
    components: tuple[ComponentView, ...]
    # Public incidents (kind incident), newest first; at most HISTORY_LIMIT.
    incidents: tuple[IncidentView, ...]
    # Maintenances, by scheduled_for, newest first; at most HISTORY_LIMIT.
    maintenances: tuple[IncidentView, ...]
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def unresolved_incidents(self) -> tuple[IncidentView, ...]:
        return tuple(incident for incident in self.incidents if incident.unresolved)

    @property
    def active_maintenances(self) -> tuple[IncidentView, ...]:
        return tuple(m for m in self.maintenances if m.status in {"in_progress", "verifying"})

    @property
    def upcoming_maintenances(self) -> tuple[IncidentView, ...]:
        return tuple(m for m in self.maintenances if m.status == "scheduled")


HISTORY_LIMIT = 500
