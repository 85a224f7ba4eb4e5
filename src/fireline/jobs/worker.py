"""The worker loop: claim due jobs, run each in a savepoint of its own, record what happened.

Each job's handler work and its outcome (succeeded, or failed and when to retry) commit
together, and a job that fails rolls back only its own savepoint. Quick jobs (database work of a
few milliseconds, see handlers.quick_kinds) that follow each other in a batch share one commit,
for up to `commit_window`: one durable commit per job would cap a worker at what the disk can
sync. Every other job, and in particular one that calls out to another system, commits alone.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from fireline.clock import Clock, as_utc
from fireline.db import transaction
from fireline.jobs import wakeup
from fireline.jobs.handlers import Handler, JobContext, RetryLater, quick_kinds
from fireline.jobs.metrics import JobMetrics, Outcome
from fireline.jobs.periodic import Periodic, ensure_periodic
from fireline.jobs.queue import (
    DEFAULT_LEASE,
    ClaimLost,
    claim,
    complete,
    complete_many,
    fail,
    hold,
    next_due,
    release,
)
from fireline.models import Job, JobState

log = structlog.get_logger()

DEFAULT_BATCH = 100
# How long quick jobs may wait for the commit they share: short enough that their effects (and
# the row locks their handlers took) are held back only briefly.
DEFAULT_COMMIT_WINDOW = timedelta(milliseconds=100)
# How long a worker keeps claimed jobs it has not started while it runs slow ones (deliveries
# waiting on other systems), before handing them back for idle workers to take.
DEFAULT_RELEASE_AFTER = timedelta(seconds=5)
# How often a worker makes sure the periodic jobs are scheduled.
PERIODIC_CHECK = timedelta(minutes=1)
# The shortest idle wait: a job due already but not claimable is being claimed by another worker.
MIN_WAIT_SECONDS = 0.01


@dataclass(frozen=True)
class _Attempt:
    """One run of a job, reported once its transaction has committed."""

    job: Job
    outcome: Outcome | None  # None: not even a failure could be recorded
    started_at: datetime
    duration: float
    error: str | None = None


class Worker:
    """Runs jobs from the database with the given handlers.

    Any number of workers, in any number of processes, may share a database: each claims jobs
    under its own `worker_id`, leased for `lease`; a job whose worker dies is taken up again by
    another once the lease has passed.

    Jobs of the `quick` kinds (handlers.quick_kinds() unless given) share commits for up to
    `commit_window`; the others run alone, and those of a batch not started `release_after`
    after its claim go back to the queue. Workers given a `periodic` schedule keep one pending
    job of each periodic kind (see jobs.periodic); `metrics` records what they run."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        clock: Clock,
        handlers: Mapping[str, Handler],
        worker_id: str,
        lease: timedelta = DEFAULT_LEASE,
        batch: int = DEFAULT_BATCH,
        rng: random.Random | None = None,
        quick: Collection[str] | None = None,
        commit_window: timedelta = DEFAULT_COMMIT_WINDOW,
        release_after: timedelta = DEFAULT_RELEASE_AFTER,
        periodic: Sequence[Periodic] = (),
        metrics: JobMetrics | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.handlers = dict(handlers)
        self.worker_id = worker_id
        self.lease = lease
        self.batch = batch
        # Only spreads retries out in time; nothing secret depends on it.
        self.rng = rng or random.Random()  # noqa: S311
        self.quick = frozenset(quick_kinds() if quick is None else quick)
        self.commit_window = commit_window.total_seconds()
        self.release_after = release_after.total_seconds()
        self.periodic = list(periodic)
        self.metrics = metrics or JobMetrics()
        self._periodic_ensured_at: datetime | None = None

    def run_once(self) -> int:
        """Claim up to `batch` due jobs and run them; returns how many were claimed.

        Quick jobs run first, so that none waits behind a slow job of its batch; the others
        follow one by one, and those not started `release_after` after the claim go back to the
        queue for any worker to take."""
        with transaction(self.session_factory) as session:
            claimed = claim(
                session,
                worker_id=self.worker_id,
                now=self.clock.now(),
                lease=self.lease,
                limit=self.batch,
            )
        claimed_at = time.monotonic()
        quick = [job for job in claimed if job.kind in self.quick]
        while quick:
            quick = self._run_quick(quick)
        alone = [job for job in claimed if job.kind not in self.quick]
        for position, job in enumerate(alone):
            if position and time.monotonic() - claimed_at >= self.release_after:
                self._release(alone[position:])
                break
            self._run_alone(job)
        return len(claimed)

    def _run_quick(self, jobs: list[Job]) -> list[Job]:
        """Runs quick jobs from the front of `jobs` in one transaction until the commit window
        has passed, each in a savepoint of its own, and marks those that succeeded with one
        statement. Returns the jobs left."""
        attempts: list[_Attempt] = []
        with self._recorded(attempts) as session:
            held = hold(session, jobs)
            connection = session.connection()
            deadline = time.monotonic() + self.commit_window
            for job in jobs:
                if attempts and time.monotonic() >= deadline:
                    break
                if job.id in held:
                    attempts.append(self._attempt(connection, job, alone=False))
                else:
                    attempts.append(_Attempt(job, Outcome.LOST, self.clock.now(), 0.0))
            succeeded = [a.job for a in attempts if a.outcome is Outcome.SUCCEEDED]
            complete_many(session, succeeded, now=self.clock.now())
        # A transaction that could not even begin leaves the rest to their leases as well.
        return jobs[len(attempts) :] if attempts else []

    def _run_alone(self, job: Job) -> None:
        attempts: list[_Attempt] = []
        with self._recorded(attempts) as session:
            attempts.append(self._attempt(session.connection(), job, alone=True))

    @contextmanager
    def _recorded(self, attempts: list[_Attempt]) -> Iterator[Session]:
        """A transaction for attempts the block appends to `attempts`, each reported once it has
        committed. If it fails, nothing is reported or raised: most likely the database went
        away, and the jobs stay claimed until their leases expire, then run again."""
        try:
            with transaction(self.session_factory) as session:
                yield session
        except Exception:
            log.exception("job_outcomes_not_recorded", job_ids=[a.job.id for a in attempts])
            return
        for attempt in attempts:
            self._report(attempt)

    def _release(self, jobs: list[Job]) -> None:
        try:
            with transaction(self.session_factory) as session:
                released = release(session, jobs, now=self.clock.now())
        except Exception:  # they go back when their leases expire instead
            log.exception("jobs_not_released", job_ids=[job.id for job in jobs])
            return
        log.info("jobs_released", worker_id=self.worker_id, count=released)

    def _attempt(self, connection: Connection, job: Job, *, alone: bool) -> _Attempt:
        """Runs one job in a savepoint of the transaction on `connection`; `alone`, its success
        is recorded there too. An outcome of None means not even a failure could be recorded
        (one job's trouble must not strand the rest of the batch)."""
        try:
            return self._run(connection, job, alone=alone)
        except Exception:
            log.exception("job_outcome_not_recorded", job_id=job.id, kind=job.kind)
            return _Attempt(job, None, self.clock.now(), 0.0)

    def _run(self, connection: Connection, job: Job, *, alone: bool) -> _Attempt:
        started_at, started = self.clock.now(), time.monotonic()

        def ended(outcome: Outcome, error: str | None = None) -> _Attempt:
            return _Attempt(job, outcome, started_at, time.monotonic() - started, error)

        handler = self.handlers.get(job.kind)
        if handler is None:
            known = ", ".join(sorted(self.handlers)) or "none"
            # Retried like any failure: during a rolling upgrade a newer worker may know the kind.
            error = f"No handler for job kind {job.kind!r} (known: {known})."
            return ended(self._record_failure(connection, job, error), error)
        context = JobContext(
            now=started_at, job_id=job.id, attempt=job.attempts, max_attempts=job.max_attempts
        )
        try:
            with self._savepoint(connection) as session:
                try:
                    handler(session, dict(job.payload), context)
                except RetryLater as retry:
                    # Keep what the handler recorded, and fail the attempt in the same commit.
                    state = fail(session, job, error=str(retry), now=self.clock.now(), rng=self.rng)
                    if state is None:
                        raise ClaimLost(f"job {job.id} is no longer held") from retry
                    return ended(
                        Outcome.DEAD if state is JobState.DEAD else Outcome.RETRY, str(retry)
                    )
                if alone:
                    # In the handler's savepoint: its changes and the job's completion land
                    # together. (Quick jobs are completed together by _run_quick.)
                    complete(session, job, now=self.clock.now())
        except ClaimLost:
            return ended(Outcome.LOST)
        except Exception as error:  # a handler may raise anything: that is a failed attempt
            log.warning(
                "job_attempt_failed",
                job_id=job.id,
                kind=job.kind,
                attempt=job.attempts,
                exc_info=True,
            )
            message = f"{type(error).__name__}: {error}"
            return ended(self._record_failure(connection, job, message), message)
        return ended(Outcome.SUCCEEDED)

    def _record_failure(self, connection: Connection, job: Job, error: str) -> Outcome:
        with self._savepoint(connection) as session:
            state = fail(session, job, error=error, now=self.clock.now(), rng=self.rng)
        if state is None:
            return Outcome.LOST
        return Outcome.DEAD if state is JobState.DEAD else Outcome.FAILED

    @contextmanager
    def _savepoint(self, connection: Connection) -> Iterator[Session]:
        """A session of its own for one job, inside the group's transaction: committing it
        releases its savepoint, rolling it back undoes this job's work and no other's."""
        session = self.session_factory(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _report(self, attempt: _Attempt) -> None:
        job, outcome = attempt.job, attempt.outcome
        if outcome is None:
            return
        lateness = (attempt.started_at - as_utc(job.run_at)).total_seconds()
        self.metrics.ran(job.kind, outcome, duration=attempt.duration, lateness=lateness)
        if outcome is Outcome.SUCCEEDED:
            log.info("job_succeeded", job_id=job.id, kind=job.kind, attempt=job.attempts)
        elif outcome is Outcome.LOST:
            log.warning("job_lease_lost", job_id=job.id, kind=job.kind, worker_id=self.worker_id)
        else:
            log.info(
                "job_failed",
                job_id=job.id,
                kind=job.kind,
                outcome=outcome.value,
                error=attempt.error,
            )

    def ensure_periodic(self) -> bool:
        """Makes sure each periodic job of this worker's schedule is pending, unless this
        worker did so less than a minute ago; says whether it looked."""
        now = self.clock.now()
        ensured = self._periodic_ensured_at
        if not self.periodic or (ensured is not None and now < ensured + PERIODIC_CHECK):
            return False
        with transaction(self.session_factory) as session:
            ensure_periodic(session, schedule=self.periodic, now=now)
        self._periodic_ensured_at = now
        return True

    def idle_wait(self, poll_interval: float) -> float:
        """Seconds an idle worker waits before looking for jobs again: until the next job is due
        (a timer, a retry, a lease running out), and at most `poll_interval`."""
        with self.session_factory() as session:
            due = next_due(session)
        if due is None:
            return poll_interval
        until_due = (due - self.clock.now()).total_seconds()
        return min(poll_interval, max(MIN_WAIT_SECONDS, until_due))

    def run_forever(self, stop: threading.Event, poll_interval: float = 5.0) -> None:
        """Run jobs until `stop` is set. When idle, wait until the next job is due, for a NOTIFY
        (PostgreSQL) or the poll interval, whichever comes first. Database outages are logged
        and waited out."""
        waiter = wakeup.for_database(self._database_url())
        waiter.open()
        log.info("worker_started", worker_id=self.worker_id)
        try:
            while not stop.is_set():
                try:
                    self.ensure_periodic()
                except Exception:  # upkeep can wait for the next look; the jobs cannot
                    log.exception("periodic_jobs_not_ensured", worker_id=self.worker_id)
                try:
                    handled = self.run_once()
                    # A full batch means more may be due already: go straight on.
                    wait = self.idle_wait(poll_interval) if handled < self.batch else None
                except Exception:  # keep going: the database may come back
                    log.exception("job_claim_failed", worker_id=self.worker_id)
                    wait = poll_interval
                if wait is not None:
                    waiter.wait(stop, wait)
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
