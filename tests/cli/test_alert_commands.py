"""`fireline alerts …` against the test app: the on-call engineer works the queue from a shell."""

from __future__ import annotations

import json

from alerts.helpers import add_integration, add_service, pd_trigger


def test_the_on_call_lists_acknowledges_and_resolves_alerts(
    remote_cli, responder, client, db, clock
):
    service = add_service(db, clock.now(), slug="search")
    key = add_integration(db, clock.now(), service).key
    db.commit()
    client.post("/v2/enqueue", json=pd_trigger(key, "Search latency p99 above 2 s", dedup_key="s"))
    client.post("/v2/enqueue", json=pd_trigger(key, "Index lag", dedup_key="i"))
    cli = remote_cli(responder)

    listed = cli("alerts", "list", "--json")
    assert listed.exit_code == 0, listed.output
    alerts = json.loads(listed.stdout)
    assert [a["summary"] for a in alerts] == ["Index lag", "Search latency p99 above 2 s"]
    latency = alerts[1]["id"]

    table = cli("alerts", "list")
    assert "Index lag" in table.stdout
    assert "triggered" in table.stdout

    acked = cli("alerts", "ack", str(latency))
    assert (acked.exit_code, acked.stdout) == (
        0,
        f"Acknowledged alert #{latency}: Search latency p99 above 2 s\n",
    )
    resolved = cli("alerts", "resolve", str(latency))
    assert resolved.exit_code == 0, resolved.output

    shown = cli("alerts", "show", str(latency))
    assert f"Alert #{latency} · critical · resolved" in shown.stdout
    assert f"Acknowledged by {responder.user.name} <{responder.user.email}>." in shown.stdout
    still_open = json.loads(cli("alerts", "list", "--json").stdout)
    assert [a["summary"] for a in still_open] == ["Index lag"]
    everything = json.loads(cli("alerts", "list", "--all", "--json").stdout)
    assert len(everything) == 2


def test_acknowledging_a_resolved_alert_explains_why_not(remote_cli, responder, client, db, clock):
    service = add_service(db, clock.now(), slug="search")
    key = add_integration(db, clock.now(), service).key
    db.commit()
    client.post("/v2/enqueue", json=pd_trigger(key, "Disk full", dedup_key="d"))
    client.post(
        "/v2/enqueue", json={"routing_key": key, "event_action": "resolve", "dedup_key": "d"}
    )
    cli = remote_cli(responder)
    [alert] = json.loads(cli("alerts", "list", "--all", "--json").stdout)

    result = cli("alerts", "ack", str(alert["id"]))
    missing = cli("alerts", "ack", "999999")

    assert result.exit_code == 1
    assert "already resolved" in result.stderr
    assert missing.exit_code == 1
    assert "No alert 999999" in missing.stderr
