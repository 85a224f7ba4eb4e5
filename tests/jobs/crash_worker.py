"""A worker process for test_crash.py: `python crash_worker.py DATABASE_URL WORKER_ID`.

Runs the test's jobs with a two-second lease until SIGTERM, or until the test kills it. Each run
is logged in `crash_runs` at once, outside the job's transaction, so a run that dies uncommitted
still shows; its effect goes into `crash_effects` in the job's transaction, counted per key
(INSERT … ON CONFLICT), so an effect committed twice would show as 2."""

from __future__ import annotations

import signal
import sys
import threading
import time
from datetime import timedelta
from types import FrameType
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from fireline.clock import SystemClock
from fireline.db import make_engine, make_session_factory
from fireline.jobs.handlers import JobContext
from fireline.jobs.worker import Worker
from fireline.observability import configure_logging

QUICK, ALONE = "crash.quick", "crash.alone"  # one kind shares commits, the other commits alone
LEASE = timedelta(seconds=2)
WORK_SECONDS = 0.03


def main(url: str, worker_id: str) -> None:
    configure_logging("warning")
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    run_log = psycopg.connect(plain, autocommit=True)
    engine = make_engine(url, pool_size=2)

    def effect(session: Session, payload: dict[str, Any], context: JobContext) -> None:
        run_log.execute(
            "INSERT INTO crash_runs (key, worker_id, attempt) VALUES (%s, %s, %s)",
            (payload["key"], worker_id, context.attempt),
        )
        time.sleep(WORK_SECONDS)
        session.execute(
            text(
                "INSERT INTO crash_effects (key, effects) VALUES (:key, 1) "
                "ON CONFLICT (key) DO UPDATE SET effects = crash_effects.effects + 1"
            ),
            {"key": payload["key"]},
        )

    worker = Worker(
        make_session_factory(engine),
        clock=SystemClock(),
        handlers={QUICK: effect, ALONE: effect},
        worker_id=worker_id,
        lease=LEASE,
        batch=5,
        quick={QUICK},
    )
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    try:
        worker.run_forever(stop, poll_interval=0.2)
    finally:
        engine.dispose()
        run_log.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
