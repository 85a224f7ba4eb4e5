"""Liveness, readiness and metrics endpoints for load balancers and Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from fireline.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers and has every migration applied."""
    engine: Engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(engine)
    except SQLAlchemyError as error:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "unreachable",
                "detail": str(error.orig or error)[:300],
            },
            status_code=503,
        )
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
