"""The public status pages, their Statuspage-compatible JSON and their feeds.

Everything here is made from a PageSnapshot (comms/snapshot.py) and served from the public
cache (comms/cache.py): PublicDocuments renders the documents the cache holds, and the routes
below answer whatever comms/fastpath.py did not (a page's first load, a document not rendered
yet, the 404s), through the same cache and the same answer(), so the application also works
without the fast path and the JSON routes appear in the OpenAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from fireline.clock import as_utc
from fireline.comms import feeds, statuspage_json
from fireline.comms.cache import (
    ATOM,
    HTML,
    JSON,
    NOT_FOUND_CACHE_CONTROL,
    RSS,
    UNAVAILABLE_CACHE_CONTROL,
    PublicCache,
    Rendered,
    rendered,
)
from fireline.comms.fastpath import FEEDS, JSON_DOCUMENTS, answer, history_document
from fireline.comms.indicator import RULE_TEXT
from fireline.comms.snapshot import ComponentView, DayUptime, GroupView, IncidentView, PageSnapshot
from fireline.web.templating import TEMPLATES

router = APIRouter(tags=["status page"])

UPTIME_FORMULA = (
    "Uptime: major outage counts fully, partial outage 0.3, degraded and maintenance 0. A day's "
    "uptime is 100 % less its downtime, where downtime = (major outage minutes + 0.3 * partial "
    "outage minutes) / the minutes counted that day (the minutes the component existed, up to "
    "now for today). The 90-day figure applies the same formula to the 90 days together."
)
STATUS_WORDS = {
    "operational": "Operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "under_maintenance": "Under maintenance",
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
    "postmortem": "Postmortem",
    "scheduled": "Scheduled",
    "in_progress": "In progress",
    "verifying": "Verifying",
    "completed": "Completed",
}
IMPACT_WORDS = {
    "none": "No impact",
    "minor": "Minor impact",
    "major": "Major impact",
    "critical": "Critical impact",
    "maintenance": "Maintenance",
}
REPORT_PARTS = (
    ("apology", "Our apology"),
    ("summary", "Summary"),
    ("impact", "Impact"),
    ("root_cause", "Root cause"),
    ("what_was_done", "What we did"),
    ("prevention", "What will prevent it happening again"),
)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


# --- formatting ------------------------------------------------------------------------------


def utc_text(instant: datetime) -> str:
    """ "27 Nov 2026 10:02 UTC"."""
    utc = as_utc(instant)
    return f"{utc.day} {utc:%b %Y %H:%M} UTC"


def time_tag(instant: datetime | None) -> Markup:
    """A <time> in UTC; status.js adds the reader's local time beside it."""
    if instant is None:
        return Markup("")
    iso = as_utc(instant).isoformat().replace("+00:00", "Z")
    # Safe: the instant's own ISO and strftime text.
    return Markup(f'<time datetime="{iso}">{utc_text(instant)}</time>')  # noqa: S704


def duration_text(delta: timedelta) -> str:
    """ "2 h 15 min", "45 min", "3 d 4 h"; under a minute reads "under a minute"."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def percent_text(value: float | None) -> str:
    return "no data" if value is None else f"{value:.2f} %"


def status_words(status: str) -> str:
    return STATUS_WORDS.get(status, status.replace("_", " ").capitalize())


def day_title(day: DayUptime) -> str:
    """A bar's tooltip: the date, the uptime, the minutes of trouble and the incidents."""
    when = f"{day.day.day} {day.day:%b %Y}"
    if day.uptime is None:
        return f"{when}: no data"
    parts = [f"{when}: {percent_text(day.uptime * 100)} uptime"]
    for minutes, label in (
        (day.major_minutes, "major outage"),
        (day.partial_minutes, "partial outage"),
        (day.degraded_minutes, "degraded performance"),
        (day.maintenance_minutes, "maintenance"),
    ):
        if minutes:
            parts.append(f"{label} {duration_text(timedelta(minutes=minutes))}")
    if day.incidents:
        parts.append("incidents: " + "; ".join(day.incidents))
    return ", ".join(parts)


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        time=time_tag,
        status_words=status_words,
        impact_words=lambda impact: IMPACT_WORDS.get(impact, impact),
        percent=percent_text,
        day_title=day_title,
    )
    return environment


