"""The nightly backup pings its heartbeat every 60 minutes (10 of grace): when it goes quiet, one
alert fires on the service; the next ping resolves it. Time moves on the fake clock and the
checks run in a worker, as they would in production."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fireline.alerts.heartbeats import check_heartbeat
from fireline.jobs.handlers import JobContext, default_handlers
from fireline.jobs.worker import Worker
from fireline.models import Alert, AuditRecord

from .helpers import add_service

HEARTBEATS = "/api/v1/heartbeats"


@pytest.fixture
def checkout(db, clock):
    service = add_service(db, clock.now(), slug="checkout")
    db.commit()
    return service


@pytest.fixture
def worker(session_factory, clock, settings) -> Worker:
    return Worker(session_factory, clock=clock, handlers=default_handlers(settings), worker_id="hb")


def drain(worker: Worker) -> None:
    for _ in range(20):
        if worker.run_once() == 0:
            return
    pytest.fail("jobs kept coming")


def heartbeat_alerts(db, heartbeat_id: int) -> list[Alert]:
    db.expire_all()
    return list(
        db.scalars(
            select(Alert).where(Alert.dedup_key == f"heartbeat:{heartbeat_id}").order_by(Alert.id)
        )
    )


def fields_named(response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


def test_a_missed_heartbeat_fires_one_alert_and_the_next_ping_resolves_it(
    as_admin, client, db, clock, worker, checkout
):
    created = as_admin.post(
        HEARTBEATS,
        json={
            "service": "checkout",
            "name": "Nightly backup",
            "interval_minutes": 60,
            "grace_minutes": 10,
        },
    )
    assert created.status_code == 201, created.text
    heartbeat = created.json()
    assert (
        heartbeat["ping_url"] == f"http://127.0.0.1:8000/integrations/heartbeat/{heartbeat['key']}"
    )
    assert heartbeat["status"] == "new"
    ping = heartbeat["ping_url"].removeprefix("http://127.0.0.1:8000")

    clock.advance(minutes=50)
    pinged = client.get(ping)
    assert pinged.status_code == 200, pinged.text
    assert pinged.json()["status"] == "up"
    clock.advance(minutes=69)
    drain(worker)
    assert heartbeat_alerts(db, heartbeat["id"]) == []  # one minute of grace left

    clock.advance(minutes=1)  # 10:00 + 50 min, then 70 min of silence
    silent_since = clock.now() - timedelta(minutes=70)
    drain(worker)
    [alert] = heartbeat_alerts(db, heartbeat["id"])
    assert (alert.status, alert.severity, alert.service_id) == (
        "triggered",
        "critical",
        checkout.id,
    )
    assert alert.summary.startswith("Heartbeat “Nightly backup” missed: last ping")
    assert alert.started_at == silent_since + timedelta(minutes=70)
    assert alert.integration_id is None
    assert as_admin.get(f"{HEARTBEATS}/{heartbeat['id']}").json()["status"] == "down"

    clock.advance(hours=5)
    drain(worker)
    assert len(heartbeat_alerts(db, heartbeat["id"])) == 1  # fires once, however long it lasts

    back = client.post(ping)
    assert back.status_code == 200
    [resolved] = heartbeat_alerts(db, heartbeat["id"])
    assert (resolved.status, resolved.resolved_at) == ("resolved", clock.now())
    assert as_admin.get(f"{HEARTBEATS}/{heartbeat['id']}").json()["status"] == "up"

    clock.advance(minutes=71)  # silent again: a new alert for the new outage
    drain(worker)
    assert [a.status for a in heartbeat_alerts(db, heartbeat["id"])] == ["resolved", "triggered"]


def test_a_heartbeat_never_pinged_fires_after_its_first_interval(
    as_admin, db, clock, worker, checkout
):
    heartbeat = as_admin.post(
        HEARTBEATS,
        json={
            "service": "checkout",
            "name": "Billing export",
            "interval_minutes": 15,
            "severity": "warning",
        },
    ).json()

    clock.advance(minutes=15)
    drain(worker)

    [alert] = heartbeat_alerts(db, heartbeat["id"])
    assert alert.severity == "warning"
    assert "never been pinged" in alert.summary


def test_a_longer_interval_postpones_the_alert_and_a_shorter_one_brings_it_forward(
    as_admin, db, clock, worker, checkout
):
    heartbeat = as_admin.post(
        HEARTBEATS, json={"service": "checkout", "name": "Sync", "interval_minutes": 10}
    ).json()
    path = f"{HEARTBEATS}/{heartbeat['id']}"

    longer = as_admin.patch(path, json={"interval_minutes": 30, "name": "Inventory sync"})
    assert longer.status_code == 200, longer.text
    assert longer.json()["due_by"] == (clock.now() + timedelta(minutes=30)).isoformat().replace(
        "+00:00", "Z"
    )
    clock.advance(minutes=10)
    drain(worker)
    assert heartbeat_alerts(db, heartbeat["id"]) == []

    assert (
        as_admin.patch(path, json={"grace_minutes": 0, "interval_minutes": 12}).status_code == 200
    )
    clock.advance(minutes=2)
    drain(worker)
    assert len(heartbeat_alerts(db, heartbeat["id"])) == 1
    assert as_admin.get(path).json()["due_by"] is None


def test_deleting_a_heartbeat_that_fired_resolves_its_alert(as_admin, db, clock, worker, checkout):
    heartbeat = as_admin.post(
        HEARTBEATS, json={"service": "checkout", "name": "Cron", "interval_minutes": 5}
    ).json()
    clock.advance(minutes=5)
    drain(worker)

    assert as_admin.delete(f"{HEARTBEATS}/{heartbeat['id']}").status_code == 204

    assert [a.status for a in heartbeat_alerts(db, heartbeat["id"])] == ["resolved"]
    assert as_admin.get(f"{HEARTBEATS}/{heartbeat['id']}").status_code == 404
    clock.advance(hours=1)
    drain(worker)  # its pending check finds nothing to do
    actions = db.scalars(
        select(AuditRecord.action)
        .where(AuditRecord.entity_type == "heartbeat")
        .order_by(AuditRecord.id)
    ).all()
    assert actions == ["heartbeat.create", "heartbeat.delete"]


def test_heartbeats_are_listed_and_moved_between_services(as_admin, db, clock, checkout):
    add_service(db, clock.now(), slug="search")
    db.commit()
    for name in ("a", "b", "c"):
        as_admin.post(HEARTBEATS, json={"service": "checkout", "name": name, "interval_minutes": 5})

    page = as_admin.get(HEARTBEATS, params={"limit": 2}).json()
    rest = as_admin.get(HEARTBEATS, params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [h["name"] for h in page["items"] + rest["items"]] == ["a", "b", "c"]
    moved = as_admin.patch(f"{HEARTBEATS}/{page['items'][0]['id']}", json={"service": "search"})
    assert moved.json()["service"]["slug"] == "search"
    assert [
        h["name"] for h in as_admin.get(HEARTBEATS, params={"service": "search"}).json()["items"]
    ] == ["a"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"interval_minutes": 0}, "interval_minutes"),
        ({"interval_minutes": 10081}, "interval_minutes"),
        ({"grace_minutes": -1}, "grace_minutes"),
        ({"severity": "sev1"}, "severity"),
        ({"service": "nowhere"}, "service"),
    ],
)
def test_a_heartbeat_that_cannot_work_is_refused_naming_the_field(
    as_admin, checkout, change, field
):
    body = {"service": "checkout", "name": "Job", "interval_minutes": 5} | change

    refused = as_admin.post(HEARTBEATS, json=body)

    assert refused.status_code == 422, refused.text
    assert fields_named(refused) == [field]


def test_pings_need_no_sign_in_but_a_known_key_and_managing_needs_an_admin(
    as_admin, as_viewer, as_responder, client, checkout
):
    heartbeat = as_admin.post(
        HEARTBEATS, json={"service": "checkout", "name": "Job", "interval_minutes": 5}
    ).json()

    assert client.get(f"/integrations/heartbeat/{'0' * 32}").status_code == 404
    assert client.post(f"/integrations/heartbeat/{heartbeat['key']}").status_code == 200
    assert fields_named(as_admin.patch(f"{HEARTBEATS}/{heartbeat['id']}", json={"name": None})) == [
        "name"
    ]
    assert as_viewer.get(HEARTBEATS).status_code == 403
    assert as_responder.delete(f"{HEARTBEATS}/{heartbeat['id']}").status_code == 403
    assert client.get(HEARTBEATS).status_code == 401


def test_a_check_for_a_heartbeat_that_is_down_or_gone_does_nothing(
    as_admin, db, clock, worker, checkout
):
    heartbeat = as_admin.post(
        HEARTBEATS, json={"service": "checkout", "name": "Cron", "interval_minutes": 5}
    ).json()
    clock.advance(minutes=5)
    drain(worker)
    context = JobContext(now=clock.now(), job_id=0, attempt=2)

    changed = as_admin.patch(f"{HEARTBEATS}/{heartbeat['id']}", json={"interval_minutes": 60})
    check_heartbeat(db, {"heartbeat_id": heartbeat["id"]}, context)  # run twice: down already
    check_heartbeat(db, {"heartbeat_id": heartbeat["id"] + 1000}, context)

    assert (changed.json()["status"], changed.json()["due_by"]) == ("down", None)
    assert len(heartbeat_alerts(db, heartbeat["id"])) == 1
