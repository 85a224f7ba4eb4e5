"""An alert's log: what happened to it and when, shown on the alert and in its API.

What an alert was at its creation is read from the alert itself rather than written as log
rows: its arrival, and, when nobody was paged, why (a maintenance window or silence, or no
escalation policy). Under a monitoring storm that is two rows fewer to write per alert. Every
later change (each page, acknowledgement, resolution) is a stored row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.models import Alert, AlertLogEntry, Integration

NO_POLICY = "Nobody paged: no escalation policy for the service."


@dataclass(frozen=True)
class LogLine:
    kind: str
    message: str
    occurred_at: datetime
    user_id: int | None = None
    level: int | None = None


def log_event(
    session: Session,
    alert: Alert,
    now: datetime,
    kind: str,
    message: str,
    *,
    user_id: int | None = None,
    level: int | None = None,
) -> None:
    """Append to the alert's log (`paged`, `acknowledged`, `resolved`, …)."""
    session.add(
        AlertLogEntry(
            alert_id=alert.id,
            kind=kind,
            message=message,
            user_id=user_id,
            level=level,
            occurred_at=now,
        )
    )


def history_of(session: Session, alert: Alert) -> list[LogLine]:
    """The alert's whole log, oldest first: its arrival, then every stored entry."""
    source = session.get(Integration, alert.integration_id) if alert.integration_id else None
    lines = [
        LogLine(
            kind="triggered",
            message=f"Triggered by {source.name if source else 'a heartbeat'}: {alert.summary}",
            occurred_at=alert.first_seen_at,
        )
    ]
    if alert.suppressed_by is not None:
        lines.append(
            LogLine(
                kind="suppressed",
                message=f"Nobody paged: {alert.suppressed_by}.",
                occurred_at=alert.first_seen_at,
            )
        )
    elif alert.escalation_policy_id is None:
        lines.append(LogLine(kind="unpaged", message=NO_POLICY, occurred_at=alert.first_seen_at))
    stored = session.scalars(
        select(AlertLogEntry).where(AlertLogEntry.alert_id == alert.id).order_by(AlertLogEntry.id)
    )
    lines.extend(
        LogLine(
            kind=entry.kind,
            message=entry.message,
            occurred_at=entry.occurred_at,
            user_id=entry.user_id,
            level=entry.level,
        )
        for entry in stored
    )
    return lines