_templates = _environment()


# --- what each page shows --------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentRow:
    """A line of the components list: a group with its visible components, or one component."""

    group: GroupView | None
    components: tuple[ComponentView, ...]

    @property
    def open(self) -> bool:
        """A group opens by itself when one of its components is not operational."""
        return any(component.status != "operational" for component in self.components)


def component_rows(snapshot: PageSnapshot) -> list[ComponentRow]:
    """The components in page order, grouped; those shown only when degraded are left out
    while operational, and groups left empty are dropped."""
    groups = {group.code: group for group in snapshot.groups}
    rows: list[ComponentRow] = []
    by_group: dict[str, list[ComponentView]] = {}
    for component in snapshot.components:
        if component.only_show_if_degraded and component.status == "operational":
            continue
        group = groups.get(component.group_code or "")
        if group is None:
            rows.append(ComponentRow(None, (component,)))
        elif group.code in by_group:
            by_group[group.code].append(component)
        else:
            by_group[group.code] = [component]
            rows.append(ComponentRow(group, ()))
    return [
        ComponentRow(row.group, tuple(by_group[row.group.code])) if row.group else row
        for row in rows
    ]


def _prefix(snapshot: PageSnapshot) -> str:
    """Where the page's URLs start on this site: /status, or /status/{slug}."""
    return "/status" if snapshot.page.is_default else f"/status/{snapshot.page.slug}"


def _links(snapshot: PageSnapshot) -> dict[str, str]:
    prefix = _prefix(snapshot)
    feeds = "" if snapshot.page.is_default else prefix
    return {
        "page": prefix,
        "history": f"{prefix}/history",
        "subscribe": f"{prefix}/subscribe",
        "atom": f"{feeds}/history.atom",
        "rss": f"{feeds}/history.rss",
        "json": f"{'' if snapshot.page.is_default else prefix}/api/v2/summary.json",
        "incident": f"{prefix}/incidents/",
    }


def _base_context(snapshot: PageSnapshot) -> dict[str, Any]:
    return {"snapshot": snapshot, "page": snapshot.page, "links": _links(snapshot)}


def page_context(snapshot: PageSnapshot) -> dict[str, Any]:
    """The main status page: banner, incidents, maintenance, components, how we count."""
    return {
        **_base_context(snapshot),
        "indicator": snapshot.indicator,
        "maintenance_banner": snapshot.indicator.description == "Service Under Maintenance",
        "incidents": snapshot.unresolved_incidents,
        "active_maintenances": snapshot.active_maintenances,
        "upcoming_maintenances": tuple(reversed(snapshot.upcoming_maintenances)),
        "rows": component_rows(snapshot),
        "subscribable": snapshot.components,
        "formula": UPTIME_FORMULA,
        "rule_text": RULE_TEXT,
        "recent": [i for i in snapshot.incidents if not i.unresolved][:5],
    }


def _month_of(incident: IncidentView) -> tuple[int, int]:
    start = as_utc(incident.scheduled_for or incident.started_at)
    return start.year, start.month


def history_context(snapshot: PageSnapshot, month: str | None) -> dict[str, Any] | None:
    """The history of `month` (YYYY-MM; None: the snapshot's month), or None for a malformed
    month or one outside the page's history (before its oldest item, or in the future)."""
    today = as_utc(snapshot.built_at).date()
    current = (today.year, today.month)
    if month is None:
        shown = current
    else:
        match = _MONTH.match(month)
        if match is None:
            return None
        shown = (int(match.group(1)), int(match.group(2)))
    items = (*snapshot.incidents, *snapshot.maintenances)
    months_with_items = sorted({_month_of(item) for item in items}, reverse=True)
    earliest = min([current, *months_with_items])
    if not earliest <= shown <= current:
        return None

    def in_month(kind: Iterable[IncidentView]) -> list[IncidentView]:
        return sorted(
            (item for item in kind if _month_of(item) == shown),
            key=lambda item: item.scheduled_for or item.started_at,
            reverse=True,
        )

    return {
        **_base_context(snapshot),
        "month": shown,
        "month_name": date(shown[0], shown[1], 1).strftime("%B %Y"),
        "incidents": in_month(snapshot.incidents),
        "maintenances": in_month(snapshot.maintenances),
        "other_months": [
            (f"{year:04d}-{number:02d}", date(year, number, 1).strftime("%B %Y"))
            for year, number in months_with_items
            if (year, number) != shown
        ],
        "is_current": shown == current,
        "durations": _durations(items),
    }


