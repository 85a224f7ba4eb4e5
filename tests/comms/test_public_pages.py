"""The public status page as a customer reads it: /status, a page by slug, its history by month
and an incident's permalink, rendered from the public cache.

The fake clock reads Monday 5 January 2026, 10:00 UTC. Rows are made with the ORM and announced
with page_changed(); the cache is moved on with refresh_now(), as its thread would."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from fireline.comms.cache import PublicCache
from fireline.comms.codes import new_code
from fireline.comms.indicator import RULE_TEXT
from fireline.comms.public_views import (
    ComponentRow,
    component_rows,
    day_title,
    duration_text,
    history_context,
    percent_text,
    status_words,
    time_tag,
)
from fireline.comms.signals import page_changed
from fireline.comms.snapshot import DayUptime
from fireline.models import (
    Component,
    ComponentGroup,
    ComponentStatusChange,
    PublicIncident,
    PublicUpdate,
    StatusPage,
)


class StatusRows:
    """One-line factories for a page's rows, stamped at the fake clock's time."""

    def __init__(self, db, clock) -> None:
        self.db = db
        self.clock = clock
        self.page = db.scalars(select(StatusPage).where(StatusPage.is_default)).one()

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def _stamps(self) -> dict:
        return {"created_at": self.now, "updated_at": self.now}

    def other_page(self, slug: str = "partners", name: str = "Partner API") -> StatusPage:
        page = StatusPage(code=new_code(), slug=slug, name=name, **self._stamps())
        self.db.add(page)
        self.db.flush()
        return page

    def group(self, name: str, *, position: int = 0, page=None) -> ComponentGroup:
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
        position: int = 0,
        group=None,
        status: str = "operational",
        page=None,
        **fields,
    ) -> Component:
        component = Component(
            code=new_code(),
            page_id=(page or self.page).id,
            group_id=group.id if group else None,
            name=name,
            position=position,
            status=status,
            started_at=self.now - timedelta(days=400),
            **self._stamps(),
            **fields,
        )
        self.db.add(component)
        self.db.flush()
        return component

    def outage(self, component, status: str, *, ago: timedelta, incident=None) -> None:
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
        impact: str = "major",
        kind: str = "incident",
        ago: timedelta = timedelta(hours=1),
        components=(),
        page=None,
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

    def update(self, incident, status: str, body: str, *, ago: timedelta) -> PublicUpdate:
        update = PublicUpdate(
            code=new_code(),
            public_incident_id=incident.id,
            status=status,
            body=body,
            parts={"current_impact": body},
            affected_components=[],
            display_at=self.now - ago,
            created_at=self.now - ago,
        )
        self.db.add(update)
        self.db.flush()
        return update

    def publish(self, page=None) -> None:
        """Announce the change to readers and commit it, as the publishing service does."""
        page_changed(self.db, (page or self.page).id)
        self.db.commit()


@pytest.fixture
def rows(db, clock) -> StatusRows:
    return StatusRows(db, clock)


@pytest.fixture
def cache(app) -> PublicCache:
    return app.state.public_cache


def bars_of(html: str) -> list[str]:
    """The tooltips of each uptime bar on the page, in order."""
    return re.findall(r'<span class="b w-[a-z_]+" title="([^"]*)"></span>', html)


# --- the main page ---------------------------------------------------------------------------


def test_an_outage_shows_in_the_banner_the_components_and_the_active_incident(client, rows, cache):
    api = rows.component("API", position=1)
    web = rows.component("Web app", position=2)
    incident = rows.incident("Checkout errors", components=[api], ago=timedelta(minutes=40))
    rows.outage(api, "major_outage", ago=timedelta(minutes=40), incident=incident)
    rows.update(incident, "investigating", "We are looking into errors.", ago=timedelta(minutes=40))
    rows.update(incident, "identified", "A bad deploy; rolling back.", ago=timedelta(minutes=10))
    rows.publish()

    response = client.get("/status")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert '<h1 id="overall">Partial System Outage</h1>' in html
    assert 'class="banner ind-major"' in html
    # Status in words beside every colour.
    assert re.search(r"API</span> <span class=\"state s-major_outage\">Major outage", html)
    assert re.search(r"Web app</span> <span class=\"state s-operational\">Operational", html)
    # The active incident with both updates, newest first, times in UTC.
    active = html[html.index('id="active-incidents"') : html.index('id="components"')]
    assert "Checkout errors" in active
    assert active.index("A bad deploy") < active.index("We are looking into errors.")
    assert '<time datetime="2026-01-05T09:50:00Z">5 Jan 2026 09:50 UTC</time>' in active
    assert f'href="/status/incidents/{incident.code}"' in active
    assert web.code in html  # offered in the subscribe form


def test_each_showcase_component_has_ninety_daily_bars_and_its_percentage(client, rows):
    api = rows.component("API")
    rows.component("Internal tools", showcase=False, position=2)
    rows.outage(api, "major_outage", ago=timedelta(hours=3))
    rows.outage(api, "operational", ago=timedelta(hours=2, minutes=48))  # 12 minutes down today
    rows.publish()

    html = client.get("/status").text

    bars = bars_of(html)
    assert len(bars) == 90  # the showcase component only
    assert bars[-1].startswith("5 Jan 2026: ")
    assert "major outage 12 min" in bars[-1]
    assert bars[0].startswith("8 Oct 2025: 100.00 % uptime")
    # 12 minutes of 400 days' minutes counted over 90 days (today up to 10:00).
    counted = 89 * 24 * 60 + 10 * 60
    expected = f"{100 * (1 - 12 / counted):.2f} %"
    assert f"API: {expected} uptime over 90 days" in html
    assert '<span class="b w-major_outage"' in html


def test_the_page_publishes_how_it_counts_and_offers_feeds_and_subscriptions(client, rows):
    rows.component("API")
    rows.publish()

    html = client.get("/status").text

    assert "major outage counts fully, partial outage 0.3, degraded and maintenance 0" in html
    assert RULE_TEXT in html
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Service status — Atom" '
        'href="/history.atom">'
    ) in html
    assert 'type="application/rss+xml"' in html
    assert 'href="/history.rss"' in html
    assert 'action="/status/subscribe"' in html
    assert 'name="email"' in html
    assert 'name="components"' in html
    assert '<script src="/static/status.js" defer></script>' in html
    assert "<script>" not in html  # no inline script: the page works without it
    assert 'href="/status/history"' in html


def test_groups_collapse_unless_something_in_them_is_wrong(client, rows):
    quiet = rows.group("Europe", position=1)
    busy = rows.group("America", position=2)
    rows.component("Paris", group=quiet)
    rows.component("Virginia", group=busy, status="degraded_performance")
    rows.component("Hidden until degraded", only_show_if_degraded=True, position=3)
    rows.publish()

    page = client.get("/status").text
    html = page[page.index('id="components"') : page.index('id="subscribe"')]

    assert '<details class="group">\n<summary><span class="name">Europe' in html
    assert '<details class="group" open>\n<summary><span class="name">America' in html
    assert "Degraded performance" in html
    assert "Hidden until degraded" not in html


def test_maintenance_under_way_and_coming_are_listed(client, rows, clock):
    now = clock.now()
    rows.incident(
        "Database upgrade",
        kind="maintenance",
        status="in_progress",
        impact="maintenance",
        scheduled_for=now - timedelta(minutes=30),
        scheduled_until=now + timedelta(minutes=30),
    )
    rows.incident(
        "Network work",
        kind="maintenance",
        status="scheduled",
        impact="maintenance",
        ago=timedelta(0),
        scheduled_for=now + timedelta(days=2),
        scheduled_until=now + timedelta(days=2, hours=2),
    )
    rows.publish()

    html = client.get("/status").text

    section = html[html.index('id="maintenance"') : html.index('id="components"')]
    assert "Database upgrade" in section
    assert "In progress" in section
    assert "Network work" in section
    assert "7 Jan 2026 10:00 UTC" in section
    assert "Service Under Maintenance" in html
    assert "ind-maintenance" in html


def test_a_page_by_slug_links_under_its_own_address(client, rows):
    partners = rows.other_page()
    rows.component("Partner API", page=partners)
    rows.publish(partners)

    html = client.get("/status/partners").text

    assert "<title>Partner API status</title>" in html
    assert 'action="/status/partners/subscribe"' in html
    assert 'href="/status/partners/history.atom"' in html
    assert 'href="/status/partners/history"' in html
    assert 'href="/status/partners/api/v2/summary.json"' in html


def test_an_unknown_page_is_a_friendly_404(client):
    response = client.get("/status/no-such-page")

    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "We could not find that page" in response.text
    assert 'href="/status"' in response.text


def test_the_page_says_it_is_unavailable_when_the_database_is_down_at_first_load(
    app, client, clock
):
    def database_down():
        raise ConnectionError("database down")

    app.state.public_cache = PublicCache(
        open_session=database_down,
        clock=clock,
        base_url="http://fireline.test",
        documents=app.state.public_cache._documents,
    )

    html_response = client.get("/status")
    json_response = client.get("/api/v2/summary.json")

    assert html_response.status_code == 503
    assert "temporarily unavailable" in html_response.text
    assert html_response.headers["cache-control"] == "no-store"
    assert json_response.status_code == 503
    assert json_response.json() == {"error": "Temporarily unavailable"}


# --- history and permalinks ------------------------------------------------------------------


def test_history_lists_the_month_with_durations_and_links_earlier_months(client, rows, clock):
    api = rows.component("API")
    rows.incident(
        "Slow logins",
        status="resolved",
        impact="minor",
        ago=timedelta(hours=5),
        resolved_at=clock.now() - timedelta(hours=2, minutes=45),
        components=[api],
    )
    rows.incident(
        "December outage",
        status="resolved",
        ago=timedelta(days=20),
        resolved_at=clock.now() - timedelta(days=20) + timedelta(minutes=50),
    )
    rows.incident("Still going", ago=timedelta(minutes=5))
    rows.publish()

    html = client.get("/status/history").text

    assert "Incident history: January 2026" in html
    assert "Slow logins" in html
    assert "lasted 2 h 15 min" in html
    assert "Still going" in html
    assert "ongoing" in html
    assert "December outage" not in html
    assert 'href="/status/history?month=2025-12">December 2025</a>' in html

    december = client.get("/status/history", params={"month": "2025-12"})
    assert december.status_code == 200
    assert "December outage" in december.text
    assert "lasted 50 min" in december.text
    assert "Slow logins" not in december.text
    assert 'href="/status/history?month=2026-01">January 2026</a>' in december.text


@pytest.mark.parametrize("month", ["2026-02", "2024-13", "last", "2025-11"])
def test_history_of_a_month_outside_the_record_is_not_found(client, rows, month):
    rows.incident("December outage", status="resolved", ago=timedelta(days=20))
    rows.publish()

    response = client.get("/status/history", params={"month": month})

    assert response.status_code == 404
    assert "We could not find that page" in response.text
    assert 'href="/status"' in response.text


def test_a_page_by_slug_has_its_own_history(client, rows):
    partners = rows.other_page()
    rows.incident("Partner sync delayed", page=partners)
    rows.incident("Default page incident")
    rows.publish(partners)

    html = client.get("/status/partners/history").text

    assert "Partner sync delayed" in html
    assert "Default page incident" not in html


def test_the_permalink_shows_the_whole_story_and_the_published_report(client, rows, clock):
    api = rows.component("API")
    incident = rows.incident(
        "Checkout errors",
        status="resolved",
        impact="critical",
        ago=timedelta(hours=3),
        resolved_at=clock.now() - timedelta(hours=1),
        components=[api],
        report={
            "apology": "We are sorry.",
            "root_cause": "A configuration change.",
            "prevention": "",
        },
        report_published_at=clock.now() - timedelta(minutes=5),
    )
    rows.update(incident, "investigating", "Looking into it.", ago=timedelta(hours=3))
    rows.update(incident, "resolved", "Fixed.", ago=timedelta(hours=1))
    rows.publish()

    response = client.get(f"/status/incidents/{incident.code}")

    assert response.status_code == 200
    html = response.text
    assert "<h1>Checkout errors</h1>" in html
    assert "Critical impact" in html
    assert "<dt>Duration</dt><dd>2 h</dd>" in html
    assert "<dt>Affected components</dt><dd>API</dd>" in html
    assert html.index("Fixed.") < html.index("Looking into it.")  # newest first
    assert "Post-incident report" in html
    assert "We are sorry." in html
    assert "A configuration change." in html
    assert "What will prevent it happening again" not in html  # empty parts are left out


def test_an_unpublished_report_stays_off_the_permalink(client, rows):
    incident = rows.incident("Checkout errors", report={"apology": "Draft apology"})
    rows.publish()

    html = client.get(f"/status/incidents/{incident.code}").text

    assert "Draft apology" not in html
    assert "Post-incident report" not in html
    assert "<dt>Ended</dt><dd>Not yet</dd>" in html


def test_a_maintenance_permalink_shows_its_window_under_its_page(client, rows, clock):
    partners = rows.other_page()
    maintenance = rows.incident(
        "Database upgrade",
        kind="maintenance",
        status="scheduled",
        impact="maintenance",
        page=partners,
        scheduled_for=clock.now() + timedelta(days=1),
        scheduled_until=clock.now() + timedelta(days=1, hours=1),
    )
    rows.publish(partners)

    html = client.get(f"/status/partners/incidents/{maintenance.code}").text

    assert "<dt>Scheduled</dt>" in html
    assert "6 Jan 2026 10:00 UTC" in html
    assert "6 Jan 2026 11:00 UTC" in html
    assert client.get(f"/status/incidents/{maintenance.code}").status_code == 404


def test_an_unknown_incident_is_a_404_that_links_back_to_its_page(client, rows):
    rows.other_page()
    rows.publish()

    response = client.get("/status/partners/incidents/nosuchcode")

    assert response.status_code == 404
    assert 'href="/status/partners"' in response.text
    assert "Partner API" in response.text


# --- the pure pieces -------------------------------------------------------------------------


def test_times_read_in_utc_with_a_machine_readable_instant():
    instant = datetime(2026, 11, 27, 10, 2, 30, tzinfo=None)  # SQLite hands back naive UTC

    assert str(time_tag(instant)) == (
        '<time datetime="2026-11-27T10:02:30Z">27 Nov 2026 10:02 UTC</time>'
    )
    assert str(time_tag(None)) == ""


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=30), "under a minute"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=15), "2 h 15 min"),
        (timedelta(days=3, hours=4, minutes=5), "3 d 4 h"),
    ],
)
def test_durations_read_in_words(delta, text):
    assert duration_text(delta) == text


def test_words_for_statuses_and_percentages():
    assert status_words("partial_outage") == "Partial outage"
    assert status_words("something_new") == "Something new"
    assert percent_text(None) == "no data"
    assert percent_text(99.9949) == "99.99 %"


def test_a_bar_tooltip_names_the_day_its_uptime_its_trouble_and_its_incidents():
    day = DayUptime(
        day=date(2026, 1, 4),
        counted_minutes=1440,
        major_minutes=30,
        partial_minutes=60,
        degraded_minutes=10,
        maintenance_minutes=120,
        uptime=1 - (30 + 0.3 * 60) / 1440,
        worst="major_outage",
        incidents=("Checkout errors", "Slow logins"),
    )
    empty = DayUptime(date(2026, 1, 4), 0, 0, 0, 0, 0, None, None)

    assert day_title(day) == (
        "4 Jan 2026: 96.67 % uptime, major outage 30 min, partial outage 1 h, "
        "degraded performance 10 min, maintenance 2 h, incidents: Checkout errors; Slow logins"
    )
    assert day_title(empty) == "4 Jan 2026: no data"


def test_component_rows_keep_page_order_and_drop_empty_groups(db, rows, cache, clock):
    lonely = rows.group("Nothing visible", position=0)
    rows.component("Shy", group=lonely, only_show_if_degraded=True)
    europe = rows.group("Europe", position=2)
    rows.component("Paris", group=europe, position=1)
    rows.component("API", position=1)
    rows.component("Berlin", group=europe, position=2)
    rows.publish()

    snapshot = cache.snapshot(None)
    assert snapshot is not None
    shown = [
        (row.group.name if row.group else None, [c.name for c in row.components])
        for row in component_rows(snapshot)
    ]

    assert shown == [(None, ["API"]), ("Europe", ["Paris", "Berlin"])]
    assert ComponentRow(None, ()).open is False


def test_history_context_refuses_a_malformed_month(rows, cache):
    snapshot = cache.snapshot(None)
    assert snapshot is not None

    assert history_context(snapshot, "2026-1") is None
    assert history_context(snapshot, None)["month_name"] == "January 2026"
