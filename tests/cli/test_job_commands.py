"""`fireline worker` and `fireline jobs`, on databases of their own."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
from alembic import command
from sqlalchemy import select

from fireline import migrate
from fireline.cli import serve
from fireline.db import make_engine, make_session_factory, transaction
from fireline.jobs import queue
from fireline.models import AuditRecord, Job, JobState

from .helpers import Cli


def _dead_job(database_url: str, kind: str = "notify.webhook") -> int:
    engine = make_engine(database_url, pool_size=1)
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    try:
        with transaction(factory) as session:
            job = queue.enqueue(session, kind=kind, payload={}, now=now, max_attempts=1)
            job.state, job.locked_by, job.attempts = "running", "gone:1", 1
        with transaction(factory) as session:
            queue.fail(session, job, error="HTTPError: 503", now=now, rng=random.Random(1))
        return job.id
    finally:
        engine.dispose()


def _state(database_url: str, job_id: int) -> str:
    engine = make_engine(database_url, pool_size=1)
    try:
        with transaction(make_session_factory(engine)) as session:
            return session.get_one(Job, job_id).state
    finally:
        engine.dispose()


def test_ping_enqueues_a_job_that_fireline_worker_runs_until_sigterm(fresh_database):
    database = fresh_database()
    cli = Cli({"FIRELINE_DATABASE_URL": database.url, "FIRELINE_LOG_LEVEL": "warning"})
    pinged = cli("jobs", "ping")
    assert pinged.exit_code == 0, pinged.output
    job_id = int(pinged.stdout.split()[2])
    port = _free_port()
    scraped: list[str] = []

    def stop_the_worker_once_the_job_ran() -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _state(database.url, job_id) != "succeeded":
            time.sleep(0.05)
        # SIGINT if it never ran: the worker stops on either, but pytest would die of a SIGTERM
        # that arrived when no handler of the worker's was in place.
        done = _state(database.url, job_id) == "succeeded"
        if done:
            scraped.append(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
        os.kill(os.getpid(), signal.SIGTERM if done else signal.SIGINT)

    previous = signal.getsignal(signal.SIGTERM)
    watcher = threading.Thread(target=stop_the_worker_once_the_job_ran)
    watcher.start()
    worked = cli("worker", "--poll-interval", "0.2", "--metrics-port", str(port))
    watcher.join(timeout=20)

    assert worked.exit_code == 0, worked.output
    assert "Worker " in worked.stderr
    assert "running jobs from" in worked.stderr
    assert worked.stderr.rstrip().endswith("Worker stopped.")
    assert _state(database.url, job_id) == "succeeded"
    assert signal.getsignal(signal.SIGTERM) is previous  # the worker gave the signal back
    listed = cli("jobs", "list", "--json")
    jobs = json.loads(listed.stdout)
    by_kind = {job["kind"]: job for job in jobs}
    assert (by_kind["fireline.ping"]["id"], by_kind["fireline.ping"]["state"]) == (
        job_id,
        "succeeded",
    )
    # On start the worker scheduled Fireline's upkeep, once each.
    assert sorted(job["kind"] for job in jobs) == [
        "fireline.ping",
        "jobs.prune",
        "response.reconcile",
    ]
    assert by_kind["jobs.prune"]["state"] == by_kind["response.reconcile"]["state"] == "pending"
    # And served its metrics while it ran.
    assert 'fireline_job_runs_total{kind="fireline.ping",outcome="succeeded"} 1.0' in scraped[0]
    assert 'fireline_jobs_queued{state="pending_later"} 2.0' in scraped[0]


def test_the_worker_refuses_a_database_that_is_not_migrated(fresh_database):
    database = fresh_database()
    command.downgrade(migrate.alembic_config(database.url), "0001")

    result = Cli({"FIRELINE_DATABASE_URL": database.url})("worker")

    assert result.exit_code == 1
    assert "run `fireline db upgrade`" in result.stderr
    assert "Traceback" not in result.output


def test_an_admin_finds_a_dead_job_and_retries_it_from_the_cli(cli, cli_database):
    job_id = _dead_job(cli_database.url, kind="notify.email")

    listed = cli("jobs", "list", "--state", "dead")
    retried = cli("jobs", "retry", str(job_id))
    again = cli("jobs", "retry", str(job_id))

    assert listed.exit_code == 0, listed.output
    assert str(job_id) in listed.stdout
    assert "notify.email" in listed.stdout
    assert "HTTPError: 503" in listed.stdout
    assert retried.exit_code == 0, retried.output
    assert f"Job {job_id} (notify.email) is pending again" in retried.stdout
    assert _state(cli_database.url, job_id) == JobState.PENDING
    assert again.exit_code == 1
    assert "only a dead job can be retried" in again.stderr
    engine = make_engine(cli_database.url, pool_size=1)
    try:
        with transaction(make_session_factory(engine)) as session:
            [audit] = session.scalars(
                select(AuditRecord).where(
                    AuditRecord.entity_type == "job", AuditRecord.entity_id == str(job_id)
                )
            )
            assert (audit.action, audit.via) == ("job.retry", "cli")
    finally:
        engine.dispose()


def test_retrying_an_unknown_job_says_so(cli):
    result = cli("jobs", "retry", "999999")

    assert result.exit_code == 1
    assert "No job 999999." in result.stderr


def test_listing_jobs_in_a_state_with_none_says_so(cli):
    result = cli("jobs", "list", "--state", "running")

    assert result.exit_code == 0
    assert "No jobs in state running." in result.stderr


def test_several_web_processes_leave_the_jobs_to_fireline_worker(fresh_database, monkeypatch):
    database = fresh_database()
    monkeypatch.setattr(serve, "run_uvicorn", lambda *_, **__: None)
    cli = Cli({"FIRELINE_DATABASE_URL": database.url})

    several = cli("serve", "--workers", "2", "--no-migrate")
    monkeypatch.setenv("FIRELINE_DATABASE_URL", database.url)
    app = serve.production_app()

    assert several.exit_code == 0, several.output
    assert "start `fireline worker` alongside" in several.stderr
    try:
        assert app.state.settings.embedded_worker is False
    finally:
        app.state.engine.dispose()


def test_prune_deletes_succeeded_jobs_past_the_retention_and_keeps_dead_ones(fresh_database):
    database = fresh_database()
    engine = make_engine(database.url, pool_size=1)
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    ids = {}
    try:
        with transaction(factory) as session:
            for name, days, state in [
                ("last-month", 30, JobState.SUCCEEDED),
                ("last-week", 8, JobState.SUCCEEDED),
                ("two-days-ago", 2, JobState.SUCCEEDED),
                ("dead", 30, JobState.DEAD),
            ]:
                finished = now - timedelta(days=days)
                job = queue.enqueue(session, kind="notify.email", payload={}, now=finished)
                job.state, job.finished_at = state.value, finished
                ids[name] = job.id
    finally:
        engine.dispose()
    cli = Cli({"FIRELINE_DATABASE_URL": database.url})

    weekly = cli("jobs", "prune")
    daily = cli("jobs", "prune", "--older-than-days", "1")

    assert weekly.exit_code == 0, weekly.output
    assert weekly.stdout.startswith("Deleted 2 succeeded jobs that finished before ")
    assert daily.stdout.startswith("Deleted 1 succeeded jobs")
    assert _state(database.url, ids["dead"]) == JobState.DEAD
    assert [_exists(database.url, ids[name]) for name in ("last-month", "two-days-ago")] == [
        False,
        False,
    ]


def _exists(database_url: str, job_id: int) -> bool:
    engine = make_engine(database_url, pool_size=1)
    try:
        with transaction(make_session_factory(engine)) as session:
            return session.get(Job, job_id) is not None
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
