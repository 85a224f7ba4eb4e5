"""The append-only audit log. Database triggers refuse updates and deletes of its rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fireline.models.base import Base


class AuditRecord(Base):
    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_entity", "entity_type", "entity_id"),
        Index("ix_audit_records_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    # No foreign key: the record must outlive whoever it names.
    actor_id: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(400))
    via: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    request_id: Mapped[str | None] = mapped_column(String(64))
