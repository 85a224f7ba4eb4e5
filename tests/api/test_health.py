"""What load balancers, Prometheus and on-call engineers see: health, metrics, ids, errors."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from fireline.app import create_app
from fireline.db import make_engine
from fireline.migrate import head_revision


@pytest.fixture
def standalone(settings, clock):
    """Builds a Fireline app on an engine of the test's choosing, and cleans up after it."""
    engines = []

    def build(database_url: str) -> TestClient:
        engine = make_engine(database_url, pool_size=1)
        engines.append(engine)
        return TestClient(create_app(settings, clock=clock, engine=engine))

    yield build
    for engine in engines:
        engine.dispose()


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


# --- health -------------------------------------------------------------------------------------


def test_healthz_says_the_process_is_up_without_credentials(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_answers_and_is_migrated(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "reachable",
        "migrations": "current",
        "revision": head_revision(),
    }


def test_readyz_is_not_ready_on_a_database_that_was_never_migrated(standalone, tmp_path):
    client = standalone(f"sqlite+pysqlite:///{tmp_path / 'empty.db'}")

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "reachable"
    assert body["migrations"] == "pending"
    assert body["current"] is None
    assert body["head"] == head_revision()
    # The process itself is fine: the load balancer should wait, not restart it.
    assert client.get("/healthz").status_code == 200


def test_readyz_is_not_ready_when_the_database_server_is_unreachable(standalone):
    client = standalone("postgresql+psycopg://fireline@127.0.0.1:1/fireline?connect_timeout=2")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"] == "unreachable"
    assert client.get("/healthz").status_code == 200


def test_readyz_is_not_ready_when_the_database_file_has_gone(standalone, tmp_path):
    """As when the volume holding an embedded-mode database is unmounted under a running process."""
    volume = tmp_path / "volume"
    client = standalone(f"sqlite+pysqlite:///{volume / 'fireline.db'}")
    volume.rmdir()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_an_unreachable_database_makes_api_calls_fail_as_503_problems(standalone):
    client = standalone("postgresql+psycopg://fireline@127.0.0.1:1/fireline?connect_timeout=2")

    response = client.get("/api/v1/me", headers={"Authorization": "Bearer fl_anything"})

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "database" in response.json()["detail"]


# --- metrics ------------------------------------------------------------------------------------


def test_metrics_count_requests_by_route_template_and_status(client, as_responder):
    for _ in range(3):
        client.get("/healthz")
    as_responder.post("/api/v1/services", json={"name": "Checkout"})
    as_responder.get("/api/v1/services/checkout")
    as_responder.get("/api/v1/services/nothing-here")
    client.get("/no/such/page")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    total = "fireline_http_requests_total"
    assert metric(text, total, method="GET", route="/healthz", status="200") == 3
    assert metric(text, total, method="POST", route="/api/v1/services", status="201") == 1
    # Routes are labelled by template, so every service does not become a new time series.
    assert metric(text, total, method="GET", route="/api/v1/services/{ref}", status="200") == 1
    assert metric(text, total, method="GET", route="/api/v1/services/{ref}", status="404") == 1
    assert "/api/v1/services/checkout" not in text
    assert "/no/such/page" not in text
    assert metric(text, total, method="GET", route="unmatched", status="404") == 1
    duration = "fireline_http_request_duration_seconds_count"
    assert metric(text, duration, method="GET", route="/healthz") == 3


def test_metrics_need_no_credentials(client):
    assert client.get("/metrics").status_code == 200


# --- request ids --------------------------------------------------------------------------------


def test_every_response_carries_a_request_id(client, as_viewer):
    responses = [
        client.get("/healthz"),
        client.get("/readyz"),
        client.get("/metrics"),
        client.get("/api/v1/me"),  # 401
        as_viewer.get("/api/v1/me"),
        as_viewer.post("/api/v1/services", json={"name": "x"}),  # 403
        client.get("/no/such/page"),  # 404
    ]

    ids = [response.headers.get("x-request-id") for response in responses]
    assert all(ids), ids
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)


def test_an_incoming_request_id_is_echoed_so_logs_can_be_joined_up(client):
    response = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a-42"})
    assert response.headers["x-request-id"] == "lb-7f3a-42"


def test_an_overlong_incoming_request_id_is_cut_short(client):
    response = client.get("/healthz", headers={"X-Request-Id": "a" * 500})
    assert response.headers["x-request-id"] == "a" * 64


def test_an_unexpected_error_is_a_500_problem_with_the_request_id(settings, clock, engine):
    app = create_app(settings, clock=clock, engine=engine)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("the flux capacitor")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-Id": "req-boom"})
        metrics = client.get("/metrics").text

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "flux capacitor" not in response.text  # no internals leak to the caller
    assert response.headers.get("x-request-id") == "req-boom"
    assert metric(
        metrics, "fireline_http_requests_total", method="GET", route="/boom", status="500"
    )


# --- problem+json -------------------------------------------------------------------------------


def test_an_unknown_route_is_a_404_problem(client):
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 404
    assert problem["title"] == "Not Found"
    assert problem["type"] == "/problems/http-404"
    assert problem["instance"] == "/api/v1/nothing-here"


def test_a_wrong_method_is_a_405_problem_that_says_what_is_allowed(client):
    response = client.delete("/healthz")

    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 405
    assert response.headers["allow"] == "GET"


def test_a_malformed_json_body_is_a_422_problem_about_the_body(client):
    response = client.post(
        "/api/v1/auth/login",
        content=b'{"email": "rita@example.com", "password": ',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["title"] == "Invalid input"
    assert [error["field"] for error in problem["errors"]] == ["body"]
    assert "JSON" in problem["errors"][0]["message"]


def test_a_missing_field_is_a_422_problem_naming_it(client):
    response = client.post("/api/v1/auth/login", json={"email": "rita@example.com"})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["password"]
    assert response.json()["detail"].startswith("password:")
