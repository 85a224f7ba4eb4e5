"""A worker process killed while it holds jobs: the other worker runs them once their leases run
out, and every job takes effect exactly once. Real processes, real time, real SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from fireline.db import make_engine, make_session_factory, transaction
from fireline.jobs import queue
from fireline.models import Job, JobState

from .crash_worker import ALONE, QUICK

pytestmark = pytest.mark.skipif(
    not os.environ.get("FIRELINE_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL only: worker processes share the queue through row locks; SQLite's one "
    "writer would serialise them, and a killed writer leaves nothing to take over",
)

JOBS = 200
WORKER = Path(__file__).with_name("crash_worker.py")


@pytest.fixture
def factory(fresh_database) -> Iterator[tuple[str, sessionmaker[Session]]]:
    url = fresh_database().url
    engine = make_engine(url, pool_size=2)
    yield url, make_session_factory(engine)
    engine.dispose()


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def count(factory: sessionmaker[Session], sql: str) -> int:
    with transaction(factory) as session:
        return int(session.scalar(text(sql)) or 0)


def test_jobs_held_by_a_killed_worker_are_run_by_the_other_and_take_effect_once(factory, tmp_path):
    url, sessions = factory
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        session.execute(text("CREATE TABLE crash_runs (key text, worker_id text, attempt int)"))
        session.execute(text("CREATE TABLE crash_effects (key text PRIMARY KEY, effects int)"))
        for n in range(JOBS):
            kind = QUICK if n % 2 else ALONE
            queue.enqueue(session, kind=kind, payload={"key": f"job-{n}"}, now=now)

    workers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in ("victim", "survivor"):
            with (tmp_path / f"{name}.log").open("wb") as log:
                workers[name] = subprocess.Popen(  # noqa: S603 - our own worker script
                    [sys.executable, str(WORKER), url, name], stdout=log, stderr=log
                )

        def victim_is_busy() -> bool:
            held = "SELECT count(*) FROM jobs WHERE state = 'running' AND locked_by = 'victim'"
            ran = "SELECT count(*) FROM crash_runs WHERE worker_id = 'victim'"
            return count(sessions, held) >= 2 and count(sessions, ran) >= 10

        assert wait_until(victim_is_busy, timeout=20), (tmp_path / "victim.log").read_text()
        workers["victim"].send_signal(signal.SIGKILL)
        workers["victim"].wait(timeout=10)
        with transaction(sessions) as session:
            held = session.scalars(
                select(Job).where(Job.state == JobState.RUNNING, Job.locked_by == "victim")
            ).all()
            held_keys = {job.payload["key"]: job.id for job in held}
        assert held_keys, "the victim died holding no job: the test proved nothing"

        def all_succeeded() -> bool:
            return count(sessions, "SELECT count(*) FROM jobs WHERE state = 'succeeded'") == JOBS

        assert wait_until(all_succeeded, timeout=30), (tmp_path / "survivor.log").read_text()
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)

    with transaction(sessions) as session:
        effects = dict(session.execute(text("SELECT key, effects FROM crash_effects")).all())
        runs = session.execute(text("SELECT key, worker_id FROM crash_runs")).all()
        retaken = session.scalars(select(Job).where(Job.id.in_(held_keys.values()))).all()
    # None lost, none doubled: every job's effect is there, once.
    assert effects == {f"job-{n}": 1 for n in range(JOBS)}
    # The dead worker's jobs ran again, on the survivor, as a new attempt.
    survivor_ran = {key for key, worker_id in runs if worker_id == "survivor"}
    assert set(held_keys) <= survivor_ran
    assert all(job.attempts >= 2 for job in retaken)
    # Runs the victim started but never committed show in the log; nothing else ran twice.
    ran_twice = {key for key in effects if sum(1 for run, _ in runs if run == key) > 1}
    assert ran_twice <= set(held_keys)
