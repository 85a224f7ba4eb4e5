"""`fireline worker` runs jobs; `fireline jobs` inspects and retries them (on the database)."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from fireline.cli import _choices
from fireline.cli._local import (
    cli_actor,
    display_url,
    load_settings,
    now,
    revisions,
    unit_of_work,
)
from fireline.cli._output import add_row, echo_json, fail, note, out, say, when

if TYPE_CHECKING:
    from fireline.jobs.schemas import JobOut

app = typer.Typer(
    help="See, retry and test durable jobs (acts on the database directly).", no_args_is_help=True
)


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Inside the block, SIGINT and SIGTERM set `stop` (the worker finishes the job in hand, then
    exits) instead of killing the process; the previous handlers come back afterwards."""

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def worker(
    poll_interval: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            min=0.1,
            help="Longest idle wait before looking for due jobs (timers, retries). "
            "On PostgreSQL a new job wakes the worker at once.",
        ),
    ] = 5.0,
    lease_minutes: Annotated[
        int,
        typer.Option(
            metavar="M",
            min=1,
            help="How long a job may run before another worker takes it over, "
            "presuming this one dead.",
        ),
    ] = 5,
    metrics_port: Annotated[
        int,
        typer.Option(
            metavar="PORT",
            min=0,
            max=65535,
            help="Serve this worker's job metrics for Prometheus on FIRELINE_HOST:PORT/metrics "
            "(0, the default: not served).",
        ),
    ] = 0,
) -> None:
    """Run jobs (timers, escalations, notifications) until Ctrl-C or SIGTERM.

    Run as many as you like on PostgreSQL: they share the work through the database. With
    FIRELINE_EMBEDDED_WORKER on (the default), `fireline serve` runs one in-process already.
    """
    from datetime import timedelta

    from prometheus_client import CollectorRegistry, start_http_server

    from fireline.clock import SystemClock
    from fireline.db import make_engine, make_session_factory
    from fireline.jobs import metrics
    from fireline.jobs.handlers import default_handlers
    from fireline.jobs.periodic import upkeep
    from fireline.jobs.worker import Worker
    from fireline.observability import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level)
    at, head = revisions(settings)
    if at != head:
        fail(
            f"The database is at revision {at or '(none)'}, this version needs {head}.",
            [("hint", "run `fireline db upgrade`")],
        )
    engine = make_engine(settings.database_url, pool_size=2)
    factory, clock = make_session_factory(engine), SystemClock()
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    registry = CollectorRegistry()
    runner = Worker(
        factory,
        clock=clock,
        handlers=default_handlers(settings),
        worker_id=worker_id,
        lease=timedelta(minutes=lease_minutes),
        periodic=upkeep(settings),
        metrics=metrics.install(registry, open_session=factory, clock=clock),
    )
    metrics_server = None
    if metrics_port:
        metrics_server, _ = start_http_server(metrics_port, addr=settings.host, registry=registry)
        note(f"Metrics on http://{settings.host}:{metrics_port}/metrics")
    stop = threading.Event()
    note(
        f"Worker {worker_id} running jobs from {display_url(settings.database_url)}; Ctrl-C stops."
    )
    try:
        with stop_on_signals(stop):
            runner.run_forever(stop, poll_interval=poll_interval)
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        engine.dispose()
    note("Worker stopped.")


def _out(job: object) -> JobOut:
    from fireline.jobs.schemas import JobOut

    return JobOut.model_validate(job)


@app.command("list")
def list_jobs(
    state: Annotated[
        _choices.JobStateChoice | None,
        typer.Option(case_sensitive=False, help="Only jobs in this state, e.g. dead."),
    ] = None,
    kind: Annotated[
        str | None, typer.Option(metavar="KIND", help="Only jobs of this kind.")
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", min=1, max=1000, help="At most N.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List jobs, newest first."""
    from rich.table import Table

    from fireline.jobs.queue import list_jobs as newest_jobs
    from fireline.models import JobState

    with unit_of_work() as session:
        jobs = [
            _out(job)
            for job in newest_jobs(
                session, state=JobState(state.value) if state else None, kind=kind, limit=limit
            )
        ]
    if as_json:
        echo_json([job.model_dump(mode="json") for job in jobs])
        return
    if not jobs:
        note("No jobs" + (f" in state {state.value}." if state else "."))
        return
    table = Table("ID", "Kind", "State", "Attempts", "Run at", "Last error")
    for job in jobs:
        add_row(
            table,
            str(job.id),
            job.kind,
            job.state.value,
            f"{job.attempts}/{job.max_attempts}",
            when(job.run_at),
            (job.last_error or "—")[:80],
        )
    out.print(table)


@app.command()
def retry(
    job_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="The dead job's id.")],
) -> None:
    """Run a dead job again now, with its attempts reset (recorded in the audit log)."""
    from fireline.jobs.queue import retry_dead

    with unit_of_work() as session:
        job = _out(retry_dead(session, job_id=job_id, now=now(), actor=cli_actor()))
    say(f"Job {job.id} ({job.kind}) is pending again; a worker will run it shortly.")


@app.command()
def ping() -> None:
    """Enqueue a job that does nothing, to check that a worker is taking jobs."""
    from fireline.jobs.handlers import PING
    from fireline.jobs.queue import enqueue

    with unit_of_work() as session:
        job = _out(enqueue(session, kind=PING, payload={}, now=now()))
    say(f"Enqueued job {job.id} ({job.kind}).")
    note("`fireline jobs list` shows it succeeded once a worker has run it.")


@app.command()
def prune(
    older_than_days: Annotated[
        int | None,
        typer.Option(
            metavar="DAYS",
            min=1,
            help="Delete succeeded jobs that finished more than DAYS days ago "
            "(default: FIRELINE_JOB_RETENTION_DAYS, 7).",
        ),
    ] = None,
) -> None:
    """Delete old succeeded jobs now (workers do it every hour). Dead jobs are kept."""
    from datetime import timedelta

    from fireline.jobs.prune import BATCH, prune_succeeded

    settings = load_settings()
    cutoff = now() - timedelta(days=older_than_days or settings.job_retention_days)
    deleted = BATCH
    total = 0
    while deleted == BATCH:  # a transaction per batch, as the workers' pruning does
        with unit_of_work(settings) as session:
            deleted = prune_succeeded(session, finished_before=cutoff)
        total += deleted
    say(f"Deleted {total} succeeded jobs that finished before {when(cutoff)}.")
