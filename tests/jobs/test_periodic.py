"""Periodic upkeep: workers keep exactly one pending job of each periodic kind, on the fake clock.

The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select

from fireline.clock import FakeClock
from fireline.config import Settings
from fireline.db import make_engine, make_session_factory, transaction
from fireline.jobs.periodic import EPOCH, Periodic, ensure_periodic, next_run, upkeep
from fireline.jobs.prune import PRUNE_JOB
from fireline.jobs.worker import Worker
from fireline.models import Job, JobState
from fireline.response.reconcile import RECONCILE_JOB

EVERY_TEN_MINUTES = Periodic("upkeep.sweep", every=timedelta(minutes=10))
HOURLY = Periodic("upkeep.tidy", every=timedelta(hours=1), payload={"keep_days": 7})


def periodic_jobs(db) -> list[tuple[str, str, datetime]]:
    query = select(Job).where(Job.dedupe_key.like("periodic:%")).order_by(Job.kind, Job.run_at)
    jobs = db.scalars(query.execution_options(populate_existing=True))
    return [(job.kind, job.state, job.run_at) for job in jobs]


def at(hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2026, 1, 5, hours, minutes, tzinfo=UTC)


@pytest.mark.parametrize(
    ("every", "now", "expected"),
    [
        (timedelta(minutes=10), at("10:03"), at("10:10")),
        (timedelta(minutes=10), at("10:10"), at("10:20")),  # strictly after: not twice at 10:10
        (timedelta(minutes=10), at("10:09") + timedelta(seconds=59), at("10:10")),
        (timedelta(hours=1), at("10:00"), at("11:00")),
    ],
)
def test_runs_fall_on_multiples_of_the_interval(every, now, expected):
    assert next_run(every, now) == expected


@given(
    every=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=2)),
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_the_next_run_is_the_first_multiple_of_the_interval_after_now(every, now):
    run = next_run(every, now)

    assert now < run <= now + every
    assert (run - EPOCH) % every == timedelta(0)


def test_an_interval_must_be_positive():
    with pytest.raises(ValueError, match="positive interval"):
        next_run(timedelta(0), at("10:00"))


def test_a_worker_starting_at_10_03_schedules_the_sweep_for_10_10_and_the_tidy_for_11_00(
    db, clock, make_worker
):
    clock.set(at("10:03"))
    worker = make_worker(periodic=[EVERY_TEN_MINUTES, HOURLY])

    assert worker.ensure_periodic()

    assert periodic_jobs(db) == [
        ("upkeep.sweep", JobState.PENDING, at("10:10")),
        ("upkeep.tidy", JobState.PENDING, at("11:00")),
    ]
    [tidy] = db.scalars(select(Job).where(Job.kind == "upkeep.tidy"))
    assert tidy.payload == {"keep_days": 7}


def test_the_sweep_runs_at_10_10_and_the_next_is_scheduled_for_10_20(db, clock, make_worker):
    sweeps: list[datetime] = []
    worker = make_worker(
        {"upkeep.sweep": lambda _s, _p, context: sweeps.append(context.now)},
        periodic=[EVERY_TEN_MINUTES],
    )
    worker.ensure_periodic()

    clock.set(at("10:10"))
    assert worker.run_once() == 1
    assert worker.ensure_periodic()

    assert sweeps == [at("10:10")]
    assert periodic_jobs(db) == [
        ("upkeep.sweep", JobState.SUCCEEDED, at("10:10")),
        ("upkeep.sweep", JobState.PENDING, at("10:20")),
    ]


def test_a_worker_looks_at_most_once_a_minute(db, clock, make_worker):
    worker = make_worker(periodic=[EVERY_TEN_MINUTES])
    assert worker.ensure_periodic()
    db.execute(delete(Job))  # the pending sweep vanishes
    db.commit()

    clock.advance(seconds=59)
    assert not worker.ensure_periodic()
    assert periodic_jobs(db) == []
    clock.advance(seconds=1)
    assert worker.ensure_periodic()
    assert periodic_jobs(db) == [("upkeep.sweep", JobState.PENDING, at("10:10"))]


def test_a_worker_without_a_schedule_schedules_nothing(db, make_worker):
    assert not make_worker().ensure_periodic()
    assert periodic_jobs(db) == []


def test_two_workers_ensuring_the_schedule_set_each_job_once(db, clock, make_worker):
    workers = [
        make_worker(periodic=[EVERY_TEN_MINUTES, HOURLY], worker_id=name) for name in ("a", "b")
    ]

    for worker in workers:
        assert worker.ensure_periodic()
    clock.advance(minutes=5)
    for worker in workers:
        assert worker.ensure_periodic()

    assert periodic_jobs(db) == [
        ("upkeep.sweep", JobState.PENDING, at("10:10")),
        ("upkeep.tidy", JobState.PENDING, at("11:00")),
    ]


def test_workers_racing_to_ensure_the_schedule_on_a_committed_database_set_each_job_once(
    fresh_database,
):
    """Each worker in its own transaction at the same moment: on PostgreSQL the unique index on
    active dedupe keys settles the race; on SQLite the write lock serialises it."""
    engine = make_engine(fresh_database().url, pool_size=8)
    factory = make_session_factory(engine)
    clock = FakeClock()
    barrier = threading.Barrier(4)

    def ensure() -> None:
        barrier.wait()
        with transaction(factory) as session:
            ensure_periodic(session, schedule=[EVERY_TEN_MINUTES, HOURLY], now=clock.now())

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            for worker in [pool.submit(ensure) for _ in range(4)]:
                worker.result(timeout=30)  # re-raises what went wrong in the thread
        with transaction(factory) as session:
            scheduled = periodic_jobs(session)
    finally:
        engine.dispose()

    assert scheduled == [
        ("upkeep.sweep", JobState.PENDING, at("10:10")),
        ("upkeep.tidy", JobState.PENDING, at("11:00")),
    ]


def test_fireline_reconciles_every_ten_minutes_and_prunes_hourly_by_default():
    schedule = upkeep(Settings(_env_file=None))

    assert [(p.kind, p.every, p.payload) for p in schedule] == [
        (RECONCILE_JOB, timedelta(minutes=10), {}),
        (PRUNE_JOB, timedelta(hours=1), {"retention_days": 7}),
    ]


def test_the_upkeep_intervals_and_retention_come_from_the_settings():
    settings = Settings(
        _env_file=None, job_reconcile_minutes=5, job_prune_minutes=30, job_retention_days=30
    )

    assert [(p.every, p.payload) for p in upkeep(settings)] == [
        (timedelta(minutes=5), {}),
        (timedelta(minutes=30), {"retention_days": 30}),
    ]


def test_run_forever_schedules_the_periodic_jobs_when_it_starts(db, session_factory, clock):
    stop = threading.Event()

    class StopsAtOnce(Worker):
        def run_once(self) -> int:
            stop.set()
            return 0

    worker = StopsAtOnce(
        session_factory, clock=clock, handlers={}, worker_id="w", periodic=[HOURLY]
    )

    worker.run_forever(stop, poll_interval=0.01)

    assert periodic_jobs(db) == [("upkeep.tidy", JobState.PENDING, at("11:00"))]
