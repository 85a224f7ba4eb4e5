"""A real Prometheus Alertmanager delivering to Fireline: disks filling on the database hosts.

Alerts are posted to Alertmanager's API v2 as Prometheus would; Alertmanager groups them by
rule and sends each group to Fireline's webhook. Each test uses a rule name of its own, since the
Alertmanager (and its Fireline integration) serve the whole module.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fireline.models import Alert

from .conftest import Alertmanager, alerts_of, eventually

PROMETHEUS = "http://prometheus.example.com:9090"


def disk_alert(alertname: str, instance: str, *, ended: bool = False) -> dict[str, Any]:
    """The alert Prometheus posts for a disk filling on `instance`; `ended` once it recovered."""
    now = datetime.now(UTC)
    return {
        "labels": {
            "alertname": alertname,
            "instance": instance,
            "job": "node",
            "severity": "critical",
        },
        "annotations": {
            "summary": f"Disk on {instance} will be full within 4 hours",
            "runbook_url": "https://runbooks.example.com/disk-full",
        },
        "startsAt": (now - timedelta(minutes=5)).isoformat(),
        # Prometheus keeps a firing alert's end a few evaluations ahead; a past end resolves it.
        "endsAt": (now - timedelta(seconds=1) if ended else now + timedelta(minutes=5)).isoformat(),
        "generatorURL": f"{PROMETHEUS}/graph?g0.expr=node_filesystem_avail_bytes",
    }


def test_two_hosts_filling_arrive_in_one_group_and_become_two_alerts(
    alertmanager: Alertmanager, fireline_db
):
    posted = {host: disk_alert("DiskFillingFast", host) for host in ("db-1:9100", "db-2:9100")}
    alertmanager.post_alerts(list(posted.values()))

    alerts = eventually(
        lambda: in_fireline(alertmanager, fireline_db, "DiskFillingFast"),
        until=lambda alerts: len(alerts) >= 2,
        what="two alerts in Fireline",
    )

    # One group, as Alertmanager keeps it. (Whether it reached Fireline in one call or, on a busy
    # machine, two, is Alertmanager's timing: Fireline's answer is the same.)
    assert alertmanager.groups("DiskFillingFast") == [["db-1:9100", "db-2:9100"]]
    assert len(alerts) == 2
    fingerprints = alertmanager.fingerprints("DiskFillingFast")
    assert {alert.labels["instance"]: alert.dedup_key for alert in alerts} == fingerprints
    for alert in alerts:
        sent = posted[alert.labels["instance"]]
        assert alert.labels == sent["labels"]
        assert alert.annotations == sent["annotations"]
        assert alert.started_at == datetime.fromisoformat(sent["startsAt"])
        assert alert.summary == f"Disk on {alert.source} will be full within 4 hours"
        assert alert.source == alert.labels["instance"]
        assert (alert.status, alert.severity, alert.occurrences) == ("triggered", "critical", 1)
        assert alert.links == [
            {"href": sent["generatorURL"], "text": "Source"},
            {"href": "https://runbooks.example.com/disk-full", "text": "Runbook"},
        ]


def test_a_third_host_joining_the_group_is_sent_with_the_first_two_without_duplicating_them(
    alertmanager: Alertmanager, fireline_db
):
    first_two = [disk_alert("DiskSlow", "db-1:9100"), disk_alert("DiskSlow", "db-2:9100")]
    alertmanager.post_alerts(first_two)
    eventually(
        lambda: in_fireline(alertmanager, fireline_db, "DiskSlow"),
        until=lambda alerts: len(alerts) >= 2,
        what="the first two alerts in Fireline",
    )

    # Alertmanager re-sends the whole group when it changes: db-1 and db-2 arrive again.
    alertmanager.post_alerts([*first_two, disk_alert("DiskSlow", "db-3:9100")])
    alerts = eventually(
        lambda: in_fireline(alertmanager, fireline_db, "DiskSlow"),
        until=lambda alerts: len(alerts) >= 3,
        what="the third alert in Fireline",
    )

    occurrences = {alert.labels["instance"]: alert.occurrences for alert in alerts}
    # Three alerts, not five: the re-sent two only count again. (How many times Alertmanager
    # sent them depends on its timers on a busy machine: at least twice.)
    assert len(alerts) == 3
    assert sorted(occurrences) == ["db-1:9100", "db-2:9100", "db-3:9100"]
    assert occurrences["db-1:9100"] >= 2
    assert occurrences["db-2:9100"] >= 2
    assert occurrences["db-3:9100"] == 1
    assert {alert.status for alert in alerts} == {"triggered"}


def test_hosts_that_recover_are_resolved_one_by_one(alertmanager: Alertmanager, fireline_db):
    alertmanager.post_alerts(
        [disk_alert("DiskFull", "db-1:9100"), disk_alert("DiskFull", "db-2:9100")]
    )
    eventually(
        lambda: in_fireline(alertmanager, fireline_db, "DiskFull"),
        until=lambda alerts: len(alerts) >= 2,
        what="two alerts in Fireline",
    )

    alertmanager.post_alerts([disk_alert("DiskFull", "db-1:9100", ended=True)])
    alerts = eventually(
        lambda: in_fireline(alertmanager, fireline_db, "DiskFull"),
        until=lambda alerts: "resolved" in _statuses(alerts).values(),
        what="db-1's alert resolved",
    )
    assert _statuses(alerts) == {"db-1:9100": "resolved", "db-2:9100": "triggered"}

    alertmanager.post_alerts([disk_alert("DiskFull", "db-2:9100", ended=True)])
    alerts = eventually(
        lambda: in_fireline(alertmanager, fireline_db, "DiskFull"),
        until=lambda alerts: "triggered" not in _statuses(alerts).values(),
        what="db-2's alert resolved",
    )
    assert _statuses(alerts) == {"db-1:9100": "resolved", "db-2:9100": "resolved"}
    assert all(alert.resolved_at is not None for alert in alerts)
    assert len(alerts) == 2  # resolving opened nothing new


def test_a_host_that_fills_again_after_recovering_gets_a_new_alert(
    alertmanager: Alertmanager, fireline_db
):
    alertmanager.post_alerts([disk_alert("DiskFillsAgain", "db-1:9100")])
    eventually(
        lambda: in_fireline(alertmanager, fireline_db, "DiskFillsAgain"),
        until=lambda alerts: len(alerts) == 1,
        what="the alert in Fireline",
    )
    alertmanager.post_alerts([disk_alert("DiskFillsAgain", "db-1:9100", ended=True)])
    eventually(
        lambda: in_fireline(alertmanager, fireline_db, "DiskFillsAgain"),
        until=lambda alerts: _statuses(alerts) == {"db-1:9100": "resolved"},
        what="the alert resolved",
    )

    alertmanager.post_alerts([disk_alert("DiskFillsAgain", "db-1:9100")])
    first, relapse = eventually(
        lambda: in_fireline(alertmanager, fireline_db, "DiskFillsAgain"),
        until=lambda alerts: len(alerts) >= 2,
        what="a second alert in Fireline",
    )

    assert (first.status, relapse.status) == ("resolved", "triggered")
    assert relapse.dedup_key == first.dedup_key  # the same labels, so the same fingerprint


def in_fireline(alertmanager: Alertmanager, fireline_db, alertname: str) -> list[Alert]:
    """The Fireline alerts of this rule that came through Alertmanager, oldest first."""
    alerts = alerts_of(fireline_db, alertmanager.integration)
    return [alert for alert in alerts if alert.labels.get("alertname") == alertname]


def _statuses(alerts) -> dict[str, str]:
    return {alert.labels["instance"]: alert.status for alert in alerts}
