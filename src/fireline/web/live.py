"""Live updates for the incident page, by server-sent events.

The stream says only *that* the incident changed (`event: changed`); the page's sections then
re-fetch themselves over plain HTTP, so what a browser shows is always rendered by the same code
whether it arrived live or on reload, and a missed event costs nothing but a moment's delay.

Nothing in process memory is the source of truth: each check reads the incident's change token
from the database in a worker thread, with a session of its own that is closed before the stream
sleeps, so a thousand open pages hold no database connections between checks and any web
process can serve any page.

Each token seen goes out as the event's id, which a browser sends back as Last-Event-ID when it
reconnects (after a dropped connection or a server restart): nothing that changed in between is
missed, and nothing unchanged is announced again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from fireline.accounts.permissions import Permission
from fireline.api.deps import DbSession
from fireline.incidents.queries import get_incident
from fireline.incidents.views import INCIDENT, incident_version
from fireline.web.deps import WebUser, require

router = APIRouter(include_in_schema=False)

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0  # a comment now and then keeps proxies from closing an idle stream
RETRY_MILLISECONDS = 3000  # how long a browser waits before reconnecting a dropped stream

SessionFactory = Callable[[], Session]


def read_version(session_factory: SessionFactory, incident_id: int) -> str | None:
    """The incident's change token, read with a session of its own, closed before returning."""
    with session_factory() as session:
        return incident_version(session, incident_id)


async def changes(
    request: Request,
    session_factory: SessionFactory,
    incident_id: int,
    *,
    since: str = "",
    poll_seconds: float = POLL_SECONDS,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[str]:
    """The event stream: `changed` each time the incident's token differs from the last one
    seen, starting from `since` (the token the page was rendered with, or the last one this
    browser was sent), so a change made while the page loaded or the browser reconnected is
    not missed; a comment as a heartbeat when nothing has been sent for a while; the end when
    the client goes away or the incident no longer exists."""
    seen = since
    quiet_since = anyio.current_time()
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    while not await request.is_disconnected():
        version = await anyio.to_thread.run_sync(read_version, session_factory, incident_id)
        if version is None:
            yield "event: gone\ndata: the incident no longer exists\n\n"
            return
        if version != seen:
            # The id is what the browser reconnects from; sent alone, it dispatches no event.
            changed = f"event: changed\ndata: {version}\n" if seen else ""
            yield f"id: {version}\n{changed}\n"
            quiet_since = anyio.current_time()
        elif anyio.current_time() - quiet_since >= heartbeat_seconds:
            yield ": heartbeat\n\n"
            quiet_since = anyio.current_time()
        seen = version
        await anyio.sleep(poll_seconds)


@router.get(INCIDENT + "/events")
def incident_events(
    ref: str,
    request: Request,
    *,
    me: WebUser,
    db: DbSession,
    since: Annotated[str, Query(max_length=100)] = "",
    last_event_id: Annotated[str, Header(alias="Last-Event-ID", max_length=100)] = "",
) -> StreamingResponse:
    """A `text/event-stream` of the incident's changes, for anyone who may read it."""
    require(me, Permission.INCIDENTS_READ)
    incident_id = get_incident(db, ref).id  # a 404 page for an unknown incident, not a stream
    factory = request.app.state.session_factory
    stream = changes(request, factory, incident_id, since=last_event_id or since)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
