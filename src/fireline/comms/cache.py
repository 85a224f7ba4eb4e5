"""The public cache: every status page held in memory as ready-to-send bytes.

On an outage day everyone reloads the status page at once, and the database is busy with the
outage. So a web process keeps, per page, the page's PageSnapshot and the documents made from it
(the HTML pages, the Statuspage JSON, the feeds), each with its ETag and HTTP headers built once;
a request is two dictionary lookups (comms/fastpath.py). The database is read when a page
changes, not when someone reads it:

- a background thread polls `status_pages.version` every POLL_SECONDS and rebuilds the pages
  whose version moved (comms/signals.py raises it with every public change); a commit in this
  process wakes the thread at once;
- a copy is rebuilt anyway once MAX_AGE old, and when the UTC day changes, since "today" and
  the uptime bars move with time alone;
- rebuilds happen in that thread, never while a reader waits, except a page's very first load;
- when a rebuild fails (the database is down), the old copy keeps being served and the failure
  is logged: a status page that goes down with the product is no status page.

Documents other than HOT_DOCUMENTS are rendered on first request and kept with their snapshot.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.clock import Clock, as_utc
from fireline.comms import signals
from fireline.comms.loading import load_page, load_snapshot
from fireline.comms.snapshot import PageSnapshot
from fireline.models import StatusPage

POLL_SECONDS = 0.3  # with the rebuild, a change reaches readers well within a second
MAX_AGE = timedelta(seconds=60)
# Rendered with every rebuild, in the background: the documents nearly every reader asks for.
HOT_DOCUMENTS = ("page", "api/summary")

# What browsers and CDNs may do with a copy:
# - max-age=10: reuse it for 10 s. In a spike a CDN asks us at most once per 10 s per URL, and
#   a reader still sees an update within seconds;
# - stale-while-revalidate=30: for 30 s more, show the old copy while fetching a new one in the
#   background, so nobody waits for us;
# - stale-if-error=86400: while we answer with errors or not at all, keep showing a copy up to a
#   day old; an old status page is better than none during the outage it describes.
CACHE_CONTROL = "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400"
# A missing page may exist soon (a new page, a new incident): cached briefly.
NOT_FOUND_CACHE_CONTROL = "public, max-age=10"
UNAVAILABLE_CACHE_CONTROL = "no-store"

HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
# Below this, compressing saves too little to be worth a second copy and a Vary header.
GZIP_MIN_BYTES = 1024

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Rendered:
    """One document as sent: the body (and its gzip copy when worth it) with the header lists
    for a full answer, a gzip answer and a 304, built once."""

    status: int
    body: bytes
    etag: str
    media_type: str
    gzip_body: bytes | None
    headers: Headers
    gzip_headers: Headers
    not_modified_headers: Headers
    # The ETags If-None-Match may name to get a 304: both encodings of the same content.
    etags: frozenset[bytes] = field(default_factory=frozenset)


def rendered(
    body: bytes,
    media_type: str,
    *,
    status: int = 200,
    cors: bool = False,
    cache_control: str = CACHE_CONTROL,
) -> Rendered:
    """`body` ready to send: a strong ETag from its hash, and its gzip copy when that helps."""
    digest = hashlib.blake2b(body, digest_size=12).hexdigest()
    etag = f'"{digest}"'
    gzip_body = (
        gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
    )
    common: Headers = [(b"cache-control", cache_control.encode())]
    if gzip_body is not None:
        common.append((b"vary", b"Accept-Encoding"))
    if cors:
        common.append((b"access-control-allow-origin", b"*"))
    etag_header = [(b"etag", etag.encode())] if status == 200 else []
    gzip_etag = f'"{digest}-gz"'
    return Rendered(
        status=status,
        body=body,
        etag=etag,
        media_type=media_type,
        gzip_body=gzip_body,
        headers=[
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(body)).encode()),
            *etag_header,
            *common,
        ],
        gzip_headers=[
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(gzip_body or b"")).encode()),
            (b"content-encoding", b"gzip"),
            (b"etag", gzip_etag.encode()),
            *common,
        ],
        not_modified_headers=[(b"etag", etag.encode()), *common],
        etags=frozenset({etag.encode(), gzip_etag.encode()}) if status == 200 else frozenset(),
    )


class Documents(Protocol):
    """What the cache renders with (comms/public_views.py)."""

    def render(self, snapshot: PageSnapshot, name: str) -> Rendered | None:
        """The document `name` of the page ("page", "history/2026-01", "incident/<code>",
        "api/summary", "atom", …), or None when the page has no such document."""
        ...

    def not_found(self, snapshot: PageSnapshot | None, name: str) -> Rendered:
        """The 404 for `name` on the page (None: no such page), in the document's format."""
        ...

    def unavailable(self, name: str) -> Rendered:
        """The 503 when a page cannot be read and no copy of it is held."""
        ...


