"""create_app(): the JSON API, health and metrics, wired to settings, database and clock."""

from __future__ import annotations

import gc
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from fireline import __version__, health
from fireline.accounts.api import router as accounts_router
from fireline.alerts.admin_api import router as alerts_admin_router
from fireline.alerts.api import router as alerts_router
from fireline.alerts.ingest_api import IngestFastPath
from fireline.alerts.ingest_api import router as ingest_router
from fireline.api import problems
from fireline.audit.api import router as audit_router
from fireline.catalog.api import router as catalog_router
from fireline.clock import Clock, SystemClock
from fireline.comms.admin_api import router as comms_admin_router
from fireline.comms.cache import PublicCache
from fireline.comms.fastpath import PublicFastPath
from fireline.comms.public_views import PublicDocuments
from fireline.comms.public_views import router as status_page_router
from fireline.comms.publishing_api import router as publishing_router
from fireline.comms.stakeholders_api import router as stakeholders_router
from fireline.comms.subscriber_views import router as subscribers_router
from fireline.comms.subscribers_api import router as subscribers_admin_router
from fireline.config import Settings, get_settings
from fireline.db import make_engine, make_session_factory
from fireline.incidents.api import router as incidents_router
from fireline.jobs import metrics as job_metrics
from fireline.jobs.api import router as jobs_router
from fireline.jobs.handlers import default_handlers
from fireline.jobs.periodic import upkeep
from fireline.jobs.worker import Worker, WorkerThread
from fireline.notify.api import router as notify_router
from fireline.observability import Metrics, ObservabilityMiddleware, configure_logging
from fireline.oncall.api import router as oncall_router
from fireline.oncall.calendar_api import router as oncall_calendar_router
from fireline.response.api import router as response_router
from fireline.response.playbooks.api import router as playbooks_router
from fireline.response.rules_api import router as rules_router
from fireline.web import routes as web


class Fireline(FastAPI):
    """FastAPI, with status-page reads answered before anything else.

    On an outage day the status page takes most of the traffic, and FastAPI's and Starlette's
    per-request work (its middleware stack, the request metrics middleware) costs several times
    what answering from the public cache does (bench/statuspage.py). So the public fast path
    sits in front of all of it, and passes everything else on."""

    public_fast_path: PublicFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.public_fast_path is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        await self.public_fast_path(scope, receive, send)


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, engine: Engine | None = None
) -> FastAPI:
    """The Fireline web application. Tests pass their own clock and engine."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    engine = engine or make_engine(settings.database_url, pool_size=settings.db_pool_size)
    app = Fireline(
        title="Fireline",
        version=__version__,
        description="Incident management: declare, respond, communicate, resolve and learn.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.clock = clock or SystemClock()
    app.state.metrics = Metrics()
    app.state.job_metrics = job_metrics.install(
        app.state.metrics.registry,
        # Looked up at each scrape: tests swap the session factory after create_app.
        open_session=lambda: app.state.session_factory(),  # noqa: PLW0108
        clock=app.state.clock,
    )
    app.state.job_worker = None  # the embedded worker's thread while the app serves (_lifespan)
    app.state.public_cache = PublicCache(
        open_session=lambda: app.state.session_factory(),  # noqa: PLW0108 (swapped by tests)
        clock=app.state.clock,
        base_url=settings.base_url,
        documents=PublicDocuments(),
    )
    problems.install(app)
    app.include_router(health.router)
    for router in (
        # First: routes are matched in order, and monitoring storms hit these the hardest.
        ingest_router,
        accounts_router,
        incidents_router,
        response_router,
        playbooks_router,
        catalog_router,
        audit_router,
        jobs_router,
        notify_router,
        rules_router,
        alerts_router,
        alerts_admin_router,
        oncall_router,
        oncall_calendar_router,
        comms_admin_router,
        publishing_router,
        subscribers_admin_router,
        stakeholders_router,
    ):
        app.include_router(router, responses=problems.PROBLEM_RESPONSES)
    for router in (subscribers_router, status_page_router):
        app.include_router(router)  # public: HTML and Statuspage-shaped JSON, not problem+json
    web.install(app)
    app.add_middleware(IngestFastPath)  # inside the request metrics and ids, ahead of the rest
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics)
    app.public_fast_path = PublicFastPath(partial(FastAPI.__call__, app), app.state.metrics)
    return app


def settle_heap() -> None:
    """Put everything alive once the application is built beyond the garbage collector's reach.

    The modules, routes, templates and ORM mappings built at start-up live as long as the
    process; left in the collector's oldest generation they made each full collection scan them
    all, a 110-160 ms pause in the middle of a request every few hundred page views
    (bench/web.py). Frozen, a full collection only looks at what requests left behind."""
    gc.collect()
    gc.freeze()


def _shares_one_connection(session_factory: sessionmaker[Session]) -> bool:
    """Whether every session is bound to one connection (the tests' rolled-back transaction),
    which a background thread must not use alongside the requests."""
    return isinstance(session_factory.kw.get("bind"), Connection)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Embedded mode: the job worker runs in a thread of the web process while it serves."""
    settings: Settings = app.state.settings
    if settings.embedded_worker:
        worker = Worker(
            # Read here, not in create_app: tests may swap the session factory after creating.
            app.state.session_factory,
            clock=app.state.clock,
            handlers=default_handlers(settings),
            periodic=upkeep(settings),
            metrics=app.state.job_metrics,
            worker_id=f"{socket.gethostname()}:{os.getpid()}:web",
        )
        app.state.job_worker = WorkerThread(worker)
        app.state.job_worker.start()
    if not _shares_one_connection(app.state.session_factory):
        app.state.public_cache.start()  # polls page versions in a thread (comms/cache.py)
    try:
        yield
    finally:
        app.state.public_cache.stop()
        if app.state.job_worker is not None:
            await run_in_threadpool(app.state.job_worker.stop)
            app.state.job_worker = None
