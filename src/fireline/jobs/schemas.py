"""What the jobs API returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from fireline.models import JobState


class JobOut(BaseModel):
    """A job as admins see it. The payload is left out: it may carry what a delivery needs
    (addresses, signed URLs) and says little about the job's health."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    state: JobState
    attempts: int
    max_attempts: int
    run_at: datetime
    last_error: str | None
    locked_by: str | None
    created_at: datetime
    finished_at: datetime | None
