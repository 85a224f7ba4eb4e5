"""Liveness, readiness and metrics endpoints for load balancers and Prometheus."""

from __future__ import annotations

import structlog
from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from fireline.migrate import head_revision

router = APIRouter(tags=["health"])
log = structlog.get_logger()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


class Readiness(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: str
    database: str


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Database unreachable or not migrated."}},
)
def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers and has every migration applied."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    try:
        with factory() as session:
            session.execute(text("SELECT 1"))
            revision = MigrationContext.configure(session.connection()).get_current_revision()
    except SQLAlchemyError as error:
        # The reason goes to the log, not to unauthenticated callers (it names hosts and ports).
        log.warning("readiness_database_error", error=str(error)[:500])
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    head = head_revision()
    if revision != head:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "reachable",
                "migrations": "pending",
                "current": revision,
                "head": head,
            },
            status_code=503,
        )
    return JSONResponse(
        {"status": "ok", "database": "reachable", "migrations": "current", "revision": revision}
    )


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus metrics of this process."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
