"""Where monitoring tools send alerts: PagerDuty Events API v2, Alertmanager, Grafana, any JSON.

An event answered with 2xx is stored: it is committed before the answer, in a batch with other
requests' events (see `fireline.alerts.batcher`). The PagerDuty-compatible routes answer in
PagerDuty's own shapes (202 `{"status": "success", "message": "Event processed", "dedup_key":
…}`, 400 `{"status": "invalid event", "message": "Event object is invalid", "errors": […]}`, 429
when the key is over its rate limit) so its clients work unchanged; the others answer
problem+json on errors.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from fireline.alerts.batcher import (
    IntegrationDisabled,
    TooManyEvents,
    batcher_of,
    usable_integration,
)
from fireline.alerts.events import AlertEvent, InvalidEvent
from fireline.alerts.parsers import alertmanager, generic, grafana, pagerduty
from fireline.api.problems import problem_response
from fireline.db import transaction
from fireline.errors import AppError, FieldProblem, InvalidInput, NotFound
from fireline.models import ChangeEvent, Integration, IntegrationType

router = APIRouter(tags=["ingest"])

MAX_BODY_BYTES = 512 * 1024  # PagerDuty's limit for one event


class PayloadTooLarge(AppError):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"


async def _read_json(request: Request) -> Any:
    """The body as JSON, refusing one over MAX_BODY_BYTES before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(detail=f"The body is over {MAX_BODY_BYTES // 1024} KB.")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(detail=f"The body is over {MAX_BODY_BYTES // 1024} KB.")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidEvent([f"the body is not valid JSON: {error}"]) from None


# --- PagerDuty Events API v2 -----------------------------------------------------------------


def _pagerduty_error(
    status: int, status_text: str, message: str, errors: list[str]
) -> JSONResponse:
    return JSONResponse(
        {"status": status_text, "message": message, "errors": errors}, status_code=status
    )


async def _pagerduty(
    request: Request, handle: Callable[[Any], Awaitable[JSONResponse]]
) -> JSONResponse:
    try:
        body = await _read_json(request)
        return await handle(body)
    except InvalidEvent as invalid:
        return _pagerduty_error(400, "invalid event", "Event object is invalid", invalid.errors)
    except PayloadTooLarge as error:
        return _pagerduty_error(413, "invalid event", "Event object is too large", [error.detail])
    except TooManyEvents as error:
        return _pagerduty_error(429, "throttle event", error.detail, [])
    except (NotFound, IntegrationDisabled) as error:
        # PagerDuty answers an unknown routing key as an invalid event.
        return _pagerduty_error(400, "invalid event", "Event object is invalid", [error.detail])


class PagerDutyAccepted(BaseModel):
    status: str = Field(examples=["success"])
    message: str = Field(examples=["Event processed"])
    dedup_key: str | None = None


class PagerDutyRefused(BaseModel):
    status: str = Field(
        examples=["invalid event"], description="`invalid event` or `throttle event`"
    )
    message: str
    errors: list[str]


# PagerDuty's own answer shapes, which its clients parse; not problem+json.
PAGERDUTY_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": PagerDutyAccepted},
    **{
        code: {"model": PagerDutyRefused, "description": description}
        for code, description in (
            (400, "Invalid event, unknown or disabled routing key"),
            (413, "The event is over 512 KB"),
            (429, "The routing key is over its rate limit"),
        )
    },
}


@router.post(
    "/v2/enqueue",
    status_code=202,
    summary="PagerDuty Events API v2: send an event",
    responses=PAGERDUTY_RESPONSES,
)
async def enqueue_event(request: Request) -> JSONResponse:
    """Trigger, acknowledge or resolve an alert, as PagerDuty's Events API v2 does; the
    `routing_key` is a Fireline integration key (of any type)."""

    async def handle(body: Any) -> JSONResponse:
        routing_key, event = pagerduty.parse_event(body)
        accepted = await batcher_of(request.app.state).submit(
            routing_key, None, lambda _integration: [event]
        )
        return JSONResponse(
            {
                "status": "success",
                "message": "Event processed",
                "dedup_key": accepted.dedup_keys[0],
            },
            status_code=202,
        )

    return await _pagerduty(request, handle)


@router.post(
    "/v2/change/enqueue",
    status_code=202,
    summary="PagerDuty: send a change event",
    responses=PAGERDUTY_RESPONSES,
)
async def enqueue_change(request: Request) -> JSONResponse:
    """Record a change (a deploy, a configuration push) on the integration's service; incidents
    show the changes of the hours before their impact."""

    async def handle(body: Any) -> JSONResponse:
        return await run_in_threadpool(record_change, body)

    def record_change(body: Any) -> JSONResponse:
        routing_key, change = pagerduty.parse_change(body)
        now = request.app.state.clock.now()
        with transaction(request.app.state.session_factory) as session:
            integration = usable_integration(session, routing_key)
            session.add(
                ChangeEvent(
                    service_id=integration.service_id,
                    integration_id=integration.id,
                    summary=change.summary,
                    source=change.source,
                    details=change.details,
                    links=[{"href": link.href, "text": link.text} for link in change.links],
                    occurred_at=min(change.timestamp or now, now),
                    created_at=now,
                )
            )
            integration.last_event_at = now
        return JSONResponse(
            {"status": "success", "message": "Change event processed"}, status_code=202
        )

    return await _pagerduty(request, handle)


