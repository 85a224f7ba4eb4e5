"""The escalation story of the issue, on the fake clock: an alert at 02:00 pages level 1 (Pia);
nobody acknowledges, so at 02:05 level 2 (Quinn) is paged; Quinn acknowledges at 02:06 from the
link in the page, paging stops (no level 3 at 02:15), and the time to acknowledge is six minutes.
Pages go out as email through a real SMTP server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from fireline.jobs.handlers import default_handlers
from fireline.jobs.worker import Worker
from fireline.models import Alert

from .helpers import add_integration, add_policy, add_service, pd_trigger

TWO_AM = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


@pytest.fixture
def worker(session_factory, clock, smtp_server, app) -> Worker:
    settings = smtp_server.settings(base_url="https://fireline.example.com")
    app.state.settings = settings  # the links in pages are checked with the same secret
    return Worker(
        session_factory, clock=clock, handlers=default_handlers(settings), worker_id="pager"
    )


def drain(worker: Worker) -> None:
    for _ in range(20):
        if worker.run_once() == 0:
            return
    pytest.fail("jobs kept coming")


def pages_to(smtp_server, address):
    return [m for m in smtp_server.messages if address in m["To"]]


def test_an_unacknowledged_page_escalates_until_someone_acknowledges(
    client, db, clock, make_person, worker, smtp_server
):
    clock.set(TWO_AM)
    pia = make_person("responder", name="Pia Primary", email="pia@example.com").user
    quinn = make_person("responder", name="Quinn Second", email="quinn@example.com").user
    rex = make_person("responder", name="Rex Third", email="rex@example.com").user
    service = add_service(db, clock.now())
    service.escalation_policy_id = add_policy(
        db, clock.now(), [(5, [pia]), (10, [quinn]), (10, [rex])]
    ).id
    integration = add_integration(db, clock.now(), service)
    db.commit()

    sent = client.post("/v2/enqueue", json=pd_trigger(integration.key, "Checkout 5xx above 5 %"))
    drain(worker)

    assert sent.status_code == 202, sent.text
    assert len(pages_to(smtp_server, "pia@example.com")) == 1
    assert pages_to(smtp_server, "quinn@example.com") == []

    clock.advance(minutes=4, seconds=59)
    drain(worker)
    assert pages_to(smtp_server, "quinn@example.com") == []  # level 2 waits its five minutes

    clock.set(TWO_AM + timedelta(minutes=5))
    drain(worker)
    [page] = pages_to(smtp_server, "quinn@example.com")
    assert "Checkout 5xx above 5 %" in page["Subject"]
    text = page.get_body(preferencelist=("plain",)).get_content()
    acknowledge = re.search(r"Acknowledge: (\S+)", text).group(1)
    assert acknowledge.startswith("https://fireline.example.com/alerts/")

    clock.set(TWO_AM + timedelta(minutes=6))
    path = httpx.URL(acknowledge).raw_path.decode()
    confirm = client.get(path)
    assert confirm.status_code == 200
    assert "Quinn Second" in confirm.text
    alert = db.scalars(select(Alert)).one()
    db.refresh(alert)
    assert alert.status == "triggered"  # opening the link alone acknowledges nothing
    acknowledged = client.post(path)
    assert acknowledged.status_code == 200
    assert "paging has stopped" in acknowledged.text

    clock.set(TWO_AM + timedelta(minutes=30))
    drain(worker)
    assert pages_to(smtp_server, "rex@example.com") == []
    assert len(pages_to(smtp_server, "pia@example.com")) == 1
    db.refresh(alert)
    assert alert.status == "acknowledged"
    assert alert.acknowledged_by_id == quinn.id
    assert alert.acknowledged_at - alert.first_seen_at == timedelta(minutes=6)  # MTTA
    shown = client.get(f"/api/v1/alerts/{alert.id}", headers=make_person("viewer").headers)
    log = [
        (entry["kind"], entry["level"], datetime.fromisoformat(entry["occurred_at"]) - TWO_AM)
        for entry in shown.json()["log"]
    ]
    assert log == [
        ("triggered", None, timedelta(0)),
        ("paged", 1, timedelta(0)),
        ("paged", 2, timedelta(minutes=5)),
        ("acknowledged", None, timedelta(minutes=6)),
    ]
    assert shown.json()["seconds_to_acknowledge"] == 360


def test_a_policy_repeats_from_level_one_after_its_last_level_then_stops(
    client, db, clock, make_person, worker, smtp_server
):
    clock.set(TWO_AM)
    pia = make_person("responder", email="pia@example.com").user
    service = add_service(db, clock.now())
    service.escalation_policy_id = add_policy(db, clock.now(), [(10, [pia])], repeat=2).id
    integration = add_integration(db, clock.now(), service)
    db.commit()

    client.post("/v2/enqueue", json=pd_trigger(integration.key, "Disk full"))
    for minutes in (0, 10, 20, 30, 40):
        clock.set(TWO_AM + timedelta(minutes=minutes))
        drain(worker)

    # The first page and two repeats, ten minutes apart; nothing after the repeats run out.
    assert len(pages_to(smtp_server, "pia@example.com")) == 3


def test_resolving_at_the_source_stops_paging(client, db, clock, make_person, worker, smtp_server):
    clock.set(TWO_AM)
    pia = make_person("responder", email="pia@example.com").user
    quinn = make_person("responder", email="quinn@example.com").user
    service = add_service(db, clock.now())
    service.escalation_policy_id = add_policy(db, clock.now(), [(5, [pia]), (5, [quinn])]).id
    integration = add_integration(db, clock.now(), service)
    db.commit()

    client.post("/v2/enqueue", json=pd_trigger(integration.key, "Queue backlog", dedup_key="q1"))
    drain(worker)
    clock.advance(minutes=2)
    resolved = client.post(
        "/v2/enqueue",
        json={"routing_key": integration.key, "event_action": "resolve", "dedup_key": "q1"},
    )
    clock.advance(minutes=10)
    drain(worker)

    assert resolved.status_code == 202
    assert pages_to(smtp_server, "quinn@example.com") == []


def test_a_link_that_was_tampered_with_or_has_expired_acts_on_nothing(
    client, db, clock, make_person, worker, smtp_server
):
    clock.set(TWO_AM)
    pia = make_person("responder", email="pia@example.com").user
    service = add_service(db, clock.now())
    service.escalation_policy_id = add_policy(db, clock.now(), [(5, [pia])]).id
    integration = add_integration(db, clock.now(), service)
    db.commit()
    client.post("/v2/enqueue", json=pd_trigger(integration.key, "Latency"))
    drain(worker)
    [page] = pages_to(smtp_server, "pia@example.com")
    text = page.get_body(preferencelist=("plain",)).get_content()
    resolve = httpx.URL(re.search(r"Resolve: (\S+)", text).group(1)).raw_path.decode()

    forged = client.post(resolve.replace("/resolve?", "/acknowledge?"))
    clock.advance(days=8)
    expired = client.post(resolve)

    assert forged.status_code == 403
    assert "not one Fireline sent" in forged.text
    assert expired.status_code == 403
    assert "expired" in expired.text
    alert = db.scalars(select(Alert)).one()
    db.refresh(alert)
    assert alert.status == "triggered"
