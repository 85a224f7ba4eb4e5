"""Contact methods, channels and the delivery log through the JSON API, with deliveries sent by
a worker on the fake clock to a real SMTP server and a real HTTP receiver."""

from __future__ import annotations

import pytest

from fireline.jobs.handlers import default_handlers
from fireline.jobs.worker import Worker
from fireline.notify.transports import verify

ME = "/api/v1/users/me/contact-methods"
CHANNELS = "/api/v1/channels"


@pytest.fixture
def worker_for(session_factory, clock):
    def make(settings) -> Worker:
        return Worker(
            session_factory, clock=clock, handlers=default_handlers(settings), worker_id="n"
        )

    return make


@pytest.fixture
def receiver(app, clock, webhook_receiver):
    """The webhook receiver, reachable: private targets allowed, its clock the test's."""
    app.state.settings.webhook_allow_private_targets = True
    webhook_receiver.now = clock.now
    return webhook_receiver


def drain(worker: Worker) -> None:
    for _ in range(20):
        if worker.run_once() == 0:
            return
    pytest.fail("jobs kept coming")


def fields_named(response):
    return [error["field"] for error in response.json().get("errors", [])]


def test_a_webhook_channel_failing_twice_then_succeeding_logs_three_attempts_one_delivered(
    as_admin, clock, worker_for, receiver
):
    settings = receiver.settings()
    created = as_admin.post(
        CHANNELS,
        json={"name": "ops-hook", "transport": "webhook", "target": receiver.url()},
    )
    assert created.status_code == 201, created.text
    secret = created.json()["signing_secret"]
    assert secret
    assert as_admin.get(f"{CHANNELS}/ops-hook").json().get("signing_secret") is None
    receiver.secret = secret
    receiver.script([500, 503, 200])
    worker = worker_for(settings)

    sent = as_admin.post(f"{CHANNELS}/ops-hook/test")
    assert sent.status_code == 202, sent.text
    delivery_id = sent.json()["id"]
    drain(worker)
    assert sent.json()["state"] == "pending"
    after_one = as_admin.get(f"/api/v1/deliveries/{delivery_id}").json()
    assert (after_one["state"], after_one["attempts"]) == ("retrying", 1)

    for _ in range(2):  # each retry waits out its backoff (under two minutes early on)
        clock.advance(minutes=10)
        drain(worker)

    delivery = as_admin.get(f"/api/v1/deliveries/{delivery_id}").json()
    assert delivery["state"] == "delivered"
    assert [(a["succeeded"], a["status_code"]) for a in delivery["attempt_log"]] == [
        (False, 500),
        (False, 503),
        (True, 200),
    ]
    assert [r.status for r in receiver.requests] == [500, 503, 200]
    last = receiver.requests[-1]
    assert verify(
        secret,
        signature=last.headers["X-Fireline-Signature"],
        timestamp=last.headers["X-Fireline-Timestamp"],
        body=last.body,
        now=clock.now(),
    )
    assert last.headers["X-Fireline-Delivery"] == str(delivery_id)

    clock.advance(hours=2)
    drain(worker)  # nothing runs twice
    assert len(receiver.requests) == 3


def test_a_receiver_refusing_the_signature_fails_the_delivery_without_retrying(
    as_admin, clock, worker_for, receiver
):
    created = as_admin.post(
        CHANNELS, json={"name": "hook", "transport": "webhook", "target": receiver.url()}
    )
    assert created.status_code == 201, created.text
    receiver.secret = "not-the-secret"
    worker = worker_for(receiver.settings())
    delivery_id = as_admin.post(f"{CHANNELS}/hook/test").json()["id"]

    drain(worker)
    clock.advance(hours=1)
    drain(worker)

    delivery = as_admin.get(f"/api/v1/deliveries/{delivery_id}").json()
    assert (delivery["state"], delivery["attempts"]) == ("failed", 1)
    assert delivery["attempt_log"][0]["status_code"] == 401


