"""Reading a status page from the database: what readers see, read in a fixed number of queries.

The snapshot is taken at the fake clock's time, Monday 5 January 2026, 10:00 UTC."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import jsonschema
import pytest
from contract import statuspage_schema as schemas
from sqlalchemy import event, select

from fireline.comms import loading, statuspage_json
from fireline.comms.codes import new_code
from fireline.comms.loading import load_page, load_snapshot
from fireline.models import (
    Component,
    ComponentGroup,
    ComponentStatusChange,
    PublicIncident,
    PublicUpdate,
    StatusPage,
)

BASE_URL = "https://fireline.example.com/"


class Rows:
    """One-line factories for a page's rows, all stamped at the fake clock's time."""

    def __init__(self, db, clock) -> None:
        self.db = db
        self.now = clock.now()
        self.page = db.scalars(select(StatusPage).where(StatusPage.is_default)).one()

    def _stamps(self) -> dict:
        return {"created_at": self.now, "updated_at": self.now}

    def other_page(self, slug: str = "partners") -> StatusPage:
        page = StatusPage(code=new_code(), slug=slug, name="Partner API", **self._stamps())
        self.db.add(page)
        self.db.flush()
        return page

    def group(self, name: str, *, position: int, page: StatusPage | None = None) -> ComponentGroup:
        group = ComponentGroup(
            code=new_code(),
            page_id=(page or self.page).id,
            name=name,
            position=position,
            **self._stamps(),
        )
        self.db.add(group)
        self.db.flush()
        return group

    def component(
        self,
        name: str,
        *,
        position: int,
        group: ComponentGroup | None = None,
        status: str = "operational",
        started_days_ago: int = 400,
        page: StatusPage | None = None,
    ) -> Component:
        component = Component(
            code=new_code(),
            page_id=(page or self.page).id,
            group_id=group.id if group else None,
            name=name,
            position=position,
            status=status,
            started_at=self.now - timedelta(days=started_days_ago),
            **self._stamps(),
        )
        self.db.add(component)
        self.db.flush()
        return component

    def change(self, component, status: str, *, ago: timedelta, incident=None) -> None:
        self.db.add(
            ComponentStatusChange(
                component_id=component.id,
                status=status,
                at=self.now - ago,
                public_incident_id=incident.id if incident else None,
            )
        )
        component.status = status
        self.db.flush()

    def incident(
        self,
        name: str,
        *,
        status: str = "investigating",
        impact: str = "minor",
        kind: str = "incident",
        ago: timedelta = timedelta(hours=1),
        components=(),
        page: StatusPage | None = None,
        **fields,
    ) -> PublicIncident:
        fields.setdefault("report", {})
        incident = PublicIncident(
            code=new_code(),
            page_id=(page or self.page).id,
            kind=kind,
            name=name,
            status=status,
            impact=impact,
            started_at=self.now - ago,
            created_at=self.now - ago,
            updated_at=self.now - ago,
            components=list(components),
            **fields,
        )
        self.db.add(incident)
        self.db.flush()
        return incident

    def update(self, incident, status: str, body: str, *, ago: timedelta, affected=()) -> None:
        self.db.add(
            PublicUpdate(
                code=new_code(),
                public_incident_id=incident.id,
                status=status,
                body=body,
                parts={"current_impact": body},
                affected_components=list(affected),
                display_at=self.now - ago,
                created_at=self.now - ago,
            )
        )
        self.db.flush()


@pytest.fixture
def rows(db, clock) -> Rows:
    return Rows(db, clock)


@contextmanager
def counting_queries(engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def snapshot(db, clock, page=None):
    """The page as a new request would read it: nothing left over in the session."""
    db.expire_all()
    page = page or load_page(db, None)
    return load_snapshot(db, page, now=clock.now(), base_url=BASE_URL)


# --- Pages ---------------------------------------------------------------------------------


def test_no_slug_means_the_default_page_and_a_slug_finds_its_page(db, rows):
    partners = rows.other_page("partners")
    default = load_page(db, None)
    assert default is not None
    assert default.slug == "status"
    assert default.is_default
    assert load_page(db, "status") is default
    assert load_page(db, "partners") is partners
    assert load_page(db, "nowhere") is None


def test_the_default_page_lives_at_status_and_others_under_it(db, clock, rows):
    partners = rows.other_page("partners")
    assert snapshot(db, clock).page.url == "https://fireline.example.com/status"
    other = snapshot(db, clock, partners)
    assert other.page.url == "https://fireline.example.com/status/partners"
    assert other.page.name == "Partner API"
    assert not other.page.is_default
    assert other.built_at == clock.now()


# --- Components ----------------------------------------------------------------------------


def test_components_come_in_page_order_with_groups_interleaved_by_position(db, clock, rows):
    platform = rows.group("Platform", position=2)
    rows.component("Website", position=1)
    database = rows.component("Database", position=2, group=platform, status="partial_outage")
    api = rows.component("API", position=1, group=platform, status="degraded_performance")
    rows.component("Docs", position=3)
    rows.group("Empty", position=5)

    seen = snapshot(db, clock)

    assert [c.name for c in seen.components] == ["Website", "API", "Database", "Docs"]
    assert [g.name for g in seen.groups] == ["Platform", "Empty"]
    platform_view = seen.groups[0]
    assert platform_view.status == "partial_outage"
    assert platform_view.component_codes == (api.code, database.code)
    assert seen.groups[1].status == "operational"
    assert seen.groups[1].component_codes == ()
    assert seen.components[1].group_code == platform.code
    assert seen.components[0].group_code is None
    assert seen.indicator.indicator == "minor"
    assert seen.indicator.description == "Minor Service Outage"


def test_uptime_comes_from_the_status_history_including_the_status_at_the_windows_start(
    db, clock, rows
):
    api = rows.component("API", position=1)
    outage = rows.incident("API errors", impact="critical", status="resolved")
    # Down since long before the window: only its last change before the window matters.
    rows.change(api, "degraded_performance", ago=timedelta(days=200))
    rows.change(api, "major_outage", ago=timedelta(days=120))
    rows.change(api, "operational", ago=timedelta(days=2, hours=10), incident=outage)
    # Today, 09:00 to 09:30, a partial outage.
    rows.change(api, "partial_outage", ago=timedelta(hours=1), incident=outage)
    rows.change(api, "operational", ago=timedelta(minutes=30), incident=outage)

    view = snapshot(db, clock).components[0]

    days = {d.day: d for d in view.uptime_days}
    assert len(view.uptime_days) == 90
    assert view.uptime_days[-1].day == date(2026, 1, 5)
    first = view.uptime_days[0]
    assert first.major_minutes == first.counted_minutes == 1440
    # 3 January: down until 00:00 (2 days 10 hours before 10:00 on the 5th), then up.
    assert days[date(2026, 1, 3)].major_minutes == 0
    assert days[date(2026, 1, 2)].major_minutes == 1440
    today = days[date(2026, 1, 5)]
    assert (today.counted_minutes, today.partial_minutes) == (600, 30)
    assert today.incidents == ("API errors",)
    assert view.uptime_percent is not None
    assert 0 < view.uptime_percent < 100


def test_a_component_never_changed_has_been_in_its_status_since_it_started(db, clock, rows):
    rows.component("Legacy", position=1, status="partial_outage", started_days_ago=1)
    view = snapshot(db, clock).components[0]
    assert view.uptime_days[-1].partial_minutes == 600
    assert view.uptime_days[-3].counted_minutes == 0
    assert view.uptime_percent == pytest.approx(70.0)


# --- Incidents and maintenances ------------------------------------------------------------


def test_incidents_come_newest_first_with_their_updates_and_components(db, clock, rows):
    api = rows.component("API", position=1, status="major_outage")
    web = rows.component("Website", position=2)
    old = rows.incident("Slow logins", status="resolved", ago=timedelta(days=3), components=[web])
    new = rows.incident("API down", impact="critical", components=[web, api])
    rows.update(new, "investigating", "We are looking into it.", ago=timedelta(minutes=50))
    rows.update(
        new,
        "identified",
        "A bad deploy; rolling back.",
        ago=timedelta(minutes=20),
        affected=[
            {
                "code": api.code,
                "name": "API",
                "old_status": "operational",
                "new_status": "major_outage",
            }
        ],
    )
    rows.update(old, "resolved", "Fixed.", ago=timedelta(days=2))

    seen = snapshot(db, clock)

    assert [i.name for i in seen.incidents] == ["API down", "Slow logins"]
    assert seen.unresolved_incidents == (seen.incidents[0],)
    down = seen.incidents[0]
    assert down.shortlink == f"https://fireline.example.com/status/incidents/{new.code}"
    assert [u.status for u in down.updates] == ["identified", "investigating"]
    affected = down.updates[0].affected_components[0]
    assert (affected.code, affected.old_status, affected.new_status) == (
        api.code,
        "operational",
        "major_outage",
    )
    assert down.updates[0].parts == {"current_impact": "A bad deploy; rolling back."}
    assert [(c.name, c.status) for c in down.components] == [
        ("API", "major_outage"),
        ("Website", "operational"),
    ]
    assert seen.maintenances == ()
    assert seen.indicator.indicator == "critical"
    assert seen.indicator.description == "Major System Outage"


def test_the_report_is_shown_only_once_published_and_only_its_parts(db, clock, rows):
    report = {"apology": "We are sorry.", "summary": "Logins failed.", "draft_notes": "internal"}
    rows.incident("Draft", status="resolved", report=report)
    rows.incident(
        "Published",
        status="postmortem",
        report=report,
        report_published_at=clock.now(),
        ago=timedelta(minutes=30),
    )
    published, draft = snapshot(db, clock).incidents
    assert published.report == {"apology": "We are sorry.", "summary": "Logins failed."}
    assert published.report_published_at == clock.now()
    assert draft.report == {}


def test_maintenances_come_by_window_newest_first_and_an_active_one_shows(db, clock, rows):
    now = clock.now()
    rows.incident(
        "Old upgrade",
        kind="maintenance",
        status="completed",
        impact="maintenance",
        scheduled_for=now - timedelta(days=10),
        scheduled_until=now - timedelta(days=10) + timedelta(hours=2),
    )
    rows.incident(
        "Database upgrade",
        kind="maintenance",
        status="in_progress",
        impact="maintenance",
        scheduled_for=now - timedelta(minutes=30),
        scheduled_until=now + timedelta(hours=1),
        ago=timedelta(days=20),
    )
    rows.incident(
        "Network work",
        kind="maintenance",
        status="scheduled",
        impact="maintenance",
        scheduled_for=now + timedelta(days=2),
        scheduled_until=now + timedelta(days=2, hours=1),
        ago=timedelta(days=30),
    )
    rows.component("API", position=1)

    seen = snapshot(db, clock)

    assert [m.name for m in seen.maintenances] == [
        "Network work",
        "Database upgrade",
        "Old upgrade",
    ]
    assert seen.incidents == ()
    assert [m.name for m in seen.active_maintenances] == ["Database upgrade"]
    assert [m.name for m in seen.upcoming_maintenances] == ["Network work"]
    assert seen.indicator.indicator == "none"
    assert seen.indicator.description == "Service Under Maintenance"


def test_history_is_limited_to_the_newest(db, clock, rows, monkeypatch):
    monkeypatch.setattr(loading, "HISTORY_LIMIT", 2)
    for hours in (3, 1, 2):
        rows.incident(f"{hours} hours ago", status="resolved", ago=timedelta(hours=hours))
    assert [i.name for i in snapshot(db, clock).incidents] == ["1 hours ago", "2 hours ago"]


def test_another_pages_rows_never_show(db, clock, rows):
    partners = rows.other_page()
    group = rows.group("Theirs", position=1, page=partners)
    theirs = rows.component("Partner API", position=1, group=group, page=partners)
    rows.change(theirs, "major_outage", ago=timedelta(hours=2))
    rows.incident("Their outage", page=partners)
    mine = rows.component("API", position=1)

    seen = snapshot(db, clock)

    assert [c.code for c in seen.components] == [mine.code]
    assert seen.groups == ()
    assert seen.incidents == ()
    assert seen.components[0].uptime_days[-1].major_minutes == 0
    assert seen.indicator.description == "All Systems Operational"


# --- Queries -------------------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_page(db, clock, rows, engine):
    def fill(page, count: int) -> None:
        for n in range(count):
            group = rows.group(f"Group {n}", position=n, page=page)
            component = rows.component(f"Component {n}", position=n, group=group, page=page)
            rows.change(component, "partial_outage", ago=timedelta(days=n, hours=3))
            rows.change(component, "operational", ago=timedelta(days=n, hours=1))
            for kind in ("incident", "maintenance"):
                incident = rows.incident(
                    f"{kind} {n}", kind=kind, components=[component], page=page
                )
                rows.update(incident, "investigating", "Looking.", ago=timedelta(minutes=n))
                rows.update(incident, "monitoring", "Watching.", ago=timedelta(minutes=n + 10))

    def queries_to_load(page) -> list[str]:
        db.expire_all()
        db.refresh(page)
        with counting_queries(engine) as statements:
            seen = load_snapshot(db, page, now=clock.now(), base_url=BASE_URL)
        assert all(len(i.updates) == 2 for i in (*seen.incidents, *seen.maintenances))
        return statements

    small, large = rows.other_page("small"), rows.page
    fill(small, 1)
    fill(large, 8)
    assert len(queries_to_load(large)) == len(queries_to_load(small)) == 9


# --- From the database to Statuspage's JSON --------------------------------------------------


def test_a_loaded_page_gives_statuspage_documents_of_the_documented_shape(db, clock, rows):
    platform = rows.group("Platform", position=1)
    api = rows.component("API", position=1, group=platform, status="major_outage")
    rows.component("Website", position=2)
    down = rows.incident("API down", impact="critical", components=[api])
    rows.change(api, "major_outage", ago=timedelta(minutes=30), incident=down)
    rows.update(
        down,
        "investigating",
        "Errors on every call.",
        ago=timedelta(minutes=30),
        affected=[
            {"code": api.code, "name": "API", "old_status": None, "new_status": "major_outage"}
        ],
    )
    rows.incident(
        "Upgrade",
        kind="maintenance",
        status="scheduled",
        impact="maintenance",
        scheduled_for=clock.now() + timedelta(days=1),
        scheduled_until=clock.now() + timedelta(days=1, hours=1),
    )
    seen = snapshot(db, clock)
    for build, schema in (
        (statuspage_json.summary, schemas.SUMMARY),
        (statuspage_json.incidents, schemas.INCIDENTS),
        (statuspage_json.scheduled_maintenances, schemas.SCHEDULED_MAINTENANCES),
    ):
        jsonschema.validate(json.loads(statuspage_json.dumps(build(seen))), schema)
    summary = statuspage_json.summary(seen)
    assert summary["status"] == {"indicator": "critical", "description": "Major System Outage"}
    assert summary["incidents"][0]["components"][0]["id"] == api.code
