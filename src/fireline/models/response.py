"""Playbooks and automation rules: what the response engine does for the team, and when."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fireline.models.accounts import User
from fireline.models.base import Base, JSONDocument


class Playbook(Base):
    """A checklist, attached to incidents that match its conditions.

    `tasks` is a list of {title, phase, owner_role, due_minutes} (due_minutes after declaration,
    or null); `conditions` uses the rule conditions of fireline.response.conditions."""

    __tablename__ = "playbooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[dict[str, Any]]
    tasks: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class IncidentPlaybook(Base):
    """That a playbook was attached to an incident, when and why (its tasks are copied)."""

    __tablename__ = "incident_playbooks"
    __table_args__ = (
        Index("uq_incident_playbooks_pair", "incident_id", "playbook_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    playbook_id: Mapped[int] = mapped_column(ForeignKey("playbooks.id"), index=True)
    attached_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")

    playbook: Mapped[Playbook] = relationship(lazy="raise")


class IncidentTask(Base):
    """One checklist item on an incident, from a playbook or added by hand."""

    __tablename__ = "incident_tasks"
    __table_args__ = (Index("ix_incident_tasks_incident_id", "incident_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    playbook_id: Mapped[int | None] = mapped_column(ForeignKey("playbooks.id"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    phase: Mapped[str] = mapped_column(String(100), default="")
    owner_role: Mapped[str | None] = mapped_column(String(20))
    due_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    done_by: Mapped[User | None] = relationship(lazy="raise")


class AutomationRule(Base):
    """When one of `triggers` happens to an incident matching `conditions`, run `actions` (after
    `delay_seconds`; at most once per incident when `once_per_incident`)."""

    __tablename__ = "automation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    triggers: Mapped[list[str]] = mapped_column(JSONDocument)
    conditions: Mapped[dict[str, Any]]
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    delay_seconds: Mapped[int] = mapped_column(default=0)
    once_per_incident: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AutomationRun(Base):
    """A rule's run for one event on one incident; the unique key makes a run happen once."""

    __tablename__ = "automation_runs"
    __table_args__ = (Index("uq_automation_runs_key", "rule_id", "run_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("automation_rules.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    run_key: Mapped[str] = mapped_column(String(300))
    trigger: Mapped[str] = mapped_column(String(40))
    ran_at: Mapped[datetime]
    outcome: Mapped[dict[str, Any]]


class Holiday(Base):
    """A day that is not a business day, for the clocks that count business days."""

    __tablename__ = "holidays"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
