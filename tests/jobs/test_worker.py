"""The worker: each job in its own transaction, failures retried with backoff, then dead."""

from __future__ import annotations

import itertools
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.db import transaction
from fireline.jobs import queue
from fireline.jobs import worker as worker_module
from fireline.jobs.backoff import backoff, ceiling
from fireline.jobs.handlers import JobContext
from fireline.jobs.worker import Worker
from fireline.models import AuditRecord, JobState

from .conftest import reload


def test_a_handler_gets_the_payload_and_what_run_it_is(db, clock, make_worker):
    seen: list[tuple[dict, JobContext]] = []
    job = queue.enqueue(db, kind="page.oncall", payload={"incident": 7}, now=clock.now())
    db.commit()

    handled = make_worker(
        {"page.oncall": lambda _session, payload, context: seen.append((payload, context))}
    ).run_once()

    assert handled == 1
    assert seen == [({"incident": 7}, JobContext(now=clock.now(), job_id=job.id, attempt=1))]
    stored = reload(db, job)
    assert (stored.state, stored.finished_at, stored.locked_by) == (
        JobState.SUCCEEDED,
        clock.now(),
        None,
    )


def test_a_failing_handler_is_retried_with_growing_delays_then_dead_with_its_error(
    db, clock, make_worker
):
    def webhook_down(session, payload, context) -> None:
        raise ConnectionError(f"hooks.example.com refused attempt {context.attempt}")

    job = queue.enqueue(db, kind="notify.webhook", payload={}, now=clock.now(), max_attempts=4)
    db.commit()
    worker = make_worker({"notify.webhook": webhook_down}, rng=random.Random(2026))
    replay = random.Random(2026)
    delays = []

    for attempt in (1, 2, 3):
        failed_at = clock.now()
        assert worker.run_once() == 1
        retry = reload(db, job)
        delay = retry.run_at - failed_at
        assert retry.state == JobState.PENDING
        assert retry.attempts == attempt
        assert retry.last_error == f"ConnectionError: hooks.example.com refused attempt {attempt}"
        # Jittered, but always within a ceiling that doubles: 10 s, 20 s, 40 s …
        assert delay == backoff(attempt, replay)
        assert timedelta(0) <= delay <= ceiling(attempt)
        delays.append(delay)
        # Not a moment before its time; on time, it is taken.
        clock.set(retry.run_at - timedelta(microseconds=1))
        assert worker.run_once() == 0
        clock.set(retry.run_at)

    assert worker.run_once() == 1
    dead = reload(db, job)
    assert dead.state == JobState.DEAD
    assert dead.attempts == 4
    assert dead.finished_at == clock.now()
    assert dead.last_error == "ConnectionError: hooks.example.com refused attempt 4"
    assert delays == sorted(delays)  # with this seed each draw is longer than the last
    clock.advance(days=1)
    assert worker.run_once() == 0  # dead jobs stay dead until someone retries them


def test_a_handler_that_writes_then_raises_leaves_nothing_behind(db, clock, make_worker):
    def half_done(session, payload, context) -> None:
        record(
            session,
            actor=Actor.system("worker"),
            action="escalation.page",
            entity_type="incident",
            entity_id=1,
            at=context.now,
        )
        session.flush()
        raise TimeoutError("the SMS gateway did not answer")

    job = queue.enqueue(db, kind="escalate", payload={}, now=clock.now())
    db.commit()

    make_worker({"escalate": half_done}).run_once()

    assert (
        db.scalars(select(AuditRecord).where(AuditRecord.action == "escalation.page")).all() == []
    )
    assert reload(db, job).state == JobState.PENDING


def test_a_handlers_changes_and_the_jobs_completion_land_together(db, clock, make_worker):
    def page(session, payload, context) -> None:
        record(
            session,
            actor=Actor.system("worker"),
            action="escalation.page",
            entity_type="incident",
            entity_id=payload["incident"],
            at=context.now,
        )

    job = queue.enqueue(db, kind="escalate", payload={"incident": 3}, now=clock.now())
    db.commit()

    make_worker({"escalate": page}).run_once()

    [paged] = db.scalars(select(AuditRecord).where(AuditRecord.action == "escalation.page"))
    assert paged.entity_id == "3"
    assert reload(db, job).state == JobState.SUCCEEDED