def _durations(items: Iterable[IncidentView]) -> dict[str, str]:
    """How long each ended incident or maintenance lasted, by code."""
    lasted: dict[str, str] = {}
    for item in items:
        if item.resolved_at is not None:
            lasted[item.code] = duration_text(as_utc(item.resolved_at) - as_utc(item.started_at))
    return lasted


def incident_context(snapshot: PageSnapshot, code: str) -> dict[str, Any] | None:
    """The permalink page of one public incident or maintenance; None for an unknown code."""
    found = next(
        (item for item in (*snapshot.incidents, *snapshot.maintenances) if item.code == code),
        None,
    )
    if found is None:
        return None
    report = [(title, found.report[key]) for key, title in REPORT_PARTS if found.report.get(key)]
    return {
        **_base_context(snapshot),
        "incident": found,
        "duration": _durations([found]).get(found.code),
        "report": report if found.report_published_at is not None else [],
    }


# --- documents -------------------------------------------------------------------------------


JSON_RENDERERS: dict[str, Callable[[PageSnapshot], dict[str, Any]]] = {
    "api/summary": statuspage_json.summary,
    "api/status": statuspage_json.status,
    "api/components": statuspage_json.components,
    "api/incidents": statuspage_json.incidents,
    "api/incidents/unresolved": statuspage_json.unresolved_incidents,
    "api/scheduled-maintenances": statuspage_json.scheduled_maintenances,
    "api/scheduled-maintenances/upcoming": statuspage_json.upcoming_maintenances,
    "api/scheduled-maintenances/active": statuspage_json.active_maintenances,
}


FEED_RENDERERS: dict[str, tuple[Callable[[PageSnapshot], bytes], str]] = {
    "atom": (feeds.atom, ATOM),
    "rss": (feeds.rss, RSS),
}
TEMPLATE_OF = {"page": "page.html", "history": "history.html", "incident": "incident.html"}


class PublicDocuments:
    """Renders what the public cache holds (the cache's Documents)."""

    def render(self, snapshot: PageSnapshot, name: str) -> Rendered | None:
        kind, _, rest = name.partition("/")
        if kind == "api":
            make = JSON_RENDERERS.get(name)
            return (
                rendered(statuspage_json.dumps(make(snapshot)), JSON, cors=True) if make else None
            )
        if name in FEED_RENDERERS:
            make_feed, media_type = FEED_RENDERERS[name]
            return rendered(make_feed(snapshot), media_type, cors=True)
        context: dict[str, Any] | None = None
        if name == "page":
            context = page_context(snapshot)
        elif kind == "history":
            context = history_context(snapshot, rest or None)
        elif kind == "incident":
            context = incident_context(snapshot, rest)
        return self._html(f"status/{TEMPLATE_OF[kind]}", context) if context else None

    def not_found(self, snapshot: PageSnapshot | None, name: str) -> Rendered:
        if name.startswith("api/"):
            return rendered(
                b'{"error":"Not found"}',
                JSON,
                status=404,
                cors=True,
                cache_control=NOT_FOUND_CACHE_CONTROL,
            )
        context = _base_context(snapshot) if snapshot else {}
        body = _templates.get_template("status/not_found.html").render(context).encode()
        return rendered(body, HTML, status=404, cache_control=NOT_FOUND_CACHE_CONTROL)

    def unavailable(self, name: str) -> Rendered:
        if name.startswith("api/"):
            body = b'{"error":"Temporarily unavailable"}'
            return rendered(
                body, JSON, status=503, cors=True, cache_control=UNAVAILABLE_CACHE_CONTROL
            )
        body = _templates.get_template("status/unavailable.html").render().encode()
        return rendered(body, HTML, status=503, cache_control=UNAVAILABLE_CACHE_CONTROL)

    def _html(self, template: str, context: dict[str, Any]) -> Rendered:
        return rendered(_templates.get_template(template).render(context).encode(), HTML)


