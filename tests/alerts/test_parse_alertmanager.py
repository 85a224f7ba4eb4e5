"""Alertmanager webhook (version "4") bodies, shaped as the Prometheus docs describe, parsed."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fireline.alerts.events import (
    SEVERITY_ALIASES,
    AlertEvent,
    InvalidEvent,
    Link,
    severity_from_label,
    stable_key,
)
from fireline.alerts.parsers.alertmanager import AlertmanagerBatch, parse_webhook

LATENCY_ALERT: dict[str, Any] = {
    "status": "firing",
    "labels": {
        "alertname": "HighRequestLatency",
        "instance": "checkout-api-7f9c:8080",
        "job": "checkout-api",
        "severity": "page",
        "team": "payments",
    },
    "annotations": {
        "summary": "p99 latency above 2s on checkout-api-7f9c:8080",
        "description": "p99 latency has been 2.35s for 10 minutes.",
        "runbook_url": "https://runbooks.example.com/checkout/latency",
    },
    "startsAt": "2026-01-05T09:50:00.123456789Z",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus-0.monitoring:9090/graph?g0.expr=histogram_quantile%28"
    "0.99%2C+rate%28http_request_duration_seconds_bucket%5B5m%5D%29%29+%3E+2&g0.tab=1",
    "fingerprint": "6f1a2b3c4d5e6f70",
}

DISK_ALERT: dict[str, Any] = {
    "status": "firing",
    "labels": {
        "alertname": "DiskWillFillIn4Hours",
        "device": "/dev/nvme0n1p1",
        "job": "node",
        "severity": "warn",
    },
    "annotations": {
        "description": "\n  Filesystem on /dev/nvme0n1p1 will fill within 4 hours.\n  Free: 3.1GiB."
    },
    "startsAt": "2026-01-05T10:02:30+01:00",
    "endsAt": "2026-01-05T10:07:30+01:00",
    "generatorURL": "http://prometheus-0.monitoring:9090/graph?g0.expr=predict_linear",
    "fingerprint": "a0b1c2d3e4f50617",
}


def webhook(*alerts: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A webhook body as Alertmanager posts it for one group."""
    body: dict[str, Any] = {
        "version": "4",
        "groupKey": '{}/{team="payments"}:{alertname="HighRequestLatency"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "fireline-payments",
        "groupLabels": {"alertname": "HighRequestLatency"},
        "commonLabels": {"team": "payments"},
        "commonAnnotations": {},
        "externalURL": "https://alertmanager.example.com",
        "alerts": [copy.deepcopy(alert) for alert in alerts] or [copy.deepcopy(LATENCY_ALERT)],
    }
    body.update(changes)
    return body


def alert(base: dict[str, Any] = LATENCY_ALERT, **changes: Any) -> dict[str, Any]:
    entry = copy.deepcopy(base)
    entry.update(changes)
    return entry


def only_event(body: dict[str, Any]) -> AlertEvent:
    (event,) = parse_webhook(body).events
    return event


def errors_of(body: Any) -> list[str]:
    with pytest.raises(InvalidEvent) as raised:
        parse_webhook(body)
    return raised.value.errors


# --- A firing group -------------------------------------------------------------------------------


def test_a_firing_alert_becomes_a_trigger_with_everything_kept():
    event = only_event(webhook(LATENCY_ALERT))

    assert event == AlertEvent(
        action="trigger",
        dedup_key="6f1a2b3c4d5e6f70",
        summary="p99 latency above 2s on checkout-api-7f9c:8080",
        severity="critical",
        source="checkout-api-7f9c:8080",
        occurred_at=datetime(2026, 1, 5, 9, 50, 0, 123456, tzinfo=UTC),
        labels=LATENCY_ALERT["labels"],
        annotations=LATENCY_ALERT["annotations"],
        details={
            "fingerprint": "6f1a2b3c4d5e6f70",
            "generator_url": LATENCY_ALERT["generatorURL"],
            "starts_at": "2026-01-05T09:50:00.123456+00:00",
        },
        class_="HighRequestLatency",
        links=(
            Link(href=LATENCY_ALERT["generatorURL"], text="Source"),
            Link(href="https://runbooks.example.com/checkout/latency", text="Runbook"),
        ),
        client="Alertmanager",
        client_url="https://alertmanager.example.com",
    )


