"""Automation rules through the JSON API: the shipped defaults, rules an admin writes, and what
their runs do — on the fake clock, with a worker running the jobs in the test's transaction."""

from __future__ import annotations

import pytest

from fireline.jobs.handlers import default_handlers
from fireline.jobs.worker import Worker

from .test_obligations_api import declare

RULES = "/api/v1/automation-rules"
INCIDENTS = "/api/v1/incidents"


@pytest.fixture
def worker(session_factory, clock, smtp_server) -> Worker:
    return Worker(
        session_factory,
        clock=clock,
        handlers=default_handlers(smtp_server.settings()),
        worker_id="rules",
    )


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


def notes(api, ref):
    response = api.get(f"{INCIDENTS}/{ref}/timeline", params={"kind": "note"})
    assert response.status_code == 200, response.text
    return [entry["body"] for entry in response.json()["items"]]


def rule(api, **fields):
    body = {
        "name": "Note on monitoring",
        "triggers": ["incident.status_changed"],
        "conditions": {"statuses": ["monitoring"]},
        "actions": [{"type": "note", "body": "Watch the dashboards for 30 minutes."}],
        **fields,
    }
    response = api.post(RULES, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_seeded_defaults_are_listed(as_viewer):
    response = as_viewer.get(RULES)
    assert response.status_code == 200, response.text
    by_name = {r["name"]: r for r in response.json()}
    reminder = by_name["Major incidents: remind the comms lead of public updates"]
    assert reminder["triggers"] == ["obligation.due_soon"]
    assert reminder["conditions"]["severity_at_least"] == "SEV2"
    assert reminder["actions"] == [{"type": "notify", "to": {"role": "comms_lead"}}]
    assert by_name["SEV1: notify executives"]["once_per_incident"] is True


def test_a_rule_adds_its_note_when_an_incident_moves_to_monitoring(as_admin, as_responder, worker):
    rule(as_admin)
    ref = declare(as_responder, severity="SEV3")
    for status in ("identified", "monitoring"):
        moved = as_responder.post(f"{INCIDENTS}/{ref}/status", json={"status": status})
        assert moved.status_code == 200, moved.text
    drain(worker)
    assert notes(as_responder, ref) == ["Watch the dashboards for 30 minutes."]
    runs = as_responder.get("/api/v1/automation-runs", params={"incident": ref}).json()
    assert [(r["trigger"], r["outcome"]["actions"]) for r in runs] == [
        ("incident.status_changed", [{"type": "note"}])
    ]


def test_a_delayed_rule_acts_only_if_the_incident_still_qualifies(
    as_admin, as_responder, clock, worker
):
    rule(
        as_admin,
        name="Still SEV1 after ten minutes",
        triggers=["incident.declared"],
        conditions={"severity_at_least": "SEV1"},
        actions=[{"type": "note", "body": "Ten minutes in: consider a second commander."}],
        delay_seconds=600,
    )
    kept, lowered = declare(as_responder), declare(as_responder)
    drain(worker)
    assert notes(as_responder, kept) == []

    clock.advance(minutes=5)
    changed = as_responder.post(f"{INCIDENTS}/{lowered}/severity", json={"severity": "SEV3"})
    assert changed.status_code == 200, changed.text
    clock.advance(minutes=5)
    drain(worker)

    assert notes(as_responder, kept) == ["Ten minutes in: consider a second commander."]
    assert notes(as_responder, lowered) == []


def test_a_run_once_rule_acts_once_however_often_its_trigger_fires(as_admin, as_responder, worker):
    rule(
        as_admin,
        name="First time at SEV2 or worse",
        triggers=["incident.severity_changed"],
        conditions={"severity_at_least": "SEV2"},
        actions=[{"type": "note", "body": "Major incident: follow the playbook."}],
        once_per_incident=True,
    )
    ref = declare(as_responder, severity="SEV3")
    for severity in ("SEV2", "SEV3", "SEV1"):
        changed = as_responder.post(f"{INCIDENTS}/{ref}/severity", json={"severity": severity})
        assert changed.status_code == 200, changed.text
        drain(worker)
    assert notes(as_responder, ref) == ["Major incident: follow the playbook."]


def test_a_webhook_action_posts_the_event_signed(
    as_admin, as_responder, session_factory, clock, receiver
):
    channel = as_admin.post(
        "/api/v1/channels",
        json={"name": "siem", "transport": "webhook", "target": receiver.url()},
    )
    assert channel.status_code == 201, channel.text
    receiver.secret = channel.json()["signing_secret"]
    rule(
        as_admin,
        name="Declared incidents to the SIEM",
        triggers=["incident.declared"],
        conditions={},
        actions=[{"type": "webhook", "channel": "siem"}],
    )
    worker = Worker(
        session_factory,
        clock=clock,
        handlers=default_handlers(receiver.settings()),
        worker_id="hooks",
    )
    ref = declare(as_responder, severity="SEV2")
    drain(worker)

    (request,) = receiver.requests
    assert request.status == 200
    assert request.headers["X-Fireline-Event"] == "incident.declared"
    assert request.json()["incident"]["reference"] == ref


def test_with_no_comms_lead_the_reminder_goes_to_the_commander(
    as_responder, make_person, clock, worker, smtp_server
):
    make_person("responder", name="Cora Commander", email="cora@example.com")
    ref = declare(as_responder, commander="cora@example.com")
    clock.advance(minutes=10)
    drain(worker)
    reminders = [m for m in smtp_server.messages if "is due at" in m["Subject"]]
    assert [m["To"] for m in reminders] == ["cora@example.com"]
    assert ref in reminders[0]["Subject"]


def test_a_notice_with_nowhere_to_go_is_logged_as_skipped_saying_why(
    as_responder, as_admin, worker
):
    ref = declare(as_responder)  # SEV1: the exec notice rule wants an `executives` channel
    drain(worker)
    log = as_admin.get("/api/v1/deliveries", params={"incident": ref, "state": "skipped"})
    reasons = [d["reason"] for d in log.json()["items"]]
    assert any("there is no channel named executives" in reason for reason in reasons), reasons
    assert any("services" in reason for reason in reasons), reasons


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"actions": [{"type": "notify", "to": {"channel": "nowhere"}}]}, "actions.0.to.channel"),
        ({"actions": [{"type": "notify", "to": {"team": "ghosts"}}]}, "actions.0.to.team"),
        (
            {"actions": [{"type": "notify", "to": {"user": "nobody@example.com"}}]},
            "actions.0.to.user",
        ),
        ({"actions": [{"type": "attach_playbook", "playbook": "nope"}]}, "actions.0.playbook"),
        ({"actions": [{"type": "webhook", "channel": "nope"}]}, "actions.0.channel"),
        ({"actions": [{"type": "notify", "to": {"role": "commander", "team": "x"}}]}, "actions.0"),
        ({"actions": []}, "actions"),
        ({"triggers": ["incident.exploded"]}, "triggers.0"),
        ({"conditions": {"severity_at_least": "SEV7"}}, "conditions.severity_at_least"),
        (
            {"conditions": {"severity_at_least": "SEV1", "severity_at_most": "SEV3"}},
            "conditions.severity_at_most",
        ),
        ({"delay_seconds": -1}, "delay_seconds"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_naming_the_field(as_admin, changes, field):
    body = {
        "name": "Broken",
        "triggers": ["incident.declared"],
        "actions": [{"type": "note", "body": "x"}],
        **changes,
    }
    response = as_admin.post(RULES, json=body)
    assert response.status_code == 422, response.text
    assert any(name.startswith(field) for name in fields_named(response)), response.json()
    assert "Broken" not in {r["name"] for r in as_admin.get(RULES).json()}


def test_rules_are_admin_written_audited_and_can_be_switched_off(as_admin, as_responder, worker):
    created = rule(as_admin)
    assert as_responder.post(RULES, json={"name": "x"}).status_code == 403
    assert as_admin.post(RULES, json={**created, "id": None}).status_code == 422
    duplicate = {k: created[k] for k in ("name", "triggers", "conditions", "actions")}
    assert as_admin.post(RULES, json=duplicate).status_code == 409

    off = as_admin.patch(f"{RULES}/{created['id']}", json={"enabled": False})
    assert (off.status_code, off.json()["enabled"]) == (200, False)
    ref = declare(as_responder, severity="SEV3")
    as_responder.post(f"{INCIDENTS}/{ref}/status", json={"status": "monitoring"})
    drain(worker)
    assert notes(as_responder, ref) == []

    assert as_admin.delete(f"{RULES}/{created['id']}").status_code == 204
    assert as_admin.get(f"{RULES}/{created['id']}").status_code == 404
    audit = as_admin.get("/api/v1/audit", params={"entity_type": "automation_rule"}).json()
    assert {"automation_rule.create", "automation_rule.update", "automation_rule.delete"} <= {
        r["action"] for r in audit["items"]
    }
