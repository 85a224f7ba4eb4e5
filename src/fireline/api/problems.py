"""One place that turns every error into RFC 9457 problem+json."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
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
from fireline.web.errors import error_page, is_page, render_error

PROBLEM_JSON = "application/problem+json"

log = structlog.get_logger()


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


class FieldProblemOut(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblemOut] | None = None


# Documented on every API route: 4XX and 5XX answers are problem+json.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "model": Problem,
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for code, description in (
        ("4XX", "The request cannot be served as sent: see `detail` and `errors`."),
        ("5XX", "Fireline or its database is unavailable."),
    )
}


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
        if item.get("type") == "json_invalid":
            # Its location is ("body", <character offset>): the body is what is wrong, not a field.
            reason = item.get("ctx", {}).get("error", "")
            position = item.get("loc", ("body", "?"))[-1]
            problems.append(
                FieldProblem("body", f"is not valid JSON ({reason} at character {position})")
            )
            continue
        problems.append(FieldProblem(_field_name(tuple(item.get("loc", ()))) or "body", message))
    return problems


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, error: AppError) -> Response:
        if is_page(request):
            return error_page(request, error)
        return problem_response(error, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        problems = _validation_problems(error)
        detail = "; ".join(f"{problem.field}: {problem.message}" for problem in problems)
        invalid = InvalidInput(detail=detail, errors=problems)
        if is_page(request):
            return error_page(request, invalid)
        return problem_response(invalid, request)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        if is_page(request):
            return render_error(
                request,
                title=_title(error.status_code),
                detail=_page_detail(error.status_code),
                status=error.status_code,
            )
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

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, error: DataError) -> ProblemResponse:
        # A value the database cannot hold: a NUL character in text (PostgreSQL), a number out of
        # range, text too long. The input is at fault, not the server, whatever route it took.
        log.warning("data_error", error=str(error.orig))
        detail = (
            "A value in the request cannot be stored: too long, out of range, "
            "or containing a NUL character."
        )
        return problem_response(InvalidInput(detail=detail), request)

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, error: OperationalError) -> ProblemResponse:
        log.error("database_error", error=str(error.orig))
        detail = "The database is unavailable or busy; try again shortly."
        return problem_response(ServiceUnavailable(detail=detail), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> ProblemResponse:  # noqa: ARG001
        # Starlette runs this handler outside every middleware, so the one that stamps responses
        # with the request id never sees this response: stamp it here, where it matters most.
        request_id = request.scope.get("state", {}).get("request_id")
        log.exception("unhandled_error", path=request.url.path, request_id=request_id)
        detail = "Something went wrong on our side; the error has been logged."
        response = problem_response(InternalError(detail=detail), request)
        if request_id:
            response.headers["X-Request-Id"] = request_id
        return response


def _page_detail(status: int) -> str:
    if status == 404:
        return "There is no such page. It may have moved, or the link may be mistyped."
    return "This request cannot be served."


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