def test_the_batch_keeps_the_group_fields_and_one_event_per_alert_in_order():
    batch = parse_webhook(webhook(LATENCY_ALERT, DISK_ALERT, truncatedAlerts=3))

    assert isinstance(batch, AlertmanagerBatch)
    assert batch.version == "4"
    assert batch.group_key == '{}/{team="payments"}:{alertname="HighRequestLatency"}'
    assert batch.status == "firing"
    assert batch.receiver == "fireline-payments"
    assert batch.group_labels == {"alertname": "HighRequestLatency"}
    assert batch.common_labels == {"team": "payments"}
    assert batch.common_annotations == {}
    assert batch.external_url == "https://alertmanager.example.com"
    assert batch.truncated_alerts == 3
    assert [event.dedup_key for event in batch.events] == ["6f1a2b3c4d5e6f70", "a0b1c2d3e4f50617"]


def test_a_firing_alert_without_summary_takes_the_first_line_of_its_description():
    event = only_event(webhook(DISK_ALERT))

    assert event.summary == "Filesystem on /dev/nvme0n1p1 will fill within 4 hours."
    assert event.severity == "warning"
    assert event.source == "node"
    # A firing alert's endsAt is only Alertmanager's expiry guess: kept, but not the event time.
    assert event.occurred_at == datetime(2026, 1, 5, 9, 2, 30, tzinfo=UTC)
    assert event.details["ends_at"] == "2026-01-05T09:07:30+00:00"


def test_a_group_with_no_alerts_gives_no_events():
    batch = parse_webhook(webhook(alerts=[]))

    assert batch.events == []


def test_optional_group_fields_may_be_missing():
    batch = parse_webhook({"alerts": [LATENCY_ALERT]})

    assert batch == AlertmanagerBatch(
        version=None,
        group_key=None,
        status=None,
        receiver=None,
        group_labels={},
        common_labels={},
        common_annotations={},
        external_url=None,
        truncated_alerts=0,
        events=batch.events,
    )
    assert batch.events[0].client_url is None


# --- Resolved -------------------------------------------------------------------------------------


def test_a_resolved_alert_resolves_at_its_end_time():
    resolved = alert(status="resolved", endsAt="2026-01-05T10:20:00.5+00:00")

    event = only_event(webhook(resolved, status="resolved"))

    assert event.action == "resolve"
    assert event.dedup_key == "6f1a2b3c4d5e6f70"
    assert event.occurred_at == datetime(2026, 1, 5, 10, 20, 0, 500000, tzinfo=UTC)
    # Resolves carry the full alert, unlike PagerDuty's, so the summary is still there.
    assert event.summary == "p99 latency above 2s on checkout-api-7f9c:8080"


def test_a_group_can_mix_resolved_and_firing_alerts():
    batch = parse_webhook(webhook(alert(status="resolved"), DISK_ALERT))

    assert [event.action for event in batch.events] == ["resolve", "trigger"]


def test_a_resolved_alert_with_a_zero_end_time_has_no_event_time():
    event = only_event(webhook(alert(status="resolved")))

    assert event.action == "resolve"
    assert event.occurred_at is None


def test_an_alert_without_status_takes_the_group_status():
    entry = alert()
    del entry["status"]

    event = only_event(webhook(entry, status="resolved"))

    assert event.action == "resolve"


# --- Dedup key ------------------------------------------------------------------------------------


def test_without_a_fingerprint_the_dedup_key_is_a_hash_of_the_sorted_labels():
    entry = alert()
    del entry["fingerprint"]

    event = only_event(webhook(entry))

    canonical = (
        '[{"alertname":"HighRequestLatency","instance":"checkout-api-7f9c:8080",'
        '"job":"checkout-api","severity":"page","team":"payments"}]'
    )
    assert event.dedup_key == hashlib.sha256(canonical.encode()).hexdigest()
    assert "fingerprint" not in event.details