@dataclass
class _Copy:
    """One page as held: its snapshot and the documents rendered from it so far."""

    snapshot: PageSnapshot
    loaded_at: datetime
    documents: dict[str, Rendered] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.snapshot.page.slug


class PageUnavailable(Exception):
    """The database could not be read for a page this process holds no copy of."""


class PublicCache:
    """The status pages of this process, by slug, and the default page under None too."""

    def __init__(
        self,
        *,
        open_session: Callable[[], Session],
        clock: Clock,
        base_url: str,
        documents: Documents,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._open_session = open_session
        self._clock = clock
        self._base_url = base_url.rstrip("/")
        self._documents = documents
        self._poll_seconds = poll_seconds
        self._copies: dict[str | None, _Copy] = {}
        # From the last poll: each page's version, and the default page's slug. None before it.
        self._versions: dict[str, int] | None = None
        self._default_slug: str | None = None
        self._missing: dict[str, Rendered] = {}  # the 404s of pages that do not exist
        self._lock = threading.RLock()  # one rebuild or first load at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # What is failing: "poll" and the slugs of pages that fail to rebuild. Each failure is
        # logged when it starts and when it ends, not at every tick in between.
        self._failing: set[str] = set()

    # --- reading ------------------------------------------------------------------------------

    def get(self, key: str | None, name: str) -> Rendered | None:
        """The document if it is ready: no I/O, no rendering. None sends the caller to fetch()."""
        copy = self._copies.get(key)
        if copy is None:
            return None
        return copy.documents.get(name)

    def fetch(self, key: str | None, name: str) -> Rendered:
        """The document, loading the page (its first request) and rendering as needed; a 404
        for a page or document that does not exist, a 503 when the page cannot be read.
        Blocks on the database: call it from a worker thread."""
        try:
            copy = self._copies.get(key) or self._first_load(key)
        except PageUnavailable:
            return self._documents.unavailable(name)
        if copy is None:
            return self._not_found(None, name)
        found = copy.documents.get(name)
        if found is None:
            made = self._documents.render(copy.snapshot, name)
            if made is None:
                return self._not_found(copy, name)
            # Kept with its snapshot; names that reach here are documents the page has.
            copy.documents[name] = found = made
        return found

    def snapshot(self, key: str | None) -> PageSnapshot | None:
        """The page's snapshot as held (loading it on first use); None for no such page."""
        try:
            copy = self._copies.get(key) or self._first_load(key)
        except PageUnavailable:
            return None
        return copy.snapshot if copy is not None else None

    def _not_found(self, copy: _Copy | None, name: str) -> Rendered:
        kind = "404.json" if name.startswith("api/") else "404"
        held = self._missing if copy is None else copy.documents
        found = held.get(kind)
        if found is None:
            found = self._documents.not_found(copy.snapshot if copy else None, name)
            held[kind] = found
        return found

    def _first_load(self, key: str | None) -> _Copy | None:
        with self._lock:
            copy = self._copies.get(key)
            if copy is not None:
                return copy
            versions = self._poll() if self._versions is None else self._versions
            slug = self._default_slug if key is None else key
            if slug is None or slug not in versions:
                return None
            held = self._copies.get(slug)
            if held is None:
                held = self._build(slug)
            self._install(held)
            return held

    # --- refreshing ---------------------------------------------------------------------------

    def refresh_now(self) -> None:
        """Poll the page versions once and rebuild every held page that changed, whose UTC day
        passed or that is MAX_AGE old; forget pages that are gone. What the background thread
        does at each tick; tests call it to move the cache deterministically."""
        with self._lock:
            try:
                versions = self._poll()
            except PageUnavailable:
                return
            self._forget_gone(versions)
            now = as_utc(self._clock.now())
            # The default page is held under its slug and None: rebuild it once.
            for copy in {id(copy): copy for copy in self._copies.values()}.values():
                if self._is_stale(copy, now, versions[copy.slug]):
                    self._rebuild(copy)

    def _poll(self) -> dict[str, int]:
        """Read every page's slug, version and default flag; PageUnavailable when it fails."""
        try:
            with self._open_session() as session:
                rows = session.execute(
                    select(StatusPage.slug, StatusPage.version, StatusPage.is_default)
                ).all()
        except Exception as error:
            self._report_failure("poll", "status_page_poll_failed", error)
            raise PageUnavailable from error
        self._report_recovery("poll")
        self._versions = {slug: version for slug, version, _ in rows}
        self._default_slug = next((slug for slug, _, is_default in rows if is_default), None)
        return self._versions

    def _forget_gone(self, versions: dict[str, int]) -> None:
        for key, copy in list(self._copies.items()):
            if copy.slug not in versions:
                del self._copies[key]
        default = self._copies.get(None)
        if default is not None and default.slug != self._default_slug:
            # Another page became the default: serve it under None if held, else load it.
            del self._copies[None]
            if self._default_slug in self._copies:
                self._copies[None] = self._copies[self._default_slug]

    def _is_stale(self, copy: _Copy, now: datetime, version: int) -> bool:
        return (
            copy.snapshot.page.version != version
            or copy.loaded_at.date() != now.date()
            or now - copy.loaded_at >= MAX_AGE
        )

    def _rebuild(self, copy: _Copy) -> None:
        try:
            fresh = self._build(copy.slug)
        except PageUnavailable:
            return  # the old copy stays (stale-if-error); _build logged why
        self._install(fresh)

    def _build(self, slug: str) -> _Copy:
        """A fresh copy of the page, with HOT_DOCUMENTS rendered; PageUnavailable (logged) when
        the database or the rendering fails."""
        try:
            copy = self._load(slug)
        except Exception as error:
            self._report_failure(slug, "status_page_rebuild_failed", error)
            raise PageUnavailable from error
        self._report_recovery(slug)
        return copy

    def _load(self, slug: str) -> _Copy:
        now = as_utc(self._clock.now())
        with self._open_session() as session:
            page = load_page(session, slug)
            if page is None:
                raise LookupError(f"status page {slug!r} is gone")
            snapshot = load_snapshot(session, page, now=now, base_url=self._base_url)
        copy = _Copy(snapshot=snapshot, loaded_at=now)
        for name in HOT_DOCUMENTS:
            made = self._documents.render(snapshot, name)
            if made is not None:
                copy.documents[name] = made
        return copy

    def _install(self, copy: _Copy) -> None:
        self._copies[copy.slug] = copy
        if copy.slug == self._default_slug:
            self._copies[None] = copy

    def _report_failure(self, what: str, event: str, error: Exception) -> None:
        if what not in self._failing:
            _log().error(event, what=what, error=repr(error), exc_info=error)
            self._failing.add(what)

    def _report_recovery(self, what: str) -> None:
        if what in self._failing:
            # Logged as loudly as the failure was, so whoever saw that sees it end.
            _log().warning("status_page_cache_recovered", what=what)
            self._failing.discard(what)

    # --- the background thread ----------------------------------------------------------------

    def start(self) -> None:
        """Refresh in a daemon thread every poll_seconds, and at once after a commit in this
        process changed a page."""
        if self._thread is not None:
            return
        self._stop.clear()
        signals.listen(self._page_changed)
        self._thread = threading.Thread(target=self._run, name="fireline-public-cache", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (waiting up to `timeout` for a rebuild in hand)."""
        signals.unlisten(self._page_changed)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _page_changed(self, _page_ids: frozenset[int]) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh_now()
            except Exception:  # noqa: BLE001 (a bug must not end the thread: pages would freeze)
                _log().exception("status_page_refresh_crashed")
            self._wake.wait(self._poll_seconds)
            self._wake.clear()


def _log() -> Any:
    """A logger bound now: these lines are rare, and a fresh one follows the logging set-up of
    the moment (a logger kept from start-up would keep the set-up it first logged with)."""
    return structlog.get_logger()
