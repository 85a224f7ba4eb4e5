"""Playbooks attach by their conditions as an incident is declared and changed, and by hand.

The seeded `major-incident` playbook (the 60-minute framework) attaches to SEV1 and SEV2."""

from __future__ import annotations

from sqlalchemy import select

from fireline.models import AuditRecord

from .helpers import (
    INCIDENTS,
    MAJOR,
    PLAYBOOKS,
    at,
    change_severity,
    complete,
    declare,
    due_times,
    entries,
    fields_named,
    tasks,
)

FRAMEWORK_DUE = (
    [at("10:05")] * 4
    + [at("10:15")] * 4
    + [at("10:30")] * 3
    + [at("10:45")] * 4
    + [at("11:00")] * 3
)


def attached(api, ref):
    response = api.get(f"{INCIDENTS}/{ref}/playbooks")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_sev1_declared_at_10_00_gets_the_18_tasks_of_the_first_60_minutes(as_responder, db):
    ref = declare(as_responder)

    checklist = tasks(as_responder, ref)

    assert len(checklist) == 18
    assert due_times(checklist) == FRAMEWORK_DUE
    assert {task["state"] for task in checklist} == {"open"}
    assert {task["playbook"] for task in checklist} == {MAJOR}
    assert [task["position"] for task in checklist] == list(range(18))
    first = checklist[0]
    assert first["title"] == "Confirm the severity against customer, revenue and security impact"
    assert first["phase"] == "0-5 min: declare and mobilise"
    assert first["owner_role"] == "commander"
    assert (first["done_at"], first["done_by"], first["late"]) == (None, None, False)
    assert checklist[3]["owner_role"] == "comms_lead"

    (entry,) = entries(as_responder, ref, "playbook_attached")
    assert entry["body"] == (
        "Playbook attached: Major incident: the first 60 minutes (18 tasks) — SEV1 incident."
    )
    assert entry["details"] == {
        "playbook": MAJOR,
        "tasks": 18,
        "past_due": 0,
        "reason": "SEV1 incident",
    }
    assert entry["author"] is None
    assert attached(as_responder, ref) == [
        {
            "playbook": MAJOR,
            "name": "Major incident: the first 60 minutes",
            "reason": "SEV1 incident",
            "attached_at": at("10:00"),
            "tasks": 18,
            "done": 0,
        }
    ]
    audited = db.scalars(
        select(AuditRecord).where(
            AuditRecord.action == "incident.playbook_attached", AuditRecord.entity_id == ref
        )
    ).all()
    assert [(record.via, record.after["playbook"]) for record in audited] == [("playbooks", MAJOR)]


def test_a_sev2_gets_the_framework_too_and_a_sev3_or_a_report_in_triage_gets_nothing(
    as_responder,
):
    sev2 = declare(as_responder, severity="SEV2")
    sev3 = declare(as_responder, severity="SEV3")
    reported = declare(as_responder, status="triage")

    assert len(tasks(as_responder, sev2)) == 18
    assert tasks(as_responder, sev3) == []
    assert tasks(as_responder, reported) == []
    assert entries(as_responder, sev3, "playbook_attached") == []


def test_raising_a_sev3_to_sev1_at_10_20_attaches_tasks_due_from_the_declaration(
    as_responder, clock
):
    ref = declare(as_responder, severity="SEV3")
    clock.advance(minutes=20)

    change_severity(as_responder, ref, "SEV1")

    checklist = tasks(as_responder, ref)
    assert due_times(checklist) == FRAMEWORK_DUE
    assert [task["state"] for task in checklist] == ["overdue"] * 8 + ["open"] * 10
    (entry,) = entries(as_responder, ref, "playbook_attached")
    assert entry["body"] == (
        "Playbook attached: Major incident: the first 60 minutes (18 tasks) — SEV1 incident; "
        "8 already past due."
    )
    assert entry["occurred_at"] == at("10:20")


def test_declaring_a_reported_sev1_attaches_with_tasks_due_from_the_declaration(
    as_responder, clock
):
    ref = declare(as_responder, status="triage")
    clock.advance(minutes=7)

    declared = as_responder.post(f"{INCIDENTS}/{ref}/status", json={"status": "investigating"})

    assert declared.status_code == 200, declared.text
    assert due_times(tasks(as_responder, ref))[:5] == [at("10:12")] * 4 + [at("10:22")]


