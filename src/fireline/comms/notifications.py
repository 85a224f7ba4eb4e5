"""Telling subscribers: what the publishing code calls when something they follow changes.

Each call queues durable deliveries (one `notify.deliver` job per subscriber) in the caller's
transaction; nothing is sent before it commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fireline.models import Component, PublicIncident, PublicUpdate


def incident_updated(
    session: Session,
    *,
    public_incident: PublicIncident,
    update: PublicUpdate,
    now: datetime,
    base_url: str,
) -> None:
    """A public incident or maintenance was created or got an update."""


def component_changed(
    session: Session,
    *,
    component: Component,
    old_status: str,
    now: datetime,
    base_url: str,
) -> None:
    """A component's status changed (on its own, or by an update)."""


def maintenance_reminder(
    session: Session, *, maintenance: PublicIncident, now: datetime, base_url: str
) -> None:
    """A scheduled maintenance starts soon (its remind_minutes before scheduled_for)."""
