"""Workers in separate transactions on a committed database, as separate processes would be:
they share jobs without running one twice, wake on NOTIFY, and stop when asked."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from fireline.accounts.principal import Actor
from fireline.app import create_app
from fireline.audit.service import record
from fireline.clock import FakeClock
from fireline.config import Settings
from fireline.db import make_engine, make_session_factory, transaction
from fireline.jobs import queue
from fireline.jobs.handlers import default_handlers
from fireline.jobs.worker import Worker
from fireline.models import AuditRecord, Job, JobState

# The conftest runs the suite on PostgreSQL when this names one, on SQLite otherwise.
ON_POSTGRES = os.environ.get("FIRELINE_TEST_DATABASE_URL", "").startswith("postgres")
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="PostgreSQL only: NOTIFY and row-level waits; SQLite lets one writer in at a time, "
    "so a second worker or request waits at BEGIN and these races cannot happen",
)
TIMEOUT = 15.0  # generous: only a broken worker takes anywhere near this long


@pytest.fixture
def database_url(fresh_database) -> str:
    """A database of its own: these tests commit for real."""
    return fresh_database().url


@pytest.fixture
def factory(database_url) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url, pool_size=6)
    yield make_session_factory(engine)
    engine.dispose()


def state_of(factory: sessionmaker[Session], job_id: int) -> str:
    with transaction(factory) as session:
        return session.get_one(Job, job_id).state


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    """Polls `condition` until it holds or `timeout` passes; says whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_two_workers_share_fifty_jobs_and_each_runs_exactly_once(factory):
    clock = FakeClock()
    with transaction(factory) as session:
        ids = [
            queue.enqueue(session, kind="page", payload={"n": n}, now=clock.now()).id
            for n in range(50)
        ]
    ran: dict[str, list[int]] = {"worker-a": [], "worker-b": []}

    def make(name: str) -> Worker:
        def page(session, payload, context) -> None:
            ran[name].append(context.job_id)
            # Some database work per job, as a real handler does, so the workers overlap.
            session.execute(select(Job.id).where(Job.id == context.job_id)).one()

        return Worker(factory, clock=clock, handlers={"page": page}, worker_id=name, batch=3)

    workers = [make(name) for name in ran]
    barrier = threading.Barrier(len(workers))

    def drain(worker: Worker) -> None:
        barrier.wait()
        while worker.run_once():
            pass

    threads = [threading.Thread(target=drain, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert set(ran["worker-a"]).isdisjoint(ran["worker-b"])
    assert sorted(ran["worker-a"] + ran["worker-b"]) == ids  # every job ran, none twice
    if ON_POSTGRES:
        # SKIP LOCKED lets both claim at the same moment (on SQLite they take turns, and one
        # may drain the queue before the other gets the write lock).
        assert ran["worker-a"]
        assert ran["worker-b"]
    with transaction(factory) as session:
        jobs = session.scalars(select(Job)).all()
        assert {(job.state, job.attempts) for job in jobs} == {(JobState.SUCCEEDED, 1)}


@postgres_only
def test_a_notify_wakes_an_idle_worker_long_before_its_poll_interval(factory):
    clock = FakeClock()
    worker = Worker(factory, clock=clock, handlers=default_handlers(), worker_id="listener")
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,), kwargs={"poll_interval": 60})
    with transaction(factory) as session:
        first = queue.enqueue(session, kind="fireline.ping", payload={}, now=clock.now()).id
    thread.start()
    try:
        # The first job is found by the look at start-up; after it the worker sleeps 60 s…
        assert wait_until(lambda: state_of(factory, first) == JobState.SUCCEEDED)
        with transaction(factory) as session:
            second = queue.enqueue(session, kind="fireline.ping", payload={}, now=clock.now()).id
        # … unless the commit's NOTIFY wakes it.
        assert wait_until(lambda: state_of(factory, second) == JobState.SUCCEEDED)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


@postgres_only
def test_a_job_due_within_a_minute_wakes_idle_workers_and_a_timer_for_later_does_not(
    factory, database_url
):
    clock = FakeClock()
    conninfo = make_url(database_url).set(drivername="postgresql")
    listener = psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True)
    listener.execute(f"LISTEN {queue.CHANNEL}")

    def woken() -> int:
        return len(list(listener.notifies(timeout=1, stop_after=1)))

    try:
        with transaction(factory) as session:
            later = clock.now() + timedelta(minutes=10)
            queue.enqueue(session, kind="remind", payload={}, now=clock.now(), run_at=later)
        assert woken() == 0  # found by the workers' polls, well before 10 minutes pass
        with transaction(factory) as session:
            soon = clock.now() + timedelta(seconds=3)
            queue.enqueue(session, kind="remind", payload={}, now=clock.now(), run_at=soon)
        assert woken() == 1  # sooner than a poll interval: they must wait for it, not poll
    finally:
        listener.close()