def test_the_fallback_key_ignores_label_order_and_annotations_but_not_label_values():
    reordered = alert(labels=dict(reversed(list(LATENCY_ALERT["labels"].items()))), fingerprint="")
    reworded = alert(annotations={"summary": "something else"}, fingerprint="")
    other_instance = alert(labels={**LATENCY_ALERT["labels"], "instance": "b:8080"}, fingerprint="")

    keys = [only_event(webhook(entry)).dedup_key for entry in (reordered, reworded, other_instance)]

    assert keys[0] == keys[1] == stable_key(LATENCY_ALERT["labels"])
    assert keys[2] != keys[0]


def test_the_fallback_key_copes_with_text_utf8_cannot_encode():
    # JSON may carry a lone surrogate ("\\ud800"); hashing must not trip over it.
    labels = {"alertname": "Odd\ud800", "zone": "zürich"}

    event = only_event(webhook(alert(labels=labels, fingerprint=None)))

    canonical = '[{"alertname":"Odd\\ud800","zone":"z\\u00fcrich"}]'
    assert event.dedup_key == hashlib.sha256(canonical.encode()).hexdigest()


# --- Severity -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("critical", "critical"),
        ("page", "critical"),
        ("high", "critical"),
        ("crit", "critical"),
        ("fatal", "critical"),
        ("emergency", "critical"),
        ("error", "error"),
        ("err", "error"),
        ("major", "error"),
        ("warning", "warning"),
        ("warn", "warning"),
        ("minor", "warning"),
        ("info", "info"),
        ("informational", "info"),
        ("low", "info"),
        ("none", "info"),
        ("CRITICAL", "critical"),
        (" Warning ", "warning"),
        ("P1", "warning"),
        ("sev2", "warning"),
        ("", "warning"),
    ],
)
def test_the_severity_label_maps_onto_the_four_severities(label, expected):
    entry = alert(labels={**LATENCY_ALERT["labels"], "severity": label})

    assert only_event(webhook(entry)).severity == expected


def test_an_alert_without_a_severity_label_is_a_warning():
    labels = {key: value for key, value in LATENCY_ALERT["labels"].items() if key != "severity"}

    assert only_event(webhook(alert(labels=labels))).severity == "warning"


def test_the_alias_table_covers_exactly_the_documented_words():
    assert dict(SEVERITY_ALIASES) == {
        "critical": "critical",
        "crit": "critical",
        "page": "critical",
        "high": "critical",
        "fatal": "critical",
        "emergency": "critical",
        "error": "error",
        "err": "error",
        "major": "error",
        "warning": "warning",
        "warn": "warning",
        "minor": "warning",
        "info": "info",
        "informational": "info",
        "low": "info",
        "none": "info",
    }
    assert severity_from_label(None) is None
    assert severity_from_label("unknown") is None


# --- Summary and source ---------------------------------------------------------------------------

BASE_LABELS = {"alertname": "TargetDown", "instance": "10.0.3.7:9100", "job": "node"}


@pytest.mark.parametrize(
    ("labels", "annotations", "expected"),
    [
        pytest.param(
            BASE_LABELS,
            {"summary": "Target down", "message": "m", "description": "d"},
            "Target down",
            id="summary",
        ),
        pytest.param(
            BASE_LABELS,
            {"summary": "  ", "message": "10.0.3.7:9100 is down", "description": "d"},
            "10.0.3.7:9100 is down",
            id="message",
        ),
        pytest.param(
            BASE_LABELS,
            {"description": "\n\nNode exporter unreachable.\nSince 10:00."},
            "Node exporter unreachable.",
            id="description-first-line",
        ),
        pytest.param(
            BASE_LABELS,
            {"description": "  \n  "},
            "TargetDown (instance=10.0.3.7:9100, job=node)",
            id="alertname-instance-job",
        ),
        pytest.param(
            {"alertname": "TargetDown", "job": "node"}, {}, "TargetDown (job=node)", id="job-only"
        ),
        pytest.param({"alertname": "Watchdog"}, {}, "Watchdog", id="alertname-only"),
        pytest.param(
            {"zone": "eu-1", "team": "blue"}, {}, "team=blue, zone=eu-1", id="labels-sorted"
        ),
        pytest.param({}, {}, "Alertmanager alert", id="nothing"),
    ],
)
def test_the_summary_falls_back_from_annotations_to_labels(labels, annotations, expected):
    event = only_event(webhook(alert(labels=labels, annotations=annotations)))

    assert event.summary == expected


