"""Status-page reads answered from the public cache's bytes, ahead of routing.

An outage-day spike is thousands of GETs of the same few URLs. PublicFastPath answers a GET or
HEAD whose document the cache holds ready: find the document, compare If-None-Match, send the
prebuilt headers and bytes — no routing, no database, no template. Anything else (a page's
first load, a document not rendered yet, a 404, every other URL) passes on to the application,
where the routes of comms/public_views.py answer through the same answer() below, so both
paths send the same bytes and headers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from fireline.comms.cache import Headers, PublicCache, Rendered
from fireline.observability import Metrics


@dataclass(frozen=True)
class RouteLabel:
    """What the request metrics label a fast-path answer with (they read `scope["route"].path`)."""

    path: str


# Statuspage v2 file → the cache's document name.
JSON_DOCUMENTS = {
    "summary.json": "api/summary",
    "status.json": "api/status",
    "components.json": "api/components",
    "incidents.json": "api/incidents",
    "incidents/unresolved.json": "api/incidents/unresolved",
    "scheduled-maintenances.json": "api/scheduled-maintenances",
    "scheduled-maintenances/upcoming.json": "api/scheduled-maintenances/upcoming",
    "scheduled-maintenances/active.json": "api/scheduled-maintenances/active",
}
FEEDS = {"history.atom": "atom", "history.rss": "rss"}


@dataclass(frozen=True)
class Target:
    """A public URL resolved: the page (a slug, or None for the default) and the document."""

    key: str | None
    name: str
    route: RouteLabel


def _default_targets() -> dict[str, Target]:
    targets = {
        "/status": Target(None, "page", RouteLabel("/status")),
        "/status/history": Target(None, "history", RouteLabel("/status/history")),
    }
    for file, name in JSON_DOCUMENTS.items():
        path = f"/api/v2/{file}"
        targets[path] = Target(None, name, RouteLabel(path))
    for file, name in FEEDS.items():
        targets[f"/{file}"] = Target(None, name, RouteLabel(f"/{file}"))
    return targets


_DEFAULT = _default_targets()
_INCIDENT = RouteLabel("/status/incidents/{code}")
_SLUG_INCIDENT = RouteLabel("/status/{slug}/incidents/{code}")
# What follows /status/{slug}/ → the document and the route label.
_UNDER_SLUG = {
    "": ("page", RouteLabel("/status/{slug}")),
    "history": ("history", RouteLabel("/status/{slug}/history")),
    **{file: (name, RouteLabel(f"/status/{{slug}}/{file}")) for file, name in FEEDS.items()},
    **{
        f"api/v2/{file}": (name, RouteLabel(f"/status/{{slug}}/api/v2/{file}"))
        for file, name in JSON_DOCUMENTS.items()
    },
}


def history_document(month: str | None) -> str:
    """The cache's name for the history page of `month` (YYYY-MM; None: the current month)."""
    return f"history/{month}" if month else "history"


def resolve(path: str, query_string: bytes = b"") -> Target | None:
    """The page and document a public URL asks for; None for any other URL."""
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    target = _DEFAULT.get(path)
    if target is None:
        target = _resolve_slug(path)
    if target is not None and target.name == "history" and query_string:
        months = parse_qs(query_string.decode("latin-1")).get("month")
        if months:
            target = Target(target.key, history_document(months[0]), target.route)
    return target


def _resolve_slug(path: str) -> Target | None:
    """/status/incidents/{code}, or /status/{slug} and the documents under it."""
    if not path.startswith("/status/"):
        return None
    parts = path[len("/status/") :].split("/")
    slug = parts[0]
    if len(parts) == 2 and slug == "incidents":
        return Target(None, f"incident/{parts[1]}", _INCIDENT) if parts[1] else None
    if not slug:
        return None
    rest = "/".join(parts[1:])
    fixed = _UNDER_SLUG.get(rest)
    if fixed is not None:
        return Target(slug, fixed[0], fixed[1])
    if len(parts) == 3 and parts[1] == "incidents" and parts[2]:
        return Target(slug, f"incident/{parts[2]}", _SLUG_INCIDENT)
    return None


def answer(found: Rendered, request_headers: Headers, *, head: bool) -> tuple[int, Headers, bytes]:
    """Status, headers and body for `found`: 304 when If-None-Match names its ETag (either
    encoding's, or *), the gzip copy when the reader accepts gzip, no body for HEAD."""
    if_none_match: bytes | None = None
    accepts_gzip = False
    for name, value in request_headers:
        if name == b"if-none-match":
            if_none_match = value
        elif name == b"accept-encoding":
            accepts_gzip = b"gzip" in value
    if if_none_match is not None and found.etags and _matches(if_none_match, found.etags):
        return 304, found.not_modified_headers, b""
    if accepts_gzip and found.gzip_body is not None:
        headers, body = found.gzip_headers, found.gzip_body
    else:
        headers, body = found.headers, found.body
    return found.status, headers, b"" if head else body


def _matches(if_none_match: bytes, etags: frozenset[bytes]) -> bool:
    if if_none_match in etags:  # the usual case: the one ETag the reader was sent
        return True
    for candidate in if_none_match.split(b","):
        tag = candidate.strip()
        # If-None-Match compares weakly (RFC 9110 §13.1.2): W/"x" matches "x".
        if tag == b"*" or tag.removeprefix(b"W/") in etags:
            return True
    return False


class PublicFastPath:
    """Answers status-page GETs and HEADs whose document the public cache holds ready.

    As a middleware inside the request metrics it only answers. In front of the whole
    application (app.py, where it runs before FastAPI's own per-request work, which costs more
    than the answer itself), it is given `metrics` and counts its answers in the same request
    metrics; they carry no X-Request-Id, being the same bytes for every reader."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics
        # (method, route, status) -> the metrics' children, looked up once.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"GET", "HEAD"}:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        target = resolve(scope["path"], scope["query_string"])
        cache: PublicCache | None = getattr(scope["app"].state, "public_cache", None)
        found = cache.get(target.key, target.name) if target and cache else None
        if target is None or found is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = target.route  # the request metrics' route label
        status, headers, body = answer(found, scope["headers"], head=scope["method"] == "HEAD")
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        if self.metrics is not None:
            self._count(scope["method"], target.route.path, status, time.perf_counter() - started)

    def _count(self, method: str, route: str, status: int, elapsed: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            assert self.metrics is not None  # noqa: S101 - only called with metrics
            children = self._children[key] = (
                self.metrics.requests.labels(method, route, str(status)),
                self.metrics.latency.labels(method, route),
            )
        counter, histogram = children
        counter.inc()
        histogram.observe(elapsed)
