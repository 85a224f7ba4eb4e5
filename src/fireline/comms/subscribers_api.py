"""JSON routes for a status page's subscribers: list (and CSV export), add, remove.

An email subscriber added here still confirms by the mailed link, as one from the public form
does: an admin cannot sign someone up to mail they never asked for. A webhook subscriber is
confirmed at once."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from fireline.api.deps import AppClock, AppSettings, DbSession, StatusPageAdmin
from fireline.api.idempotency import run_idempotent
from fireline.api.pagination import MAX_LIMIT, Page, decode_id_cursor, encode_id_cursor
from fireline.api.responses import json_response
from fireline.comms import subscribers
from fireline.models import Subscriber, SubscriberKind

router = APIRouter(prefix="/api/v1/status-pages/{slug}", tags=["status pages"])


class SubscriberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SubscriberKind
    target: str = Field(
        min_length=1, max_length=2000, description="The email address, or the webhook URL."
    )
    components: list[str] = Field(
        default_factory=list,
        max_length=500,
        description="Component codes to hear about; empty for everything.",
    )


class SubscriberOut(BaseModel):
    code: str
    kind: SubscriberKind
    target: str
    components: list[str]
    confirmed: bool
    confirmed_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, subscriber: Subscriber) -> SubscriberOut:
        return cls(
            code=subscriber.code,
            kind=SubscriberKind(subscriber.kind),
            target=subscriber.target,
            components=list(subscriber.component_codes),
            confirmed=subscriber.confirmed_at is not None,
            confirmed_at=subscriber.confirmed_at,
            created_at=subscriber.created_at,
        )


@router.get("/subscribers", response_model=Page[SubscriberOut])
def list_subscribers(
    slug: str,
    principal: StatusPageAdmin,
    db: DbSession,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Response:
    """The page's subscribers, oldest first, confirmed or not."""
    page = subscribers.page_by_slug(db, slug)
    found = subscribers.list_subscribers(
        db, page=page, after_id=decode_id_cursor(cursor), limit=limit + 1
    )
    more = len(found) > limit
    found = found[:limit]
    next_cursor = encode_id_cursor(found[-1].id) if more else None
    return json_response(
        Page[SubscriberOut](
            items=[SubscriberOut.of(subscriber) for subscriber in found], next_cursor=next_cursor
        )
    )


@router.get(
    "/subscribers.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Every subscriber, as CSV."}},
)
def export_subscribers(slug: str, principal: StatusPageAdmin, db: DbSession) -> Response:
    """Every subscriber of the page as CSV: code, kind, target, components, confirmed_at,
    created_at (components separated by spaces)."""
    page = subscribers.page_by_slug(db, slug)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "kind", "target", "components", "confirmed_at", "created_at"])
    for subscriber in subscribers.list_subscribers(db, page=page):
        writer.writerow(
            [
                subscriber.code,
                subscriber.kind,
                _cell(subscriber.target),
                " ".join(subscriber.component_codes),
                subscriber.confirmed_at.isoformat() if subscriber.confirmed_at else "",
                subscriber.created_at.isoformat(),
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{page.slug}-subscribers.csv"'},
    )


@router.post("/subscribers", status_code=201, response_model=SubscriberOut)
def add_subscriber(
    slug: str,
    body: SubscriberIn,
    request: Request,
    principal: StatusPageAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Add a subscriber. An email address is mailed a confirm link and hears nothing until it
    is followed (adding a known address mails it again, at most once an hour); a webhook is
    confirmed at once. Errors name `target` or `components`."""
    page = subscribers.page_by_slug(db, slug)
    now = clock.now()

    def create() -> dict[str, object]:
        if body.kind is SubscriberKind.EMAIL:
            subscriber = subscribers.subscribe_email(
                db,
                actor=principal.actor,
                page=page,
                email=body.target,
                component_codes=body.components,
                now=now,
                base_url=settings.base_url,
                field="target",
            )
        else:
            subscriber = subscribers.add_webhook(
                db,
                actor=principal.actor,
                page=page,
                url=body.target,
                component_codes=body.components,
                now=now,
                allow_private=settings.webhook_allow_private_targets,
            )
        return SubscriberOut.of(subscriber).model_dump(mode="json")

    return run_idempotent(
        db,
        principal=principal,
        key=idempotency_key,
        method="POST",
        path=request.url.path,
        payload=body.model_dump(mode="json"),
        now=now,
        create=create,
    )


@router.delete("/subscribers/{code}", status_code=204)
def remove_subscriber(
    slug: str, code: str, principal: StatusPageAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Remove a subscriber: nothing more is sent to it."""
    page = subscribers.page_by_slug(db, slug)
    subscriber = subscribers.by_code(db, page, code)
    subscribers.remove(db, subscriber=subscriber, now=clock.now(), actor=principal.actor)
    return Response(status_code=204)


def _cell(value: str) -> str:
    # A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
