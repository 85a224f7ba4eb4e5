"""Automation rules (being built)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fireline.models import Incident
from fireline.response.triggers import Event


def fire(session: Session, *, incident: Incident, event: Event, now: datetime) -> None:
    """Queue the enabled rules listening for `event` whose conditions the incident meets."""
