"""JSON routes for notifications: contact methods, channels, and the delivery log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.accounts.service import find_user
from fireline.api.deps import (
    AppClock,
    AppSettings,
    CurrentPrincipal,
    DbSession,
    IncidentReader,
    NotificationsAdmin,
)
from fireline.api.pagination import Page, decode_id_cursor, encode_id_cursor
from fireline.api.responses import json_response
from fireline.errors import Forbidden, InvalidInput, NotFound
from fireline.incidents.queries import get_severity, parse_reference
from fireline.models import Channel, ContactMethod, Delivery, DeliveryState, User
from fireline.notify import destinations
from fireline.notify.notice import Notice
from fireline.notify.schemas import (
    TEST_EVENT,
    ChannelCreate,
    ChannelCreated,
    ChannelOut,
    ChannelUpdate,
    ContactMethodCreate,
    ContactMethodCreated,
    ContactMethodOut,
    ContactMethodUpdate,
    DeliveryOut,
    SigningSecret,
)
from fireline.notify.service import Occasion, notify_channel, notify_user

router = APIRouter(prefix="/api/v1", tags=["notifications"])


def _owner(db: Session, principal: Principal, ref: str) -> User:
    """The user whose contact methods are asked for: `me`, yourself, or anyone for an admin."""
    if ref == "me":
        return find_user(db, str(principal.user_id))
    user = find_user(db, ref)
    if user.id != principal.user_id and not principal.can(Permission.USERS_ADMIN):
        raise Forbidden(detail="Only admins manage other people's contact methods.")
    return user


def _severity_level(db: Session, key: str | None) -> int | None:
    return None if key is None else get_severity(db, key, field="min_severity").level


@router.get("/users/{ref}/contact-methods", response_model=list[ContactMethodOut])
def list_contact_methods(ref: str, principal: CurrentPrincipal, db: DbSession) -> Response:
    """How a user is reached (`me` for yourself). Without any, notices go to their account
    email."""
    user = _owner(db, principal, ref)
    methods = destinations.list_contact_methods(db, user)
    return json_response([ContactMethodOut.of(method) for method in methods])


@router.post("/users/{ref}/contact-methods", status_code=201, response_model=ContactMethodCreated)
def add_contact_method(
    ref: str,
    body: ContactMethodCreate,
    principal: CurrentPrincipal,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Add a way to reach a user, with the notices it should carry. A webhook gets a signing
    secret, shown only in this answer."""
    user = _owner(db, principal, ref)
    method = destinations.add_contact_method(
        db,
        actor=principal.actor,
        now=clock.now(),
        user=user,
        transport=body.transport,
        target=body.target,
        label=body.label,
        events=list(body.events),
        min_severity_level=_severity_level(db, body.min_severity),
        enabled=body.enabled,
        allow_private=settings.webhook_allow_private_targets,
    )
    out = ContactMethodCreated(
        **ContactMethodOut.of(method).model_dump(), signing_secret=method.secret
    )
    return json_response(out, status_code=201)


def _method(db: Session, principal: Principal, ref: str, method_id: int) -> ContactMethod:
    return destinations.get_contact_method(db, _owner(db, principal, ref), method_id)


