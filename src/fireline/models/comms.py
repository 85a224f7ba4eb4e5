"""Communications: status pages, their components, public incidents and maintenance, the updates
customers read, subscribers, and the internal audiences stakeholder updates go to.

Public objects carry a `code`, a random opaque id that the Statuspage-compatible JSON shows as
`id` (Statuspage clients treat ids as strings) and that public URLs use, so the internal row ids
and the number of incidents are not published.
"""

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


class ComponentStatus(StrEnum):
    """Statuspage's component statuses, best first."""

    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"


class PublicKind(StrEnum):
    INCIDENT = "incident"
    MAINTENANCE = "maintenance"


class PublicStatus(StrEnum):
    """A public incident's status (the first five) or a scheduled maintenance's (the last four)."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"


INCIDENT_STATUSES = (
    PublicStatus.INVESTIGATING,
    PublicStatus.IDENTIFIED,
    PublicStatus.MONITORING,
    PublicStatus.RESOLVED,
    PublicStatus.POSTMORTEM,
)
MAINTENANCE_STATUSES = (
    PublicStatus.SCHEDULED,
    PublicStatus.IN_PROGRESS,
    PublicStatus.VERIFYING,
    PublicStatus.COMPLETED,
)
# Statuses after which a public incident or maintenance no longer counts as unresolved.
ENDED_STATUSES = frozenset({PublicStatus.RESOLVED, PublicStatus.POSTMORTEM, PublicStatus.COMPLETED})


class Impact(StrEnum):
    """How bad a public incident is, Statuspage's `impact`; `maintenance` for maintenances."""

    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    MAINTENANCE = "maintenance"


class AudienceKind(StrEnum):
    EXECUTIVES = "executives"
    SUPPORT = "support"
    SALES = "sales"
    CUSTOM = "custom"


class SubscriberKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(value.value) for value in values)})"


