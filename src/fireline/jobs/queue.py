"""The job queue: enqueue in the caller's transaction, claim, and record each attempt's outcome.

Workers coordinate only through the database. On PostgreSQL, `claim` locks rows with
FOR UPDATE SKIP LOCKED so concurrent workers never take the same job, and `enqueue` sends
NOTIFY so idle workers wake at once (to run a job due now, or to shorten their wait for one due
soon). On SQLite, fireline.db begins every transaction with BEGIN IMMEDIATE, which serialises
claims behind the single write lock."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.clock import as_utc
from fireline.errors import JobNotRetryable, NotFound
from fireline.jobs.backoff import backoff
from fireline.models import Job, JobState

CHANNEL = "fireline_jobs"
ACTIVE_STATES = (JobState.PENDING.value, JobState.RUNNING.value)
MAX_ERROR_LENGTH = 4000
# Longer than any job should take: a worker that holds a job past its lease is presumed dead.
DEFAULT_LEASE = timedelta(minutes=5)
# Enqueueing a job due within this long wakes idle workers (NOTIFY): to run it, or to shorten
# their wait for it. Workers find jobs due later on their own, since an idle worker looks again
# at least every poll interval; and NOTIFY is not free (PostgreSQL serialises the commits of
# notifying transactions), so the many timers set minutes ahead do not send it.
NOTIFY_AHEAD = timedelta(minutes=1)


def enqueue(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 8,
) -> Job:
    """A job that runs at `run_at` (now by default), added in the caller's transaction so it
    exists only if that transaction commits.

    With a `dedupe_key` that a pending or running job already holds, that job is returned
    instead and nothing is added: a timer is set once however many times it is asked for."""
    if dedupe_key is not None:
        existing = _active_with_key(session, dedupe_key)
        if existing is not None:
            return existing
    job = Job(
        kind=kind,
        payload=payload,
        state=JobState.PENDING.value,
        run_at=run_at or now,
        attempts=0,
        max_attempts=max_attempts,
        dedupe_key=dedupe_key,
        created_at=now,
        updated_at=now,
    )
    if dedupe_key is None:
        session.add(job)
        session.flush()
    else:
        # Another transaction may have added the same key since we looked; the unique index
        # refuses the second row, and the savepoint keeps the caller's transaction usable.
        try:
            with session.begin_nested():
                session.add(job)
        except IntegrityError:
            existing = _active_with_key(session, dedupe_key)
            if existing is None:
                raise
            return existing
    if job.run_at <= now + NOTIFY_AHEAD:
        _notify(session)
    return job


@dataclass(frozen=True)
class Timer:
    """A job to enqueue at `run_at`, set once per `dedupe_key`."""

    kind: str
    payload: dict[str, Any]
    run_at: datetime
    dedupe_key: str


def enqueue_timers(session: Session, *, timers: list[Timer], now: datetime) -> list[Job]:
    """Enqueue the timers no pending or running job holds the key of yet, with one query to
    find them and one batched insert: the cheap path for the many timers one change can set.

    Callers serialise changes to what the timers are about (the incident row lock does), so two
    transactions do not add the same key at once; if one did, the unique index refuses it and
    that transaction fails as a conflict instead of setting a timer twice."""
    if not timers:
        return []
    keys = [timer.dedupe_key for timer in timers]
    held = set(
        session.scalars(
            select(Job.dedupe_key).where(Job.dedupe_key.in_(keys), Job.state.in_(ACTIVE_STATES))
        )
    )
    added = [
        Job(
            kind=timer.kind,
            payload=timer.payload,
            state=JobState.PENDING.value,
            run_at=timer.run_at,
            attempts=0,
            max_attempts=8,
            dedupe_key=timer.dedupe_key,
            created_at=now,
            updated_at=now,
        )
        for timer in {timer.dedupe_key: timer for timer in timers}.values()
        if timer.dedupe_key not in held
    ]
    session.add_all(added)
    session.flush()
    if any(job.run_at <= now + NOTIFY_AHEAD for job in added):
        _notify(session)
    return added


def _active_with_key(session: Session, dedupe_key: str) -> Job | None:
    query = select(Job).where(Job.dedupe_key == dedupe_key, Job.state.in_(ACTIVE_STATES))
    return session.scalars(query).first()


def _notify(session: Session) -> None:
    # PostgreSQL delivers NOTIFY only when the transaction commits (and drops it on rollback), and
    # folds identical notifications of one transaction into one.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))


def claim(
    session: Session, *, worker_id: str, now: datetime, lease: timedelta, limit: int
) -> list[Job]:
    """Up to `limit` jobs now running for `worker_id`: first running jobs whose lease expired
    because the worker holding them stopped, then due pending jobs, oldest run_at first.

    Each claimed job has its attempt counted and is leased until now + lease. A job whose lease
    expired on its last attempt is marked dead instead of being returned. Commit the session
    soon: the claim holds row locks (PostgreSQL) or the write lock (SQLite) until then.

    On PostgreSQL the claim's commit does not wait for the disk: a claim lost in a crash only
    leaves the job pending with its attempt uncounted, and the commit that records the job's
    outcome, which does wait, writes the claim to disk before it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))
    abandoned = list(
        session.scalars(
            select(Job)
            .where(Job.state == JobState.RUNNING.value, Job.locked_until < now)
            .order_by(Job.locked_until)
            .limit(limit)
            .with_for_update(skip_locked=True)
            # The locked rows as stored now, even if this session saw them before.
            .execution_options(populate_existing=True)
        )
    )
    claimed = []
    for job in abandoned:
        job.updated_at = now
        if job.attempts >= job.max_attempts:
            _bury(
                job,
                now=now,
                error=f"Attempt {job.attempts} by {job.locked_by} never finished: its worker "
                "stopped, or ran past the lease.",
            )
            continue
        job.locked_by = worker_id
        job.locked_until = now + lease
        job.attempts += 1
        claimed.append(job)
    session.flush()
    return claimed + _claim_due(
        session, worker_id=worker_id, now=now, lease=lease, limit=limit - len(abandoned)
    )


