"""How bad things are, in Statuspage's words: the worst of some component statuses, a public
incident's impact, and the page's overall status line. Pure rules, no I/O.

Statuses rank, best first: operational, under maintenance, degraded performance, partial outage,
major outage. Maintenance ranks just above operational so a component under maintenance shows
blue rather than green, yet it never counts as an outage: it raises no indicator and costs no
uptime.

The page's status line, as readers are shown it (RULE_TEXT): it is the worse of two readings.
From the components: all operational reads "All Systems Operational"; any in degraded
performance, "Partially Degraded Service" (minor); any in partial outage, "Minor Service
Outage" (minor); some in major outage, "Partial System Outage" (major); every one in major
outage, "Major System Outage" (critical). From the open incidents: the highest impact among
them, minor reading "Minor Service Outage", major "Partial System Outage", critical "Major
System Outage". Maintenance never counts as an outage: when nothing else is wrong and
maintenance is under way, the page reads "Service Under Maintenance" (indicator none).
"""

from __future__ import annotations

from collections.abc import Iterable

from fireline.comms.snapshot import Indicator
from fireline.models.comms import ComponentStatus, Impact

RULE_TEXT = (
    "The status at the top of this page is the worse of two readings. From the components: "
    "all operational reads “All Systems Operational”; any in degraded performance, "
    "“Partially Degraded Service” (minor); any in partial outage, “Minor Service Outage” "
    "(minor); some in major outage, “Partial System Outage” (major); every one in major "
    "outage, “Major System Outage” (critical). From the open incidents: the highest impact "
    "among them — minor reads “Minor Service Outage”, major “Partial System Outage”, critical "
    "“Major System Outage”. Maintenance never counts as an outage: when nothing else is wrong "
    "and maintenance is under way, the page reads “Service Under Maintenance”."
)

_RANK = {
    ComponentStatus.OPERATIONAL.value: 0,
    ComponentStatus.UNDER_MAINTENANCE.value: 1,
    ComponentStatus.DEGRADED_PERFORMANCE.value: 2,
    ComponentStatus.PARTIAL_OUTAGE.value: 3,
    ComponentStatus.MAJOR_OUTAGE.value: 4,
}

_LEVEL = {"none": 0, "minor": 1, "major": 2, "critical": 3}

OPERATIONAL = "All Systems Operational"
DEGRADED = "Partially Degraded Service"
MINOR_OUTAGE = "Minor Service Outage"
PARTIAL_SYSTEM_OUTAGE = "Partial System Outage"
MAJOR_SYSTEM_OUTAGE = "Major System Outage"
MAINTENANCE = "Service Under Maintenance"

_IMPACT_READING = {
    Impact.MINOR.value: Indicator("minor", MINOR_OUTAGE),
    Impact.MAJOR.value: Indicator("major", PARTIAL_SYSTEM_OUTAGE),
    Impact.CRITICAL.value: Indicator("critical", MAJOR_SYSTEM_OUTAGE),
}


def rank(status: str) -> int:
    """Where `status` sits, 0 (operational) to 4 (major outage); ValueError for an unknown one."""
    try:
        return _RANK[status]
    except KeyError:
        raise ValueError(f"unknown component status {status!r}") from None


def worst_status(statuses: Iterable[str]) -> str:
    """The worst of `statuses` by rank(); "operational" when there are none."""
    return max(statuses, key=rank, default=ComponentStatus.OPERATIONAL.value)


def impact_of(component_statuses: Iterable[str]) -> Impact:
    """A public incident's impact from the statuses of the components it affects, as Statuspage
    computes it: degraded performance is minor, partial outage major, major outage critical;
    operational or under maintenance alone is none."""
    worst = worst_status(component_statuses)
    if worst == ComponentStatus.MAJOR_OUTAGE:
        return Impact.CRITICAL
    if worst == ComponentStatus.PARTIAL_OUTAGE:
        return Impact.MAJOR
    if worst == ComponentStatus.DEGRADED_PERFORMANCE:
        return Impact.MINOR
    return Impact.NONE


def overall(
    component_statuses: Iterable[str],
    incident_impacts: Iterable[str],
    *,
    maintenance_active: bool,
) -> Indicator:
    """The page's status line (RULE_TEXT says it in words): the worse of the components'
    reading and the open incidents' highest impact; at equal levels the outage wording wins over
    "Partially Degraded Service". With nothing wrong, "Service Under Maintenance" when a
    maintenance is active or a component is under maintenance, with indicator "none"."""
    statuses = list(component_statuses)
    readings = [_from_components(statuses)]
    readings += [_IMPACT_READING[i] for i in incident_impacts if i in _IMPACT_READING]
    # max() keeps the first of equals: outage wordings come before the degraded one.
    readings.sort(key=lambda reading: reading.description == DEGRADED)
    worst = max(readings, key=lambda reading: _LEVEL[reading.indicator])
    under_maintenance = maintenance_active or ComponentStatus.UNDER_MAINTENANCE in statuses
    if worst.indicator == "none" and under_maintenance:
        return Indicator("none", MAINTENANCE)
    return worst


def _from_components(statuses: list[str]) -> Indicator:
    worst = worst_status(statuses)
    if worst == ComponentStatus.MAJOR_OUTAGE:
        if all(status == ComponentStatus.MAJOR_OUTAGE for status in statuses):
            return Indicator("critical", MAJOR_SYSTEM_OUTAGE)
        return Indicator("major", PARTIAL_SYSTEM_OUTAGE)
    if worst == ComponentStatus.PARTIAL_OUTAGE:
        return Indicator("minor", MINOR_OUTAGE)
    if worst == ComponentStatus.DEGRADED_PERFORMANCE:
        return Indicator("minor", DEGRADED)
    return Indicator("none", OPERATIONAL)