# --- Alertmanager, Grafana, generic JSON ------------------------------------------------------


async def _batch(
    request: Request,
    key: str,
    kind: IntegrationType,
    parse: Callable[[Integration, Any], Sequence[AlertEvent]],
) -> JSONResponse:
    try:
        body = await _read_json(request)
        accepted = await batcher_of(request.app.state).submit(
            key, kind, lambda integration: parse(integration, body), size=_size(body)
        )
    except InvalidEvent as invalid:
        raise _invalid(invalid.errors) from None
    return JSONResponse(
        {
            "status": "success",
            "alerts": len(accepted.dedup_keys),
            "created": accepted.created,
            "dedup_keys": accepted.dedup_keys,
        }
    )


def _size(body: Any) -> int:
    """How many events a batch body carries, roughly, before it is parsed."""
    alerts = body.get("alerts") if isinstance(body, dict) else body
    return len(alerts) if isinstance(alerts, list) else 1


def _invalid(errors: list[str]) -> InvalidInput:
    return InvalidInput(
        detail="The alerts could not be read: " + "; ".join(errors[:5]),
        errors=[FieldProblem("body", message) for message in errors],
    )


@router.post("/integrations/alertmanager/{key}", summary="Prometheus Alertmanager webhook")
async def alertmanager_webhook(key: str, request: Request) -> JSONResponse:
    """Alertmanager's webhook (version 4): one alert per entry of `alerts[]`, deduplicated by its
    fingerprint; resolved entries resolve; a repeated delivery changes nothing but the counts."""
    return await _batch(
        request,
        key,
        IntegrationType.ALERTMANAGER,
        lambda _integration, body: alertmanager.parse_webhook(body).events,
    )


@router.post("/integrations/grafana/{key}", summary="Grafana alerting webhook")
async def grafana_webhook(key: str, request: Request) -> JSONResponse:
    """Grafana's webhook contact point: Alertmanager-shaped, with dashboard and panel links."""
    return await _batch(
        request,
        key,
        IntegrationType.GRAFANA,
        lambda _integration, body: grafana.parse_webhook(body).events,
    )


@router.post("/integrations/webhook/{key}", summary="Any JSON, read through a mapping")
async def generic_webhook(key: str, request: Request) -> JSONResponse:
    """Any JSON body (an object, a list, or a list under the mapping's `items`), read through
    the integration's mapping of JSON paths or templates to summary, severity, key and status."""
    return await _batch(
        request,
        key,
        IntegrationType.WEBHOOK,
        lambda integration, body: generic.parse(body, mapping_of(integration)),
    )


def mapping_of(integration: Integration) -> generic.Mapping:
    """The integration's stored mapping, or the default one when it has none."""
    if not integration.mapping:
        return generic.DEFAULT_MAPPING
    return generic.Mapping.from_stored(integration.mapping)


# --- The fast path ------------------------------------------------------------------------------


class IngestFastPath:
    """Hands ingest requests straight to their route functions, ahead of routing.

    The application has hundreds of routes, matched in order, and a stack of middleware meant
    for people and API clients; a monitoring storm needs none of it. The same route functions
    answer (so the OpenAPI document describes what runs), their errors become the same
    problem+json, and every other request passes on untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.exact = {
            "/v2/enqueue": enqueue_event,
            "/v2/change/enqueue": enqueue_change,
        }
        self.keyed = {
            "alertmanager": alertmanager_webhook,
            "grafana": grafana_webhook,
            "webhook": generic_webhook,
        }
        self.routes = {
            route.endpoint: route for route in router.routes if isinstance(route, APIRoute)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        handle: Callable[[Request], Awaitable[JSONResponse]] | None = None
        endpoint: Callable[..., Awaitable[JSONResponse]] | None = self.exact.get(path)
        if endpoint is not None:
            handle = endpoint
        else:
            parts = path.split("/")
            # /integrations/<kind>/<key>
            if (
                len(parts) == 4
                and parts[1] == "integrations"
                and parts[2] in self.keyed
                and parts[3]
            ):
                endpoint = self.keyed[parts[2]]
                handle = functools.partial(endpoint, parts[3])
        if handle is None or endpoint is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.routes.get(endpoint)  # for the request metrics' route label
        request = Request(scope, receive)
        try:
            response: Response = await handle(request)
        except AppError as error:
            response = problem_response(error, request)
        await response(scope, receive, send)
