"""Subscribers as their real peers meet them: confirmation and update mail through a real SMTP
server (aiosmtpd), followed link by link, and Statuspage-shaped webhooks to a real HTTP server.

The deliveries are sent by a job worker on the fake clock, as `notify.deliver` jobs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from comms.test_subscribers import make_component, make_incident, make_page

from fireline.comms import notifications, subscribers
from fireline.jobs.handlers import default_handlers
from fireline.jobs.worker import Worker

BASE = "http://127.0.0.1:8000"  # the app's configured base_url: links in mail start here
LINK = re.compile(r"https?://\S+")

# What a Statuspage webhook document carries, by its documented examples.
META = {"unsubscribe", "documentation"}
PAGE = {"id", "status_indicator", "status_description"}
INCIDENT = {
    "backfilled", "created_at", "impact", "impact_override", "monitoring_at", "postmortem_body",
    "postmortem_body_last_updated_at", "postmortem_ignored", "postmortem_notified_subscribers",
    "postmortem_notified_twitter", "postmortem_published_at", "resolved_at",
    "scheduled_auto_transition", "scheduled_for", "scheduled_remind_prior",
    "scheduled_reminded_at", "scheduled_until", "shortlink", "status", "updated_at", "id",
    "organization_id", "incident_updates", "name",
}  # fmt: skip
INCIDENT_UPDATE = {
    "body", "created_at", "display_at", "status", "twitter_updated_at", "updated_at",
    "wants_twitter_update", "id", "incident_id",
}  # fmt: skip
COMPONENT_UPDATE = {"created_at", "new_status", "old_status", "id", "component_id"}
COMPONENT = {"created_at", "id", "name", "status"}


def drain(worker: Worker, clock, *, rounds: int = 10) -> None:
    """Run due jobs until none are left, moving the clock past each retry's backoff."""
    for _ in range(rounds):
        if worker.run_once() == 0:
            clock.advance(hours=1)
            if worker.run_once() == 0:
                return
    pytest.fail("jobs kept coming")


@pytest.fixture
def worker(session_factory, clock, smtp_server, webhook_receiver):
    settings = smtp_server.settings(webhook_allow_private_targets=True, webhook_timeout=5.0)
    return Worker(session_factory, clock=clock, handlers=default_handlers(settings), worker_id="s")


def path_of(url: str) -> str:
    assert url.startswith(BASE), url
    return urlsplit(url).path


def link_in(text: str, ending: str) -> str:
    return next(link for link in LINK.findall(text) if link.endswith(ending))


