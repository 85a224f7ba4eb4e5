"""An admin connects monitoring tools: integrations with their keys and URLs, through the API,
and events sent with those keys arriving as alerts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from fireline.models import Alert, AuditRecord

from .helpers import add_service, pd_trigger

INTEGRATIONS = "/api/v1/integrations"


@pytest.fixture
def checkout(db, clock):
    service = add_service(db, clock.now(), slug="checkout")
    db.commit()
    return service


def fields_named(response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


def alerts_of(db, **where) -> list[Alert]:
    db.expire_all()
    query = select(Alert).order_by(Alert.id)
    for name, value in where.items():
        query = query.where(getattr(Alert, name) == value)
    return list(db.scalars(query))


def test_an_admin_connects_pagerduty_and_its_first_event_becomes_an_alert(
    as_admin, client, db, checkout
):
    created = as_admin.post(
        INTEGRATIONS, json={"service": "checkout", "type": "pagerduty", "name": "Prometheus"}
    )

    assert created.status_code == 201, created.text
    body = created.json()
    key = body["key"]
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert body["service"]["slug"] == "checkout"
    assert body["urls"][0] == {
        "purpose": "events",
        "url": "http://127.0.0.1:8000/v2/enqueue",
        "routing_key": key,
    }
    assert body["urls"][1]["url"].endswith("/v2/change/enqueue")

    sent = client.post("/v2/enqueue", json=pd_trigger(key, "Checkout 5xx above 5 %"))

    assert sent.status_code == 202, sent.text
    [alert] = alerts_of(db, service_id=checkout.id)
    assert (alert.summary, alert.status, alert.integration_id) == (
        "Checkout 5xx above 5 %",
        "triggered",
        body["id"],
    )
    assert as_admin.get(f"{INTEGRATIONS}/{body['id']}").json()["last_event_at"] is not None
    audit = db.scalars(select(AuditRecord).where(AuditRecord.action == "integration.create")).one()
    assert audit.after is not None
    assert audit.after["name"] == "Prometheus"
    assert key not in str(audit.after)


def test_webhook_tools_get_a_url_with_the_key_and_a_mapping_that_reads_their_json(
    as_admin, client, db, checkout
):
    created = as_admin.post(
        INTEGRATIONS,
        json={
            "service": str(checkout.id),
            "type": "webhook",
            "name": "Cron monitor",
            "mapping": {"summary": "$.message", "dedup_key": "$.job", "severity": "$.level"},
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["urls"] == [
        {
            "purpose": "webhook",
            "url": f"http://127.0.0.1:8000/integrations/webhook/{body['key']}",
            "routing_key": None,
        }
    ]
    assert body["mapping"] == {"summary": "$.message", "dedup_key": "$.job", "severity": "$.level"}

    sent = client.post(
        f"/integrations/webhook/{body['key']}",
        json={"message": "Nightly export failed", "job": "export", "level": "error"},
    )

    assert sent.status_code == 200, sent.text
    [alert] = alerts_of(db, service_id=checkout.id)
    assert (alert.summary, alert.dedup_key, alert.severity) == (
        "Nightly export failed",
        "export",
        "error",
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"service": "nowhere", "type": "pagerduty", "name": "P"}, "service"),
        ({"service": "checkout", "type": "nagios", "name": "P"}, "type"),
        ({"service": "checkout", "type": "pagerduty", "name": " "}, "name"),
        (
            {"service": "checkout", "type": "pagerduty", "name": "P", "mapping": {"summary": "$"}},
            "mapping",
        ),
        (
            {"service": "checkout", "type": "webhook", "name": "W", "mapping": {"items": "x"}},
            "mapping.summary",
        ),
        (
            {
                "service": "checkout",
                "type": "webhook",
                "name": "W",
                "mapping": {"summary": "$.a", "items": "alerts"},
            },
            "mapping",
        ),
        (
            {"service": "checkout", "type": "grafana", "name": "G", "rate_limit_per_minute": 0},
            "rate_limit_per_minute",
        ),
    ],
)
def test_what_cannot_be_used_is_refused_naming_the_field(as_admin, checkout, payload, field):
    refused = as_admin.post(INTEGRATIONS, json=payload)

    assert refused.status_code == 422, refused.text
    assert field in fields_named(refused)


def test_rotating_the_key_stops_the_old_one_at_once(as_admin, client, db, checkout):
    created = as_admin.post(
        INTEGRATIONS, json={"service": "checkout", "type": "alertmanager", "name": "AM"}
    ).json()
    old = created["key"]

    rotated = as_admin.post(f"{INTEGRATIONS}/{created['id']}/rotate-key")

    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["key"]
    assert new != old
    assert rotated.json()["urls"][0]["url"].endswith(f"/integrations/alertmanager/{new}")
    assert client.post(f"/integrations/alertmanager/{old}", json={"alerts": []}).status_code == 404
    assert client.post(f"/integrations/alertmanager/{new}", json={"alerts": []}).status_code == 200
    assert db.scalars(
        select(AuditRecord).where(AuditRecord.action == "integration.rotate_key")
    ).one()


def test_an_admin_edits_disables_and_removes_an_integration(as_admin, client, db, clock):
    add_service(db, clock.now(), slug="checkout")
    search = add_service(db, clock.now(), slug="search")
    db.commit()
    created = as_admin.post(
        INTEGRATIONS, json={"service": "checkout", "type": "webhook", "name": "Hook"}
    ).json()
    path = f"{INTEGRATIONS}/{created['id']}"

    changed = as_admin.patch(
        path,
        json={
            "name": "Search hook",
            "service": "search",
            "rate_limit_per_minute": 30,
            "mapping": {"summary": "{{ item.what }} on {{ item.host }}"},
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["service"]["id"] == search.id
    assert (changed.json()["name"], changed.json()["rate_limit_per_minute"]) == ("Search hook", 30)
    sent = client.post(
        f"/integrations/webhook/{created['key']}", json={"what": "Disk full", "host": "db-1"}
    )
    assert sent.status_code == 200, sent.text
    assert [a.summary for a in alerts_of(db, service_id=search.id)] == ["Disk full on db-1"]

    assert as_admin.patch(path, json={"mapping": None}).json()["mapping"] == {}
    assert fields_named(as_admin.patch(path, json={"name": None})) == ["name"]
    assert as_admin.patch(path, json={"enabled": False}).json()["enabled"] is False
    refused = client.post(f"/integrations/webhook/{created['key']}", json={"title": "x"})
    assert refused.status_code == 403
    assert as_admin.post(f"{path}/test").status_code == 409

    assert as_admin.delete(path).status_code == 204
    assert as_admin.get(path).status_code == 404
    assert client.post(f"/integrations/webhook/{created['key']}", json={}).status_code == 404
    actions = db.scalars(
        select(AuditRecord.action)
        .where(AuditRecord.entity_type == "integration")
        .order_by(AuditRecord.id)
    ).all()
    assert actions == [
        "integration.create",
        "integration.update",
        "integration.update",
        "integration.update",
        "integration.delete",
    ]


def test_a_mapping_belongs_only_to_webhook_integrations(as_admin, checkout):
    created = as_admin.post(
        INTEGRATIONS, json={"service": "checkout", "type": "grafana", "name": "Grafana"}
    ).json()

    refused = as_admin.patch(f"{INTEGRATIONS}/{created['id']}", json={"mapping": {"summary": "x"}})

    assert refused.status_code == 422
    assert fields_named(refused) == ["mapping"]


def test_a_test_send_arrives_as_an_info_alert_on_the_service(as_admin, db, checkout):
    created = as_admin.post(
        INTEGRATIONS, json={"service": "checkout", "type": "pagerduty", "name": "PD"}
    ).json()

    sent = as_admin.post(f"{INTEGRATIONS}/{created['id']}/test")

    assert sent.status_code == 202, sent.text
    assert sent.json()["service"] == "checkout"
    [alert] = alerts_of(db, id=sent.json()["alert_id"])
    assert (alert.summary, alert.severity, alert.status) == (
        "Test alert from Fireline",
        "info",
        "triggered",
    )
    assert alert.details["test"] is True
    assert alert.details["requested_by"] == "Ada Admin <ada@example.com>"


def test_integrations_are_listed_a_page_at_a_time_and_by_service(as_admin, db, clock):
    add_service(db, clock.now(), slug="checkout")
    add_service(db, clock.now(), slug="search")
    db.commit()
    for name, slug in (("A", "checkout"), ("B", "search"), ("C", "checkout")):
        as_admin.post(INTEGRATIONS, json={"service": slug, "type": "grafana", "name": name})

    first = as_admin.get(INTEGRATIONS, params={"limit": 2}).json()
    rest = as_admin.get(INTEGRATIONS, params={"limit": 2, "cursor": first["next_cursor"]}).json()

    assert [i["name"] for i in first["items"]] == ["A", "B"]
    assert [i["name"] for i in rest["items"]] == ["C"]
    assert rest["next_cursor"] is None
    only = as_admin.get(INTEGRATIONS, params={"service": "checkout"}).json()["items"]
    assert [i["name"] for i in only] == ["A", "C"]
    assert as_admin.get(INTEGRATIONS, params={"cursor": "nonsense!"}).status_code == 422


def test_only_admins_manage_integrations(as_viewer, as_responder, client, checkout):
    body = {"service": "checkout", "type": "pagerduty", "name": "P"}

    assert as_viewer.get(INTEGRATIONS).status_code == 403
    assert as_responder.post(INTEGRATIONS, json=body).status_code == 403
    assert client.get(INTEGRATIONS).status_code == 401
    assert client.post(f"{INTEGRATIONS}/1/test").status_code == 401
    assert as_responder.get(f"{INTEGRATIONS}/999").status_code == 403
