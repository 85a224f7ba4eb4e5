"""Admins see dead and pending jobs on the settings page, and retry the dead ones."""

from __future__ import annotations

import pytest

from fireline.jobs import queue
from fireline.models import Job, JobState


@pytest.fixture
def dead_job(db, clock) -> int:
    """A webhook delivery that used its only attempt while the receiver was down."""
    job = queue.enqueue(
        db, kind="notify.webhook", payload={"to": "hooks"}, now=clock.now(), max_attempts=1
    )
    job.state, job.attempts = JobState.DEAD.value, 1
    job.last_error, job.finished_at = "HTTPError: 503 from hooks.example.com", clock.now()
    db.commit()
    return job.id


def test_retrying_a_dead_job_makes_it_pending_again(browser_admin, as_admin, dead_job, db):
    listed = browser_admin.get("/settings/jobs")
    assert listed.status_code == 200
    assert "HTTPError: 503 from hooks.example.com" in listed.text
    assert f'action="/settings/jobs/{dead_job}/retry"' in listed.text
    assert f'hx-post="/settings/jobs/{dead_job}/retry"' in listed.text

    retried = browser_admin.post(f"/settings/jobs/{dead_job}/retry")
    assert retried.status_code == 303
    assert retried.headers["location"] == "/settings/jobs?done=retried"
    job = db.get(Job, dead_job, populate_existing=True)
    assert (job.state, job.attempts) == (JobState.PENDING.value, 0)
    assert as_admin.get(f"/api/v1/jobs/{dead_job}").json()["state"] == "pending"

    after = browser_admin.get(retried.headers["location"])
    assert "The job is pending again" in after.text
    assert f'action="/settings/jobs/{dead_job}/retry"' not in after.text  # now among the pending

    # With htmx, the refusal comes back as the page's settings body, to be swapped in place.
    again = browser_admin.post(f"/settings/jobs/{dead_job}/retry", headers={"HX-Request": "true"})
    assert again.status_code == 409
    assert "only a dead job can be retried" in again.text
    assert 'id="settings-body" data-inline-errors' in again.text


def test_a_job_that_does_not_exist_is_a_page_not_a_crash(browser_admin):
    assert browser_admin.post("/settings/jobs/999999/retry").status_code == 404
    assert browser_admin.post("/settings/jobs/99999999999999999999/retry").status_code == 422


def test_jobs_are_for_admins_only(browser_responder, dead_job):
    refused = browser_responder.get("/settings/jobs")
    assert refused.status_code == 403
    assert "Your role does not allow this; ask an admin." in refused.text
    assert browser_responder.post(f"/settings/jobs/{dead_job}/retry").status_code == 403
