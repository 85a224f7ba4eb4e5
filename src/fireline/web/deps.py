"""Who is signed in to the web application, and the CSRF check on what they send.

Pages use the same web session as the JSON API (the session cookie). A page asked for without
one redirects to the sign-in page and back; a form or htmx request must carry the session's
CSRF token, as the `csrf_token` form field or the X-CSRF-Token header."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from fireline.accounts import service as accounts
from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.api.deps import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, AppClock, DbSession
from fireline.errors import AppError, Forbidden, NotAuthenticated


class SignInRequired(AppError):
    """The page needs a signed-in person: answered with a redirect to the sign-in page."""

    status = 303
    title = "Sign in"
    slug = "sign-in"

    def __init__(self, next_url: str) -> None:
        super().__init__(detail="Sign in to continue.")
        self.next_url = next_url

    @property
    def location(self) -> str:
        return f"/login?next={quote(self.next_url, safe='/')}"


def _web_principal(request: Request, db: DbSession, clock: AppClock) -> Principal:
    cookie = request.cookies.get(SESSION_COOKIE)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not cookie:
        raise SignInRequired(target)
    try:
        principal, web_session = accounts.principal_from_session(db, secret=cookie, now=clock.now())
    except NotAuthenticated as error:
        raise SignInRequired(target) from error
    request.state.web_principal = principal
    request.state.csrf_token = web_session.csrf_token
    return principal


async def _checked(
    request: Request, principal: Annotated[Principal, Depends(_web_principal)]
) -> Principal:
    """The signed-in person, once a write has shown the session's CSRF token."""
    if request.method not in SAFE_METHODS:
        form = await request.form() if _is_form(request) else {}
        sent = request.headers.get(CSRF_HEADER) or str(form.get("csrf_token", ""))
        if sent != request.state.csrf_token:
            raise Forbidden(detail="This form has expired; reload the page and try again.")
    return principal


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


WebUser = Annotated[Principal, Depends(_checked)]


def require(principal: Principal, permission: Permission) -> None:
    """Forbidden, with a message for a person, unless they may do this."""
    if not principal.can(permission):
        raise Forbidden(detail="Your role does not allow this; ask an admin.")
