"""Alerts arriving: PagerDuty Events API v2 semantics, Alertmanager and Grafana batches, generic
JSON through a mapping, change events, and what is refused (with the sender's own error shape)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from fireline.models import (
    Alert,
    ChangeEvent,
    DeclareRule,
    Incident,
    RoleAssignment,
    Severity,
)

from .helpers import add_integration, add_service, pd_action, pd_trigger


@pytest.fixture
def checkout(db, clock):
    service = add_service(db, clock.now())
    db.commit()
    return service


@pytest.fixture
def pd_key(db, clock, checkout) -> str:
    integration = add_integration(db, clock.now(), checkout)
    db.commit()
    return integration.key


def alerts(db) -> list[Alert]:
    db.expire_all()
    return list(db.scalars(select(Alert).order_by(Alert.id)))


# --- PagerDuty Events API v2 -------------------------------------------------------------------


def test_a_trigger_without_a_dedup_key_gets_one_generated_and_returned(client, db, pd_key):
    response = client.post("/v2/enqueue", json=pd_trigger(pd_key, "CPU above 90 % on web-1"))

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "success"
    assert body["message"] == "Event processed"
    [alert] = alerts(db)
    assert body["dedup_key"] == alert.dedup_key
    assert len(alert.dedup_key) == 32
    assert alert.summary == "CPU above 90 % on web-1"
    assert alert.status == "triggered"
    assert alert.severity == "critical"


def test_triggers_with_one_key_make_one_alert_until_it_is_resolved(client, db, clock, pd_key):
    first = client.post("/v2/enqueue", json=pd_trigger(pd_key, "Disk 91 %", dedup_key="disk/db-1"))
    clock.advance(minutes=1)
    again = client.post("/v2/enqueue", json=pd_trigger(pd_key, "Disk 95 %", dedup_key="disk/db-1"))

    [alert] = alerts(db)
    assert (first.status_code, again.status_code) == (202, 202)
    assert alert.occurrences == 2
    assert alert.summary == "Disk 95 %"  # the newest text
    assert alert.last_seen_at - alert.first_seen_at == timedelta(minutes=1)

    client.post("/v2/enqueue", json=pd_action(pd_key, "resolve", "disk/db-1"))
    reopened = client.post(
        "/v2/enqueue", json=pd_trigger(pd_key, "Disk 97 %", dedup_key="disk/db-1")
    )

    old, new = alerts(db)
    assert reopened.json()["dedup_key"] == "disk/db-1"
    assert old.status == "resolved"
    assert new.status == "triggered"
    assert new.occurrences == 1


def test_acknowledge_then_resolve_from_the_source(client, db, pd_key):
    client.post("/v2/enqueue", json=pd_trigger(pd_key, "Error rate", dedup_key="err"))

    acked = client.post("/v2/enqueue", json=pd_action(pd_key, "acknowledge", "err"))
    [alert] = alerts(db)
    assert acked.status_code == 202
    assert alert.status == "acknowledged"
    assert alert.acknowledged_by_id is None  # the source, not a person

    client.post("/v2/enqueue", json=pd_action(pd_key, "resolve", "err"))
    [alert] = alerts(db)
    assert alert.status == "resolved"


def test_acknowledge_or_resolve_of_an_unknown_key_is_accepted_and_dropped(client, db, pd_key):
    for action in ("acknowledge", "resolve"):
        response = client.post("/v2/enqueue", json=pd_action(pd_key, action, "never-seen"))
        assert response.status_code == 202
        assert response.json()["dedup_key"] == "never-seen"
    assert alerts(db) == []


def test_a_rising_severity_is_kept_and_a_falling_one_is_not(client, db, pd_key):
    for severity in ("warning", "critical", "info"):
        client.post(
            "/v2/enqueue", json=pd_trigger(pd_key, "Latency", dedup_key="lat", severity=severity)
        )

    [alert] = alerts(db)
    assert alert.severity == "critical"
    assert alert.occurrences == 3


def test_an_invalid_event_gets_pagerdutys_error_shape_listing_every_problem(client, pd_key):
    response = client.post(
        "/v2/enqueue",
        json={"routing_key": pd_key, "event_action": "trigger", "payload": {"severity": "bad"}},
    )

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    assert body["message"] == "Event object is invalid"
    assert len(body["errors"]) >= 3  # summary, source, severity
    assert any("payload.severity" in error for error in body["errors"])


def test_an_unknown_key_or_body_that_is_not_json_is_an_invalid_event(client):
    unknown = client.post("/v2/enqueue", json=pd_trigger("0" * 32, "x"))
    garbage = client.post(
        "/v2/enqueue", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert unknown.status_code == 400
    assert unknown.json()["errors"] == ["No integration has this key."]
    assert garbage.status_code == 400
    assert "not valid JSON" in garbage.json()["errors"][0]


def test_a_body_over_512_kb_is_refused_and_nothing_is_stored(client, db, pd_key):
    event = pd_trigger(pd_key, "Huge", custom_details={"blob": "x" * (512 * 1024)})

    response = client.post("/v2/enqueue", json=event)

    assert response.status_code == 413
    assert response.json()["status"] == "invalid event"
    assert alerts(db) == []


def test_a_key_over_its_rate_limit_gets_429_until_the_bucket_refills(client, db, clock, checkout):
    integration = add_integration(db, clock.now(), checkout)
    integration.rate_limit_per_minute = 2
    db.commit()

    answers = [
        client.post("/v2/enqueue", json=pd_trigger(integration.key, f"e{n}")).status_code
        for n in range(3)
    ]
    clock.advance(seconds=30)  # one event's worth
    later = client.post("/v2/enqueue", json=pd_trigger(integration.key, "e3"))

    assert answers == [202, 202, 429]
    assert later.status_code == 202
    assert len(alerts(db)) == 3


def test_a_disabled_integration_accepts_nothing(client, db, clock, checkout):
    integration = add_integration(db, clock.now(), checkout)
    integration.enabled = False
    db.commit()

    response = client.post("/v2/enqueue", json=pd_trigger(integration.key, "x"))

    assert response.status_code == 400
    assert "disabled" in response.json()["errors"][0]


def test_change_events_are_recorded_on_the_service(client, db, clock, checkout, pd_key):
    response = client.post(
        "/v2/change/enqueue",
        json={
            "routing_key": pd_key,
            "payload": {
                "summary": "Deployed checkout v2.3.1",
                "timestamp": "2026-01-05T09:40:00Z",
                "source": "ci",
                "custom_details": {"commit": "abc123"},
            },
            "links": [{"href": "https://ci.example.com/builds/9", "text": "Build 9"}],
        },
    )

    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Change event processed"}
    change = db.scalars(select(ChangeEvent)).one()
    assert change.service_id == checkout.id
    assert change.occurred_at == datetime(2026, 1, 5, 9, 40, tzinfo=UTC)
    assert change.links == [{"href": "https://ci.example.com/builds/9", "text": "Build 9"}]


# --- Alertmanager, Grafana, generic JSON --------------------------------------------------------


def am_alert(fingerprint: str, status: str = "firing", **labels: str) -> dict:
    return {
        "status": status,
        "labels": {"alertname": "HighErrorRate", "severity": "critical", **labels},
        "annotations": {"summary": f"Error rate high ({fingerprint})"},
        "startsAt": "2026-01-05T09:58:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-01-05T10:20:00Z",
        "generatorURL": "http://prometheus.example.com/graph",
        "fingerprint": fingerprint,
    }


def am_body(*entries: dict) -> dict:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "fireline",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com",
        "alerts": list(entries),
    }


def test_alertmanager_batches_are_idempotent_and_resolved_entries_resolve(
    client, db, clock, checkout
):
    key = add_integration(db, clock.now(), checkout, kind="alertmanager").key
    db.commit()
    url = f"/integrations/alertmanager/{key}"

    first = client.post(url, json=am_body(am_alert("a1", instance="web-1"), am_alert("b2")))
    repeated = client.post(url, json=am_body(am_alert("a1", instance="web-1"), am_alert("b2")))
    resolved = client.post(url, json=am_body(am_alert("a1", "resolved"), am_alert("b2")))

    assert first.status_code == 200, first.text
    assert first.json()["created"] == 2
    assert repeated.json()["created"] == 0
    assert resolved.status_code == 200
    a1, b2 = alerts(db)
    assert (a1.dedup_key, a1.status) == ("a1", "resolved")
    assert (b2.dedup_key, b2.status) == ("b2", "triggered")
    assert a1.labels["instance"] == "web-1"
    assert a1.annotations == {"summary": "Error rate high (a1)"}
    assert a1.started_at == datetime(2026, 1, 5, 9, 58, tzinfo=UTC)
    assert b2.occurrences == 3


def test_an_alertmanager_key_used_on_another_route_is_not_found(client, db, clock, pd_key):
    response = client.post(f"/integrations/alertmanager/{pd_key}", json=am_body(am_alert("a")))

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_malformed_alertmanager_body_is_a_problem_naming_what_is_wrong(
    client, db, clock, checkout
):
    key = add_integration(db, clock.now(), checkout, kind="alertmanager").key
    db.commit()

    response = client.post(f"/integrations/alertmanager/{key}", json={"version": "4", "alerts": 3})

    assert response.status_code == 422
    problem = response.json()
    assert "alerts" in problem["detail"]
    assert alerts(db) == []


def test_grafana_alerts_keep_their_dashboard_links(client, db, clock, checkout):
    key = add_integration(db, clock.now(), checkout, kind="grafana").key
    db.commit()
    entry = am_alert("g1")
    entry["dashboardURL"] = "https://grafana.example.com/d/abc"
    body = am_body(entry)
    body["version"] = "1"
    body["orgId"] = 1
    body["title"] = "[FIRING:1] HighErrorRate"

    response = client.post(f"/integrations/grafana/{key}", json=body)

    assert response.status_code == 200, response.text
    [alert] = alerts(db)
    assert "https://grafana.example.com/d/abc" in [link["href"] for link in alert.links]


def test_generic_json_is_read_through_the_integrations_mapping(client, db, clock, checkout):
    integration = add_integration(db, clock.now(), checkout, kind="webhook")
    integration.mapping = {
        "summary": "{{ body.check }} is {{ body.state }}",
        "dedup_key": "$.check",
        "status": "$.state",
        "severity": "$.level",
        "resolve_values": ["up"],
    }
    db.commit()
    url = f"/integrations/webhook/{integration.key}"

    client.post(url, json={"check": "api-health", "state": "down", "level": "critical"})
    client.post(url, json={"check": "api-health", "state": "up", "level": "critical"})

    [alert] = alerts(db)
    assert alert.summary == "api-health is down"
    assert alert.severity == "critical"
    assert alert.status == "resolved"


# --- Declaring from alerts ---------------------------------------------------------------------


def test_a_declare_rule_turns_a_critical_tier_1_alert_into_an_incident_led_by_who_acknowledges(
    client, db, clock, checkout, pd_key, make_person
):
    db.add(
        DeclareRule(
            name="Critical on tier 1",
            position=1,
            conditions=[
                {"field": "severity", "op": "severity_at_least", "value": "critical"},
                {"field": "service.tier", "op": "at_most", "value": 1},
            ],
            severity="SEV2",
            enabled=True,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
    )
    db.commit()
    pia = make_person("responder", name="Pia Primary")
    clock.advance(minutes=3)

    client.post(
        "/v2/enqueue",
        json=pd_trigger(pd_key, "Checkout down", dedup_key="co", timestamp="2026-01-05T10:01:00Z"),
    )
    client.post("/v2/enqueue", json=pd_trigger(pd_key, "Minor", severity="warning"))

    assert db.scalar(select(func.count()).select_from(Incident)) == 1
    [alert, minor] = alerts(db)
    incident = db.get(Incident, alert.incident_id)
    assert minor.incident_id is None
    assert db.scalar(select(Severity.key).where(Severity.id == incident.severity_id)) == "SEV2"
    assert incident.detected_at == datetime(2026, 1, 5, 10, 1, tzinfo=UTC)
    assert incident.acknowledged_at is None

    clock.advance(minutes=4)
    acked = client.post(f"/api/v1/alerts/{alert.id}/acknowledge", headers=pia.headers)

    assert acked.status_code == 200, acked.text
    db.expire_all()
    commander = db.scalars(
        select(RoleAssignment).where(
            RoleAssignment.incident_id == incident.id, RoleAssignment.role == "commander"
        )
    ).one()
    assert commander.user_id == pia.user.id
    assert db.get(Incident, incident.id).acknowledged_at == clock.now()


def test_an_integrations_last_event_is_kept_to_the_half_minute(client, db, clock, checkout):
    integration = add_integration(db, clock.now(), checkout)
    db.commit()
    first = clock.now()

    client.post("/v2/enqueue", json=pd_trigger(integration.key, "a"))
    clock.advance(seconds=20)
    client.post("/v2/enqueue", json=pd_trigger(integration.key, "b"))
    db.expire_all()
    after_twenty = db.get(type(integration), integration.id).last_event_at
    clock.advance(seconds=20)
    client.post("/v2/enqueue", json=pd_trigger(integration.key, "c"))
    db.expire_all()
    after_forty = db.get(type(integration), integration.id).last_event_at

    assert after_twenty == first  # not rewritten for every event
    assert after_forty == first + timedelta(seconds=40)
