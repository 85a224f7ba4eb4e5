"""The job queue for admins: what is waiting to run, what gave up, and a retry button for the
jobs that gave up (a delivery whose receiver was down all night, say)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fireline.accounts.permissions import Permission
from fireline.api.deps import AppClock, DbSession
from fireline.errors import AppError
from fireline.jobs import queue
from fireline.models import JobState
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    Refusal,
    RowId,
    all_or_nothing,
    see_other,
    settings_page,
)

router = APIRouter(include_in_schema=False)
HOME = "/settings/jobs"
SHOWN = 100  # of each state: more than this many dead jobs is an outage, not a list to read


def _jobs_page(request: Request, db: DbSession, refusal: Refusal | None = None) -> Response:
    context = {
        "current": HOME,
        "dead": queue.list_jobs(db, state=JobState.DEAD, limit=SHOWN),
        "pending": queue.list_jobs(db, state=JobState.PENDING, limit=SHOWN),
        "shown": SHOWN,
    }
    return settings_page(request, "settings/jobs.html", context, refusal=refusal)


@router.get(HOME)
def job_list(request: Request, me: WebUser, db: DbSession) -> Response:
    """Dead jobs first (they need someone), then those waiting, newest first."""
    require(me, Permission.JOBS_ADMIN)
    return _jobs_page(request, db)


@router.post(HOME + "/{job_id}/retry")
def job_retry(
    job_id: RowId, request: Request, me: WebUser, db: DbSession, clock: AppClock
) -> Response:
    """Run a dead job again now, with its attempts reset; the retry is audited."""
    require(me, Permission.JOBS_ADMIN)
    try:
        with all_or_nothing(db):
            queue.retry_dead(db, job_id=job_id, now=clock.now(), actor=me.actor)
    except AppError as error:  # not dead any more (someone retried it first), or gone
        return _jobs_page(request, db, Refusal.of(error))
    return see_other(HOME, "retried")
