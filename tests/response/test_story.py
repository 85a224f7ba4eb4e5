"""The response engine end to end, as the issue tells it, on the fake clock: a SEV1 declared at
10:00 owes a public update by 10:15; the comms lead is reminded at 10:10 (by email, through a
real SMTP server); at 10:15 the update is missed and the incident commander told; an update at
10:17 meets it late and the next falls due at 10:47. A SEV3 raised to SEV1 gets the SEV1 clocks
and the 60-minute playbook; resolving opens the post-incident summary (72 h) and the postmortem
meeting (5 business days, skipping the weekend and a configured holiday)."""

from __future__ import annotations

import pytest

from fireline.jobs.handlers import default_handlers
from fireline.jobs.worker import Worker

from .test_obligations_api import at, declare, owed, posted

INCIDENTS = "/api/v1/incidents"


@pytest.fixture
def people(make_person):
    return {
        "cora": make_person("responder", name="Cora Commander", email="cora@example.com"),
        "lee": make_person("responder", name="Lee Comms", email="lee@example.com"),
        "ines": make_person("responder", name="Ines Owner", email="ines@example.com"),
    }


@pytest.fixture
def worker(session_factory, clock, smtp_server) -> Worker:
    settings = smtp_server.settings(base_url="https://fireline.example.com")
    return Worker(
        session_factory, clock=clock, handlers=default_handlers(settings), worker_id="story"
    )


def drain(worker: Worker) -> None:
    """Run every job due now, and those they queue, until none is left."""
    for _ in range(20):
        if worker.run_once() == 0:
            return
    pytest.fail("jobs kept coming")


def mail_to(smtp_server, address):
    return [m for m in smtp_server.messages if address in m["To"]]


def deliveries(api, ref, **params):
    response = api.get("/api/v1/deliveries", params={"incident": ref, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_sev1_is_kept_to_its_clocks_from_declaration_to_the_next_update(
    as_responder, as_admin, people, clock, worker, smtp_server
):
    channel = as_admin.post(
        "/api/v1/channels",
        json={"name": "executives", "transport": "email", "target": "execs@example.com"},
    )
    assert channel.status_code == 201, channel.text
    ref = declare(as_responder, commander="cora@example.com")
    role = as_responder.post(
        f"{INCIDENTS}/{ref}/roles", json={"role": "comms_lead", "user": "lee@example.com"}
    )
    assert role.status_code == 200, role.text
    (first,) = owed(as_responder, ref, "first_public_update")
    assert (first["due_at"], first["remind_at"]) == (at("10:15"), at("10:10"))

    drain(worker)  # 10:00: the exec notice goes out and meets its obligation
    (exec_mail,) = mail_to(smtp_server, "execs@example.com")
    assert "SEV1" in exec_mail["Subject"]
    assert ref in exec_mail["Subject"]
    (exec_notice,) = owed(as_responder, ref, "exec_notice")
    assert exec_notice["state"] == "met"

    clock.advance(minutes=9)
    drain(worker)
    assert mail_to(smtp_server, "lee@example.com") == []

    clock.advance(minutes=1)  # 10:10
    drain(worker)
    (reminder,) = mail_to(smtp_server, "lee@example.com")
    assert "first public update is due at 2026-01-05 10:15 UTC" in reminder["Subject"]
    assert (
        "https://fireline.example.com/incidents/" + ref
        in reminder.get_body(("plain",)).get_content()
    )
    assert mail_to(smtp_server, "cora@example.com") == []

    clock.advance(minutes=5)  # 10:15
    drain(worker)
    (first,) = owed(as_responder, ref, "first_public_update")
    assert first["state"] == "missed"
    (escalation,) = mail_to(smtp_server, "cora@example.com")
    assert "missed: the first public update" in escalation["Subject"]
    log = deliveries(as_admin, ref, state="delivered")
    assert {(d["event"], d["target"]) for d in log} == {
        ("incident.declared", "execs@example.com"),
        ("obligation.due_soon", "lee@example.com"),
        ("obligation.missed", "cora@example.com"),
    }
    assert all(d["attempt_log"][0]["succeeded"] for d in log)

    clock.advance(minutes=2)  # 10:17
    posted(as_responder, ref)
    (first,) = owed(as_responder, ref, "first_public_update")
    assert (first["state"], first["met_at"], first["late"]) == ("met", at("10:17"), True)
    (following,) = owed(as_responder, ref, "public_update")
    assert (following["state"], following["due_at"]) == ("pending", at("10:47"))

    drain(worker)  # nothing more is owed before 10:42: nobody else is mailed
    assert len(smtp_server.messages) == 3


def test_a_sev3_raised_to_sev1_gets_the_sev1_clocks_and_the_60_minute_playbook(as_responder, clock):
    ref = declare(as_responder, severity="SEV3")
    assert owed(as_responder, ref, "first_public_update") == []
    tasks = as_responder.get(f"{INCIDENTS}/{ref}/tasks")
    assert tasks.status_code == 200, tasks.text
    assert tasks.json() == [] or tasks.json().get("items") == []

    clock.advance(minutes=20)
    raised = as_responder.post(f"{INCIDENTS}/{ref}/severity", json={"severity": "SEV1"})
    assert raised.status_code == 200, raised.text

    (first,) = owed(as_responder, ref, "first_public_update")
    assert (first["state"], first["due_at"]) == ("pending", at("10:35"))
    (exec_notice,) = owed(as_responder, ref, "exec_notice")
    assert exec_notice["state"] == "pending"
    attached = as_responder.get(f"{INCIDENTS}/{ref}/playbooks")
    assert attached.status_code == 200, attached.text
    assert [p["playbook"] for p in _items(attached.json())] == ["major-incident"]
    assert len(_items(as_responder.get(f"{INCIDENTS}/{ref}/tasks").json())) == 18


def _items(document):
    return document["items"] if isinstance(document, dict) else document


def test_resolving_opens_the_summary_and_a_meeting_five_business_days_on_skipping_a_holiday(
    as_responder, as_admin, people, clock
):
    holiday = as_admin.put(
        "/api/v1/holidays/2026-01-09", json={"day": "2026-01-09", "name": "Company day off"}
    )
    assert holiday.status_code == 200, holiday.text
    ref = declare(as_responder)
    clock.advance(minutes=20)
    body = {
        "resolution_criteria": "Checkout success above 99.5% for 30 minutes",
        "criteria_met": True,
        "customer_impact_ended": True,
        "postmortem_owner": "ines@example.com",
        "postmortem_due_at": at("17:00", day=16),
        "monitoring_waiver_reason": "Fix verified by synthetic checks in every region",
    }
    resolved = as_responder.post(f"{INCIDENTS}/{ref}/resolve", json=body)
    assert resolved.status_code == 200, resolved.text

    (summary,) = owed(as_responder, ref, "post_incident_summary")
    assert (summary["state"], summary["due_at"]) == ("pending", at("10:20", day=8))
    (meeting,) = owed(as_responder, ref, "postmortem_meeting")
    # Tue 6, Wed 7, Thu 8, (Fri 9 is the holiday), Mon 12, Tue 13: five business days.
    assert meeting["due_at"] == at("17:00", day=13)
