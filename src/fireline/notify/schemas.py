"""What the notification API takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from fireline.models import Channel, ContactMethod, Delivery, DeliveryAttempt, Transport

TEST_EVENT = "notify.test"
NotifyEvent = Literal[
    "incident.declared",
    "incident.severity_changed",
    "incident.status_changed",
    "incident.role_assigned",
    "obligation.due_soon",
    "obligation.missed",
    "task.overdue",
    "notify.test",
]

Target = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
SeverityKey = Annotated[str, StringConstraints(pattern=r"^[Ss][Ee][Vv][0-9]$")]


def _folded(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


ChannelName = Annotated[
    str,
    BeforeValidator(_folded),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$"),
]


def shown_target(transport: str | None, target: str) -> str:
    """A webhook's URL is a credential (a Slack URL is all it takes to post): show only where
    it points."""
    if transport in (Transport.WEBHOOK.value, Transport.SLACK.value):
        parts = urlsplit(target)
        return f"{parts.scheme}://{parts.netloc}/…" if parts.path not in ("", "/") else target
    return target


class ContactMethodCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transport: Transport
    target: Target = Field(description="An email address, or the webhook / Slack URL.")
    label: Label = ""
    events: list[NotifyEvent] = Field(
        default_factory=list, description="Notices this method carries; empty means all."
    )
    min_severity: SeverityKey | None = Field(
        default=None, description="Only incidents this severe or more (SEV2: SEV1 and SEV2)."
    )
    enabled: bool = True


class ContactMethodUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: Target | None = None
    label: Label | None = None
    events: list[NotifyEvent] | None = None
    min_severity: SeverityKey | None = None
    enabled: bool | None = None


class ContactMethodOut(BaseModel):
    id: int
    transport: Transport
    target: str
    label: str
    events: list[str]
    min_severity_level: int | None
    enabled: bool
    signs_requests: bool
    created_at: datetime

    @classmethod
    def of(cls, method: ContactMethod) -> ContactMethodOut:
        return cls(
            id=method.id,
            transport=Transport(method.transport),
            target=method.target,
            label=method.label,
            events=list(method.events),
            min_severity_level=method.min_severity_level,
            enabled=method.enabled,
            signs_requests=method.secret is not None,
            created_at=method.created_at,
        )


class SigningSecret(BaseModel):
    signing_secret: str = Field(
        description="Verifies X-Fireline-Signature; shown only now. Rotate to get a new one."
    )


class ContactMethodCreated(ContactMethodOut):
    signing_secret: str | None = Field(
        default=None, description="For webhooks: shown only now. Rotate to get a new one."
    )


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ChannelName = Field(description="Lower-case name rules refer to, e.g. `executives`.")
    transport: Transport
    target: Target
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    enabled: bool = True


class ChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: Target | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    enabled: bool | None = None


class ChannelOut(BaseModel):
    id: int
    name: str
    transport: Transport
    target: str
    description: str
    enabled: bool
    signs_requests: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, channel: Channel) -> ChannelOut:
        return cls(
            id=channel.id,
            name=channel.name,
            transport=Transport(channel.transport),
            target=shown_target(channel.transport, channel.target),
            description=channel.description,
            enabled=channel.enabled,
            signs_requests=channel.secret is not None,
            created_at=channel.created_at,
            updated_at=channel.updated_at,
        )


class ChannelCreated(ChannelOut):
    signing_secret: str | None = None


class AttemptOut(BaseModel):
    number: int
    at: datetime
    succeeded: bool
    status_code: int | None
    error: str | None
    duration_ms: int

    @classmethod
    def of(cls, attempt: DeliveryAttempt) -> AttemptOut:
        return cls(
            number=attempt.number,
            at=attempt.at,
            succeeded=attempt.succeeded,
            status_code=attempt.status_code,
            error=attempt.error,
            duration_ms=attempt.duration_ms,
        )


class DeliveryOut(BaseModel):
    """One notice to one destination, and every attempt to send it."""

    id: int
    event: str
    headline: str
    transport: Transport | None
    target: str
    incident: str | None = Field(description="Reference of the incident, e.g. INC-42.")
    user_id: int | None
    channel_id: int | None
    reason: str
    state: str
    attempts: int
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[AttemptOut]

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        message = delivery.message
        headline = str(
            message.get("headline") or message.get("subject") or message.get("text") or ""
        )
        return cls(
            id=delivery.id,
            event=delivery.event,
            headline=headline[:300],
            transport=Transport(delivery.transport) if delivery.transport else None,
            target=shown_target(delivery.transport, delivery.target),
            incident=f"INC-{delivery.incident_id}" if delivery.incident_id else None,
            user_id=delivery.user_id,
            channel_id=delivery.channel_id,
            reason=delivery.reason,
            state=delivery.state,
            attempts=delivery.attempts,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
            attempt_log=[AttemptOut.of(attempt) for attempt in delivery.attempt_log],
        )
