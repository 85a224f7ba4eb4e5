"""`fireline serve`: migrate, make sure there is an admin, and run the web server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from fireline.cli._local import apply_migrations, display_url, load_settings, now, unit_of_work
from fireline.cli._output import fail, note, say

if TYPE_CHECKING:
    from fastapi import FastAPI

# With several workers (or --reload) the server imports the app in each process from this path.
FACTORY = "fireline.cli.serve:production_app"
# Granian always imports the app by path; a single process builds it as configured.
SINGLE_FACTORY = "fireline.cli.serve:single_app"


def production_app() -> FastAPI:
    """The application built from FIRELINE_* settings, for uvicorn's worker processes.

    It never runs the embedded job worker: with N web processes that would be N job workers
    tied to the web servers' lifetimes. Jobs run in `fireline worker` processes instead."""
    from fireline.app import create_app, settle_heap

    app = create_app(load_settings().model_copy(update={"embedded_worker": False}))
    settle_heap()
    return app


def single_app() -> FastAPI:
    """The application of a single `fireline serve` process under granian: as configured, so
    it runs the embedded job worker when FIRELINE_EMBEDDED_WORKER says so."""
    from fireline.app import create_app, settle_heap

    app = create_app(load_settings())
    settle_heap()
    return app


def run_granian(target: str, **options: Any) -> None:
    """Hand over to granian (its worker processes import `target`, an app factory); blocks
    until the server stops. Tests replace this."""
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        target,
        factory=True,
        interface=Interfaces.ASGI,
        respawn_failed_workers=True,
        # Live pages hold server-sent event streams open; a stop must not wait on them for ever.
        workers_kill_timeout=5,
        **options,
    ).serve()


def run_uvicorn(app: FastAPI | str, **options: Any) -> None:
    """Hand over to uvicorn; blocks until the server stops. Tests replace this."""
    import uvicorn

    # Live pages hold server-sent event streams open; a stop must not wait on them for ever.
    uvicorn.run(app, timeout_graceful_shutdown=5, **options)


def serve(  # noqa: PLR0917 - a command's options
    host: Annotated[
        str | None,
        typer.Option(
            metavar="HOST", help="Address to bind.", show_default="FIRELINE_HOST or 127.0.0.1"
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT",
            min=1,
            max=65535,
            help="Port to listen on.",
            show_default="FIRELINE_PORT or 8000",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=1,
            max=64,
            help="Web server processes; more than one is for PostgreSQL.",
            show_default="FIRELINE_WORKERS or 1",
        ),
    ] = None,
    reload: Annotated[
        bool, typer.Option("--reload/--no-reload", help="Restart when the code changes (dev).")
    ] = False,
    migrate: Annotated[
        bool,
        typer.Option("--migrate/--no-migrate", help="Apply database migrations before serving."),
    ] = True,
    server: Annotated[
        str | None,
        typer.Option(
            metavar="SERVER",
            help="uvicorn, or granian (faster on small answers: the status page under a spike).",
            show_default="FIRELINE_SERVER or uvicorn",
        ),
    ] = None,
) -> None:
    """Run the Fireline web server.

    Applies pending migrations first, and on an empty database creates the first admin and
    prints its password once. Several workers need PostgreSQL for real concurrency: on SQLite
    they take turns writing to one file. A single process also runs the job worker
    (FIRELINE_EMBEDDED_WORKER); with several, or --reload, run `fireline worker` alongside.
    """
    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    server = server or settings.server
    if server not in {"uvicorn", "granian"}:
        fail(f"--server must be uvicorn or granian, not {server!r}.", code=2)
    if reload and workers is not None and workers > 1:
        fail("--reload runs a single process; drop --workers or --reload.", code=2)
    if reload and server == "granian":
        fail("--reload runs uvicorn; drop --server granian or --reload.", code=2)
    workers = 1 if reload else workers or settings.workers
    if migrate:
        note(f"Applying migrations to {display_url(settings.database_url)}…")
        apply_migrations(settings)
    from fireline.accounts.service import bootstrap_admin

    with unit_of_work(settings) as session:
        created = bootstrap_admin(session, now=now(), email=settings.admin_email)
    if created is not None:
        email, password = created
        say(f"Created the first admin: {email} / {password} — sign in and change it.")
    if workers > 1 and settings.is_sqlite:
        note(
            f"Warning: {workers} workers on SQLite take turns writing to one file; "
            "use PostgreSQL (FIRELINE_DATABASE_URL=postgresql://…) for real concurrency."
        )
    if workers > 1 or reload:
        note(
            "Jobs (timers, notifications) are not run by these web processes: "
            "start `fireline worker` alongside."
        )
    if server == "granian":
        run_granian(
            FACTORY if workers > 1 else SINGLE_FACTORY,
            address=host,
            port=port,
            workers=workers,
            log_level=_granian_level(settings.log_level),
            log_access=settings.access_log,
        )
        return
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": settings.log_level.lower(),
        "access_log": settings.access_log,
    }
    if workers > 1 or reload:
        run_uvicorn(FACTORY, factory=True, workers=workers, reload=reload, **options)
    else:
        from fireline.app import create_app, settle_heap

        app = create_app(settings)
        settle_heap()
        run_uvicorn(app, **options)


def _granian_level(level: str) -> Any:
    """Granian's name for the log level (the same words; anything unknown is info)."""
    from granian.log import LogLevels

    try:
        return LogLevels(level.lower())
    except ValueError:
        return LogLevels.info
