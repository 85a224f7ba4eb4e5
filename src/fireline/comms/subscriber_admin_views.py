"""A status page's subscribers, for status page admins: who hears of what (by email once
confirmed, or by webhook), the form to add a webhook, and removal after a confirmation.

People subscribe their own email address on the public page (subscriber_views.py); an admin
adds webhooks, which are confirmed at once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fireline.accounts.permissions import Permission
from fireline.api.deps import AppClock, AppSettings, DbSession
from fireline.comms import components, pages, subscribers
from fireline.comms.views import PAGES, Code, PageSlug, notice_of, page_path, public_path, refusal
from fireline.errors import AppError
from fireline.models import StatusPage
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    PostedForm,
    Refusal,
    all_or_nothing,
    all_ticked,
    confirm_page,
    is_ticked,
    see_other,
    settings_page,
    text_of,
)

router = APIRouter(include_in_schema=False)
SUBSCRIBERS = PAGES + "/{slug}/subscribers"
EVERY = 500  # subscribers listed on one page; `after` shows the next ones
NEW: dict[str, Any] = {"target": "", "components": []}


def _list(
    request: Request,
    db: Session,
    page: StatusPage,
    values: dict[str, Any],
    refused: Refusal | None = None,
) -> Response:
    after = request.query_params.get("after", "")
    after_id = int(after) if after.isdigit() and len(after) < 18 else None
    shown = subscribers.list_subscribers(db, page=page, after_id=after_id, limit=EVERY + 1)
    listed = components.list_components(db, page)
    context = {
        "current": PAGES,
        "page": page,
        "public_path": public_path(page),
        "subscribers": shown[:EVERY],
        "next_after": shown[EVERY - 1].id if len(shown) > EVERY else None,
        "component_names": {c.code: c.name for c in listed},
        "components": [(c.code, c.name) for c in listed],
        "values": values,
        "can_admin": True,
        "notice": notice_of(request),
    }
    return settings_page(request, "statuspages/subscribers.html", context, refusal=refused)


@router.get(SUBSCRIBERS)
def subscriber_list(slug: PageSlug, request: Request, me: WebUser, db: DbSession) -> Response:
    """Who follows the page, what they follow, and whether they confirmed."""
    require(me, Permission.STATUSPAGE_ADMIN)
    return _list(request, db, pages.get_page(db, slug), NEW)


@router.post(SUBSCRIBERS)
def webhook_add(
    slug: PageSlug,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """A webhook that receives the page's incidents and component changes, Statuspage-shaped."""
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    values: dict[str, Any] = {
        "target": text_of(form, "target"),
        "components": all_ticked(form, "components"),
    }
    try:
        with all_or_nothing(db):
            subscriber = subscribers.add_webhook(
                db,
                actor=me.actor,
                page=page,
                url=values["target"],
                component_codes=values["components"],
                now=clock.now(),
                allow_private=settings.webhook_allow_private_targets,
            )
    except AppError as error:
        return _list(request, db, page, values, refusal(error, conflict_field="target"))
    return see_other(f"{page_path(page)}/subscribers", "created", f"subscriber-{subscriber.code}")


@router.post(SUBSCRIBERS + "/{code}/delete")
def subscriber_remove(
    slug: PageSlug,
    code: Code,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Asks first; then nothing more is sent to the subscriber."""
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    subscriber = subscribers.by_code(db, page, code)
    back = f"{page_path(page)}/subscribers"
    if not is_ticked(form, "confirmed"):
        return confirm_page(
            request,
            heading=f"Remove the subscriber {subscriber.target}?",
            question="Nothing more is sent to it. An email subscriber can subscribe again "
            "on the public page.",
            action=f"{back}/{subscriber.code}/delete",
            button="Remove subscriber",
            back=back,
        )
    subscribers.remove(db, subscriber=subscriber, now=clock.now(), actor=me.actor)
    return see_other(back, "removed")