def test_an_email_subscriber_confirms_hears_of_an_update_and_unsubscribes_in_one_click(
    client, db, clock, smtp_server, worker
):
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API")
    db.commit()

    assert client.post("/status/subscribe", data={"email": "ann@example.com"}).status_code == 200
    drain(worker, clock)
    [confirmation] = smtp_server.received
    assert confirmation.rcpt_tos == ["ann@example.com"]
    confirm = path_of(link_in(confirmation.part("text/plain"), "/confirm"))

    # Before confirming, an update reaches nobody.
    incident, update = make_incident(db, clock, page, [api], name="Login failures")
    notifications.incident_updated(
        db, public_incident=incident, update=update, now=clock.now(), base_url=BASE
    )
    db.commit()
    drain(worker, clock)
    assert len(smtp_server.received) == 1

    assert client.get(confirm).status_code == 200
    assert "Confirm subscription" in client.get(confirm).text
    assert "You are subscribed" in client.post(confirm).text

    clock.advance(minutes=10)
    _, second = make_incident(db, clock, page, [api], name="Slow API", body="Requests are slow.")
    second.public_incident_id = incident.id
    db.flush()
    notifications.incident_updated(
        db, public_incident=incident, update=second, now=clock.now(), base_url=BASE
    )
    db.commit()
    drain(worker, clock)

    mail = smtp_server.received[-1].message
    assert len(smtp_server.received) == 2
    assert mail["Subject"] == "[Acme Status] Login failures — Investigating"
    text = smtp_server.received[-1].part("text/plain")
    assert "Requests are slow." in text
    assert f"{BASE}/status/incidents/{incident.code}" in text
    unsubscribe = link_in(text, "/unsubscribe")
    assert mail["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in smtp_server.received[-1].part("text/html")

    # RFC 8058: the mail client POSTs the header's body to the header's URL.
    one_click = client.post(
        path_of(unsubscribe),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    assert "You are unsubscribed" in one_click.text

    clock.advance(minutes=10)
    notifications.component_changed(
        db, component=api, old_status="major_outage", now=clock.now(), base_url=BASE
    )
    db.commit()
    drain(worker, clock)
    assert len(smtp_server.received) == 2  # nothing more arrives


def test_the_unsubscribe_button_in_the_mail_works_too(client, db, clock, smtp_server, worker):
    page = make_page(db, clock)
    db.commit()
    client.post("/status/subscribe", data={"email": "bob@example.com"})
    drain(worker, clock)
    confirm = link_in(smtp_server.received[0].part("text/plain"), "/confirm")
    client.post(path_of(confirm))
    incident, update = make_incident(db, clock, page, [])
    notifications.incident_updated(
        db, public_incident=incident, update=update, now=clock.now(), base_url=BASE
    )
    db.commit()
    drain(worker, clock)
    unsubscribe = path_of(link_in(smtp_server.received[-1].part("text/plain"), "/unsubscribe"))
    assert "Stop sending" in client.get(unsubscribe).text
    assert "You are unsubscribed" in client.post(unsubscribe).text
    assert subscribers.list_subscribers(db, page=page) == []


def test_a_webhook_subscriber_receives_statuspage_documents_with_a_retry_on_500(
    as_admin, app, db, clock, webhook_receiver, worker
):
    app.state.settings.webhook_allow_private_targets = True
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API")
    db.commit()
    added = as_admin.post(
        "/api/v1/status-pages/acme/subscribers",
        json={"kind": "webhook", "target": webhook_receiver.url("/statuspage")},
    )
    assert added.status_code == 201, added.text

    webhook_receiver.script([500, 200])
    incident, update = make_incident(db, clock, page, [api])
    notifications.incident_updated(
        db, public_incident=incident, update=update, now=clock.now(), base_url=BASE
    )
    db.commit()
    drain(worker, clock)

    assert [r.status for r in webhook_receiver.requests] == [500, 200]
    first, delivered = webhook_receiver.requests
    assert first.body == delivered.body
    assert "X-Fireline-Signature" not in delivered.headers  # unsigned, as Statuspage's are
    assert delivered.headers["Content-Type"] == "application/json"
    document = delivered.json()
    assert set(document) == {"meta", "page", "incident"}
    assert set(document["meta"]) == META
    assert set(document["page"]) == PAGE
    assert document["page"]["id"] == page.code
    assert document["page"]["status_indicator"] in {"none", "minor", "major", "critical"}
    assert set(document["incident"]) >= INCIDENT
    assert document["incident"]["id"] == incident.code
    [first_update] = document["incident"]["incident_updates"]
    assert set(first_update) >= INCIDENT_UPDATE
    assert first_update["body"] == update.body
    unsubscribe = document["meta"]["unsubscribe"]

    api.status = "partial_outage"
    notifications.component_changed(
        db, component=api, old_status="operational", now=clock.now(), base_url=BASE
    )
    db.commit()
    drain(worker, clock)
    component_document = webhook_receiver.requests[-1].json()
    assert set(component_document) == {"meta", "page", "component_update", "component"}
    assert set(component_document["component_update"]) == COMPONENT_UPDATE
    assert set(component_document["component"]) == COMPONENT
    assert component_document["component_update"]["new_status"] == "partial_outage"
    assert component_document["component"]["id"] == api.code

    # The document's unsubscribe link works for a webhook's owner too.
    assert "You are unsubscribed" in as_admin.client.post(path_of(unsubscribe)).text
    count = len(webhook_receiver.requests)
    clock.advance(minutes=5)
    api.status = "operational"
    notifications.component_changed(
        db, component=api, old_status="partial_outage", now=clock.now(), base_url=BASE
    )
    db.commit()
    drain(worker, clock)
    assert len(webhook_receiver.requests) == count