@postgres_only
def test_two_requests_setting_the_same_timer_at_once_make_one_job(factory, database_url):
    clock = FakeClock()
    key = "incident:9:exec-notice"
    found: list[int] = []

    def second_request() -> None:
        with transaction(factory) as session:
            found.append(
                queue.enqueue(
                    session, kind="remind", payload={}, now=clock.now(), dedupe_key=key
                ).id
            )

    def waiting_on_a_lock() -> bool:
        with transaction(factory) as session:
            query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            return session.scalar(text(query + "AND wait_event_type = 'Lock'")) == 1

    with transaction(factory) as first:
        queue.enqueue(first, kind="remind", payload={}, now=clock.now(), dedupe_key=key)
        racer = threading.Thread(target=second_request)
        racer.start()
        # The second request found no job (the first is not committed) and inserted its own,
        # which waits on the unique index for the first transaction to end.
        assert wait_until(waiting_on_a_lock)
    racer.join(timeout=TIMEOUT)

    with transaction(factory) as session:
        jobs = session.scalars(select(Job)).all()
    assert [job.id for job in jobs] == found


@postgres_only
def test_a_worker_that_lost_its_lease_mid_job_rolls_its_work_back(factory):
    clock = FakeClock()
    with transaction(factory) as session:
        job_id = queue.enqueue(session, kind="slow", payload={}, now=clock.now()).id
    taker = Worker(factory, clock=clock, handlers={}, worker_id="worker-2")

    def slow(session, payload, context) -> None:
        record(
            session,
            actor=Actor.system("worker"),
            action="slow.effect",
            entity_type="job",
            entity_id=context.job_id,
            at=context.now,
        )
        # It runs past its lease; another worker presumes it dead and takes the job over.
        clock.advance(minutes=6)
        with transaction(factory) as other:
            queue.claim(
                other,
                worker_id=taker.worker_id,
                now=clock.now(),
                lease=timedelta(minutes=5),
                limit=1,
            )

    Worker(factory, clock=clock, handlers={"slow": slow}, worker_id="worker-1").run_once()

    with transaction(factory) as session:
        effects = session.scalars(select(AuditRecord).where(AuditRecord.action == "slow.effect"))
        assert effects.all() == []
        job = session.get_one(Job, job_id)
        assert (job.state, job.locked_by, job.attempts) == (JobState.RUNNING, "worker-2", 2)


@pytest.mark.parametrize(
    ("window", "first_seen_as"),
    [(timedelta(hours=1), JobState.RUNNING), (timedelta(0), JobState.SUCCEEDED)],
    ids=["shared-commit", "commit-each"],
)
def test_quick_jobs_within_the_commit_window_share_one_commit(
    database_url, factory, window, first_seen_as
):
    clock = FakeClock()
    with transaction(factory) as session:
        first, second = (
            queue.enqueue(session, kind="page", payload={"n": n}, now=clock.now()).id
            for n in (1, 2)
        )
    # Reads what is committed, from outside the worker's transaction (and without SQLite's
    # BEGIN IMMEDIATE, which would wait for that transaction to end).
    outside = create_engine(database_url, isolation_level="AUTOCOMMIT")
    seen: list[str] = []

    def page(session, payload, context) -> None:
        if payload["n"] == 2:
            with outside.connect() as connection:
                seen.append(connection.scalar(select(Job.state).where(Job.id == first)))

    try:
        worker = Worker(
            factory,
            clock=clock,
            handlers={"page": page},
            worker_id="w",
            quick={"page"},
            commit_window=window,
        )
        assert worker.run_once() == 2
    finally:
        outside.dispose()

    assert seen == [first_seen_as]
    assert (state_of(factory, first), state_of(factory, second)) == (
        JobState.SUCCEEDED,
        JobState.SUCCEEDED,
    )


@postgres_only
def test_while_a_quick_job_runs_no_other_worker_can_take_it_over(factory):
    clock = FakeClock()
    with transaction(factory) as session:
        job_id = queue.enqueue(session, kind="page", payload={}, now=clock.now()).id
    taken: list[Job] = []

    def stalls_past_its_lease(session, payload, context) -> None:
        clock.advance(minutes=6)
        with transaction(factory) as other:
            taken.extend(
                queue.claim(
                    other,
                    worker_id="worker-2",
                    now=clock.now(),
                    lease=timedelta(minutes=5),
                    limit=1,
                )
            )

    Worker(
        factory,
        clock=clock,
        handlers={"page": stalls_past_its_lease},
        worker_id="worker-1",
        quick={"page"},
    ).run_once()

    assert taken == []  # the row is locked by the running group: claims skip it
    with transaction(factory) as session:
        job = session.get_one(Job, job_id)
        assert (job.state, job.attempts) == (JobState.SUCCEEDED, 1)


def test_the_embedded_worker_runs_jobs_while_the_app_serves_and_stops_with_it(
    database_url, tmp_path
):
    settings = Settings(
        database_url=database_url,
        secret_key="test",
        data_dir=tmp_path,
        log_level="warning",
        embedded_worker=True,
    )
    engine = make_engine(database_url, pool_size=4)
    factory = make_session_factory(engine)
    clock = FakeClock()
    with transaction(factory) as session:
        job_id = queue.enqueue(session, kind="fireline.ping", payload={}, now=clock.now()).id
    app = create_app(settings, clock=clock, engine=engine)
    try:
        with TestClient(app) as client:
            embedded = app.state.job_worker
            assert embedded.is_alive
            assert client.get("/healthz").status_code == 200
            assert wait_until(lambda: state_of(factory, job_id) == JobState.SUCCEEDED)
        assert not embedded.is_alive
    finally:
        engine.dispose()


def test_the_test_app_runs_no_worker_of_its_own(client, app):
    assert app.state.job_worker is None
