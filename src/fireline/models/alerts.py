"""Alerts: the integrations they arrive by, dedup, routing, suppression, and change events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fireline.models.base import Base, JSONDocument
from fireline.models.catalog import Service


class IntegrationType(StrEnum):
    PAGERDUTY = "pagerduty"  # PagerDuty Events API v2: POST /v2/enqueue with the key as routing_key
    ALERTMANAGER = "alertmanager"  # Prometheus Alertmanager webhook, version 4
    GRAFANA = "grafana"  # Grafana alerting webhook contact point
    WEBHOOK = "webhook"  # any JSON, read through the integration's mapping


INTEGRATION_TYPES_SQL = "type IN ('pagerduty', 'alertmanager', 'grafana', 'webhook')"


class Integration(Base):
    """A door for a monitoring tool into one service; its secret key is in the URL or the body."""

    __tablename__ = "integrations"
    __table_args__ = (CheckConstraint(INTEGRATION_TYPES_SQL, name="type_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    # Kept readable: tools are configured with it, and the integrations page offers it to copy.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    # The generic webhook's mapping of JSON to alert fields (paths or templates); {} otherwise.
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    # Events accepted per minute for this key before 429; null means the server's default.
    rate_limit_per_minute: Mapped[int | None]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_event_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    service: Mapped[Service] = relationship(lazy="raise")


class AlertStatus(StrEnum):
    TRIGGERED = "triggered"  # firing, nobody has acknowledged: escalation runs
    ACKNOWLEDGED = "acknowledged"  # someone is on it: escalation stops
    RESOLVED = "resolved"  # by the source or a person; a new trigger opens a new alert
    SUPPRESSED = "suppressed"  # firing inside a maintenance window or silence: nobody is paged


OPEN_ALERT_SQL = "status != 'resolved'"


class Alert(Base):
    """One problem a monitoring tool reports, deduplicated by its key while it stays open."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('triggered', 'acknowledged', 'resolved', 'suppressed')",
            name="status_known",
        ),
        CheckConstraint(
            "severity IN ('critical', 'error', 'warning', 'info')", name="severity_known"
        ),
        # At most one open alert per key and integration: the dedup rule, kept by the database.
        Index(
            "uq_alerts_open_dedup_key",
            "integration_id",
            "dedup_key",
            unique=True,
            sqlite_where=text(OPEN_ALERT_SQL),
            postgresql_where=text(OPEN_ALERT_SQL),
        ),
        Index("ix_alerts_status_id", "status", "id"),
        Index("ix_alerts_service_id", "service_id", "id"),
        # Most alerts belong to no incident: index only those that do.
        Index(
            "ix_alerts_incident_id",
            "incident_id",
            sqlite_where=text("incident_id IS NOT NULL"),
            postgresql_where=text("incident_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL")
    )
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    dedup_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(1024), default="")
    component: Mapped[str | None] = mapped_column(String(1024))
    group: Mapped[str | None] = mapped_column(String(1024))
    class_: Mapped[str | None] = mapped_column("class", String(1024))
    labels: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    images: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    client: Mapped[str | None] = mapped_column(String(1024))
    client_url: Mapped[str | None] = mapped_column(String(2000))
    # When the problem began by the source's account (payload timestamp, startsAt), else arrival.
    started_at: Mapped[datetime]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    occurrences: Mapped[int] = mapped_column(default=1)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Why nobody was paged: the maintenance window or silence that matched.
    suppressed_by: Mapped[str | None] = mapped_column(String(300))
    escalation_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL")
    )
    escalation_level: Mapped[int] = mapped_column(default=0)  # 0: not paged yet
    escalation_round: Mapped[int] = mapped_column(default=0)  # how many times the policy restarted
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    service: Mapped[Service] = relationship(lazy="raise")
    integration: Mapped[Integration | None] = relationship(lazy="raise")


class AlertLogEntry(Base):
    """What happened to an alert: triggered, paged, escalated, acknowledged, resolved, linked."""

    __tablename__ = "alert_log"
    __table_args__ = (Index("ix_alert_log_alert", "alert_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    level: Mapped[int | None]
    occurred_at: Mapped[datetime]


class ChangeEvent(Base):
    """A change made to a service (a deploy, a flag flip): the first suspect when impact starts."""

    __tablename__ = "change_events"
    __table_args__ = (Index("ix_change_events_service_at", "service_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL")
    )
    summary: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str | None] = mapped_column(String(1024))
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime]


class RoutingRule(Base):
    """Where a matching alert goes: the first enabled rule (by position) whose conditions hold.

    Conditions are [{"field": "labels.team", "op": "equals", "value": "payments"}, ...], all of
    which must hold; what is null in the rule keeps the integration's own value."""

    __tablename__ = "routing_rules"
    __table_args__ = (
        CheckConstraint(
            "severity IS NULL OR severity IN ('critical', 'error', 'warning', 'info')",
            name="severity_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(index=True)
    # Only alerts arriving through this integration; null: every integration.
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), index=True
    )
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    severity: Mapped[str | None] = mapped_column(String(10))
    escalation_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL")
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


maintenance_window_services = Table(
    "maintenance_window_services",
    Base.metadata,
    Column(
        "window_id",
        ForeignKey("maintenance_windows.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_maintenance_window_services_service_id", "service_id"),
)


class MaintenanceWindow(Base):
    """Planned work on services: their alerts are recorded as suppressed and nobody is paged."""

    __tablename__ = "maintenance_windows"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_maintenance_windows_ends_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    services: Mapped[list[Service]] = relationship(
        secondary=maintenance_window_services, lazy="raise", order_by=Service.name
    )


class Silence(Base):
    """Alerts whose fields match are suppressed until it ends (a known noisy check, a test)."""

    __tablename__ = "silences"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_silences_ends_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment: Mapped[str] = mapped_column(Text)
    # The same condition shape as routing rules; all must hold.
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class DeclareRule(Base):
    """Declare an incident for an alert that matches (e.g. critical on a tier-1 service → SEV2)."""

    __tablename__ = "declare_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]
    # Conditions on the routed alert; besides alert fields, "service" (slug) and "service.tier".
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    severity: Mapped[str] = mapped_column(String(10))  # the incident's: SEV1..SEV4
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Heartbeat(Base):
    """A URL a job must call every `interval_minutes`; silence past the grace fires an alert."""

    __tablename__ = "heartbeats"
    __table_args__ = (
        CheckConstraint("interval_minutes BETWEEN 1 AND 10080", name="interval_range"),
        CheckConstraint("status IN ('new', 'up', 'down', 'paused')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(64), unique=True)
    interval_minutes: Mapped[int]
    grace_minutes: Mapped[int] = mapped_column(default=0)
    severity: Mapped[str] = mapped_column(String(10), default="critical")
    status: Mapped[str] = mapped_column(String(10), default="new")
    last_ping_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    service: Mapped[Service] = relationship(lazy="raise")
