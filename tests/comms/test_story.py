"""The communications story on the fake clock, as customers and the comms lead live it.

Monday 2026-01-05. Checkout's API has been on the status page since 08:00. At 10:00 a SEV1 is
declared; the comms lead publishes it at 10:10 with the API in partial outage (the first public
update is due by 10:15), posts at 10:38 with the API down (the next was due by 10:40), and at
11:05 reports it working again (due by 11:08). The public incident is closed at 11:20 with the
closing update; it moves to the history, the page is green again, and today's uptime bar for
the API counts 27 minutes of major outage fully and 28 of partial outage at 0.3:
1 - (27 + 0.3 x 28) / 200 counted minutes (08:00 to 11:20) = 82.30 %."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from fireline.clock import FakeClock

PAGES = "/api/v1/status-pages/status"
FOUR_PARTS = {
    "current_impact": "Some customers cannot pay at checkout.",
    "doing_now": "We are rolling back the morning's release.",
    "users_should": "Retry in a few minutes; no card was charged twice.",
}


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def obligation_states(api, ref):
    states = ok(api.get(f"/api/v1/incidents/{ref}/obligations"))
    return {(o["kind"], o["sequence"]): o["state"] for o in states}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))


@pytest.fixture
def public(app, client):
    """The public site as a reader sees it, after the web process's cache catches up."""

    def read(path):
        app.state.public_cache.refresh_now()
        response = client.get(path)
        assert response.status_code == 200, response.text
        return response

    return read


def test_a_sev1_told_to_customers_from_declaration_to_history(
    as_admin, as_responder, clock, public
):
    # 08:00: the page is set up
    api = ok(as_admin.post(f"{PAGES}/components", json={"name": "API"}), 201)
    ok(as_admin.post(f"{PAGES}/components", json={"name": "Dashboard"}), 201)
    assert public("/api/v2/status.json").json()["status"]["indicator"] == "none"

    clock.advance(hours=2)  # 10:00
    declared = ok(
        as_responder.post("/api/v1/incidents", json={"title": "Checkout down", "severity": "SEV1"}),
        201,
    )
    ref = declared["reference"]

    clock.advance(minutes=10)  # 10:10: published, API in partial outage
    incident = ok(
        as_responder.post(
            f"{PAGES}/incidents",
            json={
                "name": "Payments failing at checkout",
                "incident": ref,
                "components": {api["code"]: "partial_outage"},
                "next_update_at": "2026-01-05T10:40:00Z",
                **FOUR_PARTS,
            },
        ),
        201,
    )
    code = incident["code"]
    assert obligation_states(as_responder, ref)[("first_public_update", 0)] == "met"
    status = public("/api/v2/status.json").json()["status"]
    assert (status["indicator"], status["description"]) == ("major", "Partial System Outage")
    components = {
        c["name"]: c["status"] for c in public("/api/v2/components.json").json()["components"]
    }
    assert components == {"API": "partial_outage", "Dashboard": "operational"}
    page = public("/status").text
    assert "Payments failing at checkout" in page
    assert FOUR_PARTS["current_impact"] in page

    clock.advance(minutes=28)  # 10:38: worse, the API is down
    ok(
        as_responder.post(
            f"/api/v1/public-incidents/{code}/updates",
            json={
                "status": "identified",
                "components": {api["code"]: "major_outage"},
                **FOUR_PARTS,
                "doing_now": "The release is rolled back; payments are being replayed.",
            },
        ),
        201,
    )
    assert obligation_states(as_responder, ref)[("public_update", 1)] == "met"
    assert public("/api/v2/status.json").json()["status"]["indicator"] == "critical"
    unresolved = public("/api/v2/incidents/unresolved.json").json()["incidents"]
    assert [(i["id"], i["status"], i["impact"]) for i in unresolved] == [
        (code, "identified", "critical")
    ]

    clock.advance(minutes=27)  # 11:05: working again, watched
    ok(
        as_responder.post(
            f"/api/v1/public-incidents/{code}/updates",
            json={"status": "monitoring", "components": {api["code"]: "operational"}, **FOUR_PARTS},
        ),
        201,
    )
    assert obligation_states(as_responder, ref)[("public_update", 2)] == "met"

    clock.advance(minutes=15)  # 11:20: closed with the closing update
    closing = ok(
        as_responder.post(
            f"/api/v1/public-incidents/{code}/resolve",
            json={
                "what_happened": "A release broke card payments at checkout.",
                "what_was_done": "We rolled the release back and replayed the payments.",
            },
        ),
        201,
    )
    assert (
        "started at 2026-01-05 10:00 UTC and ended at 2026-01-05 11:20 UTC"
        in closing["update"]["body"]
    )
    assert public("/api/v2/status.json").json()["status"]["indicator"] == "none"
    assert public("/api/v2/incidents/unresolved.json").json()["incidents"] == []
    (listed,) = public("/api/v2/incidents.json").json()["incidents"]
    assert (listed["id"], listed["status"]) == (code, "resolved")
    assert [u["status"] for u in listed["incident_updates"]] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]
    history = public("/status/history?month=2026-01").text
    assert "Payments failing at checkout" in history
    assert f"/status/incidents/{code}" in history
    permalink = public(f"/status/incidents/{code}").text
    assert "A release broke card payments at checkout." in permalink

    # Today's bar for the API: 27 minutes down, 28 partly, out of 200 since 08:00.
    bars = re.findall(r'<span class="b w-([a-z_]+)" title="([^"]*)"', public("/status").text)
    api_today, dashboard_today = bars[89], bars[179]
    assert api_today[0] == "major_outage"
    assert api_today[1].startswith("5 Jan 2026: 82.30 % uptime")
    assert "major outage 27" in api_today[1]
    assert "partial outage 28" in api_today[1]
    assert "Payments failing at checkout" in api_today[1]
    assert dashboard_today[1].startswith("5 Jan 2026: 100.00 % uptime")