class StatusPage(Base):
    """A public status page. Exactly one is the default, served at /status and /api/v2."""

    __tablename__ = "status_pages"
    __table_args__ = (
        Index(
            "uq_status_pages_one_default",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The product's own site (linked from the page header) and where readers get help.
    homepage_url: Mapped[str] = mapped_column(String(2000), default="")
    support_url: Mapped[str] = mapped_column(String(2000), default="")
    time_zone: Mapped[str] = mapped_column(String(60), default="Etc/UTC")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # Raised by every change a reader of the page can see; web processes compare it to decide
    # when to rebuild their cached copy of the page (comms/cache.py).
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ComponentGroup(Base):
    __tablename__ = "status_component_groups"
    __table_args__ = (Index("ix_status_component_groups_page", "page_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_pages.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    page: Mapped[StatusPage] = relationship(lazy="raise")


class Component(Base):
    """A part of the product as customers know it, optionally standing for a catalog service."""

    __tablename__ = "status_components"
    __table_args__ = (
        CheckConstraint(_one_of("status", ComponentStatus), name="status_known"),
        Index("ix_status_components_page", "page_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_pages.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_component_groups.id", ondelete="SET NULL"), index=True
    )
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(30), default=ComponentStatus.OPERATIONAL.value)
    showcase: Mapped[bool] = mapped_column(Boolean, default=True)  # shown with uptime bars
    only_show_if_degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    # Uptime is counted from here (Statuspage's start_date); days before it have no bar.
    started_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    page: Mapped[StatusPage] = relationship(lazy="raise")
    group: Mapped[ComponentGroup | None] = relationship(lazy="raise")
    service: Mapped[Service | None] = relationship(lazy="raise")


class ComponentStatusChange(Base):
    """Each status a component entered and when: the record uptime is computed from."""

    __tablename__ = "status_component_changes"
    __table_args__ = (
        CheckConstraint(_one_of("status", ComponentStatus), name="status_known"),
        Index("ix_status_component_changes_component", "component_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(
        ForeignKey("status_components.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime]
    public_incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("public_incidents.id", ondelete="SET NULL"), index=True
    )


public_incident_components = Table(
    "public_incident_components",
    Base.metadata,
    Column(
        "public_incident_id",
        ForeignKey("public_incidents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "component_id", ForeignKey("status_components.id", ondelete="CASCADE"), primary_key=True
    ),
    Index("ix_public_incident_components_component_id", "component_id"),
)


class PublicIncident(Base):
    """What customers are told about an incident or a scheduled maintenance, on one page.

    An incident is usually published from an internal incident (`incident_id`), with its own
    public name and words. A maintenance has a window (`scheduled_for` to `scheduled_until`);
    with `auto_transition` the worker moves it to in_progress at the start and completed at
    the end, and `remind_minutes` before the start subscribers get a reminder."""

    __tablename__ = "public_incidents"
    __table_args__ = (
        CheckConstraint(_one_of("kind", PublicKind), name="kind_known"),
        CheckConstraint(_one_of("status", PublicStatus), name="status_known"),
        CheckConstraint(_one_of("impact", Impact), name="impact_known"),
        Index("ix_public_incidents_page_status", "page_id", "status"),
        Index("ix_public_incidents_page_created", "page_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_pages.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    impact: Mapped[str] = mapped_column(String(20))
    # When impact began and ended as customers saw it (shown on the permalink and the history).
    started_at: Mapped[datetime]
    monitoring_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    scheduled_for: Mapped[datetime | None]
    scheduled_until: Mapped[datetime | None]
    auto_transition: Mapped[bool] = mapped_column(Boolean, default=True)
    remind_minutes: Mapped[int | None]
    reminded_at: Mapped[datetime | None]
    # The public post-incident report: apology, summary, impact, root_cause, what_was_done,
    # prevention (comms/reports.py); published on the page once report_published_at is set.
    report: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    report_published_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    page: Mapped[StatusPage] = relationship(lazy="raise")
    components: Mapped[list[Component]] = relationship(
        secondary=public_incident_components, lazy="raise", order_by=Component.position
    )
    updates: Mapped[list[PublicUpdate]] = relationship(
        back_populates="public_incident",
        lazy="raise",
        order_by="(PublicUpdate.display_at.desc(), PublicUpdate.id.desc())",
    )


class PublicUpdate(Base):
    """One update customers read, newest first on the page.

    `parts` keeps what it was composed from: current_impact, doing_now, users_should and
    next_update_at for an update; what_happened, started_at, ended_at and what_was_done for a
    closing update (`closing` true). `body` is the text as published. `affected_components` lists
    the component status changes it made: [{"code", "name", "old_status", "new_status"}]."""

    __tablename__ = "public_updates"
    __table_args__ = (
        CheckConstraint(_one_of("status", PublicStatus), name="status_known"),
        Index("ix_public_updates_incident", "public_incident_id", "display_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    public_incident_id: Mapped[int] = mapped_column(
        ForeignKey("public_incidents.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    parts: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    closing: Mapped[bool] = mapped_column(Boolean, default=False)
    affected_components: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    display_at: Mapped[datetime]
    # The internal timeline's public_update entry, which meets the incident's update clock.
    timeline_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("timeline_entries.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]

    public_incident: Mapped[PublicIncident] = relationship(back_populates="updates", lazy="raise")


class UpdateTemplate(Base):
    """A starting text for an update: public ones fill the four parts, internal ones the
    stakeholder update. Placeholders like {components} and {next_update} are filled in."""

    __tablename__ = "update_templates"
    __table_args__ = (CheckConstraint("audience IN ('public', 'internal')", name="audience_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    audience: Mapped[str] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(20))  # the public status it suits
    current_impact: Mapped[str] = mapped_column(Text, default="")
    doing_now: Mapped[str] = mapped_column(Text, default="")
    users_should: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Subscriber(Base):
    """Someone who asked to hear about a page: by email (after confirming) or by webhook.

    `token` is the secret in their confirm and unsubscribe links. `component_codes` narrows what
    they hear about to incidents affecting those components; empty means everything."""

    __tablename__ = "status_subscribers"
    __table_args__ = (
        CheckConstraint(_one_of("kind", SubscriberKind), name="kind_known"),
        Index("uq_status_subscribers_target", "page_id", "kind", "target", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_pages.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(2000))  # an address or a URL
    token: Mapped[str] = mapped_column(String(64), unique=True)
    component_codes: Mapped[list[str]] = mapped_column(JSONDocument)
    confirmed_at: Mapped[datetime | None]  # webhooks are confirmed when an admin adds them
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    page: Mapped[StatusPage] = relationship(lazy="raise")


class Audience(Base):
    """An internal group kept informed by stakeholder updates: executives, support, sales or a
    custom list. `recipients` is [{"transport": "email"|"webhook"|"slack", "target": ...}].
    Executives audiences receive the exec notice of a severity that requires one."""

    __tablename__ = "stakeholder_audiences"
    __table_args__ = (CheckConstraint(_one_of("kind", AudienceKind), name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    secret: Mapped[str | None] = mapped_column(String(200))  # signs its webhook deliveries
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
