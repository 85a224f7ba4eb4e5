"""Job metrics: what workers ran, how long it took and how late it started; the queue's depth.

The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from fireline.db import transaction
from fireline.jobs import metrics, queue
from fireline.jobs.handlers import RetryLater


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def job_metrics(registry, session_factory, clock) -> metrics.JobMetrics:
    return metrics.install(registry, open_session=session_factory, clock=clock)


def runs(registry, kind: str, outcome: str) -> float:
    value = registry.get_sample_value("fireline_job_runs_total", {"kind": kind, "outcome": outcome})
    return value or 0.0


def test_each_attempt_is_counted_by_kind_and_outcome(db, clock, make_worker, registry, job_metrics):
    def webhook(session, payload, context) -> None:
        if payload["answer"] == 503:
            raise ConnectionError("hooks.example.com answered 503")
        if payload["answer"] == 429:
            raise RetryLater("hooks.example.com says: slow down")

    for answer, attempts in ((200, 8), (503, 8), (429, 8), (503, 1)):
        queue.enqueue(
            db, kind="webhook", payload={"answer": answer}, now=clock.now(), max_attempts=attempts
        )
    queue.enqueue(db, kind="fireline.ping", payload={}, now=clock.now())
    db.commit()

    make_worker({"webhook": webhook}, metrics=job_metrics).run_once()

    assert runs(registry, "webhook", "succeeded") == 1
    assert runs(registry, "webhook", "failed") == 1
    assert runs(registry, "webhook", "retry") == 1
    assert runs(registry, "webhook", "dead") == 1
    assert runs(registry, "fireline.ping", "succeeded") == 1
    assert registry.get_sample_value(
        "fireline_job_run_duration_seconds_count", {"kind": "webhook"}
    ) == pytest.approx(4)


def test_a_timer_that_started_five_minutes_late_shows_in_the_lateness_histogram(
    db, clock, make_worker, registry, job_metrics
):
    queue.enqueue(db, kind="fireline.ping", payload={}, now=clock.now())
    db.commit()
    clock.advance(minutes=5)  # the workers were all down

    make_worker(metrics=job_metrics).run_once()

    def late(le: str) -> float | None:
        labels = {"kind": "fireline.ping", "le": le}
        return registry.get_sample_value("fireline_job_lateness_seconds_bucket", labels)

    assert late("60.0") == 0
    assert late("300.0") == 1
    assert registry.get_sample_value(
        "fireline_job_lateness_seconds_sum", {"kind": "fireline.ping"}
    ) == pytest.approx(300)


def test_the_queue_depth_is_counted_when_scraped(
    db, clock, session_factory, make_dead_job, registry, job_metrics
):
    now = clock.now()
    for minutes in (-1, 0, 5, 60):  # two due, two due later
        queue.enqueue(
            db, kind="remind", payload={}, now=now, run_at=now + timedelta(minutes=minutes)
        )
    db.commit()
    with transaction(session_factory) as session:
        queue.claim(session, worker_id="w", now=now, lease=timedelta(minutes=5), limit=1)
    make_dead_job()

    def queued(state: str) -> float | None:
        return registry.get_sample_value("fireline_jobs_queued", {"state": state})

    assert (queued("pending_due"), queued("pending_later"), queued("running"), queued("dead")) == (
        1,
        2,
        1,
        1,
    )
    clock.advance(minutes=5)
    assert (queued("pending_due"), queued("pending_later")) == (2, 1)  # counted afresh


def test_a_scrape_while_the_database_is_down_still_answers_without_the_depth(clock):
    registry = CollectorRegistry()
    unreachable = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    metrics.install(registry, open_session=sessionmaker(bind=unreachable), clock=clock)

    scraped = generate_latest(registry).decode()

    assert "# TYPE fireline_job_runs_total counter" in scraped
    assert "fireline_jobs_queued{" not in scraped
    unreachable.dispose()


def test_a_worker_without_metrics_keeps_its_own(make_worker, db, clock):
    queue.enqueue(db, kind="fireline.ping", payload={}, now=clock.now())
    db.commit()
    first, second = make_worker(rng=random.Random(1)), make_worker(rng=random.Random(2))

    first.run_once()

    assert first.metrics.registry is not second.metrics.registry
    sample = {"kind": "fireline.ping", "outcome": "succeeded"}
    assert first.metrics.registry.get_sample_value("fireline_job_runs_total", sample) == 1
    assert second.metrics.registry.get_sample_value("fireline_job_runs_total", sample) is None
