"""Changes before impact: what was deployed or reconfigured on an incident's services in the
hours before it began — the first suspects when a team asks "what changed?"."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.models import ChangeEvent, Incident

LOOKBACK = timedelta(hours=6)
LIMIT = 50


def changes_before_impact(
    session: Session, *, incident: Incident, now: datetime, lookback: timedelta = LOOKBACK
) -> list[ChangeEvent]:
    """Change events of the incident's services (which must be loaded) from `lookback` before
    its impact started (or, when that is unknown, before it was detected) until it was
    detected, newest first. A change after the impact began but before anyone noticed is as
    suspect as one just before."""
    service_ids = [service.id for service in incident.services]
    if not service_ids:
        return []
    detected = incident.detected_at or incident.reported_at or now
    began = incident.impact_started_at or detected
    return list(
        session.scalars(
            select(ChangeEvent)
            .where(
                ChangeEvent.service_id.in_(service_ids),
                ChangeEvent.occurred_at >= began - lookback,
                ChangeEvent.occurred_at <= detected,
            )
            .order_by(ChangeEvent.occurred_at.desc(), ChangeEvent.id.desc())
            .limit(LIMIT)
        )
    )