def _claim_due(
    session: Session, *, worker_id: str, now: datetime, lease: timedelta, limit: int
) -> list[Job]:
    if limit <= 0:
        return []
    # Walks ix_jobs_claim (state, run_at) in order and stops at the limit; one statement locks,
    # updates and returns the rows.
    due = (
        select(Job.id)
        .where(Job.state == JobState.PENDING.value, Job.run_at <= now)
        .order_by(Job.run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Job)
        .where(Job.id.in_(due.scalar_subquery()))
        .values(
            state=JobState.RUNNING.value,
            locked_by=worker_id,
            locked_until=now + lease,
            attempts=Job.attempts + 1,
            updated_at=now,
        )
        .returning(Job)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return sorted(session.scalars(statement), key=lambda job: (as_utc(job.run_at), job.id))


def next_due(session: Session) -> datetime | None:
    """When the queue next has something to claim: the earliest run_at of the pending jobs or
    lease expiry of the running ones; None when there are neither. An idle worker sleeps until
    then rather than a whole poll interval, so timers start on time."""
    pending = select(func.min(Job.run_at)).where(Job.state == JobState.PENDING.value)
    running = select(func.min(Job.locked_until)).where(Job.state == JobState.RUNNING.value)
    instants = [session.scalar(pending), session.scalar(running)]
    found = [as_utc(instant) for instant in instants if instant is not None]
    return min(found, default=None)


def _holding(claimed: Job) -> ColumnElement[bool]:
    """Matches the job only while it is still the claim the caller made: same worker, same attempt.
    A worker whose lease ran out and was taken over by another finds nothing."""
    return and_(
        Job.id == claimed.id,
        Job.state == JobState.RUNNING.value,
        Job.locked_by == claimed.locked_by,
        Job.attempts == claimed.attempts,
    )


class ClaimLost(Exception):
    """The job's lease expired while its worker ran it, and another worker took it over."""


def complete(session: Session, claimed: Job, *, now: datetime) -> None:
    """Mark the claimed job succeeded, in the transaction that holds the handler's work.

    Raises ClaimLost when another worker has taken the job over since (this worker's lease
    expired): roll back, so that only that worker's run takes effect."""
    result = _execute(
        session,
        update(Job)
        .where(_holding(claimed))
        .values(
            state=JobState.SUCCEEDED.value,
            locked_by=None,
            locked_until=None,
            finished_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False),
    )
    if result.rowcount != 1:
        raise ClaimLost(f"job {claimed.id} attempt {claimed.attempts} is no longer held")


def hold(session: Session, claimed: Sequence[Job]) -> set[int]:
    """The ids of the claimed jobs whose claims are still this worker's, locked until the
    transaction ends: meanwhile no other worker can take them over (claims skip locked rows),
    so complete_many() can mark them succeeded without looking again."""
    if not claimed:
        return set()
    attempt = {job.id: job.attempts for job in claimed}
    query = (
        select(Job.id, Job.attempts)
        .where(
            Job.id.in_(attempt),
            Job.state == JobState.RUNNING.value,
            Job.locked_by == claimed[0].locked_by,
        )
        .order_by(Job.id)
        .with_for_update()
    )
    return {job_id for job_id, attempts in session.execute(query) if attempt[job_id] == attempts}


def complete_many(session: Session, held: Sequence[Job], *, now: datetime) -> None:
    """Mark jobs that hold() locked in this transaction succeeded, with one statement, in the
    transaction that holds their handlers' work. Raises ClaimLost if one is not this worker's
    any more (it was not held): roll back."""
    if not held:
        return
    result = _execute(
        session,
        update(Job)
        .where(
            Job.id.in_([job.id for job in held]),
            Job.state == JobState.RUNNING.value,
            Job.locked_by == held[0].locked_by,
        )
        .values(
            state=JobState.SUCCEEDED.value,
            locked_by=None,
            locked_until=None,
            finished_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False),
    )
    if result.rowcount != len(held):
        raise ClaimLost(f"{len(held) - result.rowcount} of {len(held)} jobs are no longer held")


def release(session: Session, claimed: Sequence[Job], *, now: datetime) -> int:
    """Gives claimed jobs that their worker has not started back to the queue as they were
    before the claim (pending, the attempt uncounted), for any worker to take; returns how many
    were still held and went back."""
    if not claimed:
        return 0
    result = _execute(
        session,
        update(Job)
        .where(
            Job.id.in_([job.id for job in claimed]),
            Job.state == JobState.RUNNING.value,
            Job.locked_by == claimed[0].locked_by,
        )
        .values(
            state=JobState.PENDING.value,
            attempts=Job.attempts - 1,
            locked_by=None,
            locked_until=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False),
    )
    return result.rowcount


def fail(
    session: Session, claimed: Job, *, error: str, now: datetime, rng: random.Random
) -> JobState | None:
    """Record that the claimed attempt failed with `error`. The job goes back to pending after a
    jittered exponential backoff, or is dead once it has used max_attempts. Returns the new state,
    or None when the claim was lost to another worker (nothing is changed)."""
    if claimed.attempts < claimed.max_attempts:
        state = JobState.PENDING
        changes: dict[str, Any] = {"run_at": now + backoff(claimed.attempts, rng)}
    else:
        state = JobState.DEAD
        changes = {"finished_at": now}
    result = _execute(
        session,
        update(Job)
        .where(_holding(claimed))
        .values(
            state=state.value,
            last_error=error[:MAX_ERROR_LENGTH],
            locked_by=None,
            locked_until=None,
            updated_at=now,
            **changes,
        )
        .execution_options(synchronize_session=False),
    )
    return state if result.rowcount == 1 else None


def _execute(session: Session, statement: Update) -> CursorResult[Any]:
    return cast("CursorResult[Any]", session.execute(statement))


def _bury(job: Job, *, now: datetime, error: str) -> None:
    job.state = JobState.DEAD.value
    job.last_error = error
    job.locked_by = None
    job.locked_until = None
    job.finished_at = now


def get_job(session: Session, job_id: int, *, for_update: bool = False) -> Job:
    """The job with this id, or NotFound."""
    query = select(Job).where(Job.id == job_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    job = session.scalars(query).first()
    if job is None:
        raise NotFound(detail=f"No job {job_id}.")
    return job


def retry_dead(session: Session, *, job_id: int, now: datetime, actor: Actor) -> Job:
    """The dead job, pending again from now with its attempts reset (its last error is kept for
    reference); the retry is in the audit log. A job that is not dead is a JobNotRetryable."""
    job = get_job(session, job_id, for_update=True)
    if job.state != JobState.DEAD.value:
        raise JobNotRetryable(
            detail=f"Job {job_id} is {job.state}; only a dead job can be retried."
        )
    before = {"state": job.state, "attempts": job.attempts, "last_error": job.last_error}
    job.state = JobState.PENDING.value
    job.attempts = 0
    job.run_at = now
    job.finished_at = None
    job.updated_at = now
    record(
        session,
        actor=actor,
        action="job.retry",
        entity_type="job",
        entity_id=job.id,
        at=now,
        before=before,
        after={"state": job.state, "attempts": 0, "run_at": now.isoformat()},
    )
    session.flush()
    _notify(session)
    return job


def list_jobs(
    session: Session,
    *,
    state: JobState | None = None,
    kind: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Job]:
    """Jobs newest first, optionally of one state and kind; `before_id` continues a page."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if state is not None:
        query = query.where(Job.state == state.value)
    if kind:
        query = query.where(Job.kind == kind)
    if before_id is not None:
        query = query.where(Job.id < before_id)
    return list(session.scalars(query))
