"""JSON routes for the job queue (admins): see what is waiting or dead, and retry dead jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from fireline.accounts.service import MAX_ID
from fireline.api.deps import AppClock, DbSession, JobsAdmin
from fireline.api.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    decode_id_cursor,
    encode_id_cursor,
)
from fireline.jobs import queue
from fireline.jobs.schemas import JobOut
from fireline.models import JobState

router = APIRouter(prefix="/api/v1", tags=["jobs"])

JobId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/jobs", response_model=Page[JobOut])
def list_jobs(
    principal: JobsAdmin,
    db: DbSession,
    state: JobState | None = None,
    kind: Annotated[str | None, Query(max_length=100)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[JobOut]:
    """Jobs newest first, optionally of one state (`dead` ones need attention) and kind."""
    jobs = queue.list_jobs(
        db, state=state, kind=kind, before_id=decode_id_cursor(cursor), limit=limit
    )
    return Page(
        items=[JobOut.model_validate(job) for job in jobs],
        next_cursor=encode_id_cursor(jobs[-1].id) if len(jobs) == limit else None,
    )


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: JobId, principal: JobsAdmin, db: DbSession) -> JobOut:
    return JobOut.model_validate(queue.get_job(db, job_id))


@router.post("/jobs/{job_id}/retry", response_model=JobOut)
def retry_job(job_id: JobId, principal: JobsAdmin, db: DbSession, clock: AppClock) -> JobOut:
    """Run a dead job again now, with its attempts reset. Any other state is a 409."""
    job = queue.retry_dead(db, job_id=job_id, now=clock.now(), actor=principal.actor)
    return JobOut.model_validate(job)
