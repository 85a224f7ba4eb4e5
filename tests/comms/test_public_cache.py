"""The public cache: a page is read from the database once per change, the old copy stays up
when the database does not, and "today" moves on by itself.

Documents here are rendered by a stand-in that writes the page's name, version and build time,
so each test sees exactly which copy the cache serves. The fake clock reads Monday 5 January
2026, 10:00 UTC; refresh_now() is what the cache's thread does at each tick."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from structlog.testing import capture_logs

from fireline.comms import signals
from fireline.comms.cache import (
    HTML,
    JSON,
    MAX_AGE,
    PublicCache,
    Rendered,
    rendered,
)
from fireline.models import StatusPage

from .test_public_pages import StatusRows


class Documents:
    """Renders "page" and "api/summary" as one line naming the copy; counts renders."""

    def __init__(self) -> None:
        self.renders: list[tuple[str, str]] = []

    def render(self, snapshot, name: str) -> Rendered | None:
        if name not in {"page", "api/summary", "history"}:
            return None
        self.renders.append((snapshot.page.slug, name))
        line = (
            f"{name}: {snapshot.page.name} v{snapshot.page.version} at {snapshot.built_at:%H:%M:%S}"
        )
        return rendered(line.encode(), HTML)

    def not_found(self, snapshot, name: str) -> Rendered:
        where = snapshot.page.slug if snapshot else "nowhere"
        return rendered(
            f"404 {where}".encode(), JSON if name.startswith("api/") else HTML, status=404
        )

    def unavailable(self, _name: str) -> Rendered:
        return rendered(b"503", HTML, status=503)


class Database:
    """Opens sessions until told the database is down."""

    def __init__(self, session_factory) -> None:
        self.session_factory = session_factory
        self.down = False
        self.opened = 0

    def open(self):
        self.opened += 1
        if self.down:
            raise ConnectionError("could not connect to server")
        return self.session_factory()


@pytest.fixture
def store(session_factory) -> Database:
    return Database(session_factory)


@pytest.fixture
def documents() -> Documents:
    return Documents()


@pytest.fixture
def cache(store, documents, clock) -> PublicCache:
    return PublicCache(
        open_session=store.open,
        clock=clock,
        base_url="https://status.example.com/",
        documents=documents,
    )


@pytest.fixture
def rows(db, clock) -> StatusRows:
    return StatusRows(db, clock)


def body(cache: PublicCache, key: str | None, name: str = "page") -> str:
    return cache.fetch(key, name).body.decode()


def rename(rows: StatusRows, name: str, page=None) -> None:
    (page or rows.page).name = name
    rows.publish(page)


# --- loading and holding ---------------------------------------------------------------------


def test_a_page_is_loaded_on_its_first_request_with_its_hot_documents(cache, documents):
    assert cache.get(None, "page") is None  # nothing held before the first request

    first = cache.fetch(None, "page")

    assert first.status == 200
    assert first.body.decode() == "page: Service status v1 at 10:00:00"
    assert documents.renders == [("status", "page"), ("status", "api/summary")]
    # Held under None and under its slug, the same copy.
    assert cache.get(None, "page") is first
    assert cache.get("status", "page") is first
    assert cache.get(None, "api/summary") is not None


def test_the_default_page_asked_for_by_slug_first_is_loaded_once(cache, store):
    by_slug = cache.fetch("status", "page")
    opened = store.opened

    assert cache.fetch(None, "page") is by_slug
    assert store.opened == opened


def test_other_documents_are_rendered_once_on_first_request(cache, documents):
    cache.fetch(None, "page")

    history = cache.fetch(None, "history")
    again = cache.fetch(None, "history")

    assert again is history
    assert documents.renders.count(("status", "history")) == 1


def test_the_database_is_not_read_again_while_nothing_changes(cache, store):
    cache.fetch(None, "page")
    opened = store.opened

    for _ in range(5):
        cache.fetch(None, "page")
        cache.fetch("status", "api/summary")

    assert store.opened == opened


def test_a_refresh_without_changes_keeps_the_same_copy(cache, store):
    first = cache.fetch(None, "page")

    cache.refresh_now()

    assert cache.get(None, "page") is first
    assert store.opened == 3  # the first poll and load, then one poll


def test_a_change_is_served_once_the_cache_refreshes(cache, rows):
    cache.fetch(None, "page")
    rename(rows, "Acme status")

    assert body(cache, None) == "page: Service status v1 at 10:00:00"  # not yet

    cache.refresh_now()

    assert body(cache, None) == "page: Acme status v2 at 10:00:00"
    assert body(cache, "status") == "page: Acme status v2 at 10:00:00"


def test_a_refresh_rebuilds_only_the_pages_that_changed(cache, rows, documents):
    partners = rows.other_page()
    rows.db.commit()
    cache.refresh_now()  # learns of the new page
    cache.fetch(None, "page")
    cache.fetch("partners", "page")
    documents.renders.clear()

    rename(rows, "Partners now", partners)
    cache.refresh_now()

    assert documents.renders == [("partners", "page"), ("partners", "api/summary")]
    assert body(cache, "partners") == "page: Partners now v2 at 10:00:00"


# --- time moves on ---------------------------------------------------------------------------


def test_a_copy_is_rebuilt_when_the_utc_day_changes(cache, clock):
    clock.set(datetime(2026, 1, 5, 23, 59, 30, tzinfo=UTC))
    cache.fetch(None, "page")

    clock.advance(seconds=20)
    cache.refresh_now()
    assert body(cache, None).endswith("at 23:59:30")  # same day, 20 s old: kept

    clock.advance(seconds=20)  # 00:00:10 the next day, only 40 s after the build
    cache.refresh_now()

    assert body(cache, None) == "page: Service status v1 at 00:00:10"


def test_a_copy_is_rebuilt_once_a_minute_old_anyway(cache, clock):
    cache.fetch(None, "page")

    clock.advance(MAX_AGE - timedelta(seconds=1))
    cache.refresh_now()
    assert body(cache, None).endswith("at 10:00:00")

    clock.advance(seconds=1)
    cache.refresh_now()

    assert body(cache, None) == "page: Service status v1 at 10:01:00"


# --- when the database fails -----------------------------------------------------------------


def test_the_old_copy_is_served_while_the_database_is_down_and_the_failure_logged(
    cache, store, rows
):
    cache.fetch(None, "page")
    rename(rows, "Acme status")
    store.down = True

    with capture_logs() as logs:
        cache.refresh_now()
        cache.refresh_now()

    assert body(cache, None) == "page: Service status v1 at 10:00:00"
    failures = [entry for entry in logs if entry["event"] == "status_page_poll_failed"]
    assert len(failures) == 1  # once, not at every poll
    assert failures[0]["log_level"] == "error"
    assert "could not connect" in failures[0]["error"]

    store.down = False
    with capture_logs() as logs:
        cache.refresh_now()

    assert body(cache, None) == "page: Acme status v2 at 10:00:00"
    assert [(entry["event"], entry["what"]) for entry in logs] == [
        ("status_page_cache_recovered", "poll")
    ]


def test_a_failed_rebuild_keeps_the_old_copy(cache, rows, documents, monkeypatch):
    cache.fetch(None, "page")
    rename(rows, "Acme status")

    def broken(snapshot, name):
        raise RuntimeError("template bug")

    monkeypatch.setattr(documents, "render", broken)
    with capture_logs() as logs:
        cache.refresh_now()

    assert body(cache, None) == "page: Service status v1 at 10:00:00"
    assert [(entry["event"], entry["what"]) for entry in logs] == [
        ("status_page_rebuild_failed", "status")
    ]

    rename(rows, "Acme status, again")
    with capture_logs() as logs:
        cache.refresh_now()  # still failing: the poll works, the page does not

    assert logs == []


def test_with_the_database_down_at_first_request_the_reader_gets_a_503(cache, store):
    store.down = True

    with capture_logs():
        answered = cache.fetch(None, "page")

    assert answered.status == 503
    assert answered.body == b"503"
    assert cache.snapshot(None) is None


def test_a_page_that_fails_to_load_at_first_request_is_a_503(cache, documents, monkeypatch):
    cache.refresh_now()
    monkeypatch.setattr(documents, "render", lambda _snapshot, _name: 1 / 0)

    with capture_logs() as logs:
        assert cache.fetch("status", "page").status == 503

    assert logs[0]["event"] == "status_page_rebuild_failed"


# --- pages come and go -----------------------------------------------------------------------


def test_unknown_pages_and_documents_are_404s_without_reading_the_database(cache, store):
    cache.fetch(None, "page")
    opened = store.opened

    missing = cache.fetch("nope", "page")
    assert cache.fetch("nope-again", "page") is missing  # one 404, held
    no_document = cache.fetch(None, "incident/unknown")
    no_json = cache.fetch("status", "api/unknown")

    assert missing.status == 404
    assert missing.body == b"404 nowhere"
    assert missing.etags == frozenset()
    assert no_document.body == b"404 status"
    assert no_json.media_type == JSON
    assert cache.fetch("nope", "api/summary").media_type == JSON
    assert store.opened == opened
    assert cache.snapshot("nope") is None


def test_a_new_page_is_found_after_the_next_poll(cache, rows):
    cache.fetch(None, "page")
    rows.other_page()
    rows.db.commit()
    assert cache.fetch("partners", "page").status == 404

    cache.refresh_now()

    assert body(cache, "partners") == "page: Partner API v1 at 10:00:00"


def test_a_deleted_page_is_forgotten(cache, rows):
    partners = rows.other_page()
    rows.db.commit()
    cache.fetch("partners", "page")

    rows.db.delete(partners)
    rows.db.commit()
    cache.refresh_now()

    assert cache.get("partners", "page") is None
    assert cache.fetch("partners", "page").status == 404


def test_when_another_page_becomes_the_default_it_is_served_at_the_default_address(cache, rows):
    partners = rows.other_page()
    rows.db.commit()
    cache.refresh_now()
    cache.fetch(None, "page")
    cache.fetch("partners", "page")

    make_default(rows, partners)
    cache.refresh_now()

    assert body(cache, None).startswith("page: Partner API")
    assert body(cache, "status").startswith("page: Service status")


def test_a_new_default_not_held_yet_is_loaded_at_its_first_request(cache, rows):
    partners = rows.other_page()
    rows.db.commit()
    cache.fetch(None, "page")

    make_default(rows, partners)
    cache.refresh_now()

    assert cache.get(None, "page") is None
    assert body(cache, None).startswith("page: Partner API")


def make_default(rows: StatusRows, page: StatusPage) -> None:
    rows.db.execute(update(StatusPage).values(is_default=False))
    rows.db.execute(update(StatusPage).where(StatusPage.id == page.id).values(is_default=True))
    signals.page_changed(rows.db, page.id)
    rows.db.commit()


def test_with_no_pages_at_all_the_default_address_is_a_404(cache, rows):
    rows.db.delete(rows.page)
    rows.db.commit()

    assert cache.fetch(None, "page").status == 404


# --- the background thread -------------------------------------------------------------------


class Ticks:
    """Stands in for the database in the thread test: each tick refreshes, then fails fast."""

    def __init__(self) -> None:
        self.count = 0
        self.ticked = threading.Condition()

    def open(self):
        with self.ticked:
            self.count += 1
            self.ticked.notify_all()
        raise ConnectionError("no database in this test")

    def wait_for(self, count: int) -> bool:
        with self.ticked:
            return self.ticked.wait_for(lambda: self.count >= count, timeout=10)


def test_the_thread_refreshes_at_once_when_this_process_commits_a_change(
    db, documents, clock, rows
):
    ticks = Ticks()
    cache = PublicCache(
        open_session=ticks.open,
        clock=clock,
        base_url="https://status.example.com",
        documents=documents,
        poll_seconds=3600,  # the next timed poll is far away: only a commit can wake it
    )
    with capture_logs():
        cache.start()
        cache.start()  # starting twice starts one thread
        assert ticks.wait_for(1)  # the first refresh, at start
        assert cache.is_running

        rows.publish()  # page_changed + commit: the listener wakes the thread

        assert ticks.wait_for(2)
        cache.stop()
    assert not cache.is_running
    count = ticks.count

    rows.publish()  # no longer listening

    assert ticks.count == count
    cache.stop()  # stopping twice is harmless