# --- routes (what the fast path leaves) ------------------------------------------------------


async def _serve(request: Request, key: str | None, name: str) -> Response:
    cache: PublicCache = request.app.state.public_cache
    found = cache.get(key, name)
    if found is None:
        found = await run_in_threadpool(cache.fetch, key, name)
    status, headers, body = answer(found, request.scope["headers"], head=request.method == "HEAD")
    response = Response(content=body, status_code=status)
    response.raw_headers = list(headers)  # as built once in the cache, Content-Length included
    return response


_HTML_ROUTE: dict[str, Any] = {"methods": ["GET", "HEAD"], "include_in_schema": False}


@router.api_route("/status", **_HTML_ROUTE)
async def default_page(request: Request) -> Response:
    return await _serve(request, None, "page")


@router.api_route("/status/history", **_HTML_ROUTE)
async def default_history(request: Request, month: str | None = Query(None)) -> Response:
    return await _serve(request, None, history_document(month))


@router.api_route("/status/incidents/{code}", **_HTML_ROUTE)
async def default_incident(request: Request, code: str) -> Response:
    return await _serve(request, None, f"incident/{code}")


@router.api_route("/status/{slug}", **_HTML_ROUTE)
async def page_by_slug(request: Request, slug: str) -> Response:
    return await _serve(request, slug, "page")


@router.api_route("/status/{slug}/history", **_HTML_ROUTE)
async def history_by_slug(request: Request, slug: str, month: str | None = Query(None)) -> Response:
    return await _serve(request, slug, history_document(month))


@router.api_route("/status/{slug}/incidents/{code}", **_HTML_ROUTE)
async def incident_by_slug(request: Request, slug: str, code: str) -> Response:
    return await _serve(request, slug, f"incident/{code}")


def _page_document(name: str) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await _serve(request, None, name)

    return endpoint


def _slug_document(name: str) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request, slug: str) -> Response:
        return await _serve(request, slug, name)

    return endpoint


# What a document route may answer besides 200, for the OpenAPI document.
_DOCUMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the If-None-Match header names the current ETag."},
    404: {"description": "No status page has this slug."},
    503: {"description": "The page has not been read yet and the database cannot be reached."},
}


def _add_document_routes() -> None:
    """The JSON and the feeds, for the default page and under each page's slug. The JSON's GETs
    are in the OpenAPI document; HEAD, the same answer without its body, is left out of it."""
    routes: list[tuple[str, Callable[..., Awaitable[Response]], str, str]] = []
    for file, name in FEEDS.items():
        routes.append((f"/{file}", _page_document(name), "", ""))
        routes.append((f"/status/{{slug}}/{file}", _slug_document(name), "", ""))
    for file, name in JSON_DOCUMENTS.items():
        title = file.removesuffix(".json").replace("/", ": ").replace("-", " ")
        operation = "statuspage_" + re.sub(r"\W", "_", file.removesuffix(".json"))
        routes.append(
            (f"/api/v2/{file}", _page_document(name), f"Statuspage v2 {title}", operation)
        )
        routes.append(
            (
                f"/status/{{slug}}/api/v2/{file}",
                _slug_document(name),
                f"Statuspage v2 {title}, of a page by slug",
                f"{operation}_by_page",
            )
        )
    for path, endpoint, summary, operation in routes:
        for method in ("GET", "HEAD"):
            router.add_api_route(
                path,
                endpoint,
                methods=[method],
                summary=summary or None,
                operation_id=operation or None,
                include_in_schema=bool(operation) and method == "GET",
                response_class=Response,
                responses=_DOCUMENT_RESPONSES,
                description="Atlassian Statuspage v2 compatible JSON, open to any origin (CORS), "
                "cached: ETag, If-None-Match → 304, Cache-Control with stale-while-revalidate "
                "and stale-if-error.",
            )


_add_document_routes()