def test_my_email_contact_method_receives_a_test_notice(
    as_responder, responder, worker_for, smtp_server
):
    created = as_responder.post(
        ME, json={"transport": "email", "target": "Rita.Pager@Example.com", "label": "pager"}
    )
    assert created.status_code == 201, created.text
    method = created.json()
    assert method["signing_secret"] is None
    listed = as_responder.get(ME).json()
    assert [m["label"] for m in listed] == ["pager"]

    sent = as_responder.post(f"{ME}/{method['id']}/test")
    assert sent.status_code == 202, sent.text
    drain(worker_for(smtp_server.settings()))

    (mail,) = smtp_server.messages
    assert "Rita.Pager@example.com".lower() in mail["To"].lower()
    assert "Test notice" in mail["Subject"]
    mine = as_responder.get("/api/v1/deliveries").json()["items"]
    assert [(d["state"], d["event"]) for d in mine] == [("delivered", "notify.test")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"transport": "email", "target": "not-an-address"}, "target"),
        ({"transport": "webhook", "target": "http://127.0.0.1:9/hook"}, "target"),
        ({"transport": "webhook", "target": "https://user:pw@hooks.example.com/x"}, "target"),
        ({"transport": "slack", "target": "ftp://hooks.example.com/x"}, "target"),
        ({"transport": "email", "target": "a@example.com", "min_severity": "SEV9"}, "min_severity"),
        ({"transport": "email", "target": "a@example.com", "events": ["nope"]}, "events.0"),
        ({"transport": "pigeon", "target": "a@example.com"}, "transport"),
    ],
)
def test_a_contact_method_that_cannot_work_is_refused_naming_the_field(as_responder, body, field):
    response = as_responder.post(ME, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(name.startswith(field) for name in fields_named(response)), response.json()
    assert as_responder.get(ME).json() == []


def test_only_admins_manage_other_peoples_contact_methods(as_responder, as_admin, admin):
    mine = as_admin.post(ME, json={"transport": "email", "target": "ada.pager@example.com"})
    assert mine.status_code == 201, mine.text
    theirs = f"/api/v1/users/{admin.user.id}/contact-methods"

    assert as_responder.get(theirs).status_code == 403
    assert (
        as_responder.post(
            theirs, json={"transport": "email", "target": "x@example.com"}
        ).status_code
        == 403
    )
    assert as_responder.delete(f"{theirs}/{mine.json()['id']}").status_code == 403
    assert as_admin.get("/api/v1/users/rita@example.com/contact-methods").status_code == 200


def test_preferences_choose_which_notices_a_method_carries(as_responder, responder, db, clock):
    from fireline.models import Incident  # noqa: F401 - only to ensure the models load
    from fireline.notify.notice import Notice
    from fireline.notify.service import Occasion, notify_user

    as_responder.post(
        ME,
        json={
            "transport": "email",
            "target": "misses@example.com",
            "events": ["obligation.missed"],
        },
    )
    as_responder.post(
        ME, json={"transport": "email", "target": "off@example.com", "enabled": False}
    )
    user = responder.user
    db.refresh(user)

    def sent(event):
        notice = Notice(event=event, headline="h")
        occasion = Occasion(reason="test", key=f"k:{event}")
        return [
            d.target
            for d in notify_user(db, user=user, notice=notice, occasion=occasion, now=clock.now())
        ]

    assert sent("obligation.missed") == ["misses@example.com"]
    assert sent("obligation.due_soon") == []  # declined, as asked: not the account email either


def test_a_user_without_contact_methods_is_reached_at_their_account_email(responder, db, clock):
    from fireline.notify.notice import Notice
    from fireline.notify.service import Occasion, notify_user

    notice = Notice(event="obligation.missed", headline="h")
    (delivery,) = notify_user(
        db,
        user=responder.user,
        notice=notice,
        occasion=Occasion(reason="r", key="k"),
        now=clock.now(),
    )
    assert (delivery.transport, delivery.target) == ("email", "rita@example.com")


def test_channels_are_admin_only_unique_and_hide_their_url(as_admin, as_responder):
    body = {
        "name": "Incidents",
        "transport": "slack",
        "target": "https://hooks.slack.com/services/T000/B000/XXXX",
    }
    created = as_admin.post(CHANNELS, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "incidents"
    assert created.json()["target"] == "https://hooks.slack.com/…"
    assert created.json()["signing_secret"] is None
    assert as_admin.post(CHANNELS, json=body).status_code == 409
    assert as_responder.get(CHANNELS).status_code == 403
    assert as_responder.post(CHANNELS, json={**body, "name": "other"}).status_code == 403

    disabled = as_admin.patch(f"{CHANNELS}/incidents", json={"enabled": False})
    assert (disabled.status_code, disabled.json()["enabled"]) == (200, False)
    assert as_admin.patch(f"{CHANNELS}/incidents", json={"target": None}).status_code == 422
    assert as_admin.post(f"{CHANNELS}/incidents/rotate-secret").status_code == 409
    assert as_admin.delete(f"{CHANNELS}/incidents").status_code == 204
    assert as_admin.get(f"{CHANNELS}/incidents").status_code == 404


def test_rotating_a_webhook_secret_shows_the_new_one_once_and_audits_it(as_admin):
    created = as_admin.post(
        CHANNELS,
        json={"name": "siem", "transport": "webhook", "target": "https://siem.example.com/in"},
    )
    old = created.json()["signing_secret"]
    rotated = as_admin.post(f"{CHANNELS}/siem/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["signing_secret"] not in (None, old)
    audit = as_admin.get("/api/v1/audit", params={"entity_type": "channel"}).json()
    actions = [record["action"] for record in audit["items"]]
    assert {"channel.create", "channel.rotate_secret"} <= set(actions)


def test_the_delivery_log_shows_people_their_own_deliveries_only(
    as_admin, as_responder, responder, admin, db, clock
):
    from fireline.notify.notice import Notice
    from fireline.notify.service import Occasion, notify_user

    for person in (responder, admin):
        notify_user(
            db,
            user=person.user,
            notice=Notice(event="obligation.missed", headline="h"),
            occasion=Occasion(reason="r", key=f"k{person.user.id}"),
            now=clock.now(),
        )
    db.commit()
    mine = as_responder.get("/api/v1/deliveries").json()["items"]
    assert [d["target"] for d in mine] == ["rita@example.com"]
    everyone = as_admin.get("/api/v1/deliveries").json()["items"]
    assert {d["target"] for d in everyone} == {"rita@example.com", "ada@example.com"}
    other = next(d for d in everyone if d["target"] == "ada@example.com")
    assert as_responder.get(f"/api/v1/deliveries/{other['id']}").status_code == 404
    assert as_admin.get("/api/v1/deliveries", params={"incident": "nope"}).status_code == 422
