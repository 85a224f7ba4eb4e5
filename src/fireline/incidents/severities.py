"""The severity policy as stored: reading it and letting admins tune it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.errors import InvalidInput, NotFound
from fireline.models import Severity

POLICY_FIELDS = (
    "name",
    "description",
    "is_major",
    "paging",
    "first_update_minutes",
    "update_cadence_minutes",
    "exec_notice",
    "postmortem",
    "postmortem_meeting_business_days",
    "public_summary_hours",
    "monitoring_minutes",
)


def list_severities(session: Session) -> list[Severity]:
    return list(session.scalars(select(Severity).order_by(Severity.level)))


def get_by_key(session: Session, key: str) -> Severity:
    severity = session.scalar(select(Severity).where(Severity.key == key.upper()))
    if severity is None:
        raise NotFound(detail=f"No severity '{key}'; there are SEV1 to SEV4.")
    return severity


def _policy(severity: Severity) -> dict[str, Any]:
    return {name: getattr(severity, name) for name in POLICY_FIELDS}


def update_severity(
    session: Session, *, actor: Actor, now: datetime, severity: Severity, changes: dict[str, Any]
) -> Severity:
    """Apply an admin's edits; fields sent as null clear the clocks that may be empty."""
    before = _policy(severity)
    for name, value in changes.items():
        if value is None and name not in {
            "first_update_minutes",
            "update_cadence_minutes",
            "postmortem_meeting_business_days",
            "public_summary_hours",
        }:
            raise InvalidInput.on(name, "cannot be empty")
        setattr(severity, name, value)
    if severity.update_cadence_minutes is not None and severity.first_update_minutes is None:
        raise InvalidInput.on(
            "first_update_minutes", "an update cadence needs a first-update deadline too"
        )
    if _policy(severity) == before:
        return severity
    severity.updated_at = now
    record(
        session,
        actor=actor,
        action="severity.update",
        entity_type="severity",
        entity_id=severity.key,
        at=now,
        before=before,
        after=_policy(severity),
    )
    session.flush()
    return severity
