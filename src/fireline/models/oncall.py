"""On-call: schedules of rotation layers and overrides, and escalation policies that page them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fireline.models.accounts import Team, User
from fireline.models.base import Base, JSONDocument


class Schedule(Base):
    """Who is on call when: rotation layers (higher priority on top) and overrides above them."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64))  # shown to people; each layer has its own
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    # The secret in the schedule's iCalendar feed URL; rotating it revokes old subscriptions.
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    team: Mapped[Team | None] = relationship(lazy="raise")
    layers: Mapped[list[ScheduleLayer]] = relationship(
        lazy="raise", order_by="ScheduleLayer.priority", cascade="all, delete-orphan"
    )


class ScheduleLayer(Base):
    """One rotation: members take turns in shifts of a fixed length, handing off at a local time."""

    __tablename__ = "schedule_layers"
    __table_args__ = (
        CheckConstraint("shift_length >= 1", name="shift_length_positive"),
        CheckConstraint("shift_unit IN ('hours', 'days', 'weeks')", name="shift_unit_known"),
        Index("uq_schedule_layers_priority", "schedule_id", "priority", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int]  # higher wins where layers overlap
    # User ids in rotation order; a user may appear more than once.
    members: Mapped[list[int]] = mapped_column(JSONDocument)
    shift_length: Mapped[int]
    shift_unit: Mapped[str] = mapped_column(String(10))
    # The first hand-off; its wall time in `timezone` is the hand-off time of every shift.
    rotation_start: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))
    # [{"weekday": 0-6 | null, "start_time": "HH:MM", "minutes": n}, ...]; empty: always on.
    restrictions: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    ends_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ScheduleOverride(Base):
    """Someone covers a stretch of a schedule in place of whoever the layers say."""

    __tablename__ = "schedule_overrides"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_schedule_overrides_window", "schedule_id", "ends_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="raise", foreign_keys=[user_id])


class EscalationPolicy(Base):
    """Who is paged for an alert, level by level, until someone acknowledges."""

    __tablename__ = "escalation_policies"
    __table_args__ = (CheckConstraint("repeat BETWEEN 0 AND 9", name="repeat_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    # How many more times the whole policy runs after its last level, while nobody acknowledges.
    repeat: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    levels: Mapped[list[EscalationLevel]] = relationship(
        lazy="raise", order_by="EscalationLevel.position", cascade="all, delete-orphan"
    )


class EscalationLevel(Base):
    """Targets paged together; after `delay_minutes` without acknowledgement the next level is."""

    __tablename__ = "escalation_levels"
    __table_args__ = (
        CheckConstraint("delay_minutes BETWEEN 1 AND 1440", name="delay_range"),
        Index("uq_escalation_levels_position", "policy_id", "position", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("escalation_policies.id", ondelete="CASCADE"))
    position: Mapped[int]  # 1 is paged first
    delay_minutes: Mapped[int]

    targets: Mapped[list[EscalationTarget]] = relationship(
        lazy="raise", order_by="EscalationTarget.id", cascade="all, delete-orphan"
    )


class EscalationTarget(Base):
    """A user, or whoever a schedule has on call at the moment the level is paged."""

    __tablename__ = "escalation_targets"
    __table_args__ = (
        CheckConstraint(
            "(user_id IS NULL) != (schedule_id IS NULL)", name="exactly_one_of_user_or_schedule"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level_id: Mapped[int] = mapped_column(
        ForeignKey("escalation_levels.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )


class RoleSchedule(Base):
    """An incident role filled by default from whoever a schedule has on call (e.g. commanders)."""

    __tablename__ = "role_schedules"

    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    updated_at: Mapped[datetime]
