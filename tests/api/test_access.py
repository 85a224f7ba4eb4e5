"""Every route of the OpenAPI document refuses strangers, and every write refuses viewers."""

from __future__ import annotations

import re

import pytest

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/login"),
    # Monitoring tools authenticate with the integration key in the body or the URL.
    ("POST", "/v2/enqueue"),
    ("POST", "/v2/change/enqueue"),
    ("POST", "/integrations/alertmanager/{key}"),
    ("POST", "/integrations/grafana/{key}"),
    ("POST", "/integrations/webhook/{key}"),
    ("GET", "/integrations/heartbeat/{key}"),
    ("POST", "/integrations/heartbeat/{key}"),
    # Calendar apps fetch on-call feeds by the secret in the URL.
    ("GET", "/oncall/calendars/schedules/{token}.ics"),
    ("GET", "/oncall/calendars/users/{token}.ics"),
    # Status pages are public: Statuspage-compatible JSON for widgets and exporters.
    *(
        (method, prefix + document)
        for method in ("GET",)
        for prefix in ("/api/v2/", "/status/{slug}/api/v2/")
        for document in (
            "summary.json",
            "status.json",
            "components.json",
            "incidents.json",
            "incidents/unresolved.json",
            "scheduled-maintenances.json",
            "scheduled-maintenances/upcoming.json",
            "scheduled-maintenances/active.json",
        )
    ),
}
# Writes any signed-in person may make about themselves, or that only read.
OPEN_TO_VIEWERS = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{token_id}"),
    ("POST", "/api/v1/severity-assistant"),
    # Everyone chooses how they are reached, stakeholders who only read included.
    ("POST", "/api/v1/users/{ref}/contact-methods"),
    ("PATCH", "/api/v1/users/{ref}/contact-methods/{method_id}"),
    ("DELETE", "/api/v1/users/{ref}/contact-methods/{method_id}"),
    ("POST", "/api/v1/users/{ref}/contact-methods/{method_id}/rotate-secret"),
    ("POST", "/api/v1/users/{ref}/contact-methods/{method_id}/test"),
    # Each person's own on-call calendar feed.
    ("POST", "/api/v1/users/me/calendar/rotate"),
}
PLACEHOLDERS = {
    "ref": "INC-1",
    "key": "SEV1",
    "role": "tech_lead",
    "entry_id": "1",
    "token_id": "1",
    "job_id": "1",
    "slug": "major-incident",
    "task_id": "1",
    "method_id": "1",
    "name": "executives",
    "rule_id": "1",
    "day": "2026-12-25",
    "delivery_id": "1",
    "kind": "first_public_update",
    "sequence": "0",
    "alert_id": "1",
    "integration_id": "1",
    "heartbeat_id": "1",
    "window_id": "1",
    "silence_id": "1",
    "layer_id": "1",
    "override_id": "1",
    "policy_id": "1",
    "token": "not-a-token",
    "code": "0123456789ab",
    "audience_id": "1",
    "template_id": "1",
}


def operations(app):
    for path, methods in app.openapi()["paths"].items():
        for method in methods:
            yield method.upper(), path


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: PLACEHOLDERS[match.group(1)], path)


def test_the_openapi_document_lists_the_incident_routes(app):
    paths = {path for _, path in operations(app)}
    assert "/api/v1/incidents" in paths
    assert "/api/v1/incidents/{ref}/timeline" in paths
    assert len(paths) > 25


def test_every_route_but_health_and_login_needs_authentication(app, client):
    checked = 0
    for method, path in operations(app):
        if (method, path) in PUBLIC:
            continue
        response = client.request(method, concrete(path), json={})
        assert response.status_code == 401, f"{method} {path} answered {response.status_code}"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["www-authenticate"].startswith("Bearer")
        checked += 1
    assert checked > 25


@pytest.mark.parametrize(
    "token", ["Bearer fl_not-a-real-token", "Basic YWRtaW46YWRtaW4=", "Bearer "]
)
def test_a_bad_credential_is_refused_not_ignored(client, token):
    response = client.get("/api/v1/incidents", headers={"Authorization": token})
    assert response.status_code == 401


def test_a_viewer_may_read_but_every_write_is_forbidden(app, as_viewer):
    writes = [
        (method, path)
        for method, path in operations(app)
        if method != "GET" and (method, path) not in PUBLIC | OPEN_TO_VIEWERS
    ]
    assert len(writes) > 15
    for method, path in writes:
        response = as_viewer._call(method, concrete(path), json={})
        assert response.status_code == 403, f"{method} {path} answered {response.status_code}"
        assert "permission" in response.json()["detail"]
    assert as_viewer.get("/api/v1/incidents").status_code == 200
