"""Playbook use cases (being built)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fireline.models import Incident, IncidentPlaybook


def attach_matching(
    session: Session, *, incident: Incident, now: datetime
) -> list[IncidentPlaybook]:
    """Attach every enabled playbook whose conditions the incident meets and that it lacks."""
    return []
