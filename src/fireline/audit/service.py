"""Recording and reading the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.models import AuditRecord

ACTOR_MAX_LENGTH = 400  # the column's width; "name <email>" can be longer


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | str,
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one audit record in the caller's transaction: it lands only if the change does."""
    entry = AuditRecord(
        occurred_at=at,
        actor_id=actor.user_id,
        actor=actor.label[:ACTOR_MAX_LENGTH],
        via=actor.via,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
        request_id=actor.request_id,
    )
    session.add(entry)
    return entry


def list_records(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditRecord]:
    """Newest first; `before_id` continues a previous page."""
    query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    if entity_type:
        query = query.where(AuditRecord.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditRecord.entity_id == entity_id)
    if actor_id is not None:
        query = query.where(AuditRecord.actor_id == actor_id)
    if action:
        query = query.where(AuditRecord.action == action)
    if before_id is not None:
        query = query.where(AuditRecord.id < before_id)
    return list(session.scalars(query))
