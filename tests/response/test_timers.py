"""The response clocks fire: reminders before a deadline, a missed deadline escalated, and the next
timers set, through the JSON API with a worker on the test's transaction.

The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from sqlalchemy import select

from fireline.db import transaction
from fireline.jobs.handlers import JobContext, default_handlers
from fireline.jobs.worker import Worker
from fireline.models import Job, JobState
from fireline.response.timers import CLOCK_JOB, fire_clock

from .test_obligations_api import at, declare, posted

INCIDENTS = "/api/v1/incidents"


@pytest.fixture
def worker(session_factory, clock) -> Worker:
    return Worker(session_factory, clock=clock, handlers=default_handlers(), worker_id="t")


def notices(api, ref, entry_kind, obligation_kind=None):
    response = api.get(f"{INCIDENTS}/{ref}/timeline", params={"kind": entry_kind})
    assert response.status_code == 200, response.text
    entries = response.json()["items"]
    return [e for e in entries if obligation_kind in (None, e["details"]["kind"])]


class Timer(NamedTuple):
    at: str
    event: str
    kind: str
    sequence: int
    state: str


def clock_jobs(db, ref, **where) -> list[Timer]:
    """The incident's clock timers as stored, soonest first, those matching `where`."""
    incident_id = int(ref.removeprefix("INC-"))
    query = (
        select(Job)
        .where(Job.kind == CLOCK_JOB)
        .order_by(Job.run_at, Job.id)
        .execution_options(populate_existing=True)
    )
    timers = [
        Timer(*(job.payload[name] for name in ("at", "event", "kind", "sequence")), job.state)
        for job in db.scalars(query)
        if job.payload["incident_id"] == incident_id
    ]
    return [t for t in timers if all(getattr(t, k) == v for k, v in where.items())]


def iso(hhmm: str) -> str:
    return at(hhmm).replace("Z", "+00:00")


def test_declaring_a_sev1_sets_the_first_public_update_timers(as_responder, db):
    ref = declare(as_responder)

    timers = clock_jobs(db, ref, kind="first_public_update")

    assert timers == [
        (iso("10:10"), "remind", "first_public_update", 0, "pending"),
        (iso("10:15"), "due", "first_public_update", 0, "pending"),
    ]


def test_at_10_10_the_comms_lead_is_reminded_and_at_10_15_the_miss_goes_to_the_commander(
    as_responder, clock, worker
):
    ref = declare(as_responder)

    clock.advance(minutes=9)
    worker.run_once()
    assert notices(as_responder, ref, "obligation_reminder", "first_public_update") == []

    clock.advance(minutes=1)
    assert worker.run_once() > 0
    (reminder,) = notices(as_responder, ref, "obligation_reminder", "first_public_update")
    assert reminder["body"] == (
        "Reminder: the first public update is due at 10:15 UTC (owner: comms lead)."
    )
    assert reminder["occurred_at"] == at("10:10")
    assert reminder["author"] is None
    assert reminder["details"] == {
        "kind": "first_public_update",
        "sequence": 0,
        "event": "remind",
        "due_at": iso("10:15"),
        "owner_role": "comms_lead",
        "escalate_to": "commander",
    }
    assert notices(as_responder, ref, "obligation_missed", "first_public_update") == []

    clock.advance(minutes=5)
    worker.run_once()
    (missed,) = notices(as_responder, ref, "obligation_missed", "first_public_update")
    assert missed["body"] == (
        "Missed: the first public update was due at 10:15 UTC; escalated to the incident commander."
    )
    assert missed["details"]["event"] == "due"


def test_an_update_at_10_17_sets_the_next_timers_for_10_42_and_10_47(
    as_responder, as_admin, clock, worker, db
):
    ref = declare(as_responder)
    clock.advance(minutes=15)
    worker.run_once()

    clock.advance(minutes=2)
    posted(as_responder, ref)

    assert clock_jobs(db, ref, kind="public_update") == [
        (iso("10:42"), "remind", "public_update", 1, "pending"),
        (iso("10:47"), "due", "public_update", 1, "pending"),
    ]
    listed = as_admin.get("/api/v1/jobs", params={"kind": CLOCK_JOB, "state": "pending"})
    assert listed.status_code == 200, listed.text
    run_at = {job["run_at"].replace("+00:00", "Z") for job in listed.json()["items"]}
    assert {at("10:42"), at("10:47")} <= run_at


