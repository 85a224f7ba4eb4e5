"""One place that turns every error into RFC 9457 problem+json."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException

from fireline.errors import (
    AppError,
    Conflict,
    FieldProblem,
    InternalError,
    InvalidInput,
    NotAuthenticated,
    ServiceUnavailable,
)

PROBLEM_JSON = "application/problem+json"

log = structlog.get_logger()


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem_response(error: AppError, request: Request) -> ProblemResponse:
    headers = (
        {"WWW-Authenticate": 'Bearer realm="fireline"'}
        if isinstance(error, NotAuthenticated)
        else None
    )
    return ProblemResponse(
        error.problem(str(request.url.path)), status_code=error.status, headers=headers
    )


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        prefix, rest = parts[0], parts[1:]
        return ".".join(rest) if prefix == "body" and rest else ".".join([prefix, *rest])
    return ".".join(parts)


def _validation_problems(error: RequestValidationError) -> list[FieldProblem]:
    problems = []
    for item in error.errors():
        message = str(item.get("msg", "is not valid"))
        problems.append(FieldProblem(_field_name(tuple(item.get("loc", ()))) or "body", message))
    return problems


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, error: AppError) -> ProblemResponse:
        return problem_response(error, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> ProblemResponse:
        problems = _validation_problems(error)
        detail = "; ".join(f"{problem.field}: {problem.message}" for problem in problems)
        return problem_response(InvalidInput(detail=detail, errors=problems), request)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> ProblemResponse:
        problem = AppError(detail=str(error.detail))
        body = problem.problem(str(request.url.path))
        body.update(status=error.status_code, title=_title(error.status_code))
        body["type"] = f"/problems/http-{error.status_code}"
        return ProblemResponse(body, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, error: IntegrityError) -> ProblemResponse:
        log.warning("integrity_error", error=str(error.orig))
        detail = "The change conflicts with data stored at the same time; reload and try again."
        return problem_response(Conflict(detail=detail), request)

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, error: OperationalError) -> ProblemResponse:
        log.error("database_error", error=str(error.orig))
        detail = "The database is unavailable or busy; try again shortly."
        return problem_response(ServiceUnavailable(detail=detail), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> ProblemResponse:
        log.exception("unhandled_error", path=request.url.path)
        detail = "Something went wrong on our side; the error has been logged."
        return problem_response(InternalError(detail=detail), request)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
