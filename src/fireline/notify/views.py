"""Settings pages for notifications: the shared channels rules notify (admins), each person's
own contact methods (everyone, viewers included: stakeholders choose how they are reached), and
the delivery log, where anyone sees what was sent to them and admins see everything."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.datastructures import FormData

from fireline.accounts.permissions import Permission
from fireline.accounts.service import MAX_ID, get_user
from fireline.api.deps import AppClock, AppSettings, DbSession
from fireline.errors import AppError, FieldProblem, InvalidInput, NotFound
from fireline.incidents.queries import get_severity, parse_reference
from fireline.models import Channel, ContactMethod, Delivery, DeliveryState, Transport
from fireline.notify import destinations
from fireline.notify.notice import Notice
from fireline.notify.schemas import (
    TEST_EVENT,
    ChannelCreate,
    ChannelOut,
    ChannelUpdate,
    ContactMethodCreate,
    ContactMethodUpdate,
    DeliveryOut,
    shown_target,
)
from fireline.notify.service import Occasion, notify_channel, notify_user
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    EVENT_NAMES,
    PostedForm,
    Refusal,
    RowId,
    all_or_nothing,
    all_ticked,
    confirm_page,
    is_ticked,
    optional_text,
    see_other,
    settings_page,
    text_of,
)

router = APIRouter(include_in_schema=False)
CHANNELS = "/settings/channels"
CONTACT = "/settings/contact"
DELIVERIES = "/settings/deliveries"
TRANSPORTS = [
    ("email", "Email"),
    ("webhook", "Webhook (signed JSON)"),
    ("slack", "Slack or Mattermost incoming webhook"),
]
SEVERITY_FLOORS = [(f"SEV{level}", f"SEV{level} or more severe") for level in range(1, 5)]
DELIVERIES_SHOWN = 50
NEW_METHOD = {"transport": "email", "target": "", "label": "", "events": [], "enabled": True}


def _test_notice(where: str) -> Notice:
    return Notice(
        event=TEST_EVENT,
        headline=f"Test notice from Fireline to {where}",
        body="If you can read this, Fireline can reach you here.",
    )


# --- channels ------------------------------------------------------------------------------------


def _channel_values(channel: Channel) -> dict[str, Any]:
    # A webhook or Slack URL is a credential: the form never echoes it, blank keeps it.
    target = channel.target if channel.transport == Transport.EMAIL.value else ""
    return {"target": target, "description": channel.description, "enabled": channel.enabled}


def _channels_page(
    request: Request, db: Session, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    context = {
        "current": CHANNELS,
        "channels": [ChannelOut.of(channel) for channel in destinations.list_channels(db)],
        "values": values,
        "transports": TRANSPORTS,
    }
    return settings_page(request, "settings/channels.html", context, refusal=refusal)


def _channel_page(
    request: Request,
    channel: Channel,
    values: dict[str, Any],
    *,
    refusal: Refusal | None = None,
    secret: str | None = None,
    status_code: int | None = None,
) -> Response:
    context = {
        "current": CHANNELS,
        "channel": channel,
        "shown_target": shown_target(channel.transport, channel.target),
        "values": values,
        "secret": secret,
    }
    return settings_page(
        request, "settings/channel.html", context, refusal=refusal, status_code=status_code
    )


@router.get(CHANNELS)
def channel_list(request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.NOTIFICATIONS_ADMIN)
    blank = {"name": "", "transport": "email", "target": "", "description": "", "enabled": True}
    return _channels_page(request, db, blank)


@router.post(CHANNELS)
def channel_create(
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """Add a channel. A webhook channel's signing secret is shown on the answer, and never
    again: the page after a redirect could not show it."""
    require(me, Permission.NOTIFICATIONS_ADMIN)
    values: dict[str, Any] = {
        name: text_of(form, name) for name in ("name", "transport", "target", "description")
    }
    values["enabled"] = is_ticked(form, "enabled")
    try:
        with all_or_nothing(db):
            body = ChannelCreate.model_validate(values)
            channel = destinations.add_channel(
                db,
                actor=me.actor,
                now=clock.now(),
                name=body.name,
                transport=body.transport,
                target=body.target,
                description=body.description,
                enabled=body.enabled,
                allow_private=settings.webhook_allow_private_targets,
            )
    except (AppError, ValidationError) as error:
        return _channels_page(request, db, values, Refusal.of(error))
    if channel.secret is None:
        return see_other(f"{CHANNELS}/{channel.name}", "created")
    values = _channel_values(channel)
    return _channel_page(request, channel, values, secret=channel.secret, status_code=201)


@router.get(CHANNELS + "/{name}")
def channel_form(name: str, request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.NOTIFICATIONS_ADMIN)
    channel = destinations.get_channel(db, name)
    return _channel_page(request, channel, _channel_values(channel))


@router.post(CHANNELS + "/{name}")
def channel_save(
    name: str,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    require(me, Permission.NOTIFICATIONS_ADMIN)
    channel = destinations.get_channel(db, name)
    values: dict[str, Any] = {
        "target": text_of(form, "target"),
        "description": text_of(form, "description"),
        "enabled": is_ticked(form, "enabled"),
    }
    sent = {field: value for field, value in values.items() if field != "target" or value}
    try:
        with all_or_nothing(db):
            changes = ChannelUpdate.model_validate(sent).model_dump(exclude_unset=True)
            destinations.update_channel(
                db,
                actor=me.actor,
                now=clock.now(),
                channel=channel,
                changes=changes,
                allow_private=settings.webhook_allow_private_targets,
            )
    except (AppError, ValidationError) as error:
        return _channel_page(request, channel, values, refusal=Refusal.of(error))
    return see_other(f"{CHANNELS}/{channel.name}", "saved")


@router.post(CHANNELS + "/{name}/test")
def channel_test(name: str, me: WebUser, db: DbSession, clock: AppClock) -> Response:
    """Queue a test notice to the channel; the delivery log shows how it went."""
    require(me, Permission.NOTIFICATIONS_ADMIN)
    channel = destinations.get_channel(db, name)
    now = clock.now()
    occasion = Occasion(
        reason=f"Test requested by {me.email}.", key=f"test:channel:{now.isoformat()}"
    )
    notify_channel(
        db, channel=channel, notice=_test_notice(channel.name), occasion=occasion, now=now
    )
    return see_other(f"{CHANNELS}/{channel.name}", "tested")


@router.post(CHANNELS + "/{name}/rotate")
def channel_rotate(
    name: str, request: Request, me: WebUser, db: DbSession, clock: AppClock
) -> Response:
    """A new signing secret, shown once; the old one stops working at once."""
    require(me, Permission.NOTIFICATIONS_ADMIN)
    channel = destinations.get_channel(db, name)
    try:
        with all_or_nothing(db):
            secret = destinations.rotate_secret(
                db, actor=me.actor, now=clock.now(), destination=channel
            )
    except AppError as error:
        return _channel_page(request, channel, _channel_values(channel), refusal=Refusal.of(error))
    return _channel_page(request, channel, _channel_values(channel), secret=secret)


@router.post(CHANNELS + "/{name}/delete")
def channel_delete(
    name: str, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Asks first; deletes once the confirmation page is submitted."""
    require(me, Permission.NOTIFICATIONS_ADMIN)
    channel = destinations.get_channel(db, name)
    if not is_ticked(form, "confirmed"):
        return confirm_page(
            request,
            heading=f"Delete channel {channel.name}?",
            question="Rules that notify it will log a skipped delivery instead. "
            "This cannot be undone.",
            action=f"{CHANNELS}/{channel.name}/delete",
            button="Delete channel",
            back=CHANNELS,
        )
    destinations.remove_channel(db, actor=me.actor, now=clock.now(), channel=channel)
    return see_other(CHANNELS, "deleted")


