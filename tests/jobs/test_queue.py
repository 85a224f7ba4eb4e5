"""The queue: a job exists only if its transaction commits, runs when due, and is set once."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fireline.accounts.principal import Actor
from fireline.db import transaction
from fireline.errors import JobNotRetryable, NotFound
from fireline.jobs import queue
from fireline.models import AuditRecord, Job, JobState

from .conftest import reload

LEASE = timedelta(minutes=5)


def test_a_job_enqueued_in_a_transaction_that_rolls_back_never_runs(
    session_factory, clock, make_worker, db
):
    def declare_incident_that_then_fails() -> None:
        with transaction(session_factory) as session:
            queue.enqueue(session, kind="fireline.ping", payload={}, now=clock.now())
            raise RuntimeError("declaring the incident failed after the job was enqueued")

    with pytest.raises(RuntimeError):
        declare_incident_that_then_fails()

    assert make_worker().run_once() == 0
    assert queue.list_jobs(db) == []


def test_a_job_due_at_10_05_is_not_claimed_at_10_04_and_is_at_10_05(db, clock):
    due = clock.now() + timedelta(minutes=5)
    job = queue.enqueue(
        db, kind="obligation.remind", payload={"incident": 1}, now=clock.now(), run_at=due
    )

    clock.set(due - timedelta(minutes=1))
    early = queue.claim(db, worker_id="w1", now=clock.now(), lease=LEASE, limit=10)
    clock.set(due)
    on_time = queue.claim(db, worker_id="w1", now=clock.now(), lease=LEASE, limit=10)

    assert early == []
    assert [claimed.id for claimed in on_time] == [job.id]


def test_claiming_leases_the_job_and_counts_the_attempt(db, clock):
    job = queue.enqueue(db, kind="fireline.ping", payload={}, now=clock.now())

    [claimed] = queue.claim(db, worker_id="host-a:42", now=clock.now(), lease=LEASE, limit=10)

    assert claimed.id == job.id
    assert claimed.state == JobState.RUNNING
    assert claimed.locked_by == "host-a:42"
    assert claimed.locked_until == clock.now() + LEASE
    assert claimed.attempts == 1
    # A running job with a live lease is nobody else's.
    assert queue.claim(db, worker_id="host-b:7", now=clock.now(), lease=LEASE, limit=10) == []


def test_the_oldest_due_jobs_are_claimed_first_up_to_the_limit(db, clock):
    start = clock.now()
    late = queue.enqueue(db, kind="k", payload={}, now=start, run_at=start)
    early = queue.enqueue(db, kind="k", payload={}, now=start, run_at=start - timedelta(minutes=3))
    middle = queue.enqueue(db, kind="k", payload={}, now=start, run_at=start - timedelta(minutes=1))

    first = queue.claim(db, worker_id="w", now=start, lease=LEASE, limit=2)
    rest = queue.claim(db, worker_id="w", now=start, lease=LEASE, limit=2)

    assert [job.id for job in first] == [early.id, middle.id]
    assert [job.id for job in rest] == [late.id]


def test_a_timer_with_a_dedupe_key_is_enqueued_once_while_it_is_pending(db, clock):
    key = "incident:1:first-public-update"
    first = queue.enqueue(
        db, kind="obligation.remind", payload={"n": 1}, now=clock.now(), dedupe_key=key
    )
    again = queue.enqueue(
        db, kind="obligation.remind", payload={"n": 2}, now=clock.now(), dedupe_key=key
    )

    assert again.id == first.id
    assert again.payload == {"n": 1}
    assert len(queue.list_jobs(db)) == 1


def test_a_finished_timer_frees_its_dedupe_key_for_the_next_one(db, clock):
    key = "incident:1:next-public-update"
    first = queue.enqueue(db, kind="obligation.remind", payload={}, now=clock.now(), dedupe_key=key)
    [claimed] = queue.claim(db, worker_id="w", now=clock.now(), lease=LEASE, limit=1)
    # Still running: the key is taken.
    assert (
        queue.enqueue(db, kind="obligation.remind", payload={}, now=clock.now(), dedupe_key=key).id
        == first.id
    )
    queue.complete(db, claimed, now=clock.now())

    second = queue.enqueue(
        db, kind="obligation.remind", payload={}, now=clock.now(), dedupe_key=key
    )

    assert second.id != first.id
    assert reload(db, first).state == JobState.SUCCEEDED


def test_a_failed_attempt_goes_back_to_pending_after_a_backoff(db, clock):
    queue.enqueue(db, kind="notify.webhook", payload={}, now=clock.now())
    [claimed] = queue.claim(db, worker_id="w", now=clock.now(), lease=LEASE, limit=1)

    state = queue.fail(db, claimed, error="HTTPError: 502", now=clock.now(), rng=random.Random(3))

    job = reload(db, claimed)
    assert state == JobState.PENDING
    assert job.state == JobState.PENDING
    assert clock.now() <= job.run_at <= clock.now() + timedelta(seconds=10)
    assert job.last_error == "HTTPError: 502"
    assert (job.locked_by, job.locked_until, job.finished_at) == (None, None, None)


def test_an_admin_retries_a_dead_job_and_the_audit_log_says_so(db, clock, make_dead_job):
    job_id = make_dead_job(error="HTTPError: 503 from hooks.example.com")
    clock.advance(hours=2)
    admin = Actor(user_id=None, label="Ada <ada@example.com>", via="test")

    job = queue.retry_dead(db, job_id=job_id, now=clock.now(), actor=admin)

    assert (job.state, job.attempts, job.run_at, job.finished_at) == (
        JobState.PENDING,
        0,
        clock.now(),
        None,
    )
    assert job.last_error == "HTTPError: 503 from hooks.example.com"  # kept for reference
    [audit] = db.scalars(select(AuditRecord).where(AuditRecord.entity_type == "job"))
    assert (audit.action, audit.entity_id, audit.actor) == ("job.retry", str(job_id), admin.label)
    assert audit.before == {"state": "dead", "attempts": 1, "last_error": job.last_error}
    assert audit.after is not None
    assert audit.after["state"] == "pending"


def test_only_a_dead_job_can_be_retried(db, clock):
    job = queue.enqueue(db, kind="fireline.ping", payload={}, now=clock.now())

    with pytest.raises(JobNotRetryable, match="is pending"):
        queue.retry_dead(db, job_id=job.id, now=clock.now(), actor=Actor.system())
    with pytest.raises(NotFound, match="No job 999999"):
        queue.retry_dead(db, job_id=999_999, now=clock.now(), actor=Actor.system())


def test_jobs_are_listed_newest_first_by_state_and_kind(db, clock, make_dead_job):
    ping = queue.enqueue(db, kind="fireline.ping", payload={}, now=clock.now())
    dead = make_dead_job(kind="notify.email")
    other = queue.enqueue(db, kind="notify.email", payload={}, now=clock.now())

    def ids(**filters) -> list[int]:
        return [job.id for job in queue.list_jobs(db, **filters)]

    assert ids() == [other.id, dead, ping.id]
    assert ids(state=JobState.DEAD) == [dead]
    assert ids(kind="notify.email") == [other.id, dead]
    assert ids(state=JobState.PENDING, kind="notify.email") == [other.id]
    assert ids(before_id=other.id, limit=1) == [dead]


def test_the_jobs_table_refuses_a_state_it_does_not_know(db, clock):
    job = queue.enqueue(db, kind="fireline.ping", payload={}, now=clock.now())
    job.state = "paused"

    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()
    assert db.scalars(select(Job)).all() == []


def test_a_batch_of_timers_sets_each_key_once_and_skips_keys_already_held(db, clock):
    def timer(key: str, minutes: int) -> queue.Timer:
        return queue.Timer(
            kind="fireline.ping",
            payload={"key": key},
            run_at=clock.now() + timedelta(minutes=minutes),
            dedupe_key=key,
        )

    held = queue.enqueue(
        db, kind="fireline.ping", payload={}, now=clock.now(), dedupe_key="remind-10:10"
    )

    added = queue.enqueue_timers(
        db,
        timers=[timer("remind-10:10", 10), timer("due-10:15", 15), timer("due-10:15", 15)],
        now=clock.now(),
    )

    assert [job.dedupe_key for job in added] == ["due-10:15"]
    keys = sorted(job.dedupe_key for job in queue.list_jobs(db))
    assert keys == ["due-10:15", "remind-10:10"]
    assert held.dedupe_key == "remind-10:10"
    assert queue.enqueue_timers(db, timers=[], now=clock.now()) == []
