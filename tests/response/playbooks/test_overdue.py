"""A task's overdue timer: set when the task is created, fired by a worker on the fake clock,
recorded once, and silent for a task done in time. The clock starts at 2026-01-05 10:00 UTC."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fireline.db import transaction
from fireline.jobs.handlers import JobContext, default_handlers
from fireline.jobs.worker import Worker
from fireline.models import Job
from fireline.response import automation
from fireline.response.playbooks.tasks import TASK_DUE_JOB, fire_task_due
from fireline.response.triggers import Trigger

from .helpers import INCIDENTS, at, change_severity, complete, declare, drain, entries, tasks


@pytest.fixture
def worker(session_factory, clock) -> Worker:
    return Worker(session_factory, clock=clock, handlers=default_handlers(), worker_id="t")


def task_timers(db, ref, state="pending") -> list[tuple[str, str]]:
    """(task id, run_at) of the incident's task timers in `state`, soonest first."""
    incident_id = int(ref.removeprefix("INC-"))
    query = (
        select(Job)
        .where(Job.kind == TASK_DUE_JOB, Job.state == state)
        .order_by(Job.run_at, Job.id)
        .execution_options(populate_existing=True)
    )
    return [
        (job.payload["task_id"], job.payload["due_at"])
        for job in db.scalars(query)
        if job.payload["incident_id"] == incident_id
    ]


def iso(hhmm: str) -> str:
    return at(hhmm).replace("Z", "+00:00")


def test_declaring_a_sev1_sets_one_timer_per_task_at_its_due_time(as_responder, db):
    ref = declare(as_responder)
    checklist = tasks(as_responder, ref)

    timers = task_timers(db, ref)

    assert timers == [(task["id"], task["due_at"].replace("Z", "+00:00")) for task in checklist]
    assert [due for _, due in timers].count(iso("10:05")) == 4


def test_at_10_05_the_four_first_tasks_fall_overdue_once_and_a_task_done_in_time_stays_quiet(
    as_responder, clock, worker
):
    ref = declare(as_responder)
    checklist = tasks(as_responder, ref)
    acknowledged = checklist[3]  # "Post the public acknowledgement", due 10:05
    clock.advance(minutes=4)
    assert complete(as_responder, ref, acknowledged["id"]).status_code == 200

    clock.advance(minutes=1)
    drain(worker)
    drain(worker)

    overdue = entries(as_responder, ref, "task_overdue")
    assert [entry["details"]["task_id"] for entry in overdue] == [t["id"] for t in checklist[:3]]
    first = overdue[0]
    assert first["body"] == (
        "Overdue: “Confirm the severity against customer, revenue and security impact” was due "
        "at 10:05 UTC (owner: commander)."
    )
    assert first["details"] == {
        "task_id": checklist[0]["id"],
        "title": checklist[0]["title"],
        "owner_role": "commander",
        "due_at": iso("10:05"),
    }
    assert first["author"] is None
    assert first["occurred_at"] == at("10:05")

    clock.advance(minutes=10)
    drain(worker)
    assert len(entries(as_responder, ref, "task_overdue")) == 3 + 4


def test_a_timer_run_twice_records_once_and_tells_the_automation_rules_once(
    as_responder, clock, session_factory, monkeypatch
):
    fired = []
    monkeypatch.setattr(automation, "fire", lambda _session, **kwargs: fired.append(kwargs))
    ref = declare(as_responder)
    fired.clear()  # the declaration's own event
    task = tasks(as_responder, ref)[1]
    clock.advance(minutes=5)
    payload = {
        "incident_id": int(ref.removeprefix("INC-")),
        "task_id": task["id"],
        "due_at": iso("10:05"),
    }

    for attempt in (1, 2):
        with transaction(session_factory) as session:
            fire_task_due(session, payload, JobContext(now=clock.now(), job_id=0, attempt=attempt))

    assert len(entries(as_responder, ref, "task_overdue")) == 1
    (call,) = fired
    event = call["event"]
    assert event.trigger is Trigger.TASK_OVERDUE
    assert event.key == f"task:{task['id']}:{iso('10:05')}"
    assert event.details == {
        "task_id": task["id"],
        "title": "Open the war room and post its name in the incident channel",
        "owner_role": "commander",
        "due_at": iso("10:05"),
    }
    assert call["incident"].reference == ref
    assert call["now"] == clock.now()


def test_stale_timers_record_nothing(as_responder, clock, session_factory):
    ref = declare(as_responder)
    task = tasks(as_responder, ref)[0]
    assert complete(as_responder, ref, task["id"]).status_code == 200
    clock.advance(minutes=5)
    incident_id = int(ref.removeprefix("INC-"))
    stale = [
        {"incident_id": incident_id, "task_id": task["id"], "due_at": iso("10:05")},  # done
        {"incident_id": incident_id, "task_id": task["id"] + 1, "due_at": iso("10:04")},  # moved
        {"incident_id": incident_id, "task_id": 999_999, "due_at": iso("10:05")},  # gone
        {"incident_id": 999_999, "task_id": task["id"], "due_at": iso("10:05")},  # no incident
    ]

    for payload in stale:
        with transaction(session_factory) as session:
            fire_task_due(session, payload, JobContext(now=clock.now(), job_id=0, attempt=1))

    assert entries(as_responder, ref, "task_overdue") == []


def test_raising_to_sev1_at_10_20_sets_timers_only_for_the_tasks_still_ahead(
    as_responder, clock, worker, db
):
    ref = declare(as_responder, severity="SEV3")
    clock.advance(minutes=20)
    change_severity(as_responder, ref, "SEV1")

    assert sorted({due for _, due in task_timers(db, ref)}) == [
        iso("10:30"),
        iso("10:45"),
        iso("11:00"),
    ]
    drain(worker)
    assert entries(as_responder, ref, "task_overdue") == []


def test_a_resolved_incident_is_not_nagged_about_its_open_tasks(as_responder, clock, worker):
    ref = declare(as_responder, severity="SEV2")
    resolved = as_responder.post(
        f"{INCIDENTS}/{ref}/resolve",
        json={
            "resolution_criteria": "Checkout success above 99.5%",
            "criteria_met": True,
            "customer_impact_ended": True,
            "postmortem_owner": "rita@example.com",
            "postmortem_due_at": at("17:00", day=9),
            "monitoring_waiver_reason": "Verified by synthetic checks",
        },
    )
    assert resolved.status_code == 200, resolved.text

    clock.advance(minutes=61)
    drain(worker)

    assert entries(as_responder, ref, "task_overdue") == []


def test_a_task_added_by_hand_falls_overdue_at_its_due_time_and_a_reopened_one_again(
    as_responder, clock, worker, db
):
    ref = declare(as_responder, severity="SEV3")
    added = as_responder.post(
        f"{INCIDENTS}/{ref}/tasks", json={"title": "Page the DBA", "due_at": at("10:30")}
    ).json()
    assert complete(as_responder, ref, added["id"]).status_code == 200
    clock.advance(minutes=10)
    drain(worker)  # nothing due yet
    reopened = as_responder.post(f"{INCIDENTS}/{ref}/tasks/{added['id']}/reopen")
    assert reopened.status_code == 200, reopened.text
    assert task_timers(db, ref) == [(added["id"], iso("10:30"))]

    clock.advance(minutes=20)
    drain(worker)

    (entry,) = entries(as_responder, ref, "task_overdue")
    assert entry["body"] == "Overdue: “Page the DBA” was due at 10:30 UTC."
