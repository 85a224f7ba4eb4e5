"""Pruning: succeeded jobs go a week after they finished; dead, pending and running ones stay.

The clock starts at Monday 2026-01-05 10:00 UTC."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from fireline.db import transaction
from fireline.jobs import queue
from fireline.jobs.prune import PRUNE_JOB, prune_succeeded
from fireline.models import Job, JobState


def states(db) -> dict[int, str]:
    jobs = db.scalars(select(Job).order_by(Job.id).execution_options(populate_existing=True))
    return {job.id: job.state for job in jobs}


def succeeded_job(db, clock, make_worker, kind: str = "fireline.ping") -> int:
    job = queue.enqueue(db, kind=kind, payload={}, now=clock.now())
    db.commit()
    make_worker().run_once()
    return job.id


def test_a_week_later_only_the_jobs_that_succeeded_more_than_seven_days_ago_are_deleted(
    db, clock, make_worker, make_dead_job, session_factory
):
    monday = succeeded_job(db, clock, make_worker)  # finished Monday 10:00
    dead = make_dead_job()  # a webhook that gave up on Monday
    clock.advance(days=2)
    wednesday = succeeded_job(db, clock, make_worker)
    later = queue.enqueue(
        db, kind="remind", payload={}, now=clock.now(), run_at=clock.now() + timedelta(days=30)
    ).id
    running = queue.enqueue(db, kind="escalate", payload={}, now=clock.now()).id
    db.commit()
    with transaction(session_factory) as session:
        queue.claim(session, worker_id="w", now=clock.now(), lease=timedelta(days=30), limit=1)

    clock.set(clock.now() + timedelta(days=5, minutes=1))  # Monday 10:01, a week and a minute on
    queue.enqueue(db, kind=PRUNE_JOB, payload={"retention_days": 7}, now=clock.now())
    db.commit()
    make_worker().run_once()

    left = states(db)
    assert monday not in left
    assert left[wednesday] == JobState.SUCCEEDED  # five days old: kept
    assert left[dead] == JobState.DEAD  # kept until someone retries it
    assert left[later] == JobState.PENDING
    assert left[running] == JobState.RUNNING


def test_old_jobs_go_in_bounded_batches_each_in_its_own_job(db, clock, make_worker):
    old = [succeeded_job(db, clock, make_worker) for _ in range(5)]
    clock.advance(days=8)

    queue.enqueue(db, kind=PRUNE_JOB, payload={"retention_days": 7, "batch": 2}, now=clock.now())
    db.commit()
    runs = []
    worker = make_worker()
    while handled := worker.run_once():
        runs.append(handled)

    assert runs == [1, 1, 1]  # 2 + 2 + 1 jobs: the third batch is not full and ends the chain
    prunes = db.scalars(select(Job).where(Job.kind == PRUNE_JOB).order_by(Job.id)).all()
    assert [job.state for job in prunes] == [JobState.SUCCEEDED] * 3
    assert not set(old) & set(states(db))


def test_a_batch_deletes_the_oldest_first_and_says_how_many(db, clock, make_worker):
    first = succeeded_job(db, clock, make_worker)
    clock.advance(hours=1)
    second = succeeded_job(db, clock, make_worker)
    clock.advance(hours=1)
    third = succeeded_job(db, clock, make_worker)

    deleted = prune_succeeded(db, finished_before=clock.now() + timedelta(days=1), limit=2)

    assert deleted == 2
    assert list(states(db)) == [third]  # first and second, the two oldest, are gone
    assert {first, second}.isdisjoint(states(db))


def test_a_job_finished_exactly_at_the_cutoff_is_kept(db, clock, make_worker):
    job = succeeded_job(db, clock, make_worker)

    assert prune_succeeded(db, finished_before=clock.now()) == 0
    assert list(states(db)) == [job]


def test_a_failed_job_waiting_for_its_retry_is_not_pruned(db, clock, make_worker):
    def webhook_down(session, payload, context) -> None:
        raise ConnectionError("hooks.example.com refused")

    job = queue.enqueue(db, kind="notify.webhook", payload={}, now=clock.now())
    db.commit()
    make_worker({"notify.webhook": webhook_down}, rng=random.Random(1)).run_once()
    clock.advance(days=30)

    assert prune_succeeded(db, finished_before=clock.now()) == 0
    assert states(db) == {job.id: JobState.PENDING}
