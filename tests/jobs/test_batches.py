"""How a worker runs a claimed batch: quick jobs first and sharing a commit, each still on its own
(one failing undoes only its own work); slow ones alone, handing back what they cannot start in
time; and an idle worker waking when the next job is due rather than at its poll interval.

The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.db import transaction
from fireline.jobs import queue, worker
from fireline.jobs.handlers import RetryLater
from fireline.models import AuditRecord, Job, JobState

from .conftest import reload

LEASE = timedelta(minutes=5)


def paged(session, payload, context) -> None:
    """A quick handler: one audit record, as a page to the on-call would leave."""
    record(
        session,
        actor=Actor.system("worker"),
        action="oncall.paged",
        entity_type="incident",
        entity_id=payload["incident"],
        at=context.now,
    )


def pages(db) -> list[str]:
    query = select(AuditRecord.entity_id).where(AuditRecord.action == "oncall.paged")
    return sorted(db.scalars(query))


def test_quick_jobs_run_before_slow_ones_claimed_with_them(db, clock, make_worker):
    ran: list[str] = []
    now = clock.now()
    for minutes, kind, name in [
        (4, "webhook", "hook-1"),
        (3, "page", "page-1"),
        (2, "webhook", "hook-2"),
        (1, "page", "page-2"),
    ]:
        run_at = now - timedelta(minutes=minutes)
        queue.enqueue(db, kind=kind, payload={"name": name}, now=now, run_at=run_at)
    db.commit()

    def note(session, payload, context) -> None:
        ran.append(payload["name"])

    assert make_worker({"page": note, "webhook": note}, quick={"page"}).run_once() == 4

    assert ran == ["page-1", "page-2", "hook-1", "hook-2"]


def test_a_quick_job_that_fails_undoes_only_its_own_work(db, clock, make_worker):
    def page_or_fail(session, payload, context) -> None:
        paged(session, payload, context)
        if payload["incident"] == 2:
            session.flush()
            raise TimeoutError("the SMS gateway did not answer")

    jobs = [
        queue.enqueue(db, kind="page", payload={"incident": n}, now=clock.now()) for n in (1, 2, 3)
    ]
    db.commit()

    make_worker({"page": page_or_fail}, quick={"page"}).run_once()

    assert pages(db) == ["1", "3"]
    states = [reload(db, job).state for job in jobs]
    assert states == [JobState.SUCCEEDED, JobState.PENDING, JobState.SUCCEEDED]
    assert reload(db, jobs[1]).last_error == "TimeoutError: the SMS gateway did not answer"


def test_a_quick_job_asking_to_retry_later_keeps_its_work_and_its_neighbours_succeed(
    db, clock, make_worker
):
    def page_then_retry(session, payload, context) -> None:
        paged(session, payload, context)
        if payload["incident"] == 1:
            raise RetryLater("the pager service is throttling us")

    first = queue.enqueue(db, kind="page", payload={"incident": 1}, now=clock.now())
    second = queue.enqueue(db, kind="page", payload={"incident": 2}, now=clock.now())
    db.commit()

    make_worker({"page": page_then_retry}, quick={"page"}).run_once()

    assert pages(db) == ["1", "2"]
    retried = reload(db, first)
    assert (retried.state, retried.last_error) == (
        JobState.PENDING,
        "the pager service is throttling us",
    )
    assert reload(db, second).state == JobState.SUCCEEDED


def test_slow_jobs_not_started_in_time_go_back_to_the_queue_for_any_worker(db, clock, make_worker):
    ran: list[int] = []
    jobs = [queue.enqueue(db, kind="webhook", payload={"n": n}, now=clock.now()) for n in range(3)]
    db.commit()
    slow = make_worker(
        {"webhook": lambda _s, payload, _c: ran.append(payload["n"])},
        release_after=timedelta(0),
    )

    assert slow.run_once() == 3

    assert ran == [0]
    assert reload(db, jobs[0]).state == JobState.SUCCEEDED
    for job in jobs[1:]:
        back = reload(db, job)
        assert (back.state, back.attempts, back.locked_by, back.locked_until) == (
            JobState.PENDING,
            0,
            None,
            None,
        )
    other = make_worker({"webhook": lambda *_: None}, worker_id="worker-2")
    assert other.run_once() == 2


def test_a_claim_another_worker_took_over_is_neither_held_nor_released(db, clock):
    job = queue.enqueue(db, kind="page", payload={}, now=clock.now())
    [claimed] = queue.claim(db, worker_id="worker-a", now=clock.now(), lease=LEASE, limit=1)
    # What worker-a knows of its claim, before it stalls past its lease.
    stale = Job(id=claimed.id, attempts=claimed.attempts, locked_by="worker-a")
    clock.advance(minutes=6)
    [taken] = queue.claim(db, worker_id="worker-b", now=clock.now(), lease=LEASE, limit=1)

    assert queue.hold(db, [stale]) == set()
    assert queue.release(db, [stale], now=clock.now()) == 0
    assert queue.hold(db, [taken]) == {job.id}
    assert (taken.locked_by, taken.attempts) == ("worker-b", 2)
    with pytest.raises(queue.ClaimLost):
        queue.complete_many(db, [stale], now=clock.now())
    assert reload(db, job).state == JobState.RUNNING  # still worker-b's to finish


def test_an_idle_worker_sleeps_until_the_next_timer_and_no_longer_than_its_poll_interval(
    db, clock, make_worker
):
    idle = make_worker()
    assert idle.idle_wait(poll_interval=5.0) == 5.0  # nothing queued

    queue.enqueue(
        db, kind="remind", payload={}, now=clock.now(), run_at=clock.now() + timedelta(seconds=2.5)
    )
    db.commit()
    assert idle.idle_wait(poll_interval=5.0) == 2.5
    assert idle.idle_wait(poll_interval=1.0) == 1.0

    clock.advance(seconds=3)  # due, but another worker is claiming it this very moment
    assert idle.idle_wait(poll_interval=5.0) == worker.MIN_WAIT_SECONDS


def test_an_idle_worker_wakes_when_a_running_jobs_lease_runs_out(db, clock, make_worker):
    queue.enqueue(db, kind="escalate", payload={}, now=clock.now())
    db.commit()
    with transaction(make_worker().session_factory) as session:
        queue.claim(session, worker_id="gone", now=clock.now(), lease=LEASE, limit=1)

    clock.advance(minutes=4)

    assert make_worker().idle_wait(poll_interval=300.0) == 60.0


def test_when_a_shared_commit_fails_its_jobs_run_again_once_their_leases_pass(
    db, clock, make_worker, monkeypatch
):
    jobs = [
        queue.enqueue(db, kind="page", payload={"incident": n}, now=clock.now()) for n in (1, 2)
    ]
    db.commit()
    paging = make_worker({"page": paged}, quick={"page"})

    def database_gone(*args, **kwargs):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(worker, "complete_many", database_gone)
    assert paging.run_once() == 2
    monkeypatch.undo()

    assert pages(db) == []  # the pages were rolled back with the commit they shared
    assert [reload(db, job).state for job in jobs] == [JobState.RUNNING] * 2
    ran = {"kind": "page", "outcome": "succeeded"}
    assert paging.metrics.registry.get_sample_value("fireline_job_runs_total", ran) is None
    clock.advance(minutes=5, seconds=1)
    assert paging.run_once() == 2
    assert pages(db) == ["1", "2"]
    assert [reload(db, job).attempts for job in jobs] == [2, 2]