def test_an_unknown_kind_fails_the_job_not_the_worker(db, clock, make_worker):
    mystery = queue.enqueue(
        db, kind="from.a.newer.release", payload={}, now=clock.now(), max_attempts=2
    )
    ping = queue.enqueue(db, kind="fireline.ping", payload={}, now=clock.now())
    db.commit()
    worker = make_worker()

    assert worker.run_once() == 2
    clock.advance(minutes=1)
    assert worker.run_once() == 1

    dead = reload(db, mystery)
    assert dead.state == JobState.DEAD
    assert dead.last_error is not None
    assert "No handler for job kind 'from.a.newer.release'" in dead.last_error
    assert "fireline.ping" in dead.last_error  # what this worker does know
    assert reload(db, ping).state == JobState.SUCCEEDED


def test_a_job_whose_worker_died_is_run_by_another_once_the_lease_passes(
    session_factory, db, clock, make_worker
):
    runs: list[str] = []
    job = queue.enqueue(db, kind="escalate", payload={}, now=clock.now())
    db.commit()
    with transaction(session_factory) as session:
        # Worker A claims the job, then its process is killed before it finishes.
        [abandoned] = queue.claim(
            session, worker_id="worker-a", now=clock.now(), lease=timedelta(minutes=5), limit=10
        )
    worker_b = make_worker({"escalate": lambda *_: runs.append("b")}, worker_id="worker-b")

    clock.advance(minutes=4)
    assert worker_b.run_once() == 0
    clock.advance(minutes=1, seconds=1)
    assert worker_b.run_once() == 1

    assert runs == ["b"]
    done = reload(db, job)
    assert (done.state, done.attempts) == (JobState.SUCCEEDED, 2)
    # Worker A was only slow after all: it cannot complete what B has taken over, nor fail it.
    with pytest.raises(queue.ClaimLost), transaction(session_factory) as session:
        queue.complete(session, abandoned, now=clock.now())
    with transaction(session_factory) as session:
        assert (
            queue.fail(session, abandoned, error="late", now=clock.now(), rng=random.Random())
            is None
        )
    assert reload(db, job).state == JobState.SUCCEEDED


def test_a_job_that_kills_every_worker_is_dead_after_its_last_attempt(
    session_factory, db, clock, make_worker
):
    job = queue.enqueue(db, kind="poison", payload={}, now=clock.now(), max_attempts=2)
    db.commit()
    for worker_id in ("worker-a", "worker-b"):
        with transaction(session_factory) as session:
            queue.claim(
                session, worker_id=worker_id, now=clock.now(), lease=timedelta(minutes=5), limit=1
            )
        clock.advance(minutes=6)

    assert make_worker().run_once() == 0

    dead = reload(db, job)
    assert (dead.state, dead.attempts) == (JobState.DEAD, 2)
    assert dead.last_error is not None
    assert "worker-b" in dead.last_error


def test_when_an_outcome_cannot_be_recorded_the_batch_goes_on_and_the_job_runs_again_later(
    db, clock, make_worker, monkeypatch
):
    def database_gone(*args, **kwargs):
        raise ConnectionError("the database went away")

    runs: list[int] = []

    def flaky(session, payload, context) -> None:
        runs.append(context.job_id)
        if context.attempt == 1:
            raise TimeoutError("the SMS gateway did not answer")

    stranded = queue.enqueue(db, kind="flaky", payload={}, now=clock.now())
    fine = queue.enqueue(db, kind="fireline.ping", payload={}, now=clock.now())
    db.commit()
    worker = make_worker({"flaky": flaky})
    monkeypatch.setattr(worker_module, "fail", database_gone)

    assert worker.run_once() == 2
    monkeypatch.undo()

    assert reload(db, fine).state == JobState.SUCCEEDED
    assert reload(db, stranded).state == JobState.RUNNING  # until its lease passes
    clock.advance(minutes=5, seconds=1)
    assert worker.run_once() == 1
    assert reload(db, stranded).state == JobState.SUCCEEDED
    assert runs == [stranded.id, stranded.id]


def test_run_forever_keeps_going_after_a_database_error_and_stops_when_asked(
    session_factory, clock
):
    stop = threading.Event()
    looks = itertools.count(1)

    class RestartingDatabase(Worker):
        def run_once(self) -> int:
            if next(looks) == 1:
                raise ConnectionError("the database is restarting")
            stop.set()
            return 0

    worker = RestartingDatabase(session_factory, clock=clock, handlers={}, worker_id="w")

    worker.run_forever(stop, poll_interval=0.01)

    assert next(looks) == 3  # it looked again after the error, then stopped
