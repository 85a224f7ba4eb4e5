"""Job fixtures: a worker on the test's rolled-back transaction, and jobs in a given state."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from fireline.db import transaction
from fireline.jobs import queue
from fireline.jobs.handlers import default_handlers
from fireline.jobs.worker import Worker
from fireline.models import Job, JobState


def reload(db: Session, job: Job | int) -> Job:
    """The job as stored now, not as this session last saw it."""
    job_id = job if isinstance(job, int) else job.id
    found = db.get(Job, job_id, populate_existing=True)
    assert found is not None
    return found


@pytest.fixture
def make_worker(session_factory, clock) -> Callable[..., Worker]:
    """A worker on the test's transaction: make_worker({"kind": handler}, worker_id="w2")."""

    def make(handlers=None, **options) -> Worker:
        options.setdefault("worker_id", "worker-1")
        options.setdefault("rng", random.Random(1))
        return Worker(
            session_factory,
            clock=clock,
            handlers={**default_handlers(), **(handlers or {})},
            **options,
        )

    return make


@pytest.fixture
def make_dead_job(session_factory, clock) -> Callable[..., int]:
    """The id of a job that failed its only attempt: a webhook whose endpoint was down."""

    def make(kind: str = "notify.webhook", error: str = "HTTPError: 503 from hooks.example.com"):
        with transaction(session_factory) as session:
            job = queue.enqueue(
                session, kind=kind, payload={"to": "hooks"}, now=clock.now(), max_attempts=1
            )
        with transaction(session_factory) as session:
            # Claimed by hand rather than by queue.claim, which might pick another due job.
            claimed = session.get_one(Job, job.id)
            claimed.state, claimed.locked_by, claimed.attempts = "running", "worker-0", 1
        with transaction(session_factory) as session:
            state = queue.fail(session, claimed, error=error, now=clock.now(), rng=random.Random(1))
        assert state == JobState.DEAD
        return job.id

    return make
