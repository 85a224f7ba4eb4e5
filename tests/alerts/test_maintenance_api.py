"""Quiet times: a responder puts checkout in maintenance for its database upgrade, silences a
noisy check, and both keep the pager still until they end; and the changes tools reported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fireline.models import Alert, AuditRecord

from .helpers import add_integration, add_service, pd_trigger

WINDOWS = "/api/v1/maintenance-windows"
SILENCES = "/api/v1/silences"


@pytest.fixture
def checkout(db, clock):
    service = add_service(db, clock.now(), slug="checkout")
    integration = add_integration(db, clock.now(), service, kind="pagerduty")
    db.commit()
    return integration


def fields_named(response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


def at(clock, **delta: float) -> str:
    return (clock.now() + timedelta(**delta)).isoformat()


def alert_with_key(db, dedup_key: str) -> Alert:
    db.expire_all()
    return db.scalars(select(Alert).where(Alert.dedup_key == dedup_key)).one()


def am_body(fingerprint: str, **labels: str) -> dict:
    return {
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "Noisy", **labels},
                "annotations": {"summary": f"Noisy check {fingerprint}"},
                "fingerprint": fingerprint,
            }
        ]
    }


def test_alerts_during_a_maintenance_window_are_suppressed_until_it_is_ended(
    as_responder, client, db, clock, checkout
):
    created = as_responder.post(
        WINDOWS,
        json={
            "description": "Postgres 17 upgrade",
            "services": ["checkout"],
            "ends_at": at(clock, hours=2),
        },
    )
    assert created.status_code == 201, created.text
    window = created.json()
    assert (window["state"], window["services"][0]["slug"]) == ("active", "checkout")

    clock.advance(minutes=10)
    client.post(
        "/v2/enqueue", json=pd_trigger(checkout.key, "DB connections refused", dedup_key="db-1")
    )
    suppressed = alert_with_key(db, "db-1")
    assert suppressed.status == "suppressed"
    assert f"maintenance window {window['id']}" in (suppressed.suppressed_by or "")

    ended = as_responder.post(f"{WINDOWS}/{window['id']}/end")
    assert ended.status_code == 200, ended.text
    assert (ended.json()["state"], ended.json()["ends_at"]) == (
        "past",
        clock.now().isoformat().replace("+00:00", "Z"),
    )
    clock.advance(minutes=1)
    client.post("/v2/enqueue", json=pd_trigger(checkout.key, "DB still refusing", dedup_key="db-2"))
    assert alert_with_key(db, "db-2").status == "triggered"
    assert as_responder.post(f"{WINDOWS}/{window['id']}/end").status_code == 409


def test_windows_are_listed_as_active_upcoming_or_past(as_responder, as_viewer, clock, checkout):
    def make(description: str, start: float, end: float) -> int:
        response = as_responder.post(
            WINDOWS,
            json={
                "description": description,
                "services": ["checkout"],
                "starts_at": at(clock, hours=start),
                "ends_at": at(clock, hours=end),
            },
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    past = make("last week", -170, -168)
    now = make("now", -1, 1)
    later = make("tomorrow", 24, 26)

    def listed(**params) -> list[int]:
        response = as_viewer.get(WINDOWS, params=params)
        assert response.status_code == 200, response.text
        return [w["id"] for w in response.json()["items"]]

    assert listed(state="active") == [now]
    assert listed(state="upcoming") == [later]
    assert listed(state="past") == [past]
    assert listed() == [later, now, past]
    assert listed(service="checkout", limit=1) == [later]
    page = as_viewer.get(WINDOWS, params={"limit": 2}).json()
    assert [
        w["id"]
        for w in as_viewer.get(WINDOWS, params={"cursor": page["next_cursor"]}).json()["items"]
    ] == [past]
    assert as_viewer.get(WINDOWS, params={"state": "someday"}).status_code == 422
    assert as_responder.post(f"{WINDOWS}/{later}/end").status_code == 409
    assert as_viewer.get(f"{WINDOWS}/{later}").json()["description"] == "tomorrow"


def test_a_window_is_moved_widened_and_deleted(as_responder, db, clock, checkout):
    add_service(db, clock.now(), slug="search")
    db.commit()
    window = as_responder.post(
        WINDOWS,
        json={
            "description": "Upgrade",
            "services": ["checkout"],
            "starts_at": at(clock, hours=1),
            "ends_at": at(clock, hours=2),
        },
    ).json()
    path = f"{WINDOWS}/{window['id']}"

    moved = as_responder.patch(
        path,
        json={
            "services": ["checkout", "search", "checkout"],
            "ends_at": at(clock, hours=3),
            "description": "Bigger upgrade",
        },
    )

    assert moved.status_code == 200, moved.text
    assert [s["slug"] for s in moved.json()["services"]] == ["checkout", "search"]
    assert moved.json()["ends_at"].startswith(at(clock, hours=3)[:16])
    assert fields_named(as_responder.patch(path, json={"ends_at": at(clock, minutes=30)})) == [
        "ends_at"
    ]
    assert fields_named(as_responder.patch(path, json={"services": ["nowhere"]})) == ["services[0]"]
    assert fields_named(as_responder.patch(path, json={"description": None})) == ["description"]
    assert as_responder.delete(path).status_code == 204
    assert as_responder.get(path).status_code == 404
    actions = db.scalars(
        select(AuditRecord.action).where(AuditRecord.entity_type == "maintenance_window")
    ).all()
    assert actions == [
        "maintenance_window.create",
        "maintenance_window.update",
        "maintenance_window.delete",
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_at": "2026-01-05T09:00:00Z"}, "ends_at"),
        ({"starts_at": "2026-01-05T10:00:00Z", "ends_at": "2026-04-06T10:00:00Z"}, "ends_at"),
        ({"ends_at": "2026-01-05T12:00:00"}, "ends_at"),
        ({"services": []}, "services"),
        ({"services": ["nowhere"]}, "services[0]"),
    ],
)
def test_a_window_that_cannot_be_is_refused_naming_the_field(as_responder, checkout, change, field):
    body = {
        "description": "x",
        "services": ["checkout"],
        "ends_at": "2026-01-05T12:00:00Z",
    } | change

    refused = as_responder.post(WINDOWS, json=body)

    assert refused.status_code == 422, refused.text
    assert fields_named(refused) == [field]


def test_a_silence_suppresses_matching_alerts_until_it_is_expired(
    as_responder, as_viewer, client, db, clock
):
    checkout = add_service(db, clock.now(), slug="checkout")
    prometheus = add_integration(db, clock.now(), checkout, kind="alertmanager")
    db.commit()
    created = as_responder.post(
        SILENCES,
        json={
            "comment": "Flapping synthetic check, fix in JIRA-12",
            "conditions": [{"field": "labels.check", "op": "equals", "value": "synthetic"}],
            "ends_at": at(clock, hours=4),
        },
    )
    assert created.status_code == 201, created.text
    silence = created.json()
    url = f"/integrations/alertmanager/{prometheus.key}"

    client.post(url, json=am_body("s1", check="synthetic"))
    client.post(url, json=am_body("r1", check="real"))

    assert alert_with_key(db, "s1").status == "suppressed"
    assert f"silence {silence['id']}" in (alert_with_key(db, "s1").suppressed_by or "")
    assert alert_with_key(db, "r1").status == "triggered"
    assert [
        s["id"] for s in as_viewer.get(SILENCES, params={"state": "active"}).json()["items"]
    ] == [silence["id"]]

    clock.advance(minutes=30)
    assert as_responder.delete(f"{SILENCES}/{silence['id']}").status_code == 204
    client.post(url, json=am_body("s2", check="synthetic"))
    assert alert_with_key(db, "s2").status == "triggered"
    expired = as_viewer.get(f"{SILENCES}/{silence['id']}").json()
    assert (expired["state"], expired["ends_at"]) == (
        "past",
        clock.now().isoformat().replace("+00:00", "Z"),
    )
    assert as_responder.delete(f"{SILENCES}/{silence['id']}").status_code == 204  # no change
    audit = db.scalars(select(AuditRecord).where(AuditRecord.action == "silence.expire")).one()
    assert audit.before is not None
    assert audit.after is not None
    assert audit.before["ends_at"] != audit.after["ends_at"]


def test_a_silence_not_started_yet_is_removed_when_expired(as_responder, as_viewer, clock):
    conditions = [{"field": "severity", "op": "equals", "value": "info"}]
    later = as_responder.post(
        SILENCES,
        json={
            "comment": "Load test",
            "conditions": conditions,
            "starts_at": at(clock, days=1),
            "ends_at": at(clock, days=2),
        },
    ).json()
    now = as_responder.post(
        SILENCES, json={"comment": "Now", "conditions": conditions, "ends_at": at(clock, hours=1)}
    ).json()
    assert later["state"] == "upcoming"
    page = as_viewer.get(SILENCES, params={"limit": 1}).json()
    assert [s["id"] for s in page["items"]] == [now["id"]]
    assert [
        s["id"]
        for s in as_viewer.get(SILENCES, params={"cursor": page["next_cursor"]}).json()["items"]
    ] == [later["id"]]

    assert as_responder.delete(f"{SILENCES}/{later['id']}").status_code == 204

    assert as_viewer.get(f"{SILENCES}/{later['id']}").status_code == 404
    assert as_viewer.get(SILENCES, params={"state": "upcoming"}).json()["items"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"conditions": []}, "conditions"),
        (
            {"conditions": [{"field": "colour", "op": "equals", "value": "red"}]},
            "conditions[0].field",
        ),
        (
            {"conditions": [{"field": "labels.x", "op": "exists", "value": "y"}]},
            "conditions[0].value",
        ),
        ({"ends_at": "2026-01-05T10:00:00Z"}, "ends_at"),
        ({"ends_at": "2026-06-05T10:00:00Z"}, "ends_at"),
    ],
)
def test_a_silence_that_cannot_work_is_refused_naming_the_field(as_responder, change, field):
    body = {
        "comment": "x",
        "conditions": [{"field": "labels.check", "op": "exists"}],
        "ends_at": "2026-01-05T11:00:00Z",
    } | change

    refused = as_responder.post(SILENCES, json=body)

    assert refused.status_code == 422, refused.text
    assert fields_named(refused) == [field]


def test_viewers_read_quiet_times_but_only_responders_set_them(as_viewer, client, checkout):
    window = {"description": "x", "services": ["checkout"], "ends_at": "2026-01-05T12:00:00Z"}

    assert as_viewer.get(WINDOWS).status_code == 200
    assert as_viewer.get(SILENCES).status_code == 200
    assert as_viewer.post(WINDOWS, json=window).status_code == 403
    assert as_viewer.delete(f"{SILENCES}/1").status_code == 403
    assert client.get(WINDOWS).status_code == 401
    assert client.get("/api/v1/change-events").status_code == 401


def test_change_events_show_what_changed_on_a_service_newest_first(
    as_viewer, client, db, clock, checkout
):
    def deploy(summary: str) -> None:
        sent = client.post(
            "/v2/change/enqueue",
            json={"routing_key": checkout.key, "payload": {"summary": summary, "source": "ci"}},
        )
        assert sent.status_code == 202, sent.text

    deploy("Deploy v41")
    clock.advance(hours=2)
    since = clock.now().isoformat()
    deploy("Deploy v42")
    clock.advance(minutes=5)
    deploy("Flag checkout_v2 on")

    recent = as_viewer.get("/api/v1/change-events", params={"service": "checkout", "since": since})
    assert recent.status_code == 200, recent.text
    assert [c["summary"] for c in recent.json()["items"]] == ["Flag checkout_v2 on", "Deploy v42"]
    first = as_viewer.get("/api/v1/change-events", params={"limit": 2}).json()
    rest = as_viewer.get(
        "/api/v1/change-events", params={"limit": 2, "cursor": first["next_cursor"]}
    )
    assert [c["summary"] for c in rest.json()["items"]] == ["Deploy v41"]
    assert fields_named(as_viewer.get("/api/v1/change-events", params={"service": "nowhere"})) == [
        "service"
    ]
