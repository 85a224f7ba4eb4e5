"""What HTTP clients, browsers and CDNs get from the public URLs: Statuspage-compatible JSON and
feeds open to any origin, ETags with 304s, HEAD, Cache-Control for spikes, the right content
types and 404s, the default page and the pages by slug, and the fast path answering exactly
what the routes answer.

The fake clock reads Monday 5 January 2026, 10:00 UTC."""

from __future__ import annotations

import gzip
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import anyio
import pytest

from fireline.comms.cache import CACHE_CONTROL, rendered
from fireline.comms.fastpath import (
    JSON_DOCUMENTS,
    PublicFastPath,
    RouteLabel,
    Target,
    answer,
    resolve,
)
from fireline.comms.public_views import JSON_RENDERERS

from .test_public_pages import StatusRows


@pytest.fixture
def rows(db, clock) -> StatusRows:
    return StatusRows(db, clock)


@pytest.fixture
def cache(app):
    return app.state.public_cache


JSON_PATHS = [f"/api/v2/{file}" for file in JSON_DOCUMENTS]


# --- headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", JSON_PATHS)
def test_every_statuspage_document_is_json_open_to_any_origin_and_cacheable(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == CACHE_CONTROL
    assert response.headers["etag"].startswith('"')  # strong
    assert response.json()["page"]["name"] == "Service status"


def test_the_cache_control_numbers_are_the_published_ones():
    assert CACHE_CONTROL == "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400"


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/history.atom", "application/atom+xml; charset=utf-8"),
        ("/history.rss", "application/rss+xml; charset=utf-8"),
        ("/status/partners/history.atom", "application/atom+xml; charset=utf-8"),
        ("/status/partners/history.rss", "application/rss+xml; charset=utf-8"),
    ],
)
def test_feeds_have_their_content_types_and_open_cors(client, rows, path, media_type):
    partners = rows.other_page()
    incident = rows.incident("Checkout errors", page=partners)
    rows.incident("Default page incident")
    rows.update(incident, "investigating", "Looking into it.", ago=timedelta(minutes=5))
    rows.publish(partners)

    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == CACHE_CONTROL
    assert ("Checkout errors" in response.text) == path.startswith("/status/partners")


def test_html_pages_are_cacheable_but_not_cross_origin(client):
    response = client.get("/status")

    assert response.headers["cache-control"] == CACHE_CONTROL
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["etag"].startswith('"')