def test_a_long_summary_annotation_is_cut_to_1024():
    event = only_event(webhook(alert(annotations={"summary": "s" * 5000})))

    assert event.summary == "s" * 1024


@pytest.mark.parametrize(
    ("labels", "generator_url", "external_url", "expected"),
    [
        pytest.param(BASE_LABELS, "http://prom:9090/g", None, "10.0.3.7:9100", id="instance"),
        pytest.param({"job": "node"}, "http://prom:9090/g", None, "node", id="job"),
        pytest.param(
            {"alertname": "X"}, "http://scraper:secret@prom-1:9090/g", None, "prom-1:9090", id="gen"
        ),
        pytest.param(
            {"alertname": "X"}, "not a url", "https://am.example.com/", "am.example.com", id="ext"
        ),
        pytest.param({"alertname": "X"}, None, None, "alertmanager", id="nothing"),
    ],
)
def test_the_source_is_the_affected_instance_before_the_prometheus_that_saw_it(
    labels, generator_url, external_url, expected
):
    entry = alert(labels=labels, generatorURL=generator_url)

    event = only_event(webhook(entry, externalURL=external_url))

    assert event.source == expected


def test_urls_that_are_not_http_become_no_link_but_stay_in_details():
    entry = alert(
        generatorURL="javascript:alert(1)",
        annotations={"summary": "x", "runbook_url": "wiki/TargetDown"},
    )

    event = only_event(webhook(entry, externalURL="alertmanager.local"))

    assert event.links == ()
    assert event.client_url is None
    assert event.details["generator_url"] == "javascript:alert(1)"


def test_a_runbook_annotation_is_also_a_link():
    entry = alert(generatorURL=None, annotations={"runbook": "https://wiki.example.com/rb/1"})

    event = only_event(webhook(entry))

    assert event.links == (Link(href="https://wiki.example.com/rb/1", text="Runbook"),)


# --- Versions and validation ----------------------------------------------------------------------


def test_a_missing_version_is_accepted():
    body = webhook(LATENCY_ALERT)
    del body["version"]

    assert parse_webhook(body).version is None


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1", 'version must be "4" for the Alertmanager webhook, not "1"'),
        ("3", 'version must be "4" for the Alertmanager webhook, not "3"'),
        (4, 'version must be "4" for the Alertmanager webhook, not 4'),
    ],
)
def test_other_versions_are_refused_with_only_that_reason(version, expected):
    body = webhook(LATENCY_ALERT, version=version, alerts="broken too")

    assert errors_of(body) == [expected]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"alerts": None}, "alerts is required", id="no-alerts"),
        pytest.param({"alerts": {"a": 1}}, "alerts must be a list of objects", id="alerts-object"),
        pytest.param({"alerts": ["firing"]}, "alerts[0] must be an object", id="alert-string"),
        pytest.param({"status": "pending"}, "status must be firing or resolved", id="status"),
        pytest.param({"groupKey": 7}, "groupKey must be a string", id="group-key"),
        pytest.param({"receiver": ["a"]}, "receiver must be a string", id="receiver"),
        pytest.param({"externalURL": 1}, "externalURL must be a string", id="external-url"),
        pytest.param({"groupLabels": []}, "groupLabels must be an object", id="group-labels"),
        pytest.param(
            {"commonLabels": {"team": 1}}, "commonLabels.team must be a string", id="common-labels"
        ),
        pytest.param(
            {"commonAnnotations": "x"}, "commonAnnotations must be an object", id="common-annots"
        ),
        pytest.param(
            {"truncatedAlerts": -1}, "truncatedAlerts must be a non-negative integer", id="neg"
        ),
        pytest.param(
            {"truncatedAlerts": True}, "truncatedAlerts must be a non-negative integer", id="bool"
        ),
        pytest.param(
            {"truncatedAlerts": "2"}, "truncatedAlerts must be a non-negative integer", id="str"
        ),
    ],
)
def test_each_invalid_group_field_is_named(changes, expected):
    assert errors_of(webhook(LATENCY_ALERT, **changes)) == [expected]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"labels": None}, "alerts[0].labels is required", id="no-labels"),
        pytest.param({"labels": ["a"]}, "alerts[0].labels must be an object", id="labels-list"),
        pytest.param(
            {"labels": {"alertname": "X", "code": 500}},
            "alerts[0].labels.code must be a string",
            id="numeric-label",
        ),
        pytest.param(
            {"annotations": "x"}, "alerts[0].annotations must be an object", id="annotations"
        ),
        pytest.param({"status": "pending"}, "alerts[0].status must be firing or resolved", id="st"),
        pytest.param(
            {"startsAt": "yesterday"},
            "alerts[0].startsAt must be an RFC 3339 timestamp",
            id="start",
        ),
        pytest.param({"endsAt": 0}, "alerts[0].endsAt must be an RFC 3339 timestamp", id="end"),
        pytest.param({"fingerprint": 1}, "alerts[0].fingerprint must be a string", id="fp"),
        pytest.param({"generatorURL": {}}, "alerts[0].generatorURL must be a string", id="gen"),
    ],
)
def test_each_invalid_alert_field_is_named(changes, expected):
    assert errors_of(webhook(alert(**changes))) == [expected]


