"""Admins see the queue and bring dead jobs back; nobody else may."""

from __future__ import annotations

import pytest

from fireline.jobs import queue
from fireline.models import JobState

from .conftest import reload

JOBS = "/api/v1/jobs"


@pytest.mark.parametrize("caller", ["as_viewer", "as_responder"])
def test_only_admins_may_see_or_retry_jobs(request, caller, make_dead_job):
    api = request.getfixturevalue(caller)
    job_id = make_dead_job()

    for response in (
        api.get(JOBS),
        api.get(f"{JOBS}/{job_id}"),
        api.post(f"{JOBS}/{job_id}/retry"),
    ):
        assert response.status_code == 403
        assert "jobs:admin" in response.json()["detail"]


def test_an_admin_lists_jobs_newest_first_filtered_by_state_and_kind(
    as_admin, db, clock, make_dead_job
):
    ping = queue.enqueue(db, kind="fireline.ping", payload={}, now=clock.now())
    dead = make_dead_job(kind="notify.webhook")
    email = queue.enqueue(
        db, kind="notify.email", payload={"to": "cto@example.com"}, now=clock.now()
    )
    db.commit()

    def ids(**params) -> list[int]:
        response = as_admin.get(JOBS, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [email.id, dead, ping.id]
    assert ids(state="dead") == [dead]
    assert ids(kind="notify.email") == [email.id]
    assert ids(state="pending", kind="notify.webhook") == []
    assert as_admin.get(JOBS, params={"state": "paused"}).status_code == 422


def test_the_job_list_pages_with_a_cursor(as_admin, db, clock):
    made = [
        queue.enqueue(db, kind="fireline.ping", payload={}, now=clock.now()).id for _ in range(5)
    ]
    db.commit()

    first = as_admin.get(JOBS, params={"limit": 2}).json()
    second = as_admin.get(JOBS, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    last = as_admin.get(JOBS, params={"limit": 2, "cursor": second["next_cursor"]}).json()

    pages = [[item["id"] for item in page["items"]] for page in (first, second, last)]
    assert pages == [made[4:2:-1], made[2:0:-1], made[:1]]
    assert last["next_cursor"] is None


def test_a_dead_job_shows_why_it_died(as_admin, make_dead_job):
    job_id = make_dead_job(error="HTTPError: 503 from hooks.example.com")

    job = as_admin.get(f"{JOBS}/{job_id}").json()

    assert job["state"] == "dead"
    assert (job["attempts"], job["max_attempts"]) == (1, 1)
    assert job["last_error"] == "HTTPError: 503 from hooks.example.com"
    assert job["finished_at"] is not None
    assert "payload" not in job


def test_an_admin_retries_a_dead_job_and_a_worker_runs_it(
    as_admin, db, clock, make_dead_job, make_worker
):
    job_id = make_dead_job(kind="fireline.ping")
    clock.advance(minutes=30)

    response = as_admin.post(f"{JOBS}/{job_id}/retry")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["attempts"], body["finished_at"]) == ("pending", 0, None)
    audit = as_admin.get("/api/v1/audit", params={"entity_type": "job", "entity_id": str(job_id)})
    [entry] = audit.json()["items"]
    assert (entry["action"], entry["actor"]) == ("job.retry", "Ada Admin <ada@example.com>")
    assert entry["before"]["state"] == "dead"
    assert make_worker().run_once() == 1
    assert reload(db, job_id).state == JobState.SUCCEEDED


def test_retrying_a_job_that_is_not_dead_is_a_conflict(as_admin, db, clock):
    job = queue.enqueue(db, kind="fireline.ping", payload={}, now=clock.now())
    db.commit()

    response = as_admin.post(f"{JOBS}/{job.id}/retry")

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/job-not-retryable"
    assert "is pending" in problem["detail"]
    assert reload(db, job).state == JobState.PENDING


@pytest.mark.parametrize(("method", "path"), [("GET", "/999999"), ("POST", "/999999/retry")])
def test_an_unknown_job_is_a_404(as_admin, method, path):
    response = as_admin._call(method, JOBS + path)

    assert response.status_code == 404
    assert response.json()["detail"] == "No job 999999."
