"""The reconcile pass: response timers that went missing are set again, and nothing else changes.

The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from fireline.jobs.handlers import default_handlers
from fireline.jobs.queue import enqueue
from fireline.jobs.worker import Worker
from fireline.models import Job
from fireline.response.reconcile import RECONCILE_JOB, reconcile_timers
from fireline.response.timers import CLOCK_JOB

from .test_obligations_api import at, declare, posted
from .test_timers import clock_jobs, iso, notices

INCIDENTS = "/api/v1/incidents"


@pytest.fixture
def worker(session_factory, clock) -> Worker:
    return Worker(session_factory, clock=clock, handlers=default_handlers(), worker_id="t")


def lose_pending_timers(db, ref) -> None:
    """What a hand-run DELETE, or a restore from an older backup, does to an incident's timers."""
    incident_id = int(ref.removeprefix("INC-"))
    db.execute(
        delete(Job).where(
            Job.kind == CLOCK_JOB,
            Job.state == "pending",
            Job.payload["incident_id"].as_integer() == incident_id,
        )
    )
    db.commit()


def run_reconcile(db, clock, worker, **payload) -> None:
    enqueue(db, kind=RECONCILE_JOB, payload=payload, now=clock.now())
    db.commit()
    while worker.run_once():
        pass


def test_a_sev1_whose_timers_were_deleted_gets_them_back_at_the_next_pass(
    as_responder, clock, worker, db
):
    ref = declare(as_responder)
    clock.advance(minutes=2)
    posted(as_responder, ref)  # first public update met at 10:02; the next is due 10:32
    before = clock_jobs(db, ref, state="pending")
    lose_pending_timers(db, ref)
    assert clock_jobs(db, ref, state="pending") == []

    run_reconcile(db, clock, worker)

    # Every timer still owed is back; the stale first-update ones (met at 10:02) are not.
    assert clock_jobs(db, ref, state="pending") == [
        timer for timer in before if timer.kind != "first_public_update"
    ]
    assert (iso("10:27"), "remind", "public_update", 1, "pending") in before
    # And they fire as if nothing had happened.
    clock.advance(minutes=25)
    worker.run_once()
    (reminder,) = notices(as_responder, ref, "obligation_reminder", "public_update")
    assert reminder["occurred_at"] == at("10:27")


def test_a_pass_over_healthy_incidents_adds_nothing(as_responder, clock, db):
    first, second = declare(as_responder), declare(as_responder, severity="SEV2")
    jobs_before = db.scalars(select(Job.id).order_by(Job.id)).all()

    clock.advance(minutes=1)
    done = reconcile_timers(db, now=clock.now())

    assert done.incident_ids == [int(first[4:]), int(second[4:])]
    assert done.healed == {}
    assert db.scalars(select(Job.id).order_by(Job.id)).all() == jobs_before


def test_closed_and_declined_incidents_are_not_looked_at(as_responder, db, clock):
    declined = declare(as_responder, status="triage")
    response = as_responder.post(f"{INCIDENTS}/{declined}/decline", json={"reason": "Planned test"})
    assert response.status_code == 200, response.text
    open_one = declare(as_responder)

    done = reconcile_timers(db, now=clock.now())

    assert done.incident_ids == [int(open_one[4:])]


def test_a_long_list_of_incidents_is_walked_in_batches_each_in_a_job_of_its_own(
    as_responder, clock, worker, db
):
    refs = [declare(as_responder) for _ in range(3)]
    for ref in refs:
        lose_pending_timers(db, ref)

    run_reconcile(db, clock, worker, batch=2)

    passes = db.scalars(select(Job).where(Job.kind == RECONCILE_JOB).order_by(Job.id)).all()
    assert [job.payload.get("after_id") for job in passes] == [None, int(refs[1][4:])]
    assert {job.state for job in passes} == {"succeeded"}
    for ref in refs:
        assert [(t.at, t.event) for t in clock_jobs(db, ref, kind="first_public_update")] == [
            (iso("10:10"), "remind"),
            (iso("10:15"), "due"),
        ]