@router.patch("/users/{ref}/contact-methods/{method_id}", response_model=ContactMethodOut)
def update_contact_method(
    ref: str,
    method_id: int,
    body: ContactMethodUpdate,
    principal: CurrentPrincipal,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    method = _method(db, principal, ref, method_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    for name in ("target", "label", "events", "enabled"):
        if name in changes and changes[name] is None:
            raise InvalidInput.on(name, "cannot be null")
    if "min_severity" in changes:
        changes["min_severity_level"] = _severity_level(db, changes.pop("min_severity"))
    method = destinations.update_contact_method(
        db,
        actor=principal.actor,
        now=clock.now(),
        method=method,
        changes=changes,
        allow_private=settings.webhook_allow_private_targets,
    )
    return json_response(ContactMethodOut.of(method))


@router.delete("/users/{ref}/contact-methods/{method_id}", status_code=204)
def remove_contact_method(
    ref: str, method_id: int, principal: CurrentPrincipal, db: DbSession, clock: AppClock
) -> Response:
    method = _method(db, principal, ref, method_id)
    destinations.remove_contact_method(db, actor=principal.actor, now=clock.now(), method=method)
    return Response(status_code=204)


@router.post("/users/{ref}/contact-methods/{method_id}/rotate-secret", response_model=SigningSecret)
def rotate_contact_method_secret(
    ref: str, method_id: int, principal: CurrentPrincipal, db: DbSession, clock: AppClock
) -> Response:
    """A new signing secret for a webhook contact method; the old one stops working now."""
    method = _method(db, principal, ref, method_id)
    secret = destinations.rotate_secret(
        db, actor=principal.actor, now=clock.now(), destination=method
    )
    return json_response(SigningSecret(signing_secret=secret))


def _test_notice(where: str) -> Notice:
    return Notice(
        event=TEST_EVENT,
        headline=f"Test notice from Fireline to {where}",
        body="If you can read this, Fireline can reach you here.",
    )


@router.post(
    "/users/{ref}/contact-methods/{method_id}/test",
    status_code=202,
    response_model=list[DeliveryOut],
)
def test_contact_method(
    ref: str, method_id: int, principal: CurrentPrincipal, db: DbSession, clock: AppClock
) -> Response:
    """Send a test notice through this one contact method; follow it in the delivery log."""
    method = _method(db, principal, ref, method_id)
    now = clock.now()
    user = _owner(db, principal, ref)
    occasion = Occasion(
        reason=f"Test requested by {principal.email}.", key=f"test:{method.id}:{now.isoformat()}"
    )
    deliveries = notify_user(
        db,
        user=user,
        notice=_test_notice(method.label or method.transport),
        occasion=occasion,
        now=now,
        only=method,
    )
    return json_response([DeliveryOut.of(_loaded(db, d.id)) for d in deliveries], status_code=202)


@router.get("/channels", response_model=list[ChannelOut])
def list_channels(principal: NotificationsAdmin, db: DbSession) -> Response:
    """Shared destinations that automation rules notify by name."""
    return json_response([ChannelOut.of(channel) for channel in destinations.list_channels(db)])


@router.post("/channels", status_code=201, response_model=ChannelCreated)
def add_channel(
    body: ChannelCreate,
    principal: NotificationsAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Add a channel. A webhook channel gets a signing secret, shown only in this answer."""
    channel = destinations.add_channel(
        db,
        actor=principal.actor,
        now=clock.now(),
        name=body.name,
        transport=body.transport,
        target=body.target,
        description=body.description,
        enabled=body.enabled,
        allow_private=settings.webhook_allow_private_targets,
    )
    out = ChannelCreated(**ChannelOut.of(channel).model_dump(), signing_secret=channel.secret)
    return json_response(out, status_code=201)


@router.get("/channels/{name}", response_model=ChannelOut)
def get_channel(name: str, principal: NotificationsAdmin, db: DbSession) -> Response:
    return json_response(ChannelOut.of(destinations.get_channel(db, name)))


@router.patch("/channels/{name}", response_model=ChannelOut)
def update_channel(
    name: str,
    body: ChannelUpdate,
    principal: NotificationsAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    channel = destinations.get_channel(db, name)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    for field_name, value in changes.items():
        if value is None:
            raise InvalidInput.on(field_name, "cannot be null")
    channel = destinations.update_channel(
        db,
        actor=principal.actor,
        now=clock.now(),
        channel=channel,
        changes=changes,
        allow_private=settings.webhook_allow_private_targets,
    )
    return json_response(ChannelOut.of(channel))


@router.delete("/channels/{name}", status_code=204)
def remove_channel(
    name: str, principal: NotificationsAdmin, db: DbSession, clock: AppClock
) -> Response:
    channel = destinations.get_channel(db, name)
    destinations.remove_channel(db, actor=principal.actor, now=clock.now(), channel=channel)
    return Response(status_code=204)


@router.post("/channels/{name}/rotate-secret", response_model=SigningSecret)
def rotate_channel_secret(
    name: str, principal: NotificationsAdmin, db: DbSession, clock: AppClock
) -> Response:
    channel = destinations.get_channel(db, name)
    secret = destinations.rotate_secret(
        db, actor=principal.actor, now=clock.now(), destination=channel
    )
    return json_response(SigningSecret(signing_secret=secret))


@router.post("/channels/{name}/test", status_code=202, response_model=DeliveryOut)
def test_channel(
    name: str, principal: NotificationsAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Send a test notice to the channel; follow it in the delivery log."""
    channel: Channel = destinations.get_channel(db, name)
    now = clock.now()
    occasion = Occasion(
        reason=f"Test requested by {principal.email}.", key=f"test:channel:{now.isoformat()}"
    )
    delivery = notify_channel(
        db, channel=channel, notice=_test_notice(channel.name), occasion=occasion, now=now
    )
    return json_response(DeliveryOut.of(_loaded(db, delivery.id)), status_code=202)


def _loaded(db: Session, delivery_id: int) -> Delivery:
    delivery = db.scalars(
        select(Delivery)
        .where(Delivery.id == delivery_id)
        .options(selectinload(Delivery.attempt_log))
    ).first()
    if delivery is None:
        raise NotFound(detail=f"No delivery {delivery_id}.")
    return delivery


@router.get("/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    principal: IncidentReader,
    db: DbSession,
    incident: Annotated[str | None, Query(description="Reference or number: INC-42.")] = None,
    state: Annotated[DeliveryState | None, Query()] = None,
    user: Annotated[str | None, Query(description="Recipient's id or email.")] = None,
    event: Annotated[str | None, Query(max_length=60)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """The delivery log, newest first: every notice, where it went, and each attempt. Admins
    see every delivery; others see those sent to them."""
    query = (
        select(Delivery)
        .options(selectinload(Delivery.attempt_log))
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    if not principal.can(Permission.NOTIFICATIONS_ADMIN):
        query = query.where(Delivery.user_id == principal.user_id)
    if incident is not None:
        try:
            query = query.where(Delivery.incident_id == parse_reference(incident))
        except NotFound as error:
            raise InvalidInput.on("incident", "use a number or reference, e.g. INC-42") from error
    if state is not None:
        query = query.where(Delivery.state == state.value)
    if user is not None:
        query = query.where(Delivery.user_id == find_user(db, user).id)
    if event is not None:
        query = query.where(Delivery.event == event)
    after = decode_id_cursor(cursor)
    if after is not None:
        query = query.where(Delivery.id < after)
    deliveries = list(db.scalars(query))
    more = len(deliveries) == limit
    return json_response(
        Page(
            items=[DeliveryOut.of(delivery) for delivery in deliveries],
            next_cursor=encode_id_cursor(deliveries[-1].id) if more else None,
        )
    )


@router.get("/deliveries/{delivery_id}", response_model=DeliveryOut)
def get_delivery(delivery_id: int, principal: IncidentReader, db: DbSession) -> Response:
    delivery = _loaded(db, delivery_id)
    if delivery.user_id != principal.user_id and not principal.can(Permission.NOTIFICATIONS_ADMIN):
        raise NotFound(detail=f"No delivery {delivery_id}.")
    return json_response(DeliveryOut.of(delivery))
