"""Internal stakeholder updates, as the communications lead lives them: the update reaches each
audience's inbox and webhook when the jobs run, meets the internal-update clock, and — sent to
the executives — is the exec notice a SEV1 owes, sent on its own at declaration.

The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fireline.accounts.principal import Actor
from fireline.comms.stakeholders import (
    EXEC_NOTICE_JOB,
    make_send_exec_notice,
    send_stakeholder_update,
)
from fireline.errors import InvalidInput
from fireline.incidents.queries import get_incident
from fireline.jobs.handlers import JobContext, default_handlers
from fireline.jobs.worker import Worker
from fireline.models import Delivery, Job
from fireline.notify.transports import verify

AUDIENCES = "/api/v1/audiences"
INCIDENTS = "/api/v1/incidents"


@pytest.fixture
def reachable(app, clock, webhook_receiver, smtp_server):
    """Receivers on loopback that the app may name and the worker may call."""
    app.state.settings.webhook_allow_private_targets = True
    webhook_receiver.now = clock.now
    return webhook_receiver


@pytest.fixture
def worker(session_factory, clock, smtp_server) -> Worker:
    settings = smtp_server.settings(webhook_allow_private_targets=True, webhook_timeout=5.0)
    return Worker(
        session_factory, clock=clock, handlers=default_handlers(settings), worker_id="comms"
    )


def at(hhmm: str) -> str:
    return f"2026-01-05T{hhmm}:00Z"


def declare(api, severity="SEV1", **fields):
    response = api.post(INCIDENTS, json={"title": "Checkout down", "severity": severity, **fields})
    assert response.status_code == 201, response.text
    return response.json()["reference"]


def owed(api, ref, kind):
    response = api.get(f"{INCIDENTS}/{ref}/obligations")
    assert response.status_code == 200, response.text
    return [o for o in response.json() if o["kind"] == kind]


def drain(worker: Worker) -> None:
    for _ in range(20):
        if worker.run_once() == 0:
            return
    pytest.fail("jobs kept coming")


def audience(api, name, kind, *recipients):
    response = api.post(
        AUDIENCES,
        json={
            "name": name,
            "kind": kind,
            "recipients": [{"transport": t, "target": target} for t, target in recipients],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def send(api, ref, **fields):
    body = {
        "audiences": ["Support"],
        "current_status": "Investigating; the 09:40 deploy is being rolled back",
        "impact": "Card payments fail for most customers in the EU",
        **fields,
    }
    return api.post(f"{INCIDENTS}/{ref}/stakeholder-updates", json=body)


def state_of(api, ref, kind):
    (obligation, *_) = owed(api, ref, kind)
    return obligation["state"]


def timeline(api, ref, kind):
    response = api.get(f"{INCIDENTS}/{ref}/timeline", params={"kind": kind})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_stakeholder_update_reaches_support_by_email_and_webhook_and_meets_the_internal_clock(
    as_admin, as_responder, reachable, smtp_server, worker, clock
):
    support = audience(
        as_admin,
        "Support",
        "support",
        ("email", "support-leads@example.com"),
        ("webhook", reachable.url("/support")),
        ("slack", reachable.url("/slack")),
    )
    ref = declare(as_responder, severity="SEV2")
    assert state_of(as_responder, ref, "internal_update") == "pending"
    clock.advance(minutes=12)

    response = send(as_responder, ref, doing_now="Rolling back", next_update_at=at("10:45"))
    assert response.status_code == 201, response.text
    sent = response.json()
    assert sent["incident"] == ref
    assert sent["exec_notice"] is False
    assert [a["name"] for a in sent["audiences"]] == ["Support"]
    assert [(d["transport"], d["state"]) for d in sent["deliveries"]] == [
        ("email", "pending"),
        ("webhook", "pending"),
        ("slack", "pending"),
    ]
    drain(worker)

    (email,) = smtp_server.received
    assert email.rcpt_tos == ["support-leads@example.com"]
    assert email.message["Subject"] == f"[SEV2] {ref} stakeholder update: Checkout down"
    text = email.part("text/plain")
    for line in (
        "Time: 2026-01-05T10:12:00Z",
        "Current status: Investigating; the 09:40 deploy is being rolled back",
        "Impact: Card payments fail for most customers in the EU",
        "What we are doing: Rolling back",
        "Next update: 2026-01-05T10:45:00Z",
    ):
        assert line in text
    hook, slack = reachable.requests
    assert (hook.path, hook.status, slack.path) == ("/support", 200, "/slack")
    assert hook.json()["event"] == "stakeholder.update"
    # Signed with the audience's secret, as the README tells receivers to check.
    assert verify(
        support["signing_secret"],
        signature=hook.headers["X-Fireline-Signature"],
        timestamp=hook.headers["X-Fireline-Timestamp"],
        body=hook.body,
        now=clock.now(),
    )
    assert hook.json()["stakeholder_update"] == {
        "time": "2026-01-05T10:12:00Z",
        "current_status": "Investigating; the 09:40 deploy is being rolled back",
        "impact": "Card payments fail for most customers in the EU",
        "what_we_are_doing": "Rolling back",
        "next_update": "2026-01-05T10:45:00Z",
    }
    assert "blocks" in slack.json()

    assert state_of(as_responder, ref, "internal_update") == "met"
    (entry,) = timeline(as_responder, ref, "internal_update")
    assert entry["details"]["audiences"][0]["name"] == "Support"
    assert entry["details"]["current_status"].startswith("Investigating")
    assert len(entry["details"]["deliveries"]) == 3
    assert timeline(as_responder, ref, "exec_notice") == []


def test_sending_to_the_executives_is_the_exec_notice(
    as_admin, as_responder, reachable, smtp_server, worker
):
    audience(as_admin, "Support", "support", ("email", "support@example.com"))
    ref = declare(as_responder, severity="SEV2")  # SEV2 owes no exec notice: nothing automatic
    execs = audience(as_admin, "Leadership", "executives", ("email", "ceo@example.com"))
    response = send(as_responder, ref, audiences=[execs["id"], "Support"])
    assert response.status_code == 201, response.text
    assert response.json()["exec_notice"] is True
    (notice,) = timeline(as_responder, ref, "exec_notice")
    assert notice["body"] == "Exec notice sent to Leadership with the stakeholder update."
    drain(worker)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.received) == [
        "ceo@example.com",
        "support@example.com",
    ]


def test_someone_in_two_audiences_hears_it_once(as_admin, as_responder, reachable):
    audience(as_admin, "Support", "support", ("email", "kim@example.com"))
    audience(as_admin, "Sales", "sales", ("email", "kim@example.com"), ("email", "lee@example.com"))
    ref = declare(as_responder, severity="SEV3")
    response = send(as_responder, ref, audiences=["Support", "Sales", "Support"])
    assert response.status_code == 201, response.text
    assert [(d["audience"], d["target"]) for d in response.json()["deliveries"]] == [
        ("Support", "kim@example.com"),
        ("Sales", "lee@example.com"),
    ]


def test_a_sev1_declared_with_an_executives_audience_sends_the_exec_notice_on_its_own(
    as_admin, as_responder, reachable, smtp_server, worker, session_factory, settings, clock
):
    audience(as_admin, "Board", "custom", ("email", "board@example.com"))
    audience(
        as_admin,
        "Leadership",
        "executives",
        ("email", "ceo@example.com"),
        ("webhook", reachable.url("/exec")),
    )
    ref = declare(as_responder, severity="SEV1", customer_impact="No customer can pay")
    assert state_of(as_responder, ref, "exec_notice") == "pending"
    drain(worker)

    (email,) = [m for m in smtp_server.received if m.rcpt_tos == ["ceo@example.com"]]
    assert email.message["Subject"] == f"[SEV1] {ref} stakeholder update: Checkout down"
    assert "Impact: No customer can pay" in email.part("text/plain")
    assert "Current status: SEV1 investigating since 2026-01-05T10:00:00Z" in email.part(
        "text/plain"
    )
    (hook,) = reachable.requests
    assert hook.json()["stakeholder_update"]["what_we_are_doing"] == (
        "The response team is working on it."
    )
    assert state_of(as_responder, ref, "exec_notice") == "met"
    assert state_of(as_responder, ref, "internal_update") == "met"
    (entry,) = timeline(as_responder, ref, "internal_update")
    assert [a["name"] for a in entry["details"]["audiences"]] == ["Leadership"]

    # The job run again (a worker that died before recording success) sends nothing more.
    handler = make_send_exec_notice(settings)
    with session_factory() as session:
        incident_id = int(ref.removeprefix("INC-"))
        before = session.scalar(select(Delivery.id).order_by(Delivery.id.desc()))
        handler(
            session,
            {"incident_id": incident_id},
            JobContext(now=clock.now(), job_id=0, attempt=2),
        )
        session.flush()
        assert session.scalar(select(Delivery.id).order_by(Delivery.id.desc())) == before
        session.rollback()
    assert len(timeline(as_responder, ref, "exec_notice")) == 1


def test_raising_an_incident_to_sev1_sends_the_exec_notice(
    as_admin, as_responder, reachable, smtp_server, worker
):
    audience(as_admin, "Leadership", "executives", ("email", "ceo@example.com"))
    ref = declare(as_responder, severity="SEV2")
    drain(worker)
    assert smtp_server.received == []
    raised = as_responder.post(f"{INCIDENTS}/{ref}/severity", json={"severity": "SEV1"})
    assert raised.status_code == 200, raised.text
    drain(worker)
    assert [m.rcpt_tos for m in smtp_server.received] == [["ceo@example.com"]]
    assert state_of(as_responder, ref, "exec_notice") == "met"


def test_without_an_executives_audience_nothing_is_sent_and_the_notice_stays_owed(
    as_admin, as_responder, db, worker, smtp_server
):
    audience(as_admin, "Support", "support", ("email", "support@example.com"))
    audience(as_admin, "Leadership", "executives")  # nobody in it yet
    ref = declare(as_responder, severity="SEV1")
    assert db.scalars(select(Job).where(Job.kind == EXEC_NOTICE_JOB)).all() == []
    assert state_of(as_responder, ref, "exec_notice") == "pending"
    assert timeline(as_responder, ref, "internal_update") == []


def test_a_notice_queued_for_an_incident_lowered_since_sends_nothing(
    as_admin, as_responder, worker, smtp_server
):
    audience(as_admin, "Leadership", "executives", ("email", "ceo@example.com"))
    ref = declare(as_responder, severity="SEV1")
    lowered = as_responder.post(f"{INCIDENTS}/{ref}/severity", json={"severity": "SEV3"})
    assert lowered.status_code == 200, lowered.text
    drain(worker)
    assert smtp_server.received == []
    assert timeline(as_responder, ref, "exec_notice") == []


def test_a_notice_for_an_incident_gone_or_with_no_executives_left_sends_nothing(
    as_admin, as_responder, db, settings, clock
):
    execs = audience(as_admin, "Leadership", "executives", ("email", "ceo@example.com"))
    ref = declare(as_responder, severity="SEV1")
    handler = make_send_exec_notice(settings)
    context = JobContext(now=clock.now(), job_id=0, attempt=1)
    handler(db, {"incident_id": 999999}, context)
    assert as_admin.delete(f"{AUDIENCES}/{execs['id']}").status_code == 204
    handler(db, {"incident_id": int(ref.removeprefix("INC-"))}, context)
    assert db.scalars(select(Delivery)).all() == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"audiences": ["Nobody"]}, "audiences"),
        ({"audiences": []}, "audiences"),
        ({"impact": "   "}, "impact"),
        ({"current_status": ""}, "current_status"),
        ({"next_update_at": at("09:00")}, "next_update_at"),
    ],
)
def test_bad_input_is_refused_naming_the_field(as_admin, as_responder, fields, field):
    audience(as_admin, "Support", "support", ("email", "support@example.com"))
    ref = declare(as_responder, severity="SEV3")
    response = send(as_responder, ref, **fields)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_an_incident_in_triage_owes_no_update(as_admin, as_responder):
    audience(as_admin, "Support", "support", ("email", "support@example.com"))
    ref = declare(as_responder, severity="SEV3", status="triage")
    response = send(as_responder, ref)
    assert response.status_code == 409, response.text


def test_viewers_cannot_send_stakeholder_updates(as_admin, as_responder, as_viewer):
    audience(as_admin, "Support", "support", ("email", "support@example.com"))
    ref = declare(as_responder, severity="SEV3")
    assert send(as_viewer, ref).status_code == 403


def test_the_service_refuses_no_audience_and_a_blank_part(as_responder, db, settings, clock):
    ref = declare(as_responder, severity="SEV3")
    incident = get_incident(db, ref)
    common = {
        "actor": Actor.system("test"),
        "now": clock.now(),
        "settings": settings,
        "incident": incident,
        "current_status": "Investigating",
    }
    with pytest.raises(InvalidInput) as none:
        send_stakeholder_update(db, audiences=[], impact="Payments fail", **common)
    assert none.value.errors[0].field == "audiences"
    with pytest.raises(InvalidInput) as blank:
        send_stakeholder_update(db, audiences=[object()], impact="  ", **common)  # type: ignore[list-item]
    assert blank.value.errors[0].field == "impact"
