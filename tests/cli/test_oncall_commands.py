"""`fireline oncall …` against the test app, as a responder checks the pager and arranges cover.

The fake clock starts on Monday 5 January 2026 at 10:00 UTC; payments hands off every Monday at
08:00 UTC, Ana then Ben.
"""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def payments(client, admin, make_person):
    for name in ("Ana", "Ben"):
        make_person("responder", name=name, email=f"{name.lower()}@example.com")
    created = client.post(
        "/api/v1/schedules",
        headers=admin.headers,
        json={
            "name": "Payments",
            "layers": [
                {
                    "name": "Weekly",
                    "members": ["ana@example.com", "ben@example.com"],
                    "rotation_start": "2026-01-05T08:00:00Z",
                    "timezone": "UTC",
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


def _json(cli, *args: str):
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_who_is_on_call_now_and_next_week(remote_cli, responder, payments):
    cli = remote_cli(responder)

    table = cli("oncall", "now")
    next_week = _json(cli, "oncall", "now", "--at", "2026-01-12T09:00", "--schedule", "payments")

    assert table.exit_code == 0, table.output
    assert "payments" in table.stdout
    assert "Ana <ana@example.com>" in table.stdout
    assert "2026-01-12 08:00 UTC" in table.stdout
    assert "rotation" in table.stdout
    before_it_began = cli("oncall", "now", "--at", "2026-01-01T00:00Z")
    assert "nobody" in before_it_began.stdout
    assert "gap" in before_it_began.stdout
    assert next_week["at"] == "2026-01-12T09:00:00Z"  # a time without a zone is UTC
    assert [item["on_call"]["user"]["name"] for item in next_week["schedules"]] == ["Ben"]


def test_schedules_are_listed_with_who_is_on_call(remote_cli, viewer, payments):
    cli = remote_cli(viewer)

    listed = _json(cli, "oncall", "schedules")
    table = cli("oncall", "schedules")

    assert [(s["slug"], s["on_call_now"]["user"]["name"]) for s in listed] == [("payments", "Ana")]
    assert table.exit_code == 0, table.output
    assert "Payments" in table.stdout
    assert "Ana" in table.stdout
    assert "2026-01-12 08:00 UTC" in table.stdout


def test_a_responder_arranges_cover_from_the_command_line(remote_cli, responder, payments):
    cli = remote_cli(responder)

    covered = cli(
        "oncall", "override", "--schedule", "payments", "--user", "ben@example.com",
        "--from", "2026-01-05T18:00:00+01:00", "--to", "2026-01-06T08:00Z", "--reason", "dentist",
    )  # fmt: skip

    assert covered.exit_code == 0, covered.output
    assert covered.stdout.startswith(
        "Ben covers payments from 2026-01-05 17:00 UTC to 2026-01-06 08:00 UTC (override "
    )
    tonight = _json(cli, "oncall", "now", "--at", "2026-01-05T20:00Z")
    shift = tonight["schedules"][0]["on_call"]
    assert (shift["user"]["name"], shift["source"]) == ("Ben", "override")
    assert "override" in cli("oncall", "now", "--at", "2026-01-05T20:00Z").stdout
    listed = _json(
        cli, "oncall", "override", "--schedule", "payments", "--user", "ana@example.com",
        "--from", "2026-01-07T00:00Z", "--to", "2026-01-07T01:00Z",
    )  # fmt: skip
    assert (listed["user"]["name"], listed["start"]) == ("Ana", "2026-01-07T00:00:00Z")


def test_mistakes_are_explained_with_the_option_to_fix(remote_cli, responder, viewer, payments):
    unknown = remote_cli(responder)(
        "oncall", "override", "--schedule", "payments", "--user", "eve@example.com",
        "--from", "2026-01-06T00:00Z", "--to", "2026-01-06T08:00Z",
    )  # fmt: skip
    backwards = remote_cli(responder)(
        "oncall", "override", "--schedule", "payments", "--user", "ben@example.com",
        "--from", "2026-01-06T08:00Z", "--to", "2026-01-06T00:00Z", "--json",
    )  # fmt: skip
    not_allowed = remote_cli(viewer)(
        "oncall", "override", "--schedule", "payments", "--user", "ben@example.com",
        "--from", "2026-01-06T00:00Z", "--to", "2026-01-06T08:00Z",
    )  # fmt: skip
    not_a_time = remote_cli(responder)(
        "oncall", "override", "--schedule", "payments", "--user", "ben@example.com",
        "--from", "tonight", "--to", "2026-01-06T08:00Z",
    )  # fmt: skip

    assert unknown.exit_code == 1
    assert "user: no user 'eve@example.com' (--user)" in unknown.stderr
    assert backwards.exit_code == 1
    assert "end: an override must end after it starts (--to)" in backwards.stderr
    assert not_allowed.exit_code == 1
    assert "oncall:write" in not_allowed.stderr
    assert not_a_time.exit_code == 2
    assert "not an ISO 8601 date" in not_a_time.stderr


def test_without_schedules_the_commands_say_so(remote_cli, responder):
    cli = remote_cli(responder)

    now = cli("oncall", "now")
    schedules = cli("oncall", "schedules")

    assert (now.exit_code, now.stdout) == (0, "")
    assert "No schedules yet" in now.stderr
    assert (schedules.exit_code, schedules.stdout) == (0, "")
    assert "No schedules yet" in schedules.stderr
