"""Fireline's Statuspage-compatible JSON against Statuspage's documented shapes.

The page: a Platform group (API degraded, Database in partial outage), a Website in major
outage, Docs under maintenance, an Admin console operational and an empty Legacy group; one
unresolved and one resolved incident; one upcoming, one active and one completed maintenance.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import jsonschema
import pytest

from contract import statuspage_schema as schemas
from fireline.comms import statuspage_json
from fireline.comms.snapshot import (
    AffectedComponent,
    ComponentRef,
    ComponentView,
    DayUptime,
    GroupView,
    IncidentView,
    Indicator,
    PageInfo,
    PageSnapshot,
    UpdateView,
)

NOW = datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC)
URL = "https://fireline.example.com/status"


def component(code, name, status, *, position, group=None, description="") -> ComponentView:
    day = DayUptime(date(2026, 11, 27), 600, 0, 0, 0, 0, 1.0, "operational")
    return ComponentView(
        code=code,
        name=name,
        description=description,
        status=status,
        position=position,
        group_code=group,
        showcase=True,
        only_show_if_degraded=False,
        started_at=datetime(2026, 1, 2, 23, 30, tzinfo=UTC),
        created_at=NOW - timedelta(days=300),
        updated_at=NOW - timedelta(hours=1),
        uptime_days=(day,),
        uptime_percent=100.0,
    )


def update(code, status, body, *, minutes_ago, affected=()) -> UpdateView:
    return UpdateView(
        code=code,
        status=status,
        body=body,
        parts={},
        closing=status in ("resolved", "completed"),
        affected_components=tuple(affected),
        display_at=NOW - timedelta(minutes=minutes_ago),
        created_at=NOW - timedelta(minutes=minutes_ago),
    )


def incident(code, name, status, *, kind="incident", impact="minor", updates=(), refs=(), **more):
    fields = {
        "monitoring_at": None,
        "resolved_at": None,
        "scheduled_for": None,
        "scheduled_until": None,
        "started_at": NOW - timedelta(hours=2),
        "created_at": NOW - timedelta(hours=2),
        "updated_at": NOW - timedelta(minutes=5),
        "report": {},
        "report_published_at": None,
        **more,
    }
    return IncidentView(
        code=code,
        kind=kind,
        name=name,
        status=status,
        impact=impact,
        shortlink=f"{URL}/incidents/{code}",
        components=tuple(refs),
        updates=tuple(updates),
        **fields,
    )


COMPONENTS = (
    component("c-api", "API", "degraded_performance", position=1, group="g-platform"),
    component("c-db", "Database", "partial_outage", position=2, group="g-platform"),
    component("c-web", "Website", "major_outage", position=2, description="The shop"),
    component("c-docs", "Docs", "under_maintenance", position=3),
    component("c-admin", "Admin console", "operational", position=4),
)
GROUPS = (
    GroupView(
        code="g-platform",
        name="Platform",
        description="",
        position=1,
        status="partial_outage",
        component_codes=("c-api", "c-db"),
        created_at=NOW - timedelta(days=300),
        updated_at=NOW - timedelta(days=1),
    ),
    GroupView(
        code="g-legacy",
        name="Legacy",
        description="Old things",
        position=9,
        status="operational",
        component_codes=(),
        created_at=NOW - timedelta(days=300),
        updated_at=NOW - timedelta(days=1),
    ),
)
WEBSITE_DOWN = incident(
    "i-web",
    "Website unavailable",
    "identified",
    impact="critical",
    refs=[ComponentRef("c-web", "Website", "major_outage"), ComponentRef("c-gone", "Gone", "x")],
    updates=[
        update(
            "u-web-2",
            "identified",
            "A bad deploy; rolling back.",
            minutes_ago=10,
            affected=[AffectedComponent("c-web", "Website", "partial_outage", "major_outage")],
        ),
        update(
            "u-web-1",
            "investigating",
            "We are looking into errors.",
            minutes_ago=50,
            affected=[AffectedComponent("c-web", "Website", None, "partial_outage")],
        ),
    ],
)
SLOW_LOGINS = incident(
    "i-login",
    "Slow logins",
    "resolved",
    created_at=NOW - timedelta(days=3),
    monitoring_at=NOW - timedelta(days=3) + timedelta(hours=1),
    resolved_at=NOW - timedelta(days=3) + timedelta(hours=2),
    updates=[update("u-login", "resolved", "Logins are fast again.", minutes_ago=3 * 1440)],
)
NETWORK = incident(
    "m-net",
    "Network upgrade",
    "scheduled",
    kind="maintenance",
    impact="maintenance",
    scheduled_for=NOW + timedelta(days=2),
    scheduled_until=NOW + timedelta(days=2, hours=2),
    updates=[update("u-net", "scheduled", "We will upgrade the network.", minutes_ago=60)],
)
DOCS_MOVE = incident(
    "m-docs",
    "Docs migration",
    "in_progress",
    kind="maintenance",
    impact="maintenance",
    refs=[ComponentRef("c-docs", "Docs", "under_maintenance")],
    scheduled_for=NOW - timedelta(minutes=30),
    scheduled_until=NOW + timedelta(minutes=30),
    updates=[update("u-docs", "in_progress", "Moving the docs.", minutes_ago=30)],
)
OLD_UPGRADE = incident(
    "m-old",
    "Database upgrade",
    "completed",
    kind="maintenance",
    impact="maintenance",
    scheduled_for=NOW - timedelta(days=10),
    scheduled_until=NOW - timedelta(days=10) + timedelta(hours=1),
)
SNAPSHOT = PageSnapshot(
    page=PageInfo(
        code="p-status",
        slug="status",
        name="Example status",
        description="",
        homepage_url="https://example.com",
        support_url="",
        time_zone="Europe/Paris",
        is_default=True,
        version=7,
        updated_at=NOW,
        url=URL,
    ),
    built_at=NOW,
    indicator=Indicator("critical", "Major System Outage"),
    groups=GROUPS,
    components=COMPONENTS,
    incidents=(WEBSITE_DOWN, SLOW_LOGINS),
    maintenances=(NETWORK, DOCS_MOVE, OLD_UPGRADE),
)

DOCUMENTS = {
    "summary": (statuspage_json.summary, schemas.SUMMARY),
    "status": (statuspage_json.status, schemas.STATUS_DOCUMENT),
    "components": (statuspage_json.components, schemas.COMPONENTS),
    "incidents": (statuspage_json.incidents, schemas.INCIDENTS),
    "unresolved": (statuspage_json.unresolved_incidents, schemas.UNRESOLVED_INCIDENTS),
    "scheduled": (statuspage_json.scheduled_maintenances, schemas.SCHEDULED_MAINTENANCES),
    "upcoming": (statuspage_json.upcoming_maintenances, schemas.UPCOMING_MAINTENANCES),
    "active": (statuspage_json.active_maintenances, schemas.ACTIVE_MAINTENANCES),
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_document_has_statuspages_shape(name):
    build, schema = DOCUMENTS[name]
    document = json.loads(statuspage_json.dumps(build(SNAPSHOT)))
    jsonschema.validate(document, schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_schema_refuses_a_misspelt_field(name):
    """The schemas are strict enough to catch a renamed field (so the test above can fail)."""
    build, schema = DOCUMENTS[name]
    document = build(SNAPSHOT)
    document["page"]["timezone"] = document["page"].pop("time_zone")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def test_the_schema_refuses_an_unknown_status():
    document = statuspage_json.components(SNAPSHOT)
    document["components"][0]["status"] = "down"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schemas.COMPONENTS)


def test_the_page_and_status_read_like_statuspages():
    document = statuspage_json.status(SNAPSHOT)
    assert document == {
        "page": {
            "id": "p-status",
            "name": "Example status",
            "url": URL,
            "time_zone": "Europe/Paris",
            "updated_at": "2026-11-27T10:00:00.123Z",
        },
        "status": {"indicator": "critical", "description": "Major System Outage"},
    }


def test_groups_are_components_listing_their_members_before_them():
    listed = statuspage_json.components(SNAPSHOT)["components"]
    assert [(c["id"], c["group"]) for c in listed] == [
        ("g-platform", True),
        ("c-api", False),
        ("c-db", False),
        ("c-web", False),
        ("c-docs", False),
        ("c-admin", False),
        ("g-legacy", True),
    ]
    platform, api = listed[0], listed[1]
    assert platform["components"] == ["c-api", "c-db"]
    assert platform["status"] == "partial_outage"
    assert api["group_id"] == "g-platform"
    assert api["page_id"] == "p-status"
    assert api["start_date"] == "2026-01-02"
    assert api["description"] is None
    assert listed[3]["description"] == "The shop"
    assert {c["status"] for c in listed} >= {
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
    }


def test_summary_lists_only_what_is_going_on():
    document = statuspage_json.summary(SNAPSHOT)
    assert [i["id"] for i in document["incidents"]] == ["i-web"]
    assert [m["id"] for m in document["scheduled_maintenances"]] == ["m-net", "m-docs"]
    assert document["status"]["indicator"] == "critical"
    assert len(document["components"]) == 7


def test_an_incident_carries_its_updates_and_affected_components():
    (down, logins) = statuspage_json.incidents(SNAPSHOT)["incidents"]
    assert down["shortlink"] == f"{URL}/incidents/i-web"
    assert down["impact"] == "critical"
    assert down["monitoring_at"] is None
    assert [u["id"] for u in down["incident_updates"]] == ["u-web-2", "u-web-1"]
    first = down["incident_updates"][1]
    assert first["incident_id"] == "i-web"
    assert first["display_at"] == "2026-11-27T09:10:00.123Z"
    assert first["affected_components"] == [
        {"code": "c-web", "name": "Website", "old_status": None, "new_status": "partial_outage"}
    ]
    # A component no longer on the page is left out rather than invented.
    assert [c["id"] for c in down["components"]] == ["c-web"]
    assert "scheduled_for" not in down
    assert logins["resolved_at"] == "2026-11-24T12:00:00.123Z"


def test_maintenances_carry_their_window():
    listed = statuspage_json.scheduled_maintenances(SNAPSHOT)["scheduled_maintenances"]
    assert [m["id"] for m in listed] == ["m-net", "m-docs", "m-old"]
    assert listed[0]["scheduled_for"] == "2026-11-29T10:00:00.123Z"
    assert listed[0]["impact"] == "maintenance"
    assert [
        m["id"] for m in statuspage_json.upcoming_maintenances(SNAPSHOT)["scheduled_maintenances"]
    ] == ["m-net"]
    assert [
        m["id"] for m in statuspage_json.active_maintenances(SNAPSHOT)["scheduled_maintenances"]
    ] == ["m-docs"]


def test_lists_stop_at_statuspages_fifty_most_recent():
    many = tuple(replace(SLOW_LOGINS, code=f"i-{n}") for n in range(60))
    crowded = replace(
        SNAPSHOT,
        incidents=many,
        maintenances=tuple(replace(OLD_UPGRADE, code=f"m-{n}") for n in range(60)),
    )
    assert len(statuspage_json.incidents(crowded)["incidents"]) == 50
    assert statuspage_json.incidents(crowded)["incidents"][0]["id"] == "i-0"
    assert len(statuspage_json.scheduled_maintenances(crowded)["scheduled_maintenances"]) == 50


def test_dumps_is_compact_utf8():
    document = {"name": "Café — status", "ok": True, "n": [1, 2]}
    assert (
        statuspage_json.dumps(document) == '{"name":"Café — status","ok":true,"n":[1,2]}'.encode()
    )


def test_times_are_utc_with_milliseconds_whatever_their_zone():
    paris = datetime(2026, 11, 27, 11, 0, 0, 999999, tzinfo=timezone(timedelta(hours=1)))
    assert statuspage_json.timestamp(paris) == "2026-11-27T10:00:00.999Z"