def test_a_matching_if_none_match_gets_a_304_without_a_body(client):
    first = client.get("/api/v2/summary.json")
    etag = first.headers["etag"]

    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get("/api/v2/summary.json", headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == CACHE_CONTROL
        assert again.headers["access-control-allow-origin"] == "*"

    stale = client.get("/api/v2/summary.json", headers={"If-None-Match": '"old"'})
    assert stale.status_code == 200
    assert stale.content == first.content


def test_head_sends_the_headers_of_get_and_no_body(client):
    got = client.get("/status")
    head = client.head("/status")

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers["content-encoding"] == got.headers["content-encoding"] == "gzip"
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-type"] == "text/html; charset=utf-8"


def test_readers_that_accept_gzip_get_it_with_its_own_etag(client, rows):
    for n in range(8):
        rows.component(f"Component {n}", position=n)
    rows.publish()

    plain = client.get("/api/v2/summary.json", headers={"Accept-Encoding": "identity"})
    squeezed = client.get("/api/v2/summary.json", headers={"Accept-Encoding": "gzip, br"})

    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    assert squeezed.headers["content-encoding"] == "gzip"
    assert squeezed.headers["vary"] == "Accept-Encoding"
    assert squeezed.headers["etag"] != plain.headers["etag"]
    assert squeezed.content == plain.content  # the client unzipped it
    # Either ETag revalidates: both are the same content.
    for etag in (plain.headers["etag"], squeezed.headers["etag"]):
        again = client.get("/api/v2/summary.json", headers={"If-None-Match": etag})
        assert again.status_code == 304


# --- pages, slugs and 404s -------------------------------------------------------------------


def test_a_page_by_slug_has_its_own_json_and_the_default_page_keeps_its_own(client, rows):
    partners = rows.other_page()
    rows.component("Partner API", page=partners)
    rows.component("Checkout")
    rows.publish(partners)

    default = client.get("/api/v2/components.json").json()
    by_slug = client.get("/status/partners/api/v2/components.json").json()
    default_by_slug = client.get("/status/status/api/v2/components.json").json()

    assert [c["name"] for c in default["components"]] == ["Checkout"]
    assert [c["name"] for c in by_slug["components"]] == ["Partner API"]
    assert by_slug["page"]["url"].endswith("/status/partners")
    assert default_by_slug == default


@pytest.mark.parametrize("file", list(JSON_DOCUMENTS))
def test_every_document_exists_under_a_slug(client, rows, file):
    rows.other_page()
    rows.publish()

    response = client.get(f"/status/partners/api/v2/{file}")

    assert response.status_code == 200
    assert response.json()["page"]["name"] == "Partner API"


def test_json_of_an_unknown_page_is_a_json_404(client):
    response = client.get("/status/nope/api/v2/summary.json")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {"error": "Not found"}
    assert "etag" not in response.headers


def test_an_unknown_page_is_an_html_404(client):
    response = client.get("/status/nope/history")

    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "We could not find that page" in response.text


# --- freshness -------------------------------------------------------------------------------


def test_a_new_incident_is_served_once_the_cache_refreshes(client, rows, cache):
    before = client.get("/api/v2/incidents/unresolved.json")
    assert before.json()["incidents"] == []
    incident = rows.incident("Checkout errors")
    rows.update(incident, "investigating", "Looking into it.", ago=timedelta(minutes=1))
    rows.publish()

    cached = client.get("/api/v2/incidents/unresolved.json")
    assert cached.content == before.content  # the copy held until the refresh

    cache.refresh_now()
    fresh = client.get(
        "/api/v2/incidents/unresolved.json", headers={"If-None-Match": before.headers["etag"]}
    )

    assert fresh.status_code == 200
    assert [i["name"] for i in fresh.json()["incidents"]] == ["Checkout errors"]
    assert fresh.headers["etag"] != before.headers["etag"]
    assert "Checkout errors" in client.get("/status").text


def test_the_status_page_moves_to_a_new_day_by_itself(client, cache, clock):
    before = client.get("/status").text
    assert "5 Jan 2026" in before

    clock.advance(hours=14)  # Tuesday 00:00
    cache.refresh_now()
    after = client.get("/status").text

    assert "6 Jan 2026 00:00 UTC" in after
    assert after != before


def test_the_old_copy_is_served_while_the_database_is_down(app, client, rows, cache):
    before = client.get("/api/v2/summary.json")
    rows.incident("Checkout errors")
    rows.publish()

    def database_down():
        raise ConnectionError("database down")

    app.state.session_factory = database_down
    cache.refresh_now()
    during = client.get("/api/v2/summary.json")

    assert during.status_code == 200
    assert during.content == before.content


# --- the fast path ---------------------------------------------------------------------------


def test_the_fast_path_and_the_routes_send_the_same_bytes_and_headers(client):
    cold = client.get("/status/history")  # first request: through the route
    warm = client.get("/status/history")  # held: answered by the fast path

    assert warm.content == cold.content
    assert dict(warm.headers) | {"x-request-id": ""} == dict(cold.headers) | {"x-request-id": ""}


def test_the_fast_path_labels_its_answers_for_the_request_metrics(client):
    client.get("/status/status")
    client.get("/status/status")

    metrics = client.get("/metrics").text

    assert 'route="/status/{slug}",status="200"' in metrics


@pytest.mark.parametrize(
    ("path", "query", "key", "name"),
    [
        ("/status", b"", None, "page"),
        ("/status/", b"", None, "page"),
        ("/status/history", b"month=2025-12", None, "history/2025-12"),
        ("/status/history", b"other=1", None, "history"),
        ("/status/incidents/abc123", b"", None, "incident/abc123"),
        ("/api/v2/summary.json", b"", None, "api/summary"),
        ("/api/v2/scheduled-maintenances/active.json", b"", None,
         "api/scheduled-maintenances/active"),
        ("/history.rss", b"", None, "rss"),
        ("/status/partners", b"month=2025-12", "partners", "page"),
        ("/status/partners/history", b"month=2025-12", "partners", "history/2025-12"),
        ("/status/partners/incidents/abc123", b"", "partners", "incident/abc123"),
        ("/status/partners/api/v2/incidents/unresolved.json", b"", "partners",
         "api/incidents/unresolved"),
        ("/status/partners/history.atom", b"", "partners", "atom"),
    ],
)  # fmt: skip
def test_public_urls_resolve_to_their_page_and_document(path, query, key, name):
    target = resolve(path, query)

    assert target is not None
    assert (target.key, target.name) == (key, name)


@pytest.mark.parametrize(
    "path",
    [
        "/status/subscribe",  # a page slug as far as paths go; passes on until held
        "/statusx",
        "/status//history",
        "/status/partners/incidents/",
        "/status/partners/api/v2/nope.json",
        "/status/partners/other",
        "/status/subscriptions/token/confirm",
        "/api/v1/incidents",
    ],
)
def test_other_urls_are_not_the_fast_paths(path):
    target = resolve(path)

    assert target is None or (target.key, target.name) == ("subscribe", "page")


def test_answer_picks_the_encoding_and_honours_conditions():
    document = rendered(b"x" * 4000, "text/html; charset=utf-8")
    assert document.gzip_body is not None

    status, headers, body = answer(document, [(b"accept-encoding", b"gzip")], head=False)
    assert (status, gzip.decompress(body)) == (200, document.body)
    assert (b"content-encoding", b"gzip") in headers

    status, headers, body = answer(document, [(b"accept-encoding", b"gzip")], head=True)
    assert (status, body) == (200, b"")
    assert (b"content-length", str(len(document.gzip_body)).encode()) in headers

    status, _, body = answer(document, [(b"if-none-match", b'"nope", W/"nope"')], head=False)
    assert (status, body) == (200, document.body)


def test_a_small_document_is_not_compressed():
    document = rendered(b"{}", "application/json; charset=utf-8", cors=True)

    status, headers, body = answer(document, [(b"accept-encoding", b"gzip")], head=False)

    assert (status, body) == (200, b"{}")
    assert not any(name == b"vary" for name, _ in headers)


class Downstream:
    """The rest of the application, as far as the fast path can tell."""

    def __init__(self) -> None:
        self.called = 0

    async def __call__(self, _scope, _receive, _send):
        self.called += 1


class App:
    def __init__(self, cache) -> None:
        self.state = type("State", (), {"public_cache": cache})()


class HeldCache:
    def __init__(self, held) -> None:
        self.held = held

    def get(self, key, name):
        return self.held.get((key, name))


def run(middleware, scope):
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():  # pragma: no cover - never read
        return {"type": "http.request"}

    # In a thread of its own: Playwright's sync API, used by the browser tests earlier in the
    # same session, leaves an event loop running in the main thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, middleware, scope, receive, send).result(timeout=30)
    return sent


def scope_for(path: str, method: str = "GET", cache=None, headers=()):
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": list(headers),
        "app": App(cache),
    }


def test_the_fast_path_answers_only_what_the_cache_holds():
    document = rendered(b"<p>ok</p>", "text/html; charset=utf-8")
    cache = HeldCache({(None, "page"): document})
    downstream = Downstream()
    fast = PublicFastPath(downstream)

    sent = run(fast, scope_for("/status", cache=cache))
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"<p>ok</p>"
    assert downstream.called == 0

    for scope in (
        scope_for("/status/partners", cache=cache),  # not held
        scope_for("/status", method="POST", cache=cache),
        scope_for("/api/v1/incidents", cache=cache),
        scope_for("/status", cache=None),  # no cache on the app
        {"type": "websocket", "path": "/status"},
    ):
        assert run(fast, scope) == []
    assert downstream.called == 5


def test_the_fast_path_label_is_a_route_path():
    target = resolve("/api/v2/summary.json")

    assert target == Target(None, "api/summary", RouteLabel("/api/v2/summary.json"))


def test_every_statuspage_file_has_a_renderer():
    assert set(JSON_DOCUMENTS.values()) == set(JSON_RENDERERS)
