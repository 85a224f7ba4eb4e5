"""Where notices go: each user's contact methods (with their preferences) and shared channels.

Targets are checked when they are saved: an email address must be one, a webhook or Slack URL
must be http(s) without credentials in it, and reach a private or loopback address only when
the admin has allowed that (FIRELINE_WEBHOOK_ALLOW_PRIVATE_TARGETS). Webhook destinations get
a signing secret, shown once when it is made or rotated."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.models import Channel, ContactMethod, Transport, User
from fireline.notify.targets import check_email, check_url


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def check_target(transport: Transport, target: str, *, allow_private: bool, field: str) -> str:
    """The target, normalised, or InvalidInput naming `field` and why it cannot be used."""
    try:
        if transport is Transport.EMAIL:
            return check_email(target)
        return check_url(target, allow_private=allow_private)
    except ValueError as error:
        raise InvalidInput.on(field, str(error)) from error


def _method_view(method: ContactMethod) -> dict[str, Any]:
    return {
        "transport": method.transport,
        "target": method.target,
        "label": method.label,
        "events": list(method.events),
        "min_severity_level": method.min_severity_level,
        "enabled": method.enabled,
    }


def list_contact_methods(session: Session, user: User) -> list[ContactMethod]:
    return list(
        session.scalars(
            select(ContactMethod).where(ContactMethod.user_id == user.id).order_by(ContactMethod.id)
        )
    )


def get_contact_method(session: Session, user: User, method_id: int) -> ContactMethod:
    method = session.get(ContactMethod, method_id)
    if method is None or method.user_id != user.id:
        raise NotFound(detail=f"{user.email} has no contact method {method_id}.")
    return method


def add_contact_method(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    user: User,
    transport: Transport,
    target: str,
    label: str,
    events: list[str],
    min_severity_level: int | None,
    enabled: bool,
    allow_private: bool,
) -> ContactMethod:
    method = ContactMethod(
        user_id=user.id,
        transport=transport.value,
        target=check_target(transport, target, allow_private=allow_private, field="target"),
        label=label,
        events=events,
        min_severity_level=min_severity_level,
        secret=new_secret() if transport is Transport.WEBHOOK else None,
        enabled=enabled,
        created_at=now,
        updated_at=now,
    )
    session.add(method)
    session.flush()
    record(
        session,
        actor=actor,
        action="contact_method.create",
        entity_type="user",
        entity_id=user.id,
        at=now,
        after={"id": method.id, **_method_view(method)},
    )
    return method


def update_contact_method(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    method: ContactMethod,
    changes: dict[str, Any],
    allow_private: bool,
) -> ContactMethod:
    """Change the given fields; the transport stays what it was."""
    before = _method_view(method)
    if "target" in changes:
        changes["target"] = check_target(
            Transport(method.transport),
            changes["target"],
            allow_private=allow_private,
            field="target",
        )
    for name, value in changes.items():
        setattr(method, name, value)
    method.updated_at = now
    record(
        session,
        actor=actor,
        action="contact_method.update",
        entity_type="user",
        entity_id=method.user_id,
        at=now,
        before={"id": method.id, **before},
        after={"id": method.id, **_method_view(method)},
    )
    session.flush()
    return method


def remove_contact_method(
    session: Session, *, actor: Actor, now: datetime, method: ContactMethod
) -> None:
    record(
        session,
        actor=actor,
        action="contact_method.delete",
        entity_type="user",
        entity_id=method.user_id,
        at=now,
        before={"id": method.id, **_method_view(method)},
    )
    session.delete(method)
    session.flush()


def rotate_secret(
    session: Session, *, actor: Actor, now: datetime, destination: ContactMethod | Channel
) -> str:
    """A new signing secret for a webhook destination; the old one stops working at once."""
    if destination.transport != Transport.WEBHOOK.value:
        raise Conflict(detail="Only webhook destinations sign what they send.")
    destination.secret = new_secret()
    destination.updated_at = now
    is_channel = isinstance(destination, Channel)
    record(
        session,
        actor=actor,
        action="channel.rotate_secret" if is_channel else "contact_method.rotate_secret",
        entity_type="channel" if is_channel else "user",
        entity_id=destination.name if isinstance(destination, Channel) else destination.user_id,
        at=now,
        after={"id": destination.id},
    )
    session.flush()
    return destination.secret


def _channel_view(channel: Channel) -> dict[str, Any]:
    return {
        "name": channel.name,
        "transport": channel.transport,
        "target": channel.target,
        "description": channel.description,
        "enabled": channel.enabled,
    }


def list_channels(session: Session) -> list[Channel]:
    return list(session.scalars(select(Channel).order_by(Channel.name)))


def find_channel(session: Session, name: str) -> Channel | None:
    return session.scalars(select(Channel).where(Channel.name == name.strip().lower())).first()


def get_channel(session: Session, name: str) -> Channel:
    channel = find_channel(session, name)
    if channel is None:
        raise NotFound(detail=f"No channel named {name}.")
    return channel


def add_channel(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    name: str,
    transport: Transport,
    target: str,
    description: str,
    enabled: bool,
    allow_private: bool,
) -> Channel:
    name = name.strip().lower()
    if find_channel(session, name) is not None:
        raise Conflict(detail=f"A channel named {name} exists already.")
    channel = Channel(
        name=name,
        transport=transport.value,
        target=check_target(transport, target, allow_private=allow_private, field="target"),
        secret=new_secret() if transport is Transport.WEBHOOK else None,
        description=description,
        enabled=enabled,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(channel)
    except IntegrityError as error:  # created by someone else since we looked
        raise Conflict(detail=f"A channel named {name} exists already.") from error
    record(
        session,
        actor=actor,
        action="channel.create",
        entity_type="channel",
        entity_id=name,
        at=now,
        after=_channel_view(channel),
    )
    return channel


def update_channel(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    channel: Channel,
    changes: dict[str, Any],
    allow_private: bool,
) -> Channel:
    before = _channel_view(channel)
    if "target" in changes:
        changes["target"] = check_target(
            Transport(channel.transport),
            changes["target"],
            allow_private=allow_private,
            field="target",
        )
    for name, value in changes.items():
        setattr(channel, name, value)
    channel.updated_at = now
    record(
        session,
        actor=actor,
        action="channel.update",
        entity_type="channel",
        entity_id=channel.name,
        at=now,
        before=before,
        after=_channel_view(channel),
    )
    session.flush()
    return channel


def remove_channel(session: Session, *, actor: Actor, now: datetime, channel: Channel) -> None:
    record(
        session,
        actor=actor,
        action="channel.delete",
        entity_type="channel",
        entity_id=channel.name,
        at=now,
        before=_channel_view(channel),
    )
    session.delete(channel)
    session.flush()
