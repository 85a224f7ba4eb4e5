"""Signing in and out of the web application."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from fireline.accounts import service as accounts
from fireline.api.deps import SESSION_COOKIE, AppClock, AppSettings, DbSession, session_ttl
from fireline.errors import NotAuthenticated
from fireline.web.deps import WebUser
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002
    return page(request, "login.html", {"next": _safe_next(next), "email": "", "error": None})


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    try:
        signed_in = accounts.sign_in(
            db,
            now=clock.now(),
            email=email,
            password=password,
            ttl=session_ttl(settings),
            user_agent=request.headers.get("user-agent", ""),
        )
    except NotAuthenticated as error:
        context = {"next": _safe_next(next), "email": email, "error": error.detail}
        return page(request, "login.html", context, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.secret,
        max_age=int(session_ttl(settings).total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return response


@router.post("/logout")
def logout(me: WebUser, db: DbSession, clock: AppClock) -> Response:
    if me.session_id is not None:
        accounts.sign_out(db, actor=me.actor, now=clock.now(), web_session_id=me.session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