def test_a_timer_whose_obligation_was_met_earlier_does_nothing(as_responder, clock, worker, db):
    ref = declare(as_responder)
    clock.advance(minutes=5)
    posted(as_responder, ref)

    clock.advance(minutes=5)
    worker.run_once()
    clock.advance(minutes=5)
    worker.run_once()

    assert notices(as_responder, ref, "obligation_reminder", "first_public_update") == []
    assert notices(as_responder, ref, "obligation_missed", "first_public_update") == []
    # The stale timers ran and finished; the next update's timers are still to come.
    assert {timer.state for timer in clock_jobs(db, ref, kind="first_public_update")} == {
        JobState.SUCCEEDED.value
    }
    assert clock_jobs(db, ref, kind="public_update", state="pending") == [
        (iso("10:30"), "remind", "public_update", 1, "pending"),
        (iso("10:35"), "due", "public_update", 1, "pending"),
    ]


def test_timers_left_behind_by_a_severity_change_do_not_fire_at_their_old_instants(
    as_responder, clock, worker, db
):
    ref = declare(as_responder, severity="SEV2")  # first public update due 10:30
    clock.advance(minutes=1)
    raised = as_responder.post(f"{INCIDENTS}/{ref}/severity", json={"severity": "SEV1"})
    assert raised.status_code == 200, raised.text
    assert [(job.at, job.event) for job in clock_jobs(db, ref, kind="first_public_update")] == [
        (iso("10:11"), "remind"),
        (iso("10:16"), "due"),
        (iso("10:25"), "remind"),
        (iso("10:30"), "due"),
    ]

    clock.advance(minutes=10)
    worker.run_once()
    (reminder,) = notices(as_responder, ref, "obligation_reminder", "first_public_update")
    assert reminder["body"].endswith("is due at 10:16 UTC (owner: comms lead).")
    clock.advance(minutes=5)
    worker.run_once()
    clock.advance(minutes=14)
    worker.run_once()

    assert len(notices(as_responder, ref, "obligation_reminder", "first_public_update")) == 1
    (missed,) = notices(as_responder, ref, "obligation_missed", "first_public_update")
    assert missed["details"]["due_at"] == iso("10:16")
    assert clock_jobs(db, ref, kind="first_public_update", state="pending") == []


def test_running_the_worker_or_a_timer_twice_adds_nothing_twice(
    as_responder, clock, worker, session_factory
):
    ref = declare(as_responder)
    clock.advance(minutes=10)
    worker.run_once()
    worker.run_once()

    payload = {
        "incident_id": int(ref.removeprefix("INC-")),
        "event": "remind",
        "kind": "first_public_update",
        "sequence": 0,
        "at": iso("10:10"),
    }
    with transaction(session_factory) as session:
        fire_clock(session, payload, JobContext(now=clock.now(), job_id=0, attempt=2))

    assert len(notices(as_responder, ref, "obligation_reminder", "first_public_update")) == 1
    all_reminders = notices(as_responder, ref, "obligation_reminder")
    keys = [(e["details"]["kind"], e["details"]["sequence"]) for e in all_reminders]
    assert len(keys) == len(set(keys))


def test_asking_again_for_the_same_timers_sets_each_once(as_responder, clock, db):
    ref = declare(as_responder)
    before = clock_jobs(db, ref)
    patched = as_responder.patch(f"{INCIDENTS}/{ref}/timestamps", json={"detected_at": at("09:55")})
    assert patched.status_code == 200, patched.text

    assert clock_jobs(db, ref) == before


def test_a_sev3_sets_no_public_update_timers(as_responder, db):
    ref = declare(as_responder, severity="SEV3")

    timers = clock_jobs(db, ref)

    assert not [job for job in timers if "public_update" in job.kind]


def test_triage_sets_no_timers_until_declared(as_responder, clock, db):
    ref = declare(as_responder, status="triage")
    assert clock_jobs(db, ref) == []

    clock.advance(minutes=3)
    moved = as_responder.post(f"{INCIDENTS}/{ref}/status", json={"status": "investigating"})
    assert moved.status_code == 200, moved.text

    assert clock_jobs(db, ref, kind="first_public_update") == [
        (iso("10:13"), "remind", "first_public_update", 0, "pending"),
        (iso("10:18"), "due", "first_public_update", 0, "pending"),
    ]
