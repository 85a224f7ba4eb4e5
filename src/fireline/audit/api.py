"""Reading the audit log (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from fireline.accounts.service import MAX_ID
from fireline.api.deps import AuditReader, DbSession
from fireline.api.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    decode_id_cursor,
    encode_id_cursor,
)
from fireline.audit.service import list_records

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor_id: int | None
    actor: str
    via: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


@router.get("/audit", response_model=Page[AuditRecordOut])
def read_audit_log(
    principal: AuditReader,
    db: DbSession,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    action: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[AuditRecordOut]:
    """Every write, newest first: who, what, when, and the state before and after."""
    records = list_records(
        db,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_id=actor_id,
        action=action,
        before_id=decode_id_cursor(cursor),
        limit=limit,
    )
    return Page(
        items=[AuditRecordOut.model_validate(item) for item in records],
        next_cursor=encode_id_cursor(records[-1].id) if len(records) == limit else None,
    )
