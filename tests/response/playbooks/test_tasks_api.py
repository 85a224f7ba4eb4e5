"""Working an incident's checklist through the JSON API: ticking tasks off, reopening them,
adding one by hand. The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

from sqlalchemy import select

from fireline.models import AuditRecord

from .helpers import INCIDENTS, at, complete, declare, entries, fields_named, tasks


def test_the_commander_confirms_the_severity_at_10_03_and_the_timeline_says_so(
    as_responder, clock, db
):
    ref = declare(as_responder)
    first = tasks(as_responder, ref)[0]
    clock.advance(minutes=3)

    done = complete(as_responder, ref, first["id"], note="All regions, card payments failing.")

    assert done.status_code == 200, done.text
    task = done.json()
    assert task["state"] == "done"
    assert task["done_at"] == at("10:03")
    assert task["done_by"]["email"] == "rita@example.com"
    assert task["note"] == "All regions, card payments failing."
    assert task["late"] is False
    assert tasks(as_responder, ref)[0] == task
    (entry,) = entries(as_responder, ref, "task_done")
    assert entry["body"] == (
        "Rita Responder <rita@example.com> completed the task “Confirm the severity against "
        "customer, revenue and security impact”. All regions, card payments failing."
    )
    assert entry["details"] == {
        "task_id": first["id"],
        "title": first["title"],
        "note": "All regions, card payments failing.",
        "late": False,
    }
    assert entry["author"]["email"] == "rita@example.com"
    (record,) = db.scalars(select(AuditRecord).where(AuditRecord.action == "incident.task_done"))
    assert (record.entity_id, record.after["task_id"]) == (ref, first["id"])


def test_completing_a_task_twice_is_a_conflict_that_says_who_did_it(as_responder, clock):
    ref = declare(as_responder)
    task_id = tasks(as_responder, ref)[0]["id"]
    clock.advance(minutes=2)
    assert complete(as_responder, ref, task_id).status_code == 200

    again = complete(as_responder, ref, task_id)

    assert again.status_code == 409
    assert again.json()["type"] == "/problems/task-already-done"
    assert again.json()["detail"] == (
        f"Task {task_id} “Confirm the severity against customer, revenue and security impact” "
        "was already done at 10:02 UTC by Rita Responder; reopen it to do it again."
    )
    assert len(entries(as_responder, ref, "task_done")) == 1


def test_a_task_done_after_its_due_time_is_late_and_a_body_is_optional(as_responder, clock):
    ref = declare(as_responder)
    task_id = tasks(as_responder, ref)[0]["id"]  # due 10:05
    clock.advance(minutes=6)
    assert tasks(as_responder, ref)[0]["state"] == "overdue"

    done = as_responder.post(f"{INCIDENTS}/{ref}/tasks/{task_id}/complete")

    assert done.status_code == 200, done.text
    assert (done.json()["state"], done.json()["late"], done.json()["note"]) == ("done", True, "")


def test_a_reopened_task_is_open_again_and_reopening_an_open_one_is_a_conflict(as_responder, clock):
    ref = declare(as_responder)
    task_id = tasks(as_responder, ref)[4]["id"]  # due 10:15
    assert complete(as_responder, ref, task_id, note="Only EU").status_code == 200
    clock.advance(minutes=4)

    reopened = as_responder.post(
        f"{INCIDENTS}/{ref}/tasks/{task_id}/reopen", json={"note": "US is affected too"}
    )
    again = as_responder.post(f"{INCIDENTS}/{ref}/tasks/{task_id}/reopen", json={})

    assert reopened.status_code == 200, reopened.text
    assert {k: reopened.json()[k] for k in ("state", "done_at", "done_by", "note")} == {
        "state": "open",
        "done_at": None,
        "done_by": None,
        "note": "",
    }
    (entry,) = entries(as_responder, ref, "task_reopened")
    assert entry["body"] == (
        "Rita Responder <rita@example.com> reopened the task “Establish the blast radius: "
        "regions, services, customers”. US is affected too"
    )
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/task-not-done"


def test_the_scribe_gets_a_task_added_by_hand_at_the_end_of_the_checklist(as_responder):
    ref = declare(as_responder)

    added = as_responder.post(
        f"{INCIDENTS}/{ref}/tasks",
        json={
            "title": "  Export the payment gateway logs  ",
            "phase": "Evidence",
            "owner_role": "scribe",
            "due_at": at("10:40"),
        },
    )

    assert added.status_code == 201, added.text
    task = added.json()
    assert (task["title"], task["position"], task["playbook"], task["state"]) == (
        "Export the payment gateway logs",
        18,
        None,
        "open",
    )
    assert task["due_at"] == at("10:40")
    assert tasks(as_responder, ref)[-1] == task
    (entry,) = entries(as_responder, ref, "task_added")
    assert entry["body"] == (
        "Rita Responder <rita@example.com> added the task “Export the payment gateway logs” "
        "for the scribe, due 10:40 UTC."
    )


def test_bad_task_input_is_a_422_naming_the_field(as_responder):
    ref = declare(as_responder)
    path = f"{INCIDENTS}/{ref}/tasks"

    cases = {
        "title": {"title": "   "},
        "owner_role": {"title": "Page the DBA", "owner_role": "sme"},
        "due_at": {"title": "Page the DBA", "due_at": at("09:59")},
        "phase": {"title": "Page the DBA", "phase": "x" * 101},
        "note": {"title": "Page the DBA", "note": "not a field"},
    }
    for field, body in cases.items():
        response = as_responder.post(path, json=body)
        assert response.status_code == 422, (field, response.text)
        assert fields_named(response) == [field], response.text
    naive = as_responder.post(path, json={"title": "x", "due_at": "2026-01-05T11:00:00"})
    assert fields_named(naive) == ["due_at"]


def test_unknown_tasks_and_tasks_of_another_incident_are_not_found(as_responder):
    ref = declare(as_responder)
    other = declare(as_responder)
    theirs = tasks(as_responder, other)[0]["id"]

    for task_id in (theirs, 0, 99_999, 2**31, 10**20):
        response = complete(as_responder, ref, task_id)
        assert response.status_code == 404, (task_id, response.text)
    assert complete(as_responder, ref, "first").status_code == 422
    assert as_responder.get(f"{INCIDENTS}/INC-999/tasks").status_code == 404


def test_a_closed_incident_takes_no_new_tasks(as_responder, make_person, clock):
    make_person("responder", email="ines@example.com")
    ref = declare(as_responder, severity="SEV3")
    resolved = as_responder.post(
        f"{INCIDENTS}/{ref}/resolve",
        json={
            "resolution_criteria": "Checkout success above 99.5%",
            "criteria_met": True,
            "customer_impact_ended": True,
            "monitoring_waiver_reason": "Verified by synthetic checks",
        },
    )
    assert resolved.status_code == 200, resolved.text
    closed = as_responder.post(f"{INCIDENTS}/{ref}/status", json={"status": "closed"})
    assert closed.status_code == 200, closed.text

    response = as_responder.post(f"{INCIDENTS}/{ref}/tasks", json={"title": "Late idea"})

    assert response.status_code == 409
    assert response.json()["detail"] == f"{ref} is closed; reopen it to add tasks."


def test_a_viewer_reads_the_checklist_but_cannot_work_it(as_responder, as_viewer):
    ref = declare(as_responder)
    task_id = tasks(as_responder, ref)[0]["id"]

    assert len(tasks(as_viewer, ref)) == 18
    assert as_viewer.get(f"{INCIDENTS}/{ref}/playbooks").status_code == 200
    for path, body in (
        (f"{INCIDENTS}/{ref}/tasks/{task_id}/complete", {}),
        (f"{INCIDENTS}/{ref}/tasks/{task_id}/reopen", {}),
        (f"{INCIDENTS}/{ref}/tasks", {"title": "Sneaky"}),
        (f"{INCIDENTS}/{ref}/playbooks", {"playbook": "major-incident"}),
    ):
        response = as_viewer.post(path, json=body)
        assert response.status_code == 403, (path, response.text)
    assert tasks(as_responder, ref)[0]["state"] == "open"