def test_an_alert_without_any_status_is_refused():
    entry = alert()
    del entry["status"]
    body = webhook(entry)
    del body["status"]

    assert errors_of(body) == ["alerts[0].status must be firing or resolved"]


def test_problems_in_several_alerts_are_all_reported():
    body = webhook(
        alert(labels=None),
        DISK_ALERT,
        alert(status="done", startsAt="noon"),
        truncatedAlerts=-2,
    )

    assert errors_of(body) == [
        "truncatedAlerts must be a non-negative integer",
        "alerts[0].labels is required",
        "alerts[2].status must be firing or resolved",
        "alerts[2].startsAt must be an RFC 3339 timestamp",
    ]


@pytest.mark.parametrize("body", [None, [], "alerts", 4])
def test_a_body_that_is_not_an_object_is_refused(body):
    assert errors_of(body) == ["the body must be a JSON object"]


def test_empty_timestamps_are_unset():
    event = only_event(webhook(alert(startsAt="", endsAt=None)))

    assert event.occurred_at is None
    assert "starts_at" not in event.details


# --- Fuzzing --------------------------------------------------------------------------------------

_ANY_CHARACTER = st.characters(exclude_categories=[])
json_values = st.recursive(
    # Any text JSON can carry, lone surrogates included.
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(_ANY_CHARACTER, max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
_labels = st.dictionaries(st.sampled_from(["alertname", "instance", "job", "severity"]), st.text())
_alert = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["firing", "resolved"]) | json_values,
        "labels": _labels | json_values,
        "annotations": _labels | json_values,
        "startsAt": st.datetimes().map(datetime.isoformat) | json_values,
        "endsAt": st.just("0001-01-01T00:00:00Z") | json_values,
        "fingerprint": st.text(max_size=16) | json_values,
        "generatorURL": st.just("http://prom:9090/graph") | json_values,
    },
)
near_valid_bodies = st.fixed_dictionaries(
    {"alerts": st.lists(_alert | json_values, max_size=3) | json_values},
    optional={
        "version": st.just("4") | json_values,
        "status": st.sampled_from(["firing", "resolved"]) | json_values,
        "truncatedAlerts": json_values,
        "commonLabels": _labels | json_values,
        "externalURL": st.text() | json_values,
    },
)


def outcome(body: Any) -> tuple[AlertmanagerBatch | None, InvalidEvent | None]:
    try:
        return parse_webhook(body), None
    except InvalidEvent as error:
        return None, error


@settings(max_examples=300)
@given(body=json_values | near_valid_bodies)
def test_parse_webhook_raises_nothing_but_invalid_event(body):
    batch, error = outcome(body)

    if error is not None:
        assert error.errors
    else:
        assert batch is not None
        for event in batch.events:
            assert event.dedup_key
            assert 0 < len(event.summary) <= 1024
            assert event.source
