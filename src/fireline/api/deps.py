"""Annotated dependencies, so a route's signature says what it needs and who may call it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fireline.accounts import service as accounts
from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.clock import Clock
from fireline.config import Settings
from fireline.errors import Forbidden, NotAuthenticated

SESSION_COOKIE = "fireline_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# The dependencies below that do no I/O are `async def`: FastAPI runs those in the event loop
# instead of hopping to a worker thread for each one, which is most of a small request's cost.


def _finish(session: Session, *, succeeded: bool) -> None:
    try:
        if succeeded:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def _db_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: committed when the route returns, rolled back when it raises.

    Opening a session does no I/O (it connects on first use); finishing it does, in one thread hop.
    The finish is shielded from cancellation: a client that hangs up mid-request must not leave
    the session's connection checked out of the pool for good.
    """
    session: Session = request.app.state.session_factory()
    succeeded = False
    try:
        yield session
        succeeded = True
    finally:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_finish, session, succeeded=succeeded)


async def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# scope="function": commit before the response is sent, so a failed commit is the client's error.
DbSession = Annotated[Session, Depends(_db_session, scope="function")]
AppClock = Annotated[Clock, Depends(_clock)]
AppSettings = Annotated[Settings, Depends(_settings)]


def _principal(request: Request, db: DbSession, clock: AppClock) -> Principal:
    request_id = request.scope.get("state", {}).get("request_id")
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise NotAuthenticated(detail="Use 'Authorization: Bearer <token>'.")
        return accounts.principal_from_token(
            db, secret=credentials.strip(), now=clock.now(), request_id=request_id
        )
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal, web_session = accounts.principal_from_session(
            db, secret=cookie, now=clock.now(), request_id=request_id
        )
        if (
            request.method not in SAFE_METHODS
            and request.headers.get(CSRF_HEADER) != web_session.csrf_token
        ):
            raise Forbidden(detail="The X-CSRF-Token header is missing or does not match.")
        return principal
    raise NotAuthenticated(
        detail="Sign in, or send an API token as 'Authorization: Bearer <token>'."
    )


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


def requires(permission: Permission) -> Any:
    async def check(principal: CurrentPrincipal) -> Principal:
        principal.require(permission)
        return principal

    return Depends(check)


IncidentReader = Annotated[Principal, requires(Permission.INCIDENTS_READ)]
IncidentWriter = Annotated[Principal, requires(Permission.INCIDENTS_WRITE)]
CatalogReader = Annotated[Principal, requires(Permission.CATALOG_READ)]
CatalogWriter = Annotated[Principal, requires(Permission.CATALOG_WRITE)]
SeverityAdmin = Annotated[Principal, requires(Permission.SEVERITIES_WRITE)]
UserReader = Annotated[Principal, requires(Permission.USERS_READ)]
UserAdmin = Annotated[Principal, requires(Permission.USERS_ADMIN)]
AuditReader = Annotated[Principal, requires(Permission.AUDIT_READ)]
JobsAdmin = Annotated[Principal, requires(Permission.JOBS_ADMIN)]
PlaybookAdmin = Annotated[Principal, requires(Permission.PLAYBOOKS_ADMIN)]
NotificationsAdmin = Annotated[Principal, requires(Permission.NOTIFICATIONS_ADMIN)]
AutomationAdmin = Annotated[Principal, requires(Permission.AUTOMATION_ADMIN)]
AlertReader = Annotated[Principal, requires(Permission.ALERTS_READ)]
AlertWriter = Annotated[Principal, requires(Permission.ALERTS_WRITE)]
IntegrationsAdmin = Annotated[Principal, requires(Permission.INTEGRATIONS_ADMIN)]
OnCallReader = Annotated[Principal, requires(Permission.ONCALL_READ)]
OnCallWriter = Annotated[Principal, requires(Permission.ONCALL_WRITE)]
OnCallAdmin = Annotated[Principal, requires(Permission.ONCALL_ADMIN)]
StatusPageWriter = Annotated[Principal, requires(Permission.STATUSPAGE_WRITE)]
StatusPageAdmin = Annotated[Principal, requires(Permission.STATUSPAGE_ADMIN)]


def session_ttl(settings: Settings) -> timedelta:
    return timedelta(hours=settings.session_ttl_hours)
