"""The worker loop: claim due jobs, run each in its own transaction, record what happened."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from datetime import timedelta

import structlog
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from fireline.clock import Clock
from fireline.db import transaction
from fireline.jobs import wakeup
from fireline.jobs.handlers import Handler, JobContext, RetryLater
from fireline.jobs.queue import DEFAULT_LEASE, ClaimLost, claim, complete, fail
from fireline.models import Job

log = structlog.get_logger()


class Worker:
    """Runs jobs from the database with the given handlers, one transaction per job.

    Any number of workers, in any number of processes, may share a database: each claims jobs
    under its own `worker_id`, leased for `lease`; a job whose worker dies is taken up again by
    another once the lease has passed."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        clock: Clock,
        handlers: Mapping[str, Handler],
        worker_id: str,
        lease: timedelta = DEFAULT_LEASE,
        batch: int = 10,
        rng: random.Random | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.handlers = dict(handlers)
        self.worker_id = worker_id
        self.lease = lease
        self.batch = batch
        # Only spreads retries out in time; nothing secret depends on it.
        self.rng = rng or random.Random()  # noqa: S311

    def run_once(self) -> int:
        """Claim up to `batch` due jobs and run them; returns how many were claimed."""
        with transaction(self.session_factory) as session:
            claimed = claim(
                session,
                worker_id=self.worker_id,
                now=self.clock.now(),
                lease=self.lease,
                limit=self.batch,
            )
        for job in claimed:
            try:
                self._run(job)
            except Exception:
                # One job's trouble must not strand the rest of the batch. Most likely the
                # database went away while recording the outcome: the job stays claimed until
                # its lease expires, then runs again.
                log.exception("job_outcome_not_recorded", job_id=job.id, kind=job.kind)
        return len(claimed)

    def _run(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            known = ", ".join(sorted(self.handlers)) or "none"
            # Retried like any failure: during a rolling upgrade a newer worker may know the kind.
            self._record_failure(job, f"No handler for job kind {job.kind!r} (known: {known}).")
            return
        try:
            with transaction(self.session_factory) as session:
                context = JobContext(
                    now=self.clock.now(),
                    job_id=job.id,
                    attempt=job.attempts,
                    max_attempts=job.max_attempts,
                )
                try:
                    handler(session, dict(job.payload), context)
                except RetryLater as retry:
                    # Keep what the handler recorded, and fail the attempt in the same commit.
                    state = fail(session, job, error=str(retry), now=self.clock.now(), rng=self.rng)
                    if state is None:
                        raise ClaimLost(f"job {job.id} is no longer held") from retry
                    log.info("job_failed", job_id=job.id, kind=job.kind, state=state.value)
                    return
                # In the handler's transaction: its changes and the job's completion land together.
                complete(session, job, now=self.clock.now())
        except ClaimLost:
            log.warning("job_lease_lost", job_id=job.id, kind=job.kind, worker_id=self.worker_id)
            return
        except Exception as error:  # a handler may raise anything: that is a failed attempt
            log.warning(
                "job_attempt_failed",
                job_id=job.id,
                kind=job.kind,
                attempt=job.attempts,
                exc_info=True,
            )
            self._record_failure(job, f"{type(error).__name__}: {error}")
            return
        log.info("job_succeeded", job_id=job.id, kind=job.kind, attempt=job.attempts)

    def _record_failure(self, job: Job, error: str) -> None:
        with transaction(self.session_factory) as session:
            state = fail(session, job, error=error, now=self.clock.now(), rng=self.rng)
        if state is None:
            log.warning("job_lease_lost", job_id=job.id, kind=job.kind, worker_id=self.worker_id)
        else:
            log.info("job_failed", job_id=job.id, kind=job.kind, state=state.value, error=error)

    def run_forever(self, stop: threading.Event, poll_interval: float = 5.0) -> None:
        """Run jobs until `stop` is set. When idle, wait for a NOTIFY (PostgreSQL) or the poll
        interval, whichever comes first. Database outages are logged and waited out."""
        waiter = wakeup.for_database(self._database_url())
        waiter.open()
        log.info("worker_started", worker_id=self.worker_id)
        try:
            while not stop.is_set():
                try:
                    handled = self.run_once()
                except Exception:  # keep going: the database may come back
                    log.exception("job_claim_failed", worker_id=self.worker_id)
                    handled = 0
                # A full batch means more may be due already: go straight on.
                if handled < self.batch:
                    waiter.wait(stop, poll_interval)
        finally:
            waiter.close()
            log.info("worker_stopped", worker_id=self.worker_id)

    def _database_url(self) -> URL:
        with self.session_factory() as session:  # opening a session does not connect
            return session.get_bind().engine.url


class WorkerThread:
    """A worker looping in a daemon thread: the embedded worker of a web process."""

    def __init__(self, worker: Worker, *, poll_interval: float = 5.0) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=worker.run_forever,
            args=(self._stop,),
            kwargs={"poll_interval": poll_interval},
            name=f"fireline-worker-{worker.worker_id}",
            daemon=True,
        )

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to stop and wait up to `timeout` for the job in hand to finish. A job
        cut short by process exit runs again once its lease expires."""
        self._stop.set()
        self._thread.join(timeout)
