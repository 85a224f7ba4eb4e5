"""Timer lateness and job throughput of two worker processes on PostgreSQL.

Starts two worker processes (what `fireline worker` runs: the shipped handlers, plus a timer kind
that records when it ran) against a throw-away PostgreSQL database, then:

1. timers: enqueues 10,000 timers due evenly over the next 60 seconds and reports how late each
   one started (start - run_at): p50, p99 and max;
2. throughput: enqueues 20,000 no-op jobs (`fireline.ping`) due now, in one transaction, and
   reports jobs/s from that commit until the last one succeeded.

Targets (issue "Response engine"): p99 lateness < 1 s, and >= 2,000 simple jobs/s.

The workers share the machine's cores with PostgreSQL and with this script, which only polls; the
figures are therefore a floor for workers on machines of their own.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from fireline import migrate
from fireline.clock import SystemClock
from fireline.config import Settings, normalise_database_url
from fireline.db import make_engine, make_session_factory, transaction
from fireline.jobs.handlers import PING, JobContext, default_handlers, quick_kinds
from fireline.jobs.periodic import upkeep
from fireline.jobs.worker import Worker
from fireline.models import Job, JobState
from fireline.observability import configure_logging

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TIMER = "bench.timer"
# What the timer handler records: one row per job that ran, written in the job's transaction.
RUNS_TABLE = """
CREATE TABLE bench_timer_runs (
    job_id integer PRIMARY KEY,
    started_at timestamptz NOT NULL,
    worker_id text NOT NULL
)
"""


def make_database() -> tuple[str, str]:
    name = f"fireline_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = normalise_database_url(ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    migrate.upgrade(url)
    return name, url


def plain(url: str) -> str:
    """The URL as psycopg takes it, without SQLAlchemy's driver name."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_worker(url: str) -> None:
    """A worker process, as `fireline worker` builds it, plus the bench's timer kind."""
    configure_logging("warning")
    engine = make_engine(url, pool_size=2)
    worker_id = f"{socket.gethostname()}:{os.getpid()}"

    def timer(
        session: Session,
        payload: dict[str, Any],  # noqa: ARG001 - every handler takes one
        context: JobContext,
    ) -> None:
        session.execute(
            text(
                "INSERT INTO bench_timer_runs (job_id, started_at, worker_id) "
                "VALUES (:job_id, :started_at, :worker_id) ON CONFLICT DO NOTHING"
            ),
            {"job_id": context.job_id, "started_at": context.now, "worker_id": worker_id},
        )

    settings = Settings(database_url=url)
    worker = Worker(
        make_session_factory(engine),
        clock=SystemClock(),
        handlers={**default_handlers(settings), TIMER: timer},
        worker_id=worker_id,
        # Like a clock timer: quick database work that may share a commit with others.
        quick=quick_kinds() | {TIMER},
        periodic=upkeep(settings),
    )
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    try:
        worker.run_forever(stop)
    finally:
        engine.dispose()


def bulk_enqueue(url: str, kind: str, run_ats: list[datetime]) -> datetime:
    """Adds one job of `kind` per run_at in one transaction; returns the instant it committed."""
    engine = make_engine(url, pool_size=1)
    now = datetime.now(UTC)
    rows = [
        {
            "kind": kind,
            "payload": {},
            "state": JobState.PENDING.value,
            "run_at": run_at,
            "attempts": 0,
            "max_attempts": 8,
            "created_at": now,
            "updated_at": now,
        }
        for run_at in run_ats
    ]
    try:
        with transaction(make_session_factory(engine)) as session:
            session.execute(insert(Job), rows)
            session.execute(text("NOTIFY fireline_jobs"))
        return datetime.now(UTC)
    finally:
        engine.dispose()


def unfinished(connection: psycopg.Connection[Any], kind: str) -> int:
    row = connection.execute(
        "SELECT count(*) FROM jobs WHERE kind = %s AND state <> 'succeeded'", (kind,)
    ).fetchone()
    return int(row[0]) if row else 0


