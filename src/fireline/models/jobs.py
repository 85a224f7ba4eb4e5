"""Durable jobs: work that must happen after a commit and survive any process dying."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from fireline.models.base import Base


class JobState(StrEnum):
    PENDING = "pending"  # waiting for run_at
    RUNNING = "running"  # claimed by locked_by until locked_until
    SUCCEEDED = "succeeded"
    DEAD = "dead"  # out of attempts; an admin may retry it


# A dedupe key is unique only among jobs that have yet to finish, so a timer can be set again
# once it has fired.
ACTIVE_STATES_SQL = "state IN ('pending', 'running')"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'running', 'succeeded', 'dead')", name="state_known"),
        Index("ix_jobs_claim", "state", "run_at"),
        Index(
            "uq_jobs_active_dedupe_key",
            "dedupe_key",
            unique=True,
            sqlite_where=text(ACTIVE_STATES_SQL),
            postgresql_where=text(ACTIVE_STATES_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(20), default=JobState.PENDING.value)
    run_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    last_error: Mapped[str | None] = mapped_column(Text)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