def test_lowering_the_severity_keeps_the_checklist_and_raising_it_again_adds_nothing(
    as_responder, clock
):
    ref = declare(as_responder)
    first = tasks(as_responder, ref)[0]
    assert complete(as_responder, ref, first["id"]).status_code == 200

    clock.advance(minutes=3)
    change_severity(as_responder, ref, "SEV3")
    kept = tasks(as_responder, ref)
    clock.advance(minutes=3)
    change_severity(as_responder, ref, "SEV1")

    assert len(kept) == 18
    assert kept[0]["state"] == "done"
    after = tasks(as_responder, ref)
    assert [(t["id"], t["done_at"]) for t in after] == [(t["id"], t["done_at"]) for t in kept]
    assert len(entries(as_responder, ref, "playbook_attached")) == 1
    assert attached(as_responder, ref)[0]["done"] == 1


def test_a_playbook_for_a_service_attaches_to_its_incidents_and_a_disabled_one_to_none(
    as_admin, as_responder
):
    assert as_admin.post("/api/v1/services", json={"name": "Checkout"}).status_code == 201
    for slug, enabled in (("checkout-rollback", True), ("checkout-drill", False)):
        created = as_admin.post(
            PLAYBOOKS,
            json={
                "slug": slug,
                "name": f"Checkout: {slug}",
                "conditions": {"services": ["checkout"]},
                "tasks": [{"title": "Roll back the last checkout deploy", "due_minutes": 10}],
                "enabled": enabled,
            },
        )
        assert created.status_code == 201, created.text

    ref = declare(as_responder, severity="SEV3", services=["checkout"])
    other = declare(as_responder, severity="SEV3")

    assert [(t["playbook"], t["title"]) for t in tasks(as_responder, ref)] == [
        ("checkout-rollback", "Roll back the last checkout deploy")
    ]
    (entry,) = entries(as_responder, ref, "playbook_attached")
    assert entry["body"] == (
        "Playbook attached: Checkout: checkout-rollback (1 task) — "
        "SEV3 incident affecting checkout."
    )
    assert tasks(as_responder, other) == []


def test_a_responder_attaches_a_playbook_by_hand_once(as_admin, as_responder):
    created = as_admin.post(
        PLAYBOOKS,
        json={
            "slug": "data-loss",
            "name": "Data loss",
            "conditions": {"types": ["data-loss"]},
            "tasks": [
                {"title": "Stop the writes", "owner_role": "tech_lead", "due_minutes": 5},
                {"title": "Tell the DPO", "owner_role": "comms_lead"},
            ],
        },
    )
    assert created.status_code == 201, created.text
    ref = declare(as_responder)

    body = {"playbook": "data-loss", "reason": "Backups of the orders table are missing"}
    first = as_responder.post(f"{INCIDENTS}/{ref}/playbooks", json=body)
    again = as_responder.post(f"{INCIDENTS}/{ref}/playbooks", json=body)

    assert first.status_code == 201, first.text
    assert first.json()["reason"] == "Backups of the orders table are missing"
    assert (first.json()["tasks"], first.json()["done"]) == (2, 0)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    checklist = tasks(as_responder, ref)
    assert [(t["position"], t["title"], t["due_at"]) for t in checklist[18:]] == [
        (18, "Stop the writes", at("10:05")),
        (19, "Tell the DPO", None),
    ]
    assert [e["details"]["playbook"] for e in entries(as_responder, ref, "playbook_attached")] == [
        MAJOR,
        "data-loss",
    ]
    manual = entries(as_responder, ref, "playbook_attached")[1]
    assert manual["author"]["email"] == "rita@example.com"
    assert [item["playbook"] for item in attached(as_responder, ref)] == [MAJOR, "data-loss"]


def test_attaching_an_unknown_playbook_or_to_an_incident_in_triage_is_refused(as_responder):
    ref = declare(as_responder)
    reported = declare(as_responder, status="triage")

    unknown = as_responder.post(f"{INCIDENTS}/{ref}/playbooks", json={"playbook": "nope"})
    early = as_responder.post(f"{INCIDENTS}/{reported}/playbooks", json={"playbook": MAJOR})
    missing = as_responder.post(f"{INCIDENTS}/INC-999/playbooks", json={"playbook": MAJOR})

    assert unknown.status_code == 422
    assert fields_named(unknown) == ["playbook"]
    assert early.status_code == 409
    assert "is triage" in early.json()["detail"]
    assert missing.status_code == 404
