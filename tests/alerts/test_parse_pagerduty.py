"""PagerDuty Events API v2 bodies, shaped as PagerDuty documents them, through our parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fireline.alerts.events import (
    AlertEvent,
    ChangeEvent,
    Image,
    InvalidEvent,
    Link,
    is_web_url,
    parse_timestamp,
)
from fireline.alerts.parsers.pagerduty import parse_change, parse_event

ROUTING_KEY = "R0UT1NGK3Y0000000000000000000001"


def trigger_body(**changes: Any) -> dict[str, Any]:
    """A full trigger with every documented field, as a monitoring tool would send it."""
    body: dict[str, Any] = {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "checkout-api/latency",
        "payload": {
            "summary": "p99 latency above 2s on checkout-api",
            "timestamp": "2026-01-05T09:58:12.250+0000",
            "source": "checkout-api-7f9c.prod.example.com",
            "severity": "critical",
            "component": "nginx",
            "group": "checkout",
            "class": "latency",
            "custom_details": {"p99_ms": 2350, "threshold_ms": 2000, "region": "eu-west-1"},
        },
        "images": [
            {
                "src": "https://graphs.example.com/checkout-latency.png",
                "href": "https://graphs.example.com/d/checkout",
                "alt": "p99 latency, last hour",
            }
        ],
        "links": [{"href": "https://runbooks.example.com/checkout-latency", "text": "Runbook"}],
        "client": "Example Monitoring",
        "client_url": "https://monitoring.example.com",
    }
    body.update(changes)
    return body


def with_payload(**changes: Any) -> dict[str, Any]:
    body = trigger_body()
    body["payload"] = {**body["payload"], **changes}
    return body


def without_payload_field(name: str) -> dict[str, Any]:
    body = trigger_body()
    del body["payload"][name]
    return body


def errors_of(body: Any) -> list[str]:
    with pytest.raises(InvalidEvent) as raised:
        parse_event(body)
    return raised.value.errors


# --- Triggers -------------------------------------------------------------------------------------


def test_a_full_trigger_keeps_every_documented_field():
    routing_key, event = parse_event(trigger_body())

    assert routing_key == ROUTING_KEY
    assert event == AlertEvent(
        action="trigger",
        dedup_key="checkout-api/latency",
        summary="p99 latency above 2s on checkout-api",
        severity="critical",
        source="checkout-api-7f9c.prod.example.com",
        occurred_at=datetime(2026, 1, 5, 9, 58, 12, 250000, tzinfo=UTC),
        details={"p99_ms": 2350, "threshold_ms": 2000, "region": "eu-west-1"},
        component="nginx",
        group="checkout",
        class_="latency",
        links=(Link(href="https://runbooks.example.com/checkout-latency", text="Runbook"),),
        images=(
            Image(
                src="https://graphs.example.com/checkout-latency.png",
                href="https://graphs.example.com/d/checkout",
                alt="p99 latency, last hour",
            ),
        ),
        client="Example Monitoring",
        client_url="https://monitoring.example.com",
    )


def test_a_minimal_trigger_needs_only_summary_source_and_severity():
    body = {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "payload": {"summary": "Disk 95% full on db-2", "source": "db-2", "severity": "warning"},
    }

    _, event = parse_event(body)

    assert event == AlertEvent(
        action="trigger",
        dedup_key=None,
        summary="Disk 95% full on db-2",
        severity="warning",
        source="db-2",
        occurred_at=None,
    )


def test_a_trigger_with_an_empty_dedup_key_gets_one_generated_by_the_store():
    _, event = parse_event(trigger_body(dedup_key=""))

    assert event.dedup_key is None


def test_null_optional_fields_are_the_same_as_absent_ones():
    body = trigger_body(dedup_key=None, images=None, links=None, client=None, client_url=None)
    body["payload"].update(timestamp=None, component=None, custom_details=None, group="")

    _, event = parse_event(body)

    assert event.dedup_key is None
    assert event.occurred_at is None
    assert event.component is None
    assert event.group is None
    assert event.details == {}
    assert event.links == ()
    assert event.images == ()
    assert event.client is None
    assert event.client_url is None


@pytest.mark.parametrize("severity", ["critical", "error", "warning", "info"])
def test_each_of_the_four_severities_is_accepted_as_is(severity):
    _, event = parse_event(with_payload(severity=severity))

    assert event.severity == severity


def test_summary_and_source_lose_surrounding_whitespace():
    _, event = parse_event(with_payload(summary="  Disk full\n", source=" db-2 "))

    assert event.summary == "Disk full"
    assert event.source == "db-2"


def test_a_summary_over_1024_characters_is_cut_to_1024_not_refused():
    long_summary = "Replication lag on db-2: " + "x" * 2000

    _, event = parse_event(with_payload(summary=long_summary))

    assert len(event.summary) == 1024
    assert event.summary == long_summary[:1024]


def test_a_summary_of_exactly_1024_characters_is_kept_whole():
    summary = "y" * 1024

    _, event = parse_event(with_payload(summary=summary))

    assert event.summary == summary


def test_custom_details_that_are_not_an_object_are_kept_under_one_key():
    _, event = parse_event(with_payload(custom_details="load average 14.2 on 4 cores"))

    assert event.details == {"custom_details": "load average 14.2 on 4 cores"}


def test_links_and_images_need_only_their_url():
    body = trigger_body(
        links=[{"href": "https://status.example.com"}],
        images=[{"src": "https://graphs.example.com/cpu.png"}],
    )

    _, event = parse_event(body)

    assert event.links == (Link(href="https://status.example.com", text=None),)
    assert event.images == (Image(src="https://graphs.example.com/cpu.png", href=None, alt=None),)


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        # PagerDuty's own examples write the offset without a colon.
        ("2015-07-17T08:42:58.315+0000", datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)),
        ("2015-07-17T10:42:58+02:00", datetime(2015, 7, 17, 8, 42, 58, tzinfo=UTC)),
        ("2015-07-17T08:42:58Z", datetime(2015, 7, 17, 8, 42, 58, tzinfo=UTC)),
        ("2015-07-17T03:42:58-05:00", datetime(2015, 7, 17, 8, 42, 58, tzinfo=UTC)),
        # No offset: taken as UTC.
        ("2015-07-17T08:42:58", datetime(2015, 7, 17, 8, 42, 58, tzinfo=UTC)),
    ],
)
def test_timestamps_with_any_offset_become_utc(timestamp, expected):
    _, event = parse_event(with_payload(timestamp=timestamp))

    assert event.occurred_at == expected
    assert event.occurred_at is not None
    assert event.occurred_at.utcoffset() == timedelta(0)


def test_a_routing_key_of_64_characters_is_accepted():
    routing_key, _ = parse_event(trigger_body(routing_key="k" * 64))

    assert routing_key == "k" * 64


def test_a_dedup_key_of_255_characters_is_accepted():
    _, event = parse_event(trigger_body(dedup_key="d" * 255))

    assert event.dedup_key == "d" * 255


def test_unknown_fields_are_ignored():
    _, event = parse_event(trigger_body(incident_key="legacy", extra={"a": 1}))

    assert event.dedup_key == "checkout-api/latency"


# --- Acknowledge and resolve ----------------------------------------------------------------------


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_acknowledge_and_resolve_need_only_the_dedup_key(action):
    body = {"routing_key": ROUTING_KEY, "dedup_key": "checkout-api/latency", "event_action": action}

    routing_key, event = parse_event(body)

    assert routing_key == ROUTING_KEY
    assert event == AlertEvent(
        action=action,
        dedup_key="checkout-api/latency",
        summary="",
        severity="info",
        source="",
        occurred_at=None,
    )


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_acknowledge_and_resolve_ignore_payload_links_and_images_even_malformed(action):
    body = {
        "routing_key": ROUTING_KEY,
        "dedup_key": "checkout-api/latency",
        "event_action": action,
        "payload": "not an object",
        "links": [{"text": "no href"}],
        "images": "nope",
        "client_url": "javascript:alert(1)",
    }

    _, event = parse_event(body)

    assert event.action == action
    assert event.links == ()
    assert event.client_url is None


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
@pytest.mark.parametrize("dedup_key", [None, ""])
def test_acknowledge_and_resolve_without_a_dedup_key_are_refused(action, dedup_key):
    body = {"routing_key": ROUTING_KEY, "event_action": action, "dedup_key": dedup_key}

    assert errors_of(body) == [f"dedup_key is required to {action} an alert"]


def test_a_resolve_with_a_malformed_dedup_key_reports_it_once():
    body = {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": 42}

    assert errors_of(body) == ["dedup_key must be a string of at most 255 characters"]


# --- Validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(trigger_body(routing_key=None), "routing_key is required", id="no-key"),
        pytest.param(trigger_body(routing_key=""), "routing_key is required", id="empty-key"),
        pytest.param(
            trigger_body(routing_key="k" * 65),
            "routing_key must be a string of at most 64 characters",
            id="long-key",
        ),
        pytest.param(
            trigger_body(routing_key=1234),
            "routing_key must be a string of at most 64 characters",
            id="numeric-key",
        ),
        pytest.param(
            trigger_body(dedup_key="d" * 256),
            "dedup_key must be a string of at most 255 characters",
            id="long-dedup-key",
        ),
        pytest.param(
            trigger_body(dedup_key=["a"]),
            "dedup_key must be a string of at most 255 characters",
            id="list-dedup-key",
        ),
        pytest.param(
            trigger_body(payload=None), "payload is required for trigger events", id="no-payload"
        ),
        pytest.param(
            trigger_body(payload=["summary"]), "payload must be an object", id="list-payload"
        ),
        pytest.param(
            without_payload_field("summary"), "payload.summary is required", id="no-summary"
        ),
        pytest.param(
            with_payload(summary="   "), "payload.summary is required", id="blank-summary"
        ),
        pytest.param(
            with_payload(summary=42), "payload.summary must be a string", id="numeric-summary"
        ),
        pytest.param(without_payload_field("source"), "payload.source is required", id="no-source"),
        pytest.param(
            with_payload(source={"host": "db-2"}),
            "payload.source must be a string",
            id="object-source",
        ),
        pytest.param(
            without_payload_field("severity"), "payload.severity is required", id="no-severity"
        ),
        pytest.param(
            with_payload(severity="high"),
            "payload.severity must be one of critical, error, warning, info",
            id="unknown-severity",
        ),
        pytest.param(
            with_payload(severity="CRITICAL"),
            "payload.severity must be one of critical, error, warning, info",
            id="upper-case-severity",
        ),
        pytest.param(
            with_payload(severity=3),
            "payload.severity must be one of critical, error, warning, info",
            id="numeric-severity",
        ),
        pytest.param(
            with_payload(timestamp="yesterday"),
            "payload.timestamp must be an ISO 8601 timestamp",
            id="prose-timestamp",
        ),
        pytest.param(
            with_payload(timestamp=1436517778),
            "payload.timestamp must be an ISO 8601 timestamp",
            id="unix-timestamp",
        ),
        pytest.param(
            with_payload(component=7), "payload.component must be a string", id="component"
        ),
        pytest.param(with_payload(group=["a"]), "payload.group must be a string", id="group"),
        pytest.param(with_payload(**{"class": True}), "payload.class must be a string", id="class"),
        pytest.param(trigger_body(client=1), "client must be a string", id="client"),
        pytest.param(trigger_body(client_url=1), "client_url must be a string", id="client-url"),
        pytest.param(
            trigger_body(client_url="ftp://monitoring.example.com"),
            "client_url must be an http or https URL",
            id="ftp-client-url",
        ),
        pytest.param(
            trigger_body(links={"href": "https://a.example"}),
            "links must be a list of objects",
            id="links-object",
        ),
        pytest.param(
            trigger_body(links=["https://a.example"]), "links[0] must be an object", id="link-text"
        ),
        pytest.param(
            trigger_body(links=[{"text": "Runbook"}]), "links[0].href is required", id="link-href"
        ),
        pytest.param(
            trigger_body(links=[{"href": "javascript:alert(1)"}]),
            "links[0].href must be an http or https URL",
            id="link-script",
        ),
        pytest.param(
            trigger_body(links=[{"href": "https://a.example", "text": 5}]),
            "links[0].text must be a string",
            id="link-text-type",
        ),
        pytest.param(
            trigger_body(images="https://a.example/x.png"),
            "images must be a list of objects",
            id="images-string",
        ),
        pytest.param(trigger_body(images=[None]), "images[0] must be an object", id="image-null"),
        pytest.param(trigger_body(images=[{"alt": "x"}]), "images[0].src is required", id="no-src"),
        pytest.param(
            trigger_body(images=[{"src": "data:image/png;base64,AAAA"}]),
            "images[0].src must be an http or https URL",
            id="data-src",
        ),
        pytest.param(
            trigger_body(images=[{"src": "https://a.example/x.png", "href": "/relative"}]),
            "images[0].href must be an http or https URL",
            id="relative-image-href",
        ),
        pytest.param(
            trigger_body(images=[{"src": "https://a.example/x.png", "alt": 1}]),
            "images[0].alt must be a string",
            id="image-alt",
        ),
    ],
)
def test_each_invalid_field_is_named(body, expected):
    assert errors_of(body) == [expected]


@pytest.mark.parametrize("event_action", [None, "escalate", "TRIGGER", 1, ["trigger"]])
def test_without_a_valid_event_action_nothing_else_about_the_payload_is_said(event_action):
    body = trigger_body(event_action=event_action, payload="ignored")

    expected = (
        "event_action is required"
        if event_action is None
        else "event_action must be one of trigger, acknowledge, resolve"
    )
    assert errors_of(body) == [expected]


def test_an_invalid_action_is_reported_with_the_routing_key_and_dedup_key_problems():
    body = {"event_action": "page", "dedup_key": 5}

    assert errors_of(body) == [
        "routing_key is required",
        "event_action must be one of trigger, acknowledge, resolve",
        "dedup_key must be a string of at most 255 characters",
    ]


def test_every_problem_of_a_bad_trigger_is_reported_at_once():
    body = {
        "routing_key": "",
        "event_action": "trigger",
        "payload": {"summary": "", "severity": "sev1", "timestamp": "soon"},
        "links": [{"href": "https://ok.example"}, {}],
        "images": [{"src": "http://ok.example/a.png"}, 3],
    }

    assert errors_of(body) == [
        "routing_key is required",
        "payload.summary is required",
        "payload.source is required",
        "payload.severity must be one of critical, error, warning, info",
        "payload.timestamp must be an ISO 8601 timestamp",
        "links[1].href is required",
        "images[1] must be an object",
    ]


@pytest.mark.parametrize("body", [None, [], ["routing_key"], "trigger", 42, 4.2, True])
def test_a_body_that_is_not_an_object_is_refused(body):
    assert errors_of(body) == ["the body must be a JSON object"]


def test_the_error_message_joins_every_problem():
    error = InvalidEvent(["routing_key is required", "payload is required"])

    assert str(error) == "routing_key is required; payload is required"
    assert isinstance(error, ValueError)


# --- Change events --------------------------------------------------------------------------------


def change_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": ROUTING_KEY,
        "payload": {
            "summary": "Deploy checkout-api v2.31.0 to production",
            "timestamp": "2026-01-05T09:40:00.000+0000",
            "source": "ci-pipeline-runner-12",
            "custom_details": {"commit": "9f2c1ab", "deployer": "amara", "duration_s": 312},
        },
        "links": [{"href": "https://ci.example.com/pipelines/8812", "text": "Pipeline 8812"}],
    }
    body.update(changes)
    return body


def change_errors(body: Any) -> list[str]:
    with pytest.raises(InvalidEvent) as raised:
        parse_change(body)
    return raised.value.errors


def test_a_deploy_change_event_is_read_whole():
    routing_key, change = parse_change(change_body())

    assert routing_key == ROUTING_KEY
    assert change == ChangeEvent(
        summary="Deploy checkout-api v2.31.0 to production",
        timestamp=datetime(2026, 1, 5, 9, 40, tzinfo=UTC),
        source="ci-pipeline-runner-12",
        details={"commit": "9f2c1ab", "deployer": "amara", "duration_s": 312},
        links=(Link(href="https://ci.example.com/pipelines/8812", text="Pipeline 8812"),),
    )


def test_a_change_event_needs_only_a_summary():
    body = {"routing_key": ROUTING_KEY, "payload": {"summary": "Rotated the TLS certificate"}}

    _, change = parse_change(body)

    assert change == ChangeEvent(
        summary="Rotated the TLS certificate", timestamp=None, source=None, details={}, links=()
    )


def test_a_long_change_summary_is_cut_to_1024():
    _, change = parse_change(change_body(payload={"summary": "z" * 1500}))

    assert change.summary == "z" * 1024


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(change_body(routing_key=None), ["routing_key is required"], id="no-key"),
        pytest.param(change_body(payload=None), ["payload is required"], id="no-payload"),
        pytest.param(change_body(payload="x"), ["payload must be an object"], id="str-payload"),
        pytest.param(
            change_body(payload={"source": "ci"}), ["payload.summary is required"], id="no-summary"
        ),
        pytest.param(
            change_body(payload={"summary": "Deploy", "source": 1, "timestamp": "now"}),
            ["payload.source must be a string", "payload.timestamp must be an ISO 8601 timestamp"],
            id="bad-source-and-time",
        ),
        pytest.param(
            change_body(links=[{"href": "ci.example.com/1"}]),
            ["links[0].href must be an http or https URL"],
            id="schemeless-link",
        ),
        pytest.param([], ["the body must be a JSON object"], id="list-body"),
    ],
)
def test_change_event_problems_are_named(body, expected):
    assert change_errors(body) == expected


def test_a_change_event_may_carry_non_object_custom_details():
    _, change = parse_change(change_body(payload={"summary": "Deploy", "custom_details": [1, 2]}))

    assert change.details == {"custom_details": [1, 2]}


# --- Shared helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-05T10:00:00+01:00", datetime(2026, 1, 5, 9, 0, tzinfo=UTC)),
        ("2026-01-05", datetime(2026, 1, 5, tzinfo=UTC)),
        ("5 January 2026", None),
        ("", None),
        # Moving year 1 back by an hour leaves the calendar: not a timestamp we can hold.
        ("0001-01-01T00:00:00+01:00", None),
    ],
)
def test_parse_timestamp(text, expected):
    assert parse_timestamp(text) == expected


def test_parse_timestamp_keeps_an_offset_instant_equal():
    instant = parse_timestamp("2026-01-05T12:00:00+02:00")

    assert instant == datetime(2026, 1, 5, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert instant is not None
    assert instant.tzinfo is UTC


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", True),
        ("HTTP://example.com", True),
        ("http:///no-host", False),
        ("javascript:alert(1)", False),
        ("//example.com/a", False),
        ("http://[::1", False),
    ],
)
def test_is_web_url(url, expected):
    assert is_web_url(url) is expected


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


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return strategy | json_values


_context = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "href": _maybe(st.sampled_from(["https://a.example", "javascript:x", ""])),
            "src": _maybe(st.sampled_from(["https://a.example/i.png", "x"])),
            "text": json_values,
            "alt": json_values,
        },
    )
    | json_values,
    max_size=3,
)

# Bodies shaped like PagerDuty's, so fuzzing reaches the payload checks, not only the first one.
near_valid_bodies = st.fixed_dictionaries(
    {},
    optional={
        "routing_key": _maybe(st.just(ROUTING_KEY)),
        "event_action": _maybe(st.sampled_from(["trigger", "acknowledge", "resolve"])),
        "dedup_key": _maybe(st.text(max_size=300)),
        "payload": _maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "summary": _maybe(st.text(max_size=1100)),
                    "source": _maybe(st.text(max_size=20)),
                    "severity": _maybe(st.sampled_from(["critical", "error", "warning", "info"])),
                    "timestamp": _maybe(st.datetimes().map(datetime.isoformat) | st.text()),
                    "component": json_values,
                    "group": json_values,
                    "class": json_values,
                    "custom_details": json_values,
                },
            )
        ),
        "links": _maybe(_context),
        "images": _maybe(_context),
        "client": json_values,
        "client_url": _maybe(st.just("https://m.example")),
    },
)


def _check_event(routing_key: str, event: AlertEvent) -> None:
    assert 0 < len(routing_key) <= 64
    assert event.severity in {"critical", "error", "warning", "info"}
    if event.action == "trigger":
        assert 0 < len(event.summary) <= 1024
        assert event.source
    else:
        assert event.dedup_key
    if event.occurred_at is not None:
        assert event.occurred_at.utcoffset() == timedelta(0)


def outcome(parse: Any, body: Any) -> tuple[Any, InvalidEvent | None]:
    """What parsing gave: the result, or the InvalidEvent raised (anything else propagates)."""
    try:
        return parse(body), None
    except InvalidEvent as error:
        return None, error


@settings(max_examples=300)
@given(body=json_values | near_valid_bodies)
def test_parse_event_raises_nothing_but_invalid_event(body):
    result, error = outcome(parse_event, body)

    if error is not None:
        assert error.errors
        assert all(isinstance(message, str) and message for message in error.errors)
    else:
        _check_event(*result)


@settings(max_examples=200)
@given(body=json_values | near_valid_bodies)
def test_parse_change_raises_nothing_but_invalid_event(body):
    result, error = outcome(parse_change, body)

    if error is not None:
        assert error.errors
    else:
        _, change = result
        assert 0 < len(change.summary) <= 1024