# --- my contact methods --------------------------------------------------------------------------


def _method_values(method: ContactMethod) -> dict[str, Any]:
    level = method.min_severity_level
    return {
        "target": method.target,
        "label": method.label,
        "events": list(method.events),
        "min_severity": None if level is None else f"SEV{level}",
        "enabled": method.enabled,
    }


def _posted_method(form: FormData) -> dict[str, Any]:
    return {
        "target": text_of(form, "target"),
        "label": text_of(form, "label"),
        "events": all_ticked(form, "events"),
        "min_severity": optional_text(form, "min_severity"),
        "enabled": is_ticked(form, "enabled"),
    }


def _level(db: Session, key: str | None) -> int | None:
    return None if key is None else get_severity(db, key, field="min_severity").level


def _contact_page(
    request: Request,
    db: Session,
    user_id: int,
    values: dict[str, Any],
    *,
    refusal: Refusal | None = None,
    secret: str | None = None,
    status_code: int | None = None,
) -> Response:
    context = {
        "current": CONTACT,
        "methods": destinations.list_contact_methods(db, get_user(db, user_id)),
        "values": values,
        "secret": secret,
        "transports": TRANSPORTS,
        "events": list(EVENT_NAMES.items()),
        "event_names": EVENT_NAMES,
        "floors": SEVERITY_FLOORS,
    }
    return settings_page(
        request, "settings/contact.html", context, refusal=refusal, status_code=status_code
    )