def wait_for(connection: psycopg.Connection[Any], kind: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if unfinished(connection, kind) == 0:
            return True
        time.sleep(0.1)
    return unfinished(connection, kind) == 0


def wait_for_workers(connection: psycopg.Connection[Any], count: int) -> None:
    """Returns once `count` workers listen for jobs: they do before they first look for any."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        ).fetchone()
        if row and row[0] >= count:
            return
        time.sleep(0.1)
    sys.exit("the workers did not start within 60 s")


def timers_phase(url: str, connection: psycopg.Connection[Any], count: int, spread: float) -> None:
    start = datetime.now(UTC) + timedelta(seconds=2)
    step = spread / count
    bulk_enqueue(url, TIMER, [start + timedelta(seconds=i * step) for i in range(count)])
    if not wait_for(connection, TIMER, spread + 60):
        print(f"  timers: {unfinished(connection, TIMER)} still not run a minute after the last")
    # Late: from run_at to the handler's start. Done: to the commit of its work (finished_at),
    # which a quick job may share with others for up to the worker's commit window.
    ran, workers, late, done = fetch(
        connection,
        """
        SELECT count(*), count(DISTINCT r.worker_id),
               percentile_cont(ARRAY[0.5, 0.99, 1]) WITHIN GROUP (
                   ORDER BY extract(epoch FROM r.started_at - j.run_at)),
               percentile_cont(ARRAY[0.5, 0.99, 1]) WITHIN GROUP (
                   ORDER BY extract(epoch FROM j.finished_at - j.run_at))
        FROM bench_timer_runs r JOIN jobs j ON j.id = r.job_id
        """,
    )
    print(f"timers      {ran:>6} due over {spread:.0f} s, run by {workers} workers")
    for name, (p50, p99, worst) in (("late", late), ("done", done)):
        print(
            f"  {name} after run_at   p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   "
            f"max {worst * 1000:7.1f} ms"
        )


def throughput_phase(url: str, connection: psycopg.Connection[Any], count: int) -> None:
    committed = bulk_enqueue(url, PING, [datetime.now(UTC)] * count)
    if not wait_for(connection, PING, 300):
        print(f"  throughput: {unfinished(connection, PING)} pings unfinished after 5 minutes")
    done, last = fetch(
        connection,
        "SELECT count(*), max(finished_at) FROM jobs WHERE kind = %s AND state = 'succeeded'",
        (PING,),
    )
    seconds = (last - committed).total_seconds()
    print(f"throughput  {done:>6} no-op jobs in {seconds:6.2f} s   {done / seconds:8.0f} jobs/s")


def fetch(
    connection: psycopg.Connection[Any], query: str, params: tuple[Any, ...] = ()
) -> tuple[Any, ...]:
    row = connection.execute(query, params).fetchone()
    if row is None:
        sys.exit(f"no result from {query!r}")
    return tuple(row)


def start_workers(url: str, count: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return [
        subprocess.Popen([sys.executable, __file__, "--worker", url], env=env, cwd=ROOT)
        for _ in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds the timers span")
    parser.add_argument("--jobs", type=int, default=20_000)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker)
        return

    name, url = make_database()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with psycopg.connect(plain(url), autocommit=True) as connection:
            connection.execute(RUNS_TABLE)
            workers = start_workers(url, args.workers)
            print(
                f"bench/timers.py: PostgreSQL, {args.workers} worker processes, "
                f"{os.cpu_count()} cores shared with PostgreSQL "
                f"(load average {os.getloadavg()[0]:.1f} at the start)"
            )
            wait_for_workers(connection, args.workers)
            timers_phase(url, connection, args.timers, args.spread)
            throughput_phase(url, connection, args.jobs)
        print(f"(load average {os.getloadavg()[0]:.1f} at the end)")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        drop_database(name)


if __name__ == "__main__":
    main()
