"""`fireline incidents tasks|task-done` and `fireline playbooks list` against the test app."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fireline.cli import app as cli_app
from fireline.cli import remote

from .helpers import declare, entries, tasks


@pytest.fixture
def fireline(app, monkeypatch, responder):
    """`fireline …` as Rita, talking to the test app with her token."""

    def make_client(url: str, token: str) -> TestClient:
        return TestClient(
            app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"}
        )

    monkeypatch.setattr(remote, "make_client", make_client)
    runner = CliRunner()
    env = {"FIRELINE_URL": None, "FIRELINE_TOKEN": responder.token}
    return lambda *args: runner.invoke(cli_app, list(args), env=env)


def test_a_responder_reads_the_checklist_and_ticks_a_task_off(fireline, as_responder):
    ref = declare(as_responder)
    first = tasks(as_responder, ref)[0]

    table = fireline("incidents", "tasks", ref)
    done = fireline("incidents", "task-done", ref, str(first["id"]), "--note", "Confirmed SEV1")
    listed = fireline("incidents", "tasks", ref, "--json")

    assert table.exit_code == 0, table.output
    assert "Open the war room" in table.stdout
    assert "2026-01-05 10:05" in table.stdout
    assert "comms lead" in table.stdout
    assert (done.exit_code, done.stdout) == (0, f"Done: {first['title']}\n")
    assert json.loads(listed.stdout)[0]["state"] == "done"
    (entry,) = entries(as_responder, ref, "task_done")
    assert entry["details"]["note"] == "Confirmed SEV1"


def test_ticking_off_a_task_twice_is_an_error_that_says_why(fireline, as_responder):
    ref = declare(as_responder)
    task_id = str(tasks(as_responder, ref)[0]["id"])
    assert fireline("incidents", "task-done", ref, task_id).exit_code == 0

    again = fireline("incidents", "task-done", ref, task_id)

    assert again.exit_code == 1
    assert "was already done at 10:00 UTC by Rita Responder" in again.stderr


def test_an_incident_without_tasks_says_so(fireline, as_responder):
    ref = declare(as_responder, severity="SEV4")

    result = fireline("incidents", "tasks", ref)

    assert (result.exit_code, result.stdout) == (0, "")
    assert "No tasks" in result.stderr


def test_playbooks_list_shows_what_each_playbook_attaches_to(fireline):
    table = fireline("playbooks", "list")
    listed = fireline("playbooks", "list", "--json")

    assert table.exit_code == 0, table.output
    assert "major-incident" in table.stdout
    assert "severity_at_least" in table.stdout  # the table wraps it: what it attaches to
    assert "SEV2" in table.stdout
    assert [playbook["slug"] for playbook in json.loads(listed.stdout)] == ["major-incident"]