def _method_page(
    request: Request, method: ContactMethod, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    context = {
        "current": CONTACT,
        "method": method,
        "values": values,
        "events": list(EVENT_NAMES.items()),
        "floors": SEVERITY_FLOORS,
    }
    return settings_page(request, "settings/contact_edit.html", context, refusal=refusal)


@router.get(CONTACT)
def contact_list(request: Request, me: WebUser, db: DbSession) -> Response:
    """Your contact methods; without any, notices go to your account email."""
    return _contact_page(request, db, me.user_id, NEW_METHOD)


@router.post(CONTACT)
def contact_add(
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    values = {"transport": text_of(form, "transport"), **_posted_method(form)}
    user = get_user(db, me.user_id)
    try:
        with all_or_nothing(db):
            body = ContactMethodCreate.model_validate(values)
            method = destinations.add_contact_method(
                db,
                actor=me.actor,
                now=clock.now(),
                user=user,
                transport=body.transport,
                target=body.target,
                label=body.label,
                events=list(body.events),
                min_severity_level=_level(db, body.min_severity),
                enabled=body.enabled,
                allow_private=settings.webhook_allow_private_targets,
            )
    except (AppError, ValidationError) as error:
        return _contact_page(request, db, me.user_id, values, refusal=Refusal.of(error))
    if method.secret is None:
        return see_other(CONTACT, "created")
    return _contact_page(request, db, me.user_id, NEW_METHOD, secret=method.secret, status_code=201)


def _my_method(db: Session, user_id: int, method_id: int) -> ContactMethod:
    return destinations.get_contact_method(db, get_user(db, user_id), method_id)


@router.get(CONTACT + "/{method_id}")
def contact_form(method_id: RowId, request: Request, me: WebUser, db: DbSession) -> Response:
    method = _my_method(db, me.user_id, method_id)
    return _method_page(request, method, _method_values(method))


@router.post(CONTACT + "/{method_id}")
def contact_save(
    method_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    method = _my_method(db, me.user_id, method_id)
    values = _posted_method(form)
    try:
        with all_or_nothing(db):
            changes = ContactMethodUpdate.model_validate(values).model_dump(exclude_unset=True)
            changes["min_severity_level"] = _level(db, changes.pop("min_severity"))
            destinations.update_contact_method(
                db,
                actor=me.actor,
                now=clock.now(),
                method=method,
                changes=changes,
                allow_private=settings.webhook_allow_private_targets,
            )
    except (AppError, ValidationError) as error:
        return _method_page(request, method, values, Refusal.of(error))
    return see_other(CONTACT, "saved")


@router.post(CONTACT + "/{method_id}/test")
def contact_test(method_id: RowId, me: WebUser, db: DbSession, clock: AppClock) -> Response:
    """Send a test through this one method, whatever notices it is set to carry."""
    method = _my_method(db, me.user_id, method_id)
    now = clock.now()
    occasion = Occasion(
        reason=f"Test requested by {me.email}.", key=f"test:{method.id}:{now.isoformat()}"
    )
    notify_user(
        db,
        user=get_user(db, me.user_id),
        notice=_test_notice(method.label or method.transport),
        occasion=occasion,
        now=now,
        only=method,
    )
    return see_other(CONTACT, "tested")


@router.post(CONTACT + "/{method_id}/delete")
def contact_delete(
    method_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Asks first; removes once the confirmation page is submitted."""
    method = _my_method(db, me.user_id, method_id)
    if not is_ticked(form, "confirmed"):
        return confirm_page(
            request,
            heading=f"Remove {method.label or method.target}?",
            question="Fireline will stop sending notices there.",
            action=f"{CONTACT}/{method.id}/delete",
            button="Remove contact method",
            back=CONTACT,
        )
    destinations.remove_contact_method(db, actor=me.actor, now=clock.now(), method=method)
    return see_other(CONTACT, "deleted")


# --- the delivery log ----------------------------------------------------------------------------


@router.get(DELIVERIES)
def delivery_log(
    request: Request,
    me: WebUser,
    db: DbSession,
    state: str = "",
    incident: str = "",
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Notices newest first, each with every attempt; admins see all, others their own."""
    require(me, Permission.INCIDENTS_READ)
    query = (
        select(Delivery)
        .options(selectinload(Delivery.attempt_log))
        .order_by(Delivery.id.desc())
        .limit(DELIVERIES_SHOWN)
    )
    everyone = me.can(Permission.NOTIFICATIONS_ADMIN)
    if not everyone:
        query = query.where(Delivery.user_id == me.user_id)
    problems: list[FieldProblem] = []
    if state and state not in {known.value for known in DeliveryState}:
        problems.append(FieldProblem("state", "choose a state from the list"))
    elif state:
        query = query.where(Delivery.state == state)
    if incident:
        try:
            query = query.where(Delivery.incident_id == parse_reference(incident))
        except NotFound:
            problems.append(FieldProblem("incident", "use a number or reference, e.g. INC-42"))
    if before is not None:
        query = query.where(Delivery.id < before)
    refusal = None
    deliveries: list[Delivery] = []
    if problems:
        refusal = Refusal.of(InvalidInput(detail="Check the filters.", errors=problems))
    else:
        deliveries = list(db.scalars(query))
    context = {
        "current": DELIVERIES,
        "deliveries": [DeliveryOut.of(delivery) for delivery in deliveries],
        "everyone": everyone,
        "filters": {"state": state, "incident": incident},
        "states": [(value.value, value.value.capitalize()) for value in DeliveryState],
        "older": deliveries[-1].id if len(deliveries) == DELIVERIES_SHOWN else None,
    }
    return settings_page(request, "settings/deliveries.html", context, refusal=refusal)
