"""`fireline integrations`: an operator scripts the set-up of a monitoring tool with
`KEY=$(fireline integrations create …)` and the tool's alerts arrive with that key."""

from __future__ import annotations

import json
import re
import uuid


def _service(cli) -> str:
    slug = f"payments-{uuid.uuid4().hex[:6]}"
    made = cli("services", "create", "--name", f"Payments {slug}", "--slug", slug, "--tier", "1")
    assert made.exit_code == 0, made.output
    return slug


def test_create_prints_the_key_alone_and_the_tool_can_send_with_it(cli, cli_database, api_on):
    slug = _service(cli)

    result = cli(
        "integrations", "create", "--service", slug, "--type", "alertmanager", "--name", "Prom"
    )

    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert result.stdout == f"{key}\n"
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert f"/integrations/alertmanager/{key}" in result.stderr
    sent = api_on(cli_database.url).post(
        f"/integrations/alertmanager/{key}",
        json={"alerts": [{"status": "firing", "labels": {"alertname": "Up"}, "fingerprint": "1"}]},
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["created"] == 1


def test_list_shows_each_integration_with_its_key(cli):
    slug = _service(cli)
    key = cli(
        "integrations", "create", "--service", slug, "--type", "pagerduty", "--name", "PD"
    ).stdout.strip()

    listed = cli("integrations", "list", "--json")
    table = cli("integrations", "list")

    assert listed.exit_code == 0, listed.output
    mine = next(row for row in json.loads(listed.stdout) if row["key"] == key)
    assert (mine["service"], mine["type"], mine["name"]) == (slug, "pagerduty", "PD")
    assert mine["urls"][0].endswith("/v2/enqueue")
    assert table.exit_code == 0, table.output
    assert key in table.stdout


def test_rotate_key_prints_a_new_key_and_the_old_one_is_gone(cli):
    slug = _service(cli)
    old = cli(
        "integrations", "create", "--service", slug, "--type", "grafana", "--name", "Grafana"
    ).stdout.strip()
    integration_id = next(
        row["id"]
        for row in json.loads(cli("integrations", "list", "--json").stdout)
        if row["key"] == old
    )

    rotated = cli("integrations", "rotate-key", str(integration_id))

    assert rotated.exit_code == 0, rotated.output
    new = rotated.stdout.strip()
    assert rotated.stdout == f"{new}\n"
    assert new != old
    keys = {row["key"] for row in json.loads(cli("integrations", "list", "--json").stdout)}
    assert new in keys
    assert old not in keys


def test_mistakes_are_explained_on_stderr_with_nothing_on_stdout(cli):
    unknown = cli(
        "integrations", "create", "--service", "no-such", "--type", "webhook", "--name", "W"
    )
    assert unknown.exit_code == 1
    assert unknown.stdout == ""
    assert "service: no service 'no-such'" in unknown.stderr

    assert cli("integrations", "rotate-key", "999999").exit_code == 1
    bad_type = cli("integrations", "create", "--service", "x", "--type", "nagios", "--name", "N")
    assert bad_type.exit_code == 2


def test_list_says_so_when_there_are_none(fresh_database):
    from .helpers import Cli

    empty = Cli({"FIRELINE_DATABASE_URL": fresh_database().url})

    result = empty("integrations", "list")

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "No integrations yet" in result.stderr
