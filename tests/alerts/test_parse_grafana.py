"""Grafana unified alerting webhook bodies, shaped as Grafana's docs describe them, parsed."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fireline.alerts.events import AlertEvent, Image, InvalidEvent, Link
from fireline.alerts.parsers.alertmanager import AlertmanagerBatch
from fireline.alerts.parsers.grafana import GrafanaBatch, parse_webhook

GRAFANA = "https://grafana.example.com"

MEMORY_ALERT: dict[str, Any] = {
    "status": "firing",
    "labels": {
        "alertname": "High memory usage",
        "grafana_folder": "Payments",
        "team": "payments",
        "severity": "critical",
    },
    "annotations": {
        "summary": "Memory above 90% on checkout pods",
        "description": "Working set is 7.4GiB of an 8GiB limit.",
        "runbook_url": f"{GRAFANA}/d/runbooks/memory",
    },
    "startsAt": "2026-01-05T10:51:03.157076+01:00",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": f"{GRAFANA}/alerting/grafana/e7f2a1/view?orgId=1",
    "fingerprint": "c6eadffa33fcdf37",
    "silenceURL": f"{GRAFANA}/alerting/silence/new?alertmanager=grafana&matcher=team%3Dpayments",
    "dashboardURL": f"{GRAFANA}/d/checkout?orgId=1",
    "panelURL": f"{GRAFANA}/d/checkout?orgId=1&viewPanel=4",
    "imageURL": f"{GRAFANA}/public/img/attachments/9Xb2.png",
    "values": {"B": 92.4, "C": 1},
    "valueString": "[ var='B' labels={pod=checkout-7f9c} value=92.4 ]",
}


def grafana_body(*alerts: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "receiver": "fireline",
        "status": "firing",
        "orgId": 1,
        "alerts": [copy.deepcopy(entry) for entry in alerts] or [copy.deepcopy(MEMORY_ALERT)],
        "groupLabels": {"alertname": "High memory usage"},
        "commonLabels": {"team": "payments"},
        "commonAnnotations": {},
        "externalURL": f"{GRAFANA}/",
        "version": "1",
        "groupKey": '{}/{team="payments"}:{alertname="High memory usage"}',
        "truncatedAlerts": 0,
        "title": "[FIRING:1] High memory usage (payments)",
        "state": "alerting",
        "message": "**Firing**\n\nValue: B=92.4, C=1\nLabels:\n - alertname = High memory usage\n",
    }
    body.update(changes)
    return body


def entry(**changes: Any) -> dict[str, Any]:
    alert = copy.deepcopy(MEMORY_ALERT)
    alert.update(changes)
    return alert


def only_event(body: dict[str, Any]) -> AlertEvent:
    (event,) = parse_webhook(body).events
    return event


def test_a_grafana_alert_keeps_its_values_links_and_screenshot():
    event = only_event(grafana_body())

    assert event == AlertEvent(
        action="trigger",
        dedup_key="c6eadffa33fcdf37",
        summary="Memory above 90% on checkout pods",
        severity="critical",
        # Grafana-managed alerts rarely carry instance or job, so the Grafana host is the source.
        source="grafana.example.com",
        occurred_at=datetime(2026, 1, 5, 9, 51, 3, 157076, tzinfo=UTC),
        labels=MEMORY_ALERT["labels"],
        annotations=MEMORY_ALERT["annotations"],
        details={
            "fingerprint": "c6eadffa33fcdf37",
            "generator_url": MEMORY_ALERT["generatorURL"],
            "starts_at": "2026-01-05T09:51:03.157076+00:00",
            "values": {"B": 92.4, "C": 1},
            "value_string": "[ var='B' labels={pod=checkout-7f9c} value=92.4 ]",
        },
        class_="High memory usage",
        links=(
            Link(href=MEMORY_ALERT["generatorURL"], text="Source"),
            Link(href=f"{GRAFANA}/d/runbooks/memory", text="Runbook"),
            Link(href=MEMORY_ALERT["dashboardURL"], text="Dashboard"),
            Link(href=MEMORY_ALERT["panelURL"], text="Panel"),
            Link(href=MEMORY_ALERT["silenceURL"], text="Silence"),
        ),
        images=(
            Image(
                src=MEMORY_ALERT["imageURL"],
                href=MEMORY_ALERT["panelURL"],
                alt="Memory above 90% on checkout pods",
            ),
        ),
        client="Grafana",
        client_url=f"{GRAFANA}/",
    )


def test_the_batch_carries_grafanas_body_extras():
    batch = parse_webhook(grafana_body())

    assert isinstance(batch, GrafanaBatch)
    assert isinstance(batch, AlertmanagerBatch)
    assert batch.org_id == 1
    assert batch.title == "[FIRING:1] High memory usage (payments)"
    assert batch.state == "alerting"
    assert batch.message is not None
    assert batch.message.startswith("**Firing**")
    assert batch.version == "1"
    assert batch.receiver == "fireline"
    assert batch.group_key == '{}/{team="payments"}:{alertname="High memory usage"}'
    assert batch.common_labels == {"team": "payments"}
    assert batch.truncated_alerts == 0


def test_the_deprecated_extras_never_refuse_a_body():
    body = grafana_body(orgId=True, title=5, state=None, message=["x"])

    batch = parse_webhook(body)

    assert (batch.org_id, batch.title, batch.state, batch.message) == (None, None, None, None)
    assert len(batch.events) == 1


def test_a_resolved_grafana_alert_resolves_at_its_end_time():
    resolved = entry(status="resolved", endsAt="2026-01-05T11:06:03.157076+01:00")

    event = only_event(grafana_body(resolved, status="resolved", state="ok"))

    assert event.action == "resolve"
    assert event.occurred_at == datetime(2026, 1, 5, 10, 6, 3, 157076, tzinfo=UTC)


def test_a_screenshot_without_a_panel_opens_the_dashboard():
    event = only_event(grafana_body(entry(panelURL="")))

    assert event.images == (
        Image(
            src=MEMORY_ALERT["imageURL"],
            href=MEMORY_ALERT["dashboardURL"],
            alt="Memory above 90% on checkout pods",
        ),
    )


def test_empty_or_unsafe_urls_and_odd_values_are_left_out():
    alert = entry(
        dashboardURL="",
        panelURL="",
        silenceURL="javascript:alert(1)",
        imageURL="file:///etc/passwd",
        generatorURL="",
        values=None,
        valueString="",
        annotations={"summary": "Memory high"},
    )

    event = only_event(grafana_body(alert, externalURL=""))

    assert event.links == ()
    assert event.images == ()
    assert "values" not in event.details
    assert "value_string" not in event.details
    assert event.client_url is None
    assert event.source == "grafana"


def test_the_documented_example_without_image_or_dashboard_is_accepted():
    alert = entry(dashboardURL="", panelURL="", valueString=None)
    del alert["imageURL"]

    event = only_event(grafana_body(alert))

    assert event.images == ()
    assert [link.text for link in event.links] == ["Source", "Runbook", "Silence"]
    assert event.details["values"] == {"B": 92.4, "C": 1}


def test_a_missing_version_is_accepted():
    body = grafana_body()
    del body["version"]

    assert parse_webhook(body).version is None


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("4", 'version must be "1" for the Grafana webhook, not "4"'),
        ("2", 'version must be "1" for the Grafana webhook, not "2"'),
    ],
)
def test_other_versions_are_refused(version, expected):
    with pytest.raises(InvalidEvent) as raised:
        parse_webhook(grafana_body(version=version))

    assert raised.value.errors == [expected]


def test_alert_problems_are_named_as_for_alertmanager():
    body = grafana_body(entry(labels={"alertname": 3}), entry(status="paused"))

    with pytest.raises(InvalidEvent) as raised:
        parse_webhook(body)

    assert raised.value.errors == [
        "alerts[0].labels.alertname must be a string",
        "alerts[1].status must be firing or resolved",
    ]


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidEvent) as raised:
        parse_webhook(["alerts"])

    assert raised.value.errors == ["the body must be a JSON object"]


_ANY_CHARACTER = st.characters(exclude_categories=[])
json_values = st.recursive(
    # Any text JSON can carry, lone surrogates included.
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(_ANY_CHARACTER, max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
_grafana_alert = st.fixed_dictionaries(
    {"status": st.sampled_from(["firing", "resolved"]), "labels": st.just({"alertname": "A"})},
    optional={
        key: st.just(f"{GRAFANA}/x") | json_values
        for key in ("dashboardURL", "panelURL", "silenceURL", "imageURL", "valueString", "values")
    },
)


def outcome(body: Any) -> tuple[GrafanaBatch | None, InvalidEvent | None]:
    try:
        return parse_webhook(body), None
    except InvalidEvent as error:
        return None, error


@settings(max_examples=200)
@given(
    body=json_values
    | st.fixed_dictionaries(
        {"alerts": st.lists(_grafana_alert, max_size=3)},
        optional=dict.fromkeys(("orgId", "title", "state", "message", "version"), json_values),
    )
)
def test_parse_webhook_raises_nothing_but_invalid_event(body):
    batch, error = outcome(body)

    if error is not None:
        assert error.errors
    else:
        assert batch is not None
        assert all(image.src.startswith("https://") for e in batch.events for image in e.images)
