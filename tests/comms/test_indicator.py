"""The page's status line and an incident's impact, in Statuspage's words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fireline.comms.indicator import RULE_TEXT, impact_of, overall, rank, worst_status
from fireline.comms.snapshot import Indicator
from fireline.models import ComponentStatus

OPERATIONAL = "operational"
MAINTENANCE = "under_maintenance"
DEGRADED = "degraded_performance"
PARTIAL = "partial_outage"
MAJOR = "major_outage"

statuses = st.lists(st.sampled_from([status.value for status in ComponentStatus]))
impacts = st.lists(st.sampled_from(["none", "minor", "major", "critical", "maintenance"]))


def test_statuses_rank_from_operational_through_maintenance_to_major_outage():
    assert [rank(s) for s in (OPERATIONAL, MAINTENANCE, DEGRADED, PARTIAL, MAJOR)] == [
        0,
        1,
        2,
        3,
        4,
    ]


def test_an_unknown_status_is_refused_by_name():
    with pytest.raises(ValueError, match="'on_fire'"):
        rank("on_fire")


@pytest.mark.parametrize(
    ("seen", "worst"),
    [
        ([], OPERATIONAL),
        ([OPERATIONAL, OPERATIONAL], OPERATIONAL),
        ([OPERATIONAL, MAINTENANCE], MAINTENANCE),
        ([MAINTENANCE, DEGRADED], DEGRADED),
        ([PARTIAL, DEGRADED, MAINTENANCE], PARTIAL),
        ([OPERATIONAL, MAJOR, PARTIAL], MAJOR),
    ],
)
def test_worst_status(seen, worst):
    assert worst_status(seen) == worst


@given(statuses)
def test_the_worst_status_is_one_of_them_and_none_is_worse(seen):
    worst = worst_status(seen)
    assert worst in [*seen, OPERATIONAL]
    assert all(rank(status) <= rank(worst) for status in seen)


@pytest.mark.parametrize(
    ("affected", "impact"),
    [
        ([], "none"),
        ([OPERATIONAL], "none"),
        ([MAINTENANCE], "none"),
        ([DEGRADED, OPERATIONAL], "minor"),
        ([PARTIAL, DEGRADED], "major"),
        ([MAJOR, MAINTENANCE], "critical"),
    ],
)
def test_an_incident_is_as_bad_as_its_worst_component(affected, impact):
    assert impact_of(affected) == impact


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        ([], Indicator("none", "All Systems Operational")),
        ([OPERATIONAL, OPERATIONAL], Indicator("none", "All Systems Operational")),
        ([OPERATIONAL, DEGRADED], Indicator("minor", "Partially Degraded Service")),
        ([DEGRADED, PARTIAL], Indicator("minor", "Minor Service Outage")),
        ([OPERATIONAL, MAJOR], Indicator("major", "Partial System Outage")),
        ([MAJOR, MAJOR], Indicator("critical", "Major System Outage")),
        ([MAJOR, MAINTENANCE], Indicator("major", "Partial System Outage")),
    ],
)
def test_the_components_alone_decide_when_no_incident_is_open(components, expected):
    assert overall(components, [], maintenance_active=False) == expected


@pytest.mark.parametrize(
    ("components", "open_impacts", "expected"),
    [
        # An incident says more than the green components: it wins.
        ([OPERATIONAL], ["minor"], Indicator("minor", "Minor Service Outage")),
        ([OPERATIONAL], ["major", "minor"], Indicator("major", "Partial System Outage")),
        ([DEGRADED], ["critical"], Indicator("critical", "Major System Outage")),
        # The components say more than the incident: they win.
        ([OPERATIONAL, MAJOR], ["minor"], Indicator("major", "Partial System Outage")),
        # Equal levels: the outage wording wins over "degraded".
        ([DEGRADED], ["minor"], Indicator("minor", "Minor Service Outage")),
        # An incident of no impact, or a maintenance's, changes nothing.
        ([OPERATIONAL], ["none"], Indicator("none", "All Systems Operational")),
        ([DEGRADED], ["maintenance"], Indicator("minor", "Partially Degraded Service")),
    ],
)
def test_the_worse_of_components_and_open_incidents_wins(components, open_impacts, expected):
    assert overall(components, open_impacts, maintenance_active=False) == expected


def test_maintenance_alone_reads_under_maintenance_without_raising_the_indicator():
    expected = Indicator("none", "Service Under Maintenance")
    assert overall([OPERATIONAL], [], maintenance_active=True) == expected
    assert overall([OPERATIONAL, MAINTENANCE], ["none"], maintenance_active=False) == expected


def test_anything_wrong_outranks_maintenance():
    reading = overall([MAINTENANCE, DEGRADED], [], maintenance_active=True)
    assert reading == Indicator("minor", "Partially Degraded Service")
    reading = overall([MAINTENANCE], ["major"], maintenance_active=True)
    assert reading == Indicator("major", "Partial System Outage")


@given(statuses, impacts, st.booleans())
def test_the_indicator_is_one_of_statuspages_four_and_never_below_any_input(seen, open_, active):
    levels = {"none": 0, "minor": 1, "major": 2, "critical": 3}
    reading = overall(seen, open_, maintenance_active=active)
    assert reading.indicator in levels
    assert all(levels[reading.indicator] >= levels.get(impact, 0) for impact in open_)
    if any(status in (DEGRADED, PARTIAL, MAJOR) for status in seen):
        assert reading.indicator != "none"
    if reading.description == "Service Under Maintenance":
        assert reading.indicator == "none"


def test_the_rule_readers_are_shown_names_every_wording():
    for wording in (
        "All Systems Operational",
        "Partially Degraded Service",
        "Minor Service Outage",
        "Partial System Outage",
        "Major System Outage",
        "Service Under Maintenance",
    ):
        assert wording in RULE_TEXT
