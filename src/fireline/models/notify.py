"""Notifications: where people and channels are reached, and the log of every delivery."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fireline.models.accounts import User
from fireline.models.base import Base, JSONDocument


class Transport(StrEnum):
    EMAIL = "email"  # an address; HTML and plain text over SMTP
    WEBHOOK = "webhook"  # a URL; JSON signed with X-Fireline-Signature
    SLACK = "slack"  # a Slack (or Mattermost) incoming-webhook URL; Block Kit


TRANSPORTS_SQL = "transport IN ('email', 'webhook', 'slack')"


class ContactMethod(Base):
    """One way to reach a user, with the notifications it should carry (their preferences)."""

    __tablename__ = "contact_methods"
    __table_args__ = (CheckConstraint(TRANSPORTS_SQL, name="transport_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    transport: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(2000))  # address or URL
    label: Mapped[str] = mapped_column(String(200), default="")
    # Which notification events it carries; empty means all of them.
    events: Mapped[list[str]] = mapped_column(JSONDocument)
    # Only incidents at least this severe (a level: 1 is SEV1); null means any.
    min_severity_level: Mapped[int | None]
    secret: Mapped[str | None] = mapped_column(String(200))  # webhook signing secret
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="raise")


class Channel(Base):
    """A shared destination that rules notify: a mailing list, a chat channel, a webhook."""

    __tablename__ = "channels"
    __table_args__ = (CheckConstraint(TRANSPORTS_SQL, name="transport_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    transport: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its first attempt
    RETRYING = "retrying"  # an attempt failed; another is scheduled
    DELIVERED = "delivered"
    FAILED = "failed"  # out of attempts
    SKIPPED = "skipped"  # nothing to send to (a vacant role, a missing channel); says why


class Delivery(Base):
    """One notification to one destination, and how sending it went."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(TRANSPORTS_SQL, name="transport_known"),
        CheckConstraint(
            "state IN ('pending', 'retrying', 'delivered', 'failed', 'skipped')",
            name="state_known",
        ),
        Index("ix_deliveries_incident_id", "incident_id", "id"),
        Index("ix_deliveries_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(60))
    transport: Mapped[str | None] = mapped_column(String(20))  # null when skipped
    target: Mapped[str] = mapped_column(String(2000))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    contact_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="SET NULL")
    )
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    # A stakeholder update's audience, whose secret signs its webhook deliveries.
    audience_id: Mapped[int | None] = mapped_column(
        ForeignKey("stakeholder_audiences.id", ondelete="SET NULL")
    )
    # What to send, rendered at enqueue time: subject, text, html, json payload.
    message: Mapped[dict[str, Any]]
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was sent (or skipped)
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="delivery", lazy="raise", order_by="DeliveryAttempt.number"
    )


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("uq_delivery_attempts_number", "delivery_id", "number", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    number: Mapped[int]
    at: Mapped[datetime]
    succeeded: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None]  # HTTP status, or SMTP reply code
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int]

    delivery: Mapped[Delivery] = relationship(back_populates="attempt_log", lazy="raise")
