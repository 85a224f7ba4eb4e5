"""The public subscription pages: the subscribe form's answer, and the pages behind the links
in subscriber emails (confirm, choose components, unsubscribe).

The subscribe form sits on a cacheable public page, so it carries no CSRF token. What protects
it: a browser posting from another site sends an Origin (or Referer) that is not ours, and is
refused; each address and each client address may only ask a few times a minute; and however
often it is asked, an address gets at most one mail an hour (comms/subscribers.py).

A link in an email only shows a page with a button: pressing it (a POST) acts, so mail scanners
that fetch every link confirm and unsubscribe nobody. The unsubscribe URL also takes RFC 8058's
one-click POST (`List-Unsubscribe=One-Click`) from mail clients. The token in these URLs is the
subscriber's secret: the pages are never cached and send no Referer onwards.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.alerts.ratelimit import RateLimiter
from fireline.api.deps import AppClock, AppSettings, DbSession
from fireline.comms import subscribers
from fireline.errors import InvalidInput, NotFound
from fireline.models import StatusPage, Subscriber
from fireline.web.templating import page as render

router = APIRouter(include_in_schema=False)

# Subscribe requests a minute, with bursts up to that many; counted per web process.
PER_ADDRESS_PER_MINUTE = 3
PER_CLIENT_PER_MINUTE = 10

EmailField = Annotated[str, Form(max_length=320)]
ComponentsField = Annotated[list[str] | None, Form()]


@router.post("/status/subscribe", response_class=HTMLResponse)
def subscribe_default(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    clock: AppClock,
    email: EmailField = "",
    components: ComponentsField = None,
) -> HTMLResponse:
    """Subscribe to the default page (the form on /status)."""
    return _subscribe(request, db, settings.base_url, clock.now(), None, email, components)


@router.post("/status/{slug}/subscribe", response_class=HTMLResponse)
def subscribe(
    request: Request,
    slug: str,
    db: DbSession,
    settings: AppSettings,
    clock: AppClock,
    email: EmailField = "",
    components: ComponentsField = None,
) -> HTMLResponse:
    """Subscribe to the page `slug` (the form on /status/{slug})."""
    return _subscribe(request, db, settings.base_url, clock.now(), slug, email, components)


def _subscribe(
    request: Request,
    db: Session,
    base_url: str,
    now: datetime,
    slug: str | None,
    email: str,
    components: list[str] | None,
) -> HTMLResponse:
    try:
        status_page = (
            subscribers.default_page(db) if slug is None else subscribers.page_by_slug(db, slug)
        )
    except NotFound as missing:
        return _answer(request, "status/subscribe_result.html", {"problem": missing.detail}, 404)
    context: dict[str, Any] = {
        "status_page": status_page,
        "page_url": subscribers.page_url(base_url, status_page),
        "components": subscribers.page_components(db, status_page),
        "email": email,
        "selected": set(components or ()),
    }
    template = "status/subscribe_result.html"
    if not _same_origin(request, base_url):
        context["problem"] = "Please subscribe from the form on the status page."
        return _answer(request, template, context, 403)
    limiter = _limiter(request)
    client = request.client.host if request.client is not None else "unknown"
    if not limiter.allow(f"client:{client}", cost=1, per_minute=PER_CLIENT_PER_MINUTE, now=now):
        context["problem"] = "Too many requests from your network; please try again in a minute."
        return _answer(request, template, context, 429)
    address = email.strip().lower()
    if address and not limiter.allow(
        f"address:{address}", cost=1, per_minute=PER_ADDRESS_PER_MINUTE, now=now
    ):
        context["problem"] = "Too many requests for this address; please try again in a minute."
        return _answer(request, template, context, 429)
    try:
        subscribers.subscribe_email(
            db,
            actor=Actor(user_id=None, label=f"subscribe form ({client})", via="status page"),
            page=status_page,
            email=email,
            component_codes=components or [],
            now=now,
            base_url=base_url,
        )
    except InvalidInput as bad:
        context["errors"] = {problem.field: problem.message for problem in bad.errors}
        return _answer(request, template, context, 422)
    # The same answer whether the address was new, pending or long confirmed.
    context["sent_to"] = email.strip()
    return _answer(request, template, context, 200)


@router.get("/status/subscriptions/{token}/confirm", response_class=HTMLResponse)
def confirm_page(
    request: Request, token: str, db: DbSession, settings: AppSettings
) -> HTMLResponse:
    subscriber = subscribers.by_token(db, token)
    context = _about(db, settings.base_url, subscriber)
    if subscriber is None:
        return _answer(request, "status/subscribe_confirm.html", context, 404)
    context["can_act"] = subscriber.confirmed_at is None
    return _answer(request, "status/subscribe_confirm.html", context, 200)


@router.post("/status/subscriptions/{token}/confirm", response_class=HTMLResponse)
def confirm(
    request: Request, token: str, db: DbSession, settings: AppSettings, clock: AppClock
) -> HTMLResponse:
    subscriber = subscribers.by_token(db, token, for_update=True)
    context = _about(db, settings.base_url, subscriber)
    if subscriber is None:
        return _answer(request, "status/subscribe_confirm.html", context, 404)
    subscribers.confirm(db, subscriber=subscriber, now=clock.now())
    context["done"] = True
    return _answer(request, "status/subscribe_confirm.html", context, 200)


@router.get("/status/subscriptions/{token}/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(
    request: Request, token: str, db: DbSession, settings: AppSettings
) -> HTMLResponse:
    subscriber = subscribers.by_token(db, token)
    context = _about(db, settings.base_url, subscriber)
    context["can_act"] = subscriber is not None
    return _answer(request, "status/subscribe_unsubscribe.html", context, 200)


@router.post("/status/subscriptions/{token}/unsubscribe", response_class=HTMLResponse)
def unsubscribe(
    request: Request, token: str, db: DbSession, settings: AppSettings, clock: AppClock
) -> HTMLResponse:
    """The button's POST and RFC 8058's one-click POST alike. An unknown token answers the
    same: a mail client retrying a one-click unsubscribe must see it succeed."""
    subscriber = subscribers.by_token(db, token, for_update=True)
    context = _about(db, settings.base_url, subscriber)
    if subscriber is not None:
        subscribers.remove(db, subscriber=subscriber, now=clock.now())
    context["done"] = True
    return _answer(request, "status/subscribe_unsubscribe.html", context, 200)


@router.get("/status/subscriptions/{token}", response_class=HTMLResponse)
def manage_page(request: Request, token: str, db: DbSession, settings: AppSettings) -> HTMLResponse:
    subscriber = subscribers.by_token(db, token)
    context = _manage_context(db, settings.base_url, subscriber)
    return _answer(request, "status/subscribe_manage.html", context, _found(subscriber))


@router.post("/status/subscriptions/{token}", response_class=HTMLResponse)
def manage(
    request: Request,
    token: str,
    db: DbSession,
    settings: AppSettings,
    clock: AppClock,
    components: ComponentsField = None,
) -> HTMLResponse:
    subscriber = subscribers.by_token(db, token, for_update=True)
    if subscriber is None:
        context = _manage_context(db, settings.base_url, None)
        return _answer(request, "status/subscribe_manage.html", context, 404)
    try:
        subscribers.set_components(
            db, subscriber=subscriber, component_codes=components or [], now=clock.now()
        )
    except InvalidInput as bad:
        context = _manage_context(db, settings.base_url, subscriber)
        context["selected"] = set(components or ())
        context["errors"] = {problem.field: problem.message for problem in bad.errors}
        return _answer(request, "status/subscribe_manage.html", context, 422)
    context = _manage_context(db, settings.base_url, subscriber)
    context["saved"] = True
    return _answer(request, "status/subscribe_manage.html", context, 200)


def _about(db: Session, base_url: str, subscriber: Subscriber | None) -> dict[str, Any]:
    """What every link page shows: the subscriber and their page, if the token is known."""
    if subscriber is None:
        return {"subscriber": None}
    status_page = db.get_one(StatusPage, subscriber.page_id)
    return {
        "subscriber": subscriber,
        "status_page": status_page,
        "page_url": subscribers.page_url(base_url, status_page),
        "links": subscribers.links(base_url, subscriber),
    }


def _manage_context(db: Session, base_url: str, subscriber: Subscriber | None) -> dict[str, Any]:
    context = _about(db, base_url, subscriber)
    if subscriber is not None:
        context["components"] = subscribers.page_components(db, context["status_page"])
        context["selected"] = set(subscriber.component_codes)
    return context


def _found(subscriber: Subscriber | None) -> int:
    return 200 if subscriber is not None else 404


def _answer(request: Request, template: str, context: dict[str, Any], status: int) -> HTMLResponse:
    response = render(request, template, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _same_origin(request: Request, base_url: str) -> bool:
    """Whether the form was posted from one of our own pages. A request without Origin or
    Referer (an old browser, a privacy setting, curl) passes: the rate limits still hold."""
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return True
        origin = _origin_of(referer)
    return origin in {_origin_of(base_url), _origin_of(str(request.base_url))}


def _origin_of(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _limiter(request: Request) -> RateLimiter:
    """This process's subscribe limits, kept with the application (not in a module global,
    so each app, and each test's, starts afresh)."""
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "subscribe_limiter", None)
    if limiter is None:
        limiter = state.subscribe_limiter = RateLimiter()
    return limiter
