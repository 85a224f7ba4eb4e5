"""Pruning: succeeded jobs are deleted some days after they finished, in bounded batches.

Dead jobs are kept whatever their age, until an admin retries them; pending and running jobs
are never touched."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from fireline.jobs.handlers import JobContext
from fireline.jobs.queue import enqueue
from fireline.models import Job, JobState

log = structlog.get_logger()

PRUNE_JOB = "jobs.prune"
DEFAULT_RETENTION_DAYS = 7
# Rows per transaction: enough to keep up with thousands of jobs a second, few enough that one
# delete holds its locks and its WAL for a moment only.
BATCH = 1000


def prune_succeeded(session: Session, *, finished_before: datetime, limit: int = BATCH) -> int:
    """Deletes up to `limit` succeeded jobs that finished before `finished_before`, oldest
    first; returns how many it deleted (fewer than `limit` once none are left)."""
    oldest = (
        select(Job.id)
        .where(Job.state == JobState.SUCCEEDED.value, Job.finished_at < finished_before)
        # run_at order walks ix_jobs_claim (state, run_at) and stops at the limit; a job finishes
        # after its run_at, so the oldest come first.
        .order_by(Job.run_at)
        .limit(limit)
    )
    statement = (
        delete(Job)
        .where(Job.id.in_(oldest.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return cast("CursorResult[Any]", session.execute(statement)).rowcount


def prune(session: Session, payload: dict[str, Any], context: JobContext) -> None:
    """The `jobs.prune` handler: deletes one batch of succeeded jobs older than
    `retention_days` (payload). When the batch was full, it enqueues a job to go on at once,
    so that each batch commits in a transaction of its own."""
    days = int(payload.get("retention_days", DEFAULT_RETENTION_DAYS))
    limit = int(payload.get("batch", BATCH))
    cutoff = context.now - timedelta(days=days)
    deleted = prune_succeeded(session, finished_before=cutoff, limit=limit)
    log.info("jobs_pruned", deleted=deleted, finished_before=cutoff.isoformat())
    if deleted == limit:
        enqueue(
            session,
            kind=PRUNE_JOB,
            payload=payload,
            now=context.now,
            # Keyed by this job: running it twice does not start a second chain.
            dedupe_key=f"{PRUNE_JOB}:after:{context.job_id}",
        )
