"""Steps the playbook tests share: declaring, reading the checklist and the timeline.

The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

INCIDENTS = "/api/v1/incidents"
PLAYBOOKS = "/api/v1/playbooks"
MAJOR = "major-incident"


def at(hhmm: str, day: int = 5) -> str:
    """An instant on the fake clock's calendar, as the API writes it."""
    return f"2026-01-{day:02d}T{hhmm}:00Z"


def declare(api, severity="SEV1", **fields) -> str:
    body = {"title": "Checkout down", "severity": severity, **fields}
    response = api.post(INCIDENTS, json=body)
    assert response.status_code == 201, response.text
    return response.json()["reference"]


def change_severity(api, ref, severity):
    response = api.post(f"{INCIDENTS}/{ref}/severity", json={"severity": severity})
    assert response.status_code == 200, response.text


def tasks(api, ref) -> list[dict]:
    response = api.get(f"{INCIDENTS}/{ref}/tasks")
    assert response.status_code == 200, response.text
    return response.json()


def complete(api, ref, task_id, note=""):
    return api.post(f"{INCIDENTS}/{ref}/tasks/{task_id}/complete", json={"note": note})


def entries(api, ref, kind) -> list[dict]:
    response = api.get(f"{INCIDENTS}/{ref}/timeline", params={"kind": kind})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def fields_named(response) -> list[str]:
    return [problem["field"] for problem in response.json().get("errors", [])]


def due_times(checklist) -> list[str | None]:
    return [task["due_at"] and task["due_at"].replace("+00:00", "Z") for task in checklist]


def drain(worker, rounds: int = 20) -> None:
    """Run the worker until no job is due (a batch holds ten)."""
    for _ in range(rounds):
        if worker.run_once() == 0:
            return
    raise AssertionError("jobs kept coming")
