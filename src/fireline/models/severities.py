"""The severity policy: what each level means and the clocks it sets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fireline.models.base import Base


class Severity(Base):
    __tablename__ = "severities"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(10), unique=True)
    level: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    is_major: Mapped[bool] = mapped_column(Boolean)
    paging: Mapped[str] = mapped_column(String(200))
    first_update_minutes: Mapped[int | None]
    update_cadence_minutes: Mapped[int | None]
    exec_notice: Mapped[bool] = mapped_column(Boolean)
    postmortem: Mapped[str] = mapped_column(String(20))
    postmortem_meeting_business_days: Mapped[int | None]
    public_summary_hours: Mapped[int | None]
    monitoring_minutes: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
