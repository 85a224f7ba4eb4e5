"""Routing rules send alerts where they belong, and declare rules turn the serious ones into
incidents, set up by an admin through the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fireline.models import Alert, AuditRecord, Incident, Severity

from .helpers import add_integration, add_service, pd_trigger

ROUTING = "/api/v1/routing-rules"
DECLARE = "/api/v1/declare-rules"
TEAM_PAYMENTS = [{"field": "labels.team", "op": "equals", "value": "payments"}]


def fields_named(response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


def alertmanager_body(fingerprint: str, summary: str, **labels: str) -> dict:
    return {
        "version": "4",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": summary.replace(" ", ""), **labels},
                "annotations": {"summary": summary},
                "startsAt": "2026-01-05T09:58:00Z",
                "fingerprint": fingerprint,
            }
        ],
    }


def alert_with_key(db, dedup_key: str) -> Alert:
    db.expire_all()
    return db.scalars(select(Alert).where(Alert.dedup_key == dedup_key)).one()


def test_a_routing_rule_sends_payments_alerts_to_the_payments_service(as_admin, client, db, clock):
    checkout = add_service(db, clock.now(), slug="checkout")
    payments = add_service(db, clock.now(), slug="payments")
    prometheus = add_integration(db, clock.now(), checkout, kind="alertmanager")
    db.commit()

    created = as_admin.post(
        ROUTING,
        json={"name": "Payments team", "conditions": TEAM_PAYMENTS, "service": "payments"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["service"]["slug"] == "payments"
    assert created.json()["position"] == 1

    for fingerprint, summary, team in (
        ("f1", "Card declines up", "payments"),
        ("f2", "Slow", "web"),
    ):
        sent = client.post(
            f"/integrations/alertmanager/{prometheus.key}",
            json=alertmanager_body(fingerprint, summary, team=team),
        )
        assert sent.status_code == 200, sent.text

    assert alert_with_key(db, "f1").service_id == payments.id
    assert alert_with_key(db, "f2").service_id == checkout.id


def test_a_rule_can_be_narrowed_to_one_integration_and_set_the_severity(
    as_admin, client, db, clock
):
    checkout = add_service(db, clock.now(), slug="checkout")
    grafana = add_integration(db, clock.now(), checkout, kind="alertmanager", name="Grafana")
    db.commit()

    created = as_admin.post(
        ROUTING,
        json={
            "name": "Everything from Grafana is a warning",
            "integration_id": grafana.id,
            "severity": "warning",
        },
    )
    assert created.status_code == 201, created.text
    client.post(
        f"/integrations/alertmanager/{grafana.key}",
        json=alertmanager_body("g1", "CPU high", severity="critical"),
    )

    assert alert_with_key(db, "g1").severity == "warning"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (
            {"name": "x", "service": "checkout", "conditions": [{"field": "colour"}]},
            "conditions[0].field",
        ),
        (
            {"name": "x", "service": "checkout", "conditions": [{"field": "severity", "op": "is"}]},
            "conditions[0].op",
        ),
        (
            {
                "name": "x",
                "service": "checkout",
                "conditions": [{"field": "summary", "op": "matches", "value": "("}],
            },
            "conditions[0].value",
        ),
        ({"name": "x", "service": "nowhere"}, "service"),
        ({"name": "x", "service": "checkout", "integration_id": 999}, "integration_id"),
        ({"name": "x", "escalation_policy_id": 999}, "escalation_policy_id"),
        ({"name": "does nothing", "conditions": TEAM_PAYMENTS}, "service"),
        ({"name": "x", "severity": "sev1"}, "severity"),
    ],
)
def test_a_routing_rule_that_cannot_work_is_refused_naming_the_field(
    as_admin, db, clock, payload, field
):
    add_service(db, clock.now(), slug="checkout")
    db.commit()

    refused = as_admin.post(ROUTING, json=payload)

    assert refused.status_code == 422, refused.text
    assert fields_named(refused) == [field]


def test_rules_are_tried_in_the_order_the_admin_sets(as_admin, db, clock):
    add_service(db, clock.now(), slug="checkout")
    db.commit()
    ids = [
        as_admin.post(ROUTING, json={"name": name, "severity": "info"}).json()["id"]
        for name in ("first", "second", "third")
    ]

    reordered = as_admin.put(f"{ROUTING}/order", json={"ids": [ids[2], ids[0], ids[1]]})

    assert reordered.status_code == 200, reordered.text
    assert [(r["name"], r["position"]) for r in reordered.json()] == [
        ("third", 1),
        ("first", 2),
        ("second", 3),
    ]
    page = as_admin.get(ROUTING, params={"limit": 2}).json()
    rest = as_admin.get(ROUTING, params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [r["name"] for r in page["items"] + rest["items"]] == ["third", "first", "second"]
    assert rest["next_cursor"] is None

    assert fields_named(as_admin.put(f"{ROUTING}/order", json={"ids": ids[:2]})) == ["ids"]
    assert fields_named(as_admin.put(f"{ROUTING}/order", json={"ids": [*ids, ids[0]]})) == ["ids"]
    assert fields_named(as_admin.put(f"{ROUTING}/order", json={"ids": [*ids, 999]})) == ["ids"]
    reorder = db.scalars(
        select(AuditRecord).where(AuditRecord.action == "routing_rule.reorder")
    ).one()
    assert reorder.after == {str(ids[2]): 1, str(ids[0]): 2, str(ids[1]): 3}


def test_a_rule_is_edited_disabled_and_removed(as_admin, db, clock):
    add_service(db, clock.now(), slug="checkout")
    add_service(db, clock.now(), slug="payments")
    db.commit()
    rule = as_admin.post(ROUTING, json={"name": "to checkout", "service": "checkout"}).json()
    path = f"{ROUTING}/{rule['id']}"

    changed = as_admin.patch(
        path, json={"service": "payments", "conditions": TEAM_PAYMENTS, "enabled": False}
    )

    assert changed.status_code == 200, changed.text
    assert (changed.json()["service"]["slug"], changed.json()["enabled"]) == ("payments", False)
    assert changed.json()["conditions"] == TEAM_PAYMENTS
    assert fields_named(as_admin.patch(path, json={"service": None})) == ["service"]
    assert fields_named(as_admin.patch(path, json={"name": None})) == ["name"]
    assert as_admin.get(path).json()["name"] == "to checkout"
    assert as_admin.delete(path).status_code == 204
    assert as_admin.get(path).status_code == 404
    gone = as_admin.get(ROUTING, params={"cursor": "aWQ6OTk5"})  # continues after rule 999
    assert fields_named(gone) == ["cursor"]


def test_a_declare_rule_declares_a_sev2_for_a_critical_alert_on_a_tier_1_service(
    as_admin, client, db, clock
):
    checkout = add_service(db, clock.now(), slug="checkout", tier=1)
    wiki = add_service(db, clock.now(), slug="wiki", tier=3)
    pagerduty = add_integration(db, clock.now(), checkout)
    wiki_pd = add_integration(db, clock.now(), wiki)
    db.commit()
    created = as_admin.post(
        DECLARE,
        json={
            "name": "Critical on tier 1",
            "conditions": [
                {"field": "severity", "op": "equals", "value": "critical"},
                {"field": "service.tier", "op": "at_most", "value": 1},
            ],
            "severity": "sev2",
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["severity"] == "SEV2"

    started = datetime(2026, 1, 5, 9, 52, tzinfo=UTC)
    sent = client.post(
        "/v2/enqueue",
        json=pd_trigger(
            pagerduty.key, "Checkout down", dedup_key="co-1", timestamp=started.isoformat()
        ),
    )
    client.post("/v2/enqueue", json=pd_trigger(wiki_pd.key, "Wiki slow", dedup_key="wiki-1"))

    assert sent.status_code == 202, sent.text
    alert = alert_with_key(db, "co-1")
    assert alert.incident_id is not None
    incident = db.get(Incident, alert.incident_id)
    assert incident is not None
    assert db.get(Severity, incident.severity_id).key == "SEV2"
    assert incident.detected_at == started
    assert alert_with_key(db, "wiki-1").incident_id is None


def test_declare_rules_are_managed_like_routing_rules(as_admin, db):
    refused = as_admin.post(DECLARE, json={"name": "x", "severity": "SEV9"})
    assert refused.status_code == 422
    assert fields_named(refused) == ["severity"]
    bad = as_admin.post(DECLARE, json={"name": "x", "severity": "SEV1", "conditions": "all"})
    assert bad.status_code == 422

    first = as_admin.post(DECLARE, json={"name": "first", "severity": "SEV1"}).json()
    second = as_admin.post(DECLARE, json={"name": "second", "severity": "SEV3"}).json()
    path = f"{DECLARE}/{first['id']}"
    assert second["position"] == first["position"] + 1

    changed = as_admin.patch(path, json={"severity": "sev4", "name": "renamed"})
    assert (changed.json()["severity"], changed.json()["name"]) == ("SEV4", "renamed")
    assert fields_named(as_admin.patch(path, json={"severity": None})) == ["severity"]
    order = as_admin.put(f"{DECLARE}/order", json={"ids": [second["id"], first["id"]]})
    assert [r["name"] for r in order.json()] == ["second", "renamed"]
    listed = as_admin.get(DECLARE, params={"limit": 1}).json()
    assert [r["name"] for r in listed["items"]] == ["second"]
    assert as_admin.get(path).json()["position"] == 2
    assert as_admin.delete(path).status_code == 204
    assert as_admin.get(path).status_code == 404
    assert [r["name"] for r in as_admin.get(DECLARE).json()["items"]] == ["second"]


def test_only_admins_manage_rules(as_viewer, as_responder, client):
    assert as_viewer.get(ROUTING).status_code == 403
    assert as_responder.post(DECLARE, json={"name": "x", "severity": "SEV1"}).status_code == 403
    assert as_responder.put(f"{ROUTING}/order", json={"ids": []}).status_code == 403
    assert client.get(DECLARE).status_code == 401
