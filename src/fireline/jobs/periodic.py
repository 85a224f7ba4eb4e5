"""Upkeep that runs on a schedule, without a scheduler: each periodic kind has one pending job.

Every worker calls ensure_periodic() when it starts and about once a minute after. The job's
dedupe key (`periodic:<kind>`) makes all but the first such call find the job already there,
however many workers ask at once; when the job has run, the next call schedules the next run.
Runs fall on multiples of the interval (10:00, 10:10, 10:20 …), whichever worker sets them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fireline.clock import as_utc
from fireline.config import Settings
from fireline.jobs.prune import PRUNE_JOB
from fireline.jobs.queue import enqueue
from fireline.models import Job

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Periodic:
    """A job of `kind` with `payload` to run every `every`."""

    kind: str
    every: timedelta
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        return f"periodic:{self.kind}"


def next_run(every: timedelta, now: datetime) -> datetime:
    """The first multiple of `every` since the Unix epoch strictly after `now`: every ten
    minutes from 10:03 is 10:10, and from 10:10 exactly, 10:20."""
    if every <= timedelta(0):
        raise ValueError("a periodic job needs a positive interval")
    return EPOCH + (((as_utc(now) - EPOCH) // every) + 1) * every


def ensure_periodic(session: Session, *, schedule: Sequence[Periodic], now: datetime) -> list[Job]:
    """The pending (or running) job of each periodic kind in `schedule`, enqueued in the
    caller's transaction for its next run when there is none."""
    return [
        enqueue(
            session,
            kind=periodic.kind,
            payload=periodic.payload,
            now=now,
            run_at=next_run(periodic.every, now),
            dedupe_key=periodic.dedupe_key,
        )
        for periodic in schedule
    ]


def upkeep(settings: Settings) -> list[Periodic]:
    """Fireline's own periodic jobs, at the intervals `settings` give: setting again any
    response timer that went missing, and pruning old succeeded jobs."""
    # Imported here: the response domain's modules import the job queue.
    from fireline.response.reconcile import RECONCILE_JOB

    return [
        Periodic(RECONCILE_JOB, every=timedelta(minutes=settings.job_reconcile_minutes)),
        Periodic(
            PRUNE_JOB,
            every=timedelta(minutes=settings.job_prune_minutes),
            payload={"retention_days": settings.job_retention_days},
        ),
    ]
