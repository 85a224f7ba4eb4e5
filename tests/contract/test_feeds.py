"""The status page's Atom and RSS feeds, as a feed reader (feedparser) reads them.

The page has an incident with three updates, a maintenance with two, and an older incident
with one: six entries, newest first."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from fireline.comms import feeds
from fireline.comms.snapshot import IncidentView, Indicator, PageInfo, PageSnapshot, UpdateView

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
URL = "https://fireline.example.com/status"


def update(code: str, status: str, body: str, minutes_ago: int) -> UpdateView:
    return UpdateView(
        code=code,
        status=status,
        body=body,
        parts={},
        closing=False,
        affected_components=(),
        display_at=NOW - timedelta(minutes=minutes_ago),
        created_at=NOW - timedelta(minutes=minutes_ago),
    )


def incident(code: str, name: str, kind: str, updates: list[UpdateView]) -> IncidentView:
    return IncidentView(
        code=code,
        kind=kind,
        name=name,
        status=updates[0].status,
        impact="minor",
        started_at=NOW - timedelta(days=1),
        monitoring_at=None,
        resolved_at=None,
        scheduled_for=None,
        scheduled_until=None,
        created_at=NOW - timedelta(days=1),
        updated_at=NOW,
        shortlink=f"{URL}/incidents/{code}",
        components=(),
        updates=tuple(updates),
        report={},
        report_published_at=None,
    )


CHECKOUT = incident(
    "inc1",
    "Checkout errors",
    "incident",
    [
        update("u3", "resolved", "Checkout works again.", 5),
        update("u2", "identified", "A bad deploy <b>rolled back</b> & watched.", 40),
        update("u1", "investigating", "We are looking into failed payments.", 60),
    ],
)
UPGRADE = incident(
    "mnt1",
    "Database upgrade",
    "maintenance",
    [
        update("m2", "in_progress", "The upgrade has begun.", 20),
        update("m1", "scheduled", "We will upgrade the database.", 3000),
    ],
)
OLD = incident("inc0", "Slow search", "incident", [update("o1", "resolved", "Fixed.", 2000)])

SNAPSHOT = PageSnapshot(
    page=PageInfo(
        code="p1",
        slug="status",
        name="Example",
        description="",
        homepage_url="",
        support_url="",
        time_zone="Etc/UTC",
        is_default=True,
        version=3,
        updated_at=NOW - timedelta(days=9),
        url=URL,
    ),
    built_at=NOW,
    indicator=Indicator("none", "All Systems Operational"),
    groups=(),
    components=(),
    incidents=(CHECKOUT, OLD),
    maintenances=(UPGRADE,),
)

NEWEST_FIRST = [
    ("Checkout errors — Resolved", "u3"),
    ("Database upgrade — In progress", "m2"),
    ("Checkout errors — Identified", "u2"),
    ("Checkout errors — Investigating", "u1"),
    ("Slow search — Resolved", "o1"),
    ("Database upgrade — Scheduled", "m1"),
]
FORMATS = {"atom": feeds.atom, "rss": feeds.rss}


def read(build, snapshot: PageSnapshot = SNAPSHOT):
    parsed = feedparser.parse(build(snapshot))
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


@pytest.mark.parametrize("kind", FORMATS)
def test_a_reader_finds_every_update_newest_first_with_its_title(kind):
    parsed = read(FORMATS[kind])
    assert parsed.version == ("atom10" if kind == "atom" else "rss20")
    assert parsed.feed.title == "Example status history"
    assert parsed.feed.link == URL
    assert [entry.title for entry in parsed.entries] == [title for title, _ in NEWEST_FIRST]


@pytest.mark.parametrize("kind", FORMATS)
def test_each_entry_links_to_its_incident_and_has_an_id_of_its_own(kind):
    parsed = read(FORMATS[kind])
    for entry, (_, code) in zip(parsed.entries, NEWEST_FIRST, strict=True):
        incident = "mnt1" if code.startswith("m") else ("inc0" if code == "o1" else "inc1")
        assert entry.link == f"{URL}/incidents/{incident}"
        assert entry.id == f"{URL}/incidents/{incident}#update-{code}"


@pytest.mark.parametrize("kind", FORMATS)
def test_entry_dates_and_text_are_the_updates(kind):
    parsed = read(FORMATS[kind])
    identified = parsed.entries[2]
    assert identified.published_parsed[:5] == (2026, 11, 27, 9, 20)
    body = "A bad deploy <b>rolled back</b> & watched."
    if kind == "atom":
        assert identified.content[0].type == "text/plain"
        assert identified.content[0].value == body
    else:
        # RSS descriptions are HTML: the text arrives escaped, so readers show it as written.
        assert identified.summary == html.escape(body, quote=False)


def test_the_atom_feed_is_as_old_as_its_newest_entry():
    parsed = read(feeds.atom)
    assert parsed.feed.id == URL
    assert parsed.feed.updated_parsed[:5] == (2026, 11, 27, 9, 55)


@pytest.mark.parametrize("kind", FORMATS)
def test_rebuilding_an_unchanged_page_gives_the_same_feed(kind):
    build = FORMATS[kind]
    later = replace(SNAPSHOT, built_at=NOW + timedelta(hours=3))
    assert build(later) == build(SNAPSHOT)


@pytest.mark.parametrize("kind", FORMATS)
def test_ids_stay_put_when_a_new_update_arrives(kind):
    build = FORMATS[kind]
    before = {entry.id for entry in read(build).entries}
    newer = replace(
        CHECKOUT, updates=(update("u4", "postmortem", "Report soon.", 1), *CHECKOUT.updates)
    )
    after = read(build, replace(SNAPSHOT, incidents=(newer, OLD)))
    assert after.entries[0].id == f"{URL}/incidents/inc1#update-u4"
    assert {entry.id for entry in after.entries[1:]} == before


@pytest.mark.parametrize("kind", FORMATS)
def test_only_the_newest_hundred_updates_are_listed(kind):
    many = [update(f"x{n:03d}", "investigating", f"Update {n}.", n) for n in range(150)]
    busy = replace(
        SNAPSHOT, incidents=(incident("big", "Long incident", "incident", many),), maintenances=()
    )
    parsed = read(FORMATS[kind], busy)
    assert len(parsed.entries) == feeds.ENTRY_LIMIT == 100
    assert parsed.entries[0].id.endswith("#update-x000")
    assert parsed.entries[-1].id.endswith("#update-x099")


@pytest.mark.parametrize("kind", FORMATS)
def test_a_page_with_no_history_has_an_empty_feed(kind):
    quiet = replace(SNAPSHOT, incidents=(), maintenances=())
    parsed = read(FORMATS[kind], quiet)
    assert parsed.entries == []
    assert parsed.feed.title == "Example status history"


def test_updates_at_the_same_moment_keep_one_order():
    same = [update("b", "identified", "B.", 10), update("a", "identified", "A.", 10)]
    tied = replace(SNAPSHOT, incidents=(incident("tie", "Tie", "incident", same),), maintenances=())
    assert [e.id.rsplit("-", 1)[1] for e in read(feeds.atom, tied).entries] == ["a", "b"]
