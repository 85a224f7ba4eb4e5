"""The incident record: the incident itself, its services, roles and timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fireline.models.accounts import User
from fireline.models.base import Base
from fireline.models.catalog import Service
from fireline.models.severities import Severity

incident_services = Table(
    "incident_services",
    Base.metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_incident_services_service_id", "service_id"),
)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status_id", "status", "id"),
        Index("ix_incidents_declared_at", "declared_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    severity_id: Mapped[int] = mapped_column(ForeignKey("severities.id"), index=True)
    type: Mapped[str] = mapped_column(String(50), default="default")
    status: Mapped[str] = mapped_column(String(20))
    customer_impact: Mapped[str] = mapped_column(Text, default="")
    resolution_criteria: Mapped[str] = mapped_column(Text, default="")
    criteria_met: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_impact_ended: Mapped[bool] = mapped_column(Boolean, default=False)
    postmortem_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    postmortem_due_at: Mapped[datetime | None]
    monitoring_waiver_reason: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    war_room: Mapped[str] = mapped_column(String(120), index=True)
    impact_started_at: Mapped[datetime | None]
    detected_at: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
    declared_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    identified_at: Mapped[datetime | None]
    mitigated_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    severity: Mapped[Severity] = relationship(lazy="raise")
    services: Mapped[list[Service]] = relationship(
        secondary=incident_services, lazy="raise", order_by=Service.name
    )
    postmortem_owner: Mapped[User | None] = relationship(
        foreign_keys=[postmortem_owner_id], lazy="raise"
    )
    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="incident", lazy="raise", order_by="RoleAssignment.id"
    )

    @property
    def reference(self) -> str:
        return f"INC-{self.id}"


# Roles that one person holds at a time; subject-matter experts may be many.
SINGLE_HOLDER_ROLES = ("commander", "tech_lead", "comms_lead", "scribe")


class RoleAssignment(Base):
    """Who held which role when; ended_at is null while the role is held."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        Index(
            "uq_role_assignments_one_holder",
            "incident_id",
            "role",
            unique=True,
            sqlite_where=text("ended_at IS NULL AND role != 'sme'"),
            postgresql_where=text("ended_at IS NULL AND role != 'sme'"),
        ),
        Index("ix_role_assignments_incident_id", "incident_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime]
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    incident: Mapped[Incident] = relationship(back_populates="roles", lazy="raise")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")


class TimelineThread(Base):
    """A strand of the timeline: the command thread, or one per subsystem investigation."""

    __tablename__ = "timeline_threads"
    __table_args__ = (Index("uq_timeline_threads_name", "incident_id", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    is_command: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    incident: Mapped[Incident] = relationship(lazy="raise")


class TimelineEntry(Base):
    __tablename__ = "timeline_entries"
    __table_args__ = (Index("ix_timeline_entries_incident", "incident_id", "occurred_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("timeline_threads.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime]
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)

    author: Mapped[User | None] = relationship(lazy="raise")
    thread: Mapped[TimelineThread] = relationship(lazy="raise")
    incident: Mapped[Incident] = relationship(lazy="raise")
