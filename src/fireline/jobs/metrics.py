"""Prometheus metrics of the job queue: what workers ran and how it went, and the queue's depth.

A worker records its runs in a JobMetrics; the web app serves the registry it lives in at
/metrics (see install()). The queue's depth is read from the database at scrape time, so every
process serving /metrics reports the same figures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import StrEnum

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from fireline.clock import Clock
from fireline.models import Job, JobState

log = structlog.get_logger()


class Outcome(StrEnum):
    """How one attempt ended, as the `outcome` label says it."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the handler raised; the job runs again after a backoff
    RETRY = "retry"  # the handler asked to run again later (RetryLater), keeping its work
    DEAD = "dead"  # the attempt failed and was the job's last
    LOST = "lost"  # the lease expired mid-run and another worker took the job over


class JobMetrics:
    """The counters and histograms a worker updates, in `registry` (a private one by default,
    so that any number of workers and apps can live in one process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.runs = Counter(
            "fireline_job_runs",
            "Job attempts run by workers of this process, by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "fireline_job_run_duration_seconds",
            "Time a job's handler took, by kind.",
            ["kind"],
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.lateness = Histogram(
            "fireline_job_lateness_seconds",
            "How long after its run_at a job started, by kind: timers firing late show here.",
            ["kind"],
            registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
        )

    def ran(self, kind: str, outcome: Outcome, *, duration: float, lateness: float) -> None:
        """Records one attempt of a `kind` job that started `lateness` seconds after it was due
        and ran for `duration` seconds."""
        self.runs.labels(kind, outcome.value).inc()
        self.duration.labels(kind).observe(duration)
        self.lateness.labels(kind).observe(max(lateness, 0.0))


class QueueDepth(Collector):
    """`fireline_jobs_queued{state=…}`, counted when scraped: pending jobs already due
    (`pending_due`, a backlog when it grows), pending jobs due later (`pending_later`: timers and
    retries), `running` and `dead` (waiting for an admin). Nothing is reported when the database
    cannot be read; the scrape still succeeds."""

    def __init__(self, open_session: Callable[[], Session], clock: Clock) -> None:
        self._open_session = open_session
        self._clock = clock

    def describe(self) -> Iterator[Metric]:
        # Registering must not query the database; the family's name and type are enough.
        yield GaugeMetricFamily("fireline_jobs_queued", _QUEUED_HELP, labels=["state"])

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self.counts()
        except SQLAlchemyError as error:
            log.warning("job_queue_depth_unavailable", error=str(error)[:500])
            return
        family = GaugeMetricFamily("fireline_jobs_queued", _QUEUED_HELP, labels=["state"])
        for state, count in counts.items():
            family.add_metric([state], count)
        yield family

    def counts(self) -> dict[str, int]:
        """How many jobs are in each reported state now."""
        now = self._clock.now()
        label = case(
            (
                Job.state == JobState.PENDING.value,
                case((Job.run_at <= now, "pending_due"), else_="pending_later"),
            ),
            else_=Job.state,
        )
        query = (
            select(label, func.count())
            .where(Job.state.in_([JobState.PENDING, JobState.RUNNING, JobState.DEAD]))
            .group_by(label)
        )
        counts = dict.fromkeys(("pending_due", "pending_later", "running", "dead"), 0)
        with self._open_session() as session:
            for state, count in session.execute(query):
                counts[state] = count
        return counts


_QUEUED_HELP = "Jobs in the queue by state, counted at scrape time."


def install(
    registry: CollectorRegistry, *, open_session: Callable[[], Session], clock: Clock
) -> JobMetrics:
    """Job metrics in `registry`, the queue's depth included: what a process that serves
    /metrics from `registry` calls once, handing the result to its workers."""
    registry.register(QueueDepth(open_session, clock))
    return JobMetrics(registry)
