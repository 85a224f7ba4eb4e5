"""Sending notices: who gets one, over which of their contact methods, and the delivery log.

A notice becomes one Delivery row per destination, rendered for its transport when it is
queued, and one `notify.deliver` job per delivery that sends it after the commit. Asking twice
for the same delivery (a retried automation job) finds the first by its dedupe key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.jobs.queue import enqueue
from fireline.models import (
    Audience,
    Channel,
    ContactMethod,
    Delivery,
    DeliveryState,
    Incident,
    Team,
    TeamMember,
    Transport,
    User,
)
from fireline.notify.notice import IncidentRef, Notice
from fireline.notify.render import render

DELIVER_JOB = "notify.deliver"
DELIVERY_ATTEMPTS = 8  # about an hour and a half of backoff before a delivery is given up


@dataclass(frozen=True)
class Occasion:
    """Why a notice is sent: the text logged with each delivery, the incident it is about (its
    severity filters contact methods), and the key naming this one sending of it."""

    reason: str
    key: str
    incident: Incident | None = None


def incident_ref(incident: Incident, base_url: str) -> IncidentRef:
    """The incident as a notice shows it; its severity must be loaded."""
    return IncidentRef(
        reference=incident.reference,
        title=incident.title,
        severity=incident.severity.key,
        status=incident.status,
        url=f"{base_url.rstrip('/')}/incidents/{incident.reference}",
    )


def wants(method: ContactMethod, event: str, severity_level: int | None) -> bool:
    """Whether the user asked for notices of this event and severity on this method."""
    if not method.enabled or (method.events and event not in method.events):
        return False
    floor = method.min_severity_level
    return floor is None or severity_level is None or severity_level <= floor


def notify_user(
    session: Session,
    *,
    user: User,
    notice: Notice,
    occasion: Occasion,
    now: datetime,
    only: ContactMethod | None = None,
) -> list[Delivery]:
    """Queue the notice to each of the user's contact methods that wants it (or to `only` that
    one, whatever its preferences: a test). A user without any enabled contact method is
    reached at their account email; one whose methods all decline this kind of notice gets
    nothing, as they asked."""
    if not user.is_active:
        return [
            _skipped(
                session,
                notice,
                occasion=occasion,
                now=now,
                why=f"{user.email} is deactivated",
                user=user,
            )
        ]
    if only is not None:
        return [_to_method(session, notice, occasion=occasion, now=now, user=user, method=only)]
    methods = list(
        session.scalars(
            select(ContactMethod).where(ContactMethod.user_id == user.id).order_by(ContactMethod.id)
        )
    )
    level = occasion.incident.severity.level if occasion.incident is not None else None
    if not any(method.enabled for method in methods):
        return [
            _queue(
                session,
                notice=notice,
                occasion=occasion,
                now=now,
                transport=Transport.EMAIL,
                target=user.email,
                user=user,
                destination=f"user:{user.id}",
            )
        ]
    return [
        _to_method(session, notice, occasion=occasion, now=now, user=user, method=method)
        for method in methods
        if wants(method, notice.event, level)
    ]


def _to_method(
    session: Session,
    notice: Notice,
    *,
    occasion: Occasion,
    now: datetime,
    user: User,
    method: ContactMethod,
) -> Delivery:
    return _queue(
        session,
        notice=notice,
        occasion=occasion,
        now=now,
        transport=Transport(method.transport),
        target=method.target,
        user=user,
        contact_method=method,
        destination=f"method:{method.id}",
    )


def notify_users(
    session: Session, *, users: list[User], notice: Notice, occasion: Occasion, now: datetime
) -> list[Delivery]:
    """notify_user for each distinct user, in the order given."""
    seen: set[int] = set()
    deliveries: list[Delivery] = []
    for user in users:
        if user.id not in seen:
            seen.add(user.id)
            deliveries += notify_user(session, user=user, notice=notice, occasion=occasion, now=now)
    return deliveries


def team_members(session: Session, team: Team) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(TeamMember, TeamMember.user_id == User.id)
            .where(TeamMember.team_id == team.id)
            .order_by(User.id)
        )
    )


def notify_channel(
    session: Session, *, channel: Channel, notice: Notice, occasion: Occasion, now: datetime
) -> Delivery:
    """Queue the notice to a channel; a disabled channel is logged as skipped."""
    if not channel.enabled:
        return _skipped(
            session, notice, occasion=occasion, now=now, why=f"channel {channel.name} is disabled"
        )
    return _queue(
        session,
        notice=notice,
        occasion=occasion,
        now=now,
        transport=Transport(channel.transport),
        target=channel.target,
        channel=channel,
        destination=f"channel:{channel.id}",
    )


def skip(
    session: Session, *, notice: Notice, occasion: Occasion, now: datetime, why: str
) -> Delivery:
    """Log that a notice had nowhere to go (a vacant role, a missing channel), and why: the
    delivery log is where an admin looks for notices that never left."""
    return _skipped(session, notice, occasion=occasion, now=now, why=why)


def _skipped(
    session: Session,
    notice: Notice,
    *,
    occasion: Occasion,
    now: datetime,
    why: str,
    user: User | None = None,
) -> Delivery:
    key = f"{occasion.key}:skipped:{why}"[:300]
    existing = _existing(session, key)
    if existing is not None:
        return existing
    delivery = Delivery(
        event=notice.event,
        transport=None,
        target="",
        incident_id=occasion.incident.id if occasion.incident is not None else None,
        user_id=user.id if user is not None else None,
        message={"headline": notice.headline},
        reason=f"{occasion.reason} Not sent: {why}.",
        state=DeliveryState.SKIPPED.value,
        attempts=0,
        dedupe_key=key,
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def _queue(
    session: Session,
    *,
    notice: Notice,
    occasion: Occasion,
    now: datetime,
    transport: Transport,
    target: str,
    destination: str,
    user: User | None = None,
    contact_method: ContactMethod | None = None,
    channel: Channel | None = None,
) -> Delivery:
    key = f"{occasion.key}:{destination}"[:300]
    existing = _existing(session, key)
    if existing is not None:
        return existing
    delivery = Delivery(
        event=notice.event,
        transport=transport.value,
        target=target,
        incident_id=occasion.incident.id if occasion.incident is not None else None,
        user_id=user.id if user is not None else None,
        contact_method_id=contact_method.id if contact_method is not None else None,
        channel_id=channel.id if channel is not None else None,
        message=render(transport, notice),
        reason=occasion.reason,
        state=DeliveryState.PENDING.value,
        attempts=0,
        dedupe_key=key,
        created_at=now,
        updated_at=now,
    )
    return _pending(session, delivery, now)


def queue_message(
    session: Session,
    *,
    event: str,
    transport: Transport,
    target: str,
    message: dict[str, Any],
    reason: str,
    key: str,
    now: datetime,
    incident: Incident | None = None,
    audience: Audience | None = None,
) -> Delivery:
    """Queue a message rendered by the caller (an email with `subject`, `text`, `html` and
    optional `headers`; a webhook's JSON document) to one target, with one `notify.deliver`
    job, in the caller's transaction. Asking again with the same `key` returns the first
    delivery and queues nothing.

    Webhooks to a stakeholder `audience` are signed with its secret; those to status page
    subscribers are posted unsigned, as Statuspage's are."""
    key = key[:300]
    existing = _existing(session, key)
    if existing is not None:
        return existing
    delivery = Delivery(
        event=event,
        transport=transport.value,
        target=target,
        incident_id=incident.id if incident is not None else None,
        audience_id=audience.id if audience is not None else None,
        message=message,
        reason=reason,
        state=DeliveryState.PENDING.value,
        attempts=0,
        dedupe_key=key,
        created_at=now,
        updated_at=now,
    )
    return _pending(session, delivery, now)


def _pending(session: Session, delivery: Delivery, now: datetime) -> Delivery:
    """Add a pending delivery and the job that sends it."""
    session.add(delivery)
    session.flush()
    enqueue(
        session,
        kind=DELIVER_JOB,
        payload={"delivery_id": delivery.id},
        now=now,
        max_attempts=DELIVERY_ATTEMPTS,
    )
    return delivery


def _existing(session: Session, key: str) -> Delivery | None:
    return session.scalars(select(Delivery).where(Delivery.dedupe_key == key)).first()
