"""Arbitrary JSON webhooks read through an admin's mapping of JSON paths and templates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fireline.alerts.events import AlertEvent, InvalidEvent, stable_key
from fireline.alerts.parsers.generic import (
    DEFAULT_MAPPING,
    InvalidMapping,
    Mapping,
    parse,
    validate_mapping,
)

DISK_ALERT = {
    "id": "chk-8812",
    "title": "Disk 95% full on db-2",
    "status": "open",
    "severity": "high",
    "source": "db-2.prod.example.com",
}

# A cron monitor posting a list of checks under "checks", each with its own state.
CRON_REPORT: dict[str, Any] = {
    "monitor": "cron-watch",
    "sent_at": 1767607200,
    "checks": [
        {"job": "nightly-backup", "host": "db-2", "state": "failed", "level": "P1", "run": 4411},
        {"job": "invoice-export", "host": "app-1", "state": "ok", "level": "P3", "run": 981},
        {"job": "cache-warm", "host": "app-2", "state": "ack", "level": "P2", "run": 17},
    ],
}

CRON_MAPPING = Mapping(
    items="$.checks",
    summary="{{ item.job }} {{ item.state }} on {{ item.host }} (run {{ item.run }})",
    dedup_key="{{ body.monitor }}/{{ item.job }}",
    status="$.state",
    source="$.host",
    severity="$.level",
    severity_map={"p1": "critical", "P2": "error", "p3": "info"},
)


def errors_of(body: Any, mapping: Mapping) -> list[str]:
    with pytest.raises(InvalidEvent) as raised:
        parse(body, mapping)
    return raised.value.errors


def mapping_errors(mapping: Mapping) -> list[str]:
    with pytest.raises(InvalidMapping) as raised:
        validate_mapping(mapping)
    return raised.value.errors


# --- The default mapping --------------------------------------------------------------------------


def test_the_default_mapping_reads_a_typical_alert_body():
    (event,) = parse(DISK_ALERT, DEFAULT_MAPPING)

    assert event == AlertEvent(
        action="trigger",
        dedup_key="chk-8812",
        summary="Disk 95% full on db-2",
        severity="critical",
        source="db-2.prod.example.com",
        occurred_at=None,
        details=DISK_ALERT,
    )


def test_the_default_mapping_needs_only_a_title():
    (event,) = parse({"title": "Queue backlog growing"}, DEFAULT_MAPPING)

    assert event.action == "trigger"
    assert event.severity == "warning"
    assert event.source == "webhook"
    # Without an id, repeats of the same title from the same place share a key.
    assert event.dedup_key == stable_key("Queue backlog growing", "webhook")


def test_numbers_and_booleans_are_read_as_json_writes_them():
    (event,) = parse({"id": 42, "title": "Flag flipped", "severity": True}, DEFAULT_MAPPING)

    assert event.dedup_key == "42"
    assert event.severity == "warning"


def test_the_default_mapping_is_valid():
    validate_mapping(DEFAULT_MAPPING)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("resolved", "resolve"),
        ("OK", "resolve"),
        ("Closed", "resolve"),
        (" resolved ", "resolve"),
        ("acknowledged", "acknowledge"),
        ("ACK", "acknowledge"),
        ("open", "trigger"),
        ("firing", "trigger"),
        ("", "trigger"),
        (None, "trigger"),
    ],
)
def test_the_status_decides_the_action(status, action):
    (event,) = parse({**DISK_ALERT, "status": status}, DEFAULT_MAPPING)

    assert event.action == action


def test_status_words_are_configurable():
    mapping = Mapping(
        summary="$.title",
        status="$.status",
        resolve_values=("Recovered",),
        acknowledge_values=("seen",),
    )

    actions = [
        parse({"title": "t", "status": status}, mapping)[0].action
        for status in ("recovered", "SEEN", "resolved")
    ]

    assert actions == ["resolve", "acknowledge", "trigger"]


# --- Lists, items, templates ----------------------------------------------------------------------


def test_a_list_body_gives_one_event_per_element_in_order():
    events = parse(
        [DISK_ALERT, {**DISK_ALERT, "id": "chk-9", "status": "resolved"}], DEFAULT_MAPPING
    )

    assert [(event.dedup_key, event.action) for event in events] == [
        ("chk-8812", "trigger"),
        ("chk-9", "resolve"),
    ]


def test_an_items_path_picks_the_alerts_and_templates_see_item_and_body():
    events = parse(CRON_REPORT, CRON_MAPPING)

    assert [
        (event.summary, event.dedup_key, event.action, event.severity, event.source)
        for event in events
    ] == [
        (
            "nightly-backup failed on db-2 (run 4411)",
            "cron-watch/nightly-backup",
            "trigger",
            "critical",
            "db-2",
        ),
        (
            "invoice-export ok on app-1 (run 981)",
            "cron-watch/invoice-export",
            "resolve",
            "info",
            "app-1",
        ),
        (
            "cache-warm ack on app-2 (run 17)",
            "cron-watch/cache-warm",
            "acknowledge",
            "error",
            "app-2",
        ),
    ]
    assert events[0].details == CRON_REPORT["checks"][0]


def test_an_items_path_with_a_wildcard_or_filter_selects_the_same_way():
    wildcard = Mapping(items="$.checks[*]", summary="$.job")
    failed_only = Mapping(items="$.checks[?(@.state == 'failed')]", summary="$.job")

    assert [event.summary for event in parse(CRON_REPORT, wildcard)] == [
        "nightly-backup",
        "invoice-export",
        "cache-warm",
    ]
    assert [event.summary for event in parse(CRON_REPORT, failed_only)] == ["nightly-backup"]


def test_an_items_path_selecting_an_empty_list_gives_no_events():
    assert parse({"checks": []}, CRON_MAPPING) == []


def test_an_items_path_that_finds_nothing_is_an_error():
    assert errors_of({"results": []}, CRON_MAPPING) == ["items: $.checks found nothing in the body"]


def test_an_items_path_that_fails_on_the_body_is_an_error():
    mapping = Mapping(items="$.checks.`sub(/a/, b)`", summary="$.job")

    assert errors_of({"checks": 3}, mapping) == [
        "items: the JSON path failed on this body: expected string or bytes-like object, got 'int'"
    ]


def test_a_path_matching_several_values_takes_the_first():
    mapping = Mapping(summary="$.errors[*].message")
    body = {"errors": [{"message": "timeout"}, {"message": "refused"}]}

    assert parse(body, mapping)[0].summary == "timeout"


def test_text_without_braces_is_a_constant():
    mapping = Mapping(summary="Nightly backup failed", source="billing-cron", dedup_key="backup")

    (event,) = parse({}, mapping)

    assert (event.summary, event.source, event.dedup_key) == (
        "Nightly backup failed",
        "billing-cron",
        "backup",
    )


def test_a_null_in_a_template_prints_as_nothing():
    mapping = Mapping(summary="{{ item.title }}{{ item.suffix }}")

    assert parse({"title": "CPU high", "suffix": None}, mapping)[0].summary == "CPU high"


def test_a_long_summary_is_cut_to_1024_and_a_long_dedup_key_is_hashed():
    long_id = "x" * 300

    (event,) = parse({"title": "t" * 2000, "id": long_id}, DEFAULT_MAPPING)

    assert event.summary == "t" * 1024
    assert event.dedup_key == stable_key(long_id)


# --- Severity -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("P1", "critical"),
        ("p2", "error"),
        (" P3 ", "info"),
        ("warn", "warning"),
        ("critical", "critical"),
        ("p5", "info"),
        (1, "critical"),
    ],
)
def test_the_severity_map_comes_first_then_severity_words_then_the_default(value, expected):
    mapping = Mapping(
        summary="$.title",
        severity="$.priority",
        severity_map={"P1": "critical", "p2": "error", "p3": "info", "1": "critical"},
        default_severity="info",
    )

    (event,) = parse({"title": "t", "priority": value}, mapping)

    assert event.severity == expected


def test_a_missing_severity_is_the_default_severity():
    mapping = Mapping(summary="$.title", severity="$.priority", default_severity="error")

    assert parse({"title": "t"}, mapping)[0].severity == "error"


# --- Time and labels ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-05T10:00:00+01:00", datetime(2026, 1, 5, 9, 0, tzinfo=UTC)),
        (1767607200, datetime(2026, 1, 5, 10, 0, tzinfo=UTC)),
        (1767607200.5, datetime(2026, 1, 5, 10, 0, 0, 500000, tzinfo=UTC)),
        (1767607200123, datetime(2026, 1, 5, 10, 0, 0, 123000, tzinfo=UTC)),
        ("1767607200", datetime(2026, 1, 5, 10, 0, tzinfo=UTC)),
        (" 1767607200.25 ", datetime(2026, 1, 5, 10, 0, 0, 250000, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_occurred_at_reads_iso_timestamps_and_unix_seconds_or_milliseconds(value, expected):
    mapping = Mapping(summary="$.title", occurred_at="$.at")

    assert parse({"title": "t", "at": value}, mapping)[0].occurred_at == expected


@pytest.mark.parametrize(
    "value", ["soon", "9" * 400, True, [1], float("nan"), float("inf"), 10**30]
)
def test_an_unreadable_occurred_at_is_an_error(value):
    mapping = Mapping(summary="$.title", occurred_at="$.at")

    assert errors_of({"title": "t", "at": value}, mapping) == [
        "occurred_at: must be an ISO 8601 timestamp or a Unix time"
    ]


def test_occurred_at_may_come_from_a_template_over_the_whole_body():
    mapping = Mapping(items="$.checks", summary="$.job", occurred_at="{{ body.sent_at }}")

    events = parse(CRON_REPORT, mapping)

    # The template renders the Unix time as digits, which still read as a Unix time.
    assert [event.occurred_at for event in events] == [datetime(2026, 1, 5, 10, 0, tzinfo=UTC)] * 3


def test_labels_come_from_an_object_with_values_as_text():
    mapping = Mapping(summary="$.title", labels="$.tags")
    body = {"title": "t", "tags": {"team": "payments", "tier": 1, "canary": False, "gone": None}}

    (event,) = parse(body, mapping)

    assert event.labels == {"team": "payments", "tier": "1", "canary": "false"}


def test_labels_that_are_not_an_object_are_an_error():
    mapping = Mapping(summary="$.title", labels="$.tags")

    assert errors_of({"title": "t", "tags": ["a"]}, mapping) == [
        "labels: must select a JSON object"
    ]


def test_missing_labels_are_empty():
    assert parse({"title": "t"}, Mapping(summary="$.title", labels="$.tags"))[0].labels == {}


# --- Errors in the body ---------------------------------------------------------------------------


def test_a_summary_path_that_finds_nothing_is_named():
    assert errors_of({"name": "x"}, DEFAULT_MAPPING) == [
        "summary: $.title gave nothing for this body"
    ]


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        pytest.param(
            "{{ item.host }} down",
            "summary: the template uses something this body does not have "
            "('dict object' has no attribute 'host')",
            id="undefined",
        ),
        pytest.param(
            "{{ item.__class__ }}",
            "summary: the template did something the sandbox forbids "
            "(access to attribute '__class__' of 'dict' object is unsafe.)",
            id="sandbox",
        ),
        pytest.param(
            "{{ item.count / 0 }}",
            "summary: the template failed: ZeroDivisionError: division by zero",
            id="zero-division",
        ),
        pytest.param(
            "{% if true %}{{ item | no_such_filter }}{% endif %}",
            "summary: the template failed: TemplateRuntimeError: "
            "No filter named 'no_such_filter' found.",
            id="runtime-filter",
        ),
        pytest.param(
            "{{ item.blank }}", "summary: {{ item.blank }} gave nothing for this body", id="blank"
        ),
    ],
)
def test_template_failures_name_the_field(summary, expected):
    assert errors_of({"count": 3, "blank": "  "}, Mapping(summary=summary)) == [expected]


@pytest.mark.parametrize(
    ("summary", "reason"),
    [
        ("{{ 'x' * 10**10 }}", "repeating text or lists past 100000 is not allowed"),
        ("{{ 10**6 * ['x'] }}", "repeating text or lists past 100000 is not allowed"),
        ("{{ ('x' * 1000) * 1000 }}", "repeating text or lists past 100000 is not allowed"),
        ("{{ item.count ** 1000 }}", "exponents above 100 are not allowed"),
    ],
)
def test_the_sandbox_refuses_runaway_arithmetic(summary, reason):
    assert errors_of({"count": 3}, Mapping(summary=summary)) == [
        f"summary: the template did something the sandbox forbids ({reason})"
    ]


def test_ordinary_template_arithmetic_still_works():
    mapping = Mapping(
        summary="{{ item.count * 2 }} {{ '=' * 3 }} {{ 2 ** 10 }} {{ item.count ** 0.5 }}"
    )

    assert parse({"count": 9}, mapping)[0].summary == "18 === 1024 3.0"


def test_a_json_path_failing_on_the_body_names_the_field():
    mapping = Mapping(summary="$.title", source="$.host.`sub(/-/, .)`")

    assert errors_of({"title": "t", "host": 7}, mapping) == [
        "source: the JSON path failed on this body: expected string or bytes-like object, got 'int'"
    ]


def test_problems_in_a_list_body_say_which_item_they_are_about():
    body = [DISK_ALERT, {"id": "2"}, "not an object", {"title": "t", "severity": "{{"}]

    assert errors_of(body, DEFAULT_MAPPING) == [
        "items[1]: summary: $.title gave nothing for this body",
        "items[2]: each alert must be a JSON object",
    ]


def test_every_field_a_body_cannot_fill_is_reported():
    mapping = Mapping(summary="{{ item.title }}", source="{{ item.host }}", occurred_at="$.at")

    assert errors_of({"at": "later"}, mapping) == [
        (
            "summary: the template uses something this body does not have "
            "('dict object' has no attribute 'title')"
        ),
        (
            "source: the template uses something this body does not have "
            "('dict object' has no attribute 'host')"
        ),
        "occurred_at: must be an ISO 8601 timestamp or a Unix time",
    ]


@pytest.mark.parametrize("body", [None, "alert", 3, True])
def test_a_body_that_is_neither_object_nor_list_is_refused(body):
    assert errors_of(body, DEFAULT_MAPPING) == [
        "the body must be a JSON object or a list of objects"
    ]


# --- Validating a mapping -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        pytest.param(Mapping(summary="  "), ["summary is required"], id="blank-summary"),
        pytest.param(
            Mapping(summary="$.alerts["),
            ["summary: invalid JSON path: Parse error near the end of string!"],
            id="path",
        ),
        pytest.param(
            Mapping(summary="$.title", severity="$.a b"),
            ["severity: invalid JSON path: Parse error at 1:4 near token b (ID)"],
            id="path-token",
        ),
        pytest.param(
            Mapping(summary="{{ item.title"),
            [
                (
                    "summary: invalid template (line 1): "
                    "unexpected end of template, expected 'end of print statement'."
                )
            ],
            id="template",
        ),
        pytest.param(
            Mapping(summary="$.t", source="{{ item.host | shout }}"),
            ["source: invalid template (line 1): No filter named 'shout'."],
            id="unknown-filter",
        ),
        pytest.param(
            Mapping(summary="$.t", items="{{ body.alerts }}"),
            ["items must be a JSON path starting with $"],
            id="items-template",
        ),
        pytest.param(
            Mapping(summary="$.t", items="$.alerts["),
            ["items: invalid JSON path: Parse error near the end of string!"],
            id="items-path",
        ),
        pytest.param(
            Mapping(summary="$.t", severity_map={"p1": "sev1"}),  # type: ignore[dict-item]
            ['severity_map["p1"] must be one of critical, error, warning, info'],
            id="severity-map",
        ),
        pytest.param(
            Mapping(summary="$.t", default_severity="high"),  # type: ignore[arg-type]
            ["default_severity must be one of critical, error, warning, info"],
            id="default-severity",
        ),
        pytest.param(
            Mapping(summary="$.t", resolve_values=("ok", "Done"), acknowledge_values=("done",)),
            ['"done" is in both resolve_values and acknowledge_values'],
            id="overlap",
        ),
        pytest.param(
            Mapping(summary="$.t", acknowledge_values=(" ",)),
            ["resolve_values and acknowledge_values must not contain empty values"],
            id="empty-value",
        ),
    ],
)
def test_each_bad_mapping_field_is_named(mapping, expected):
    assert mapping_errors(mapping) == expected


def test_every_bad_mapping_field_is_reported_at_once():
    mapping = Mapping(summary="{{", dedup_key="$$", severity_map={"x": "y"})  # type: ignore[dict-item]

    assert [message.split(":")[0] for message in mapping_errors(mapping)] == [
        "summary",
        "dedup_key",
        'severity_map["x"] must be one of critical, error, warning, info',
    ]


def test_parse_refuses_a_broken_mapping_before_reading_the_body():
    with pytest.raises(InvalidMapping) as raised:
        parse({"title": "t"}, Mapping(summary="$.title", status="{% if %}"))

    assert raised.value.errors[0].startswith("status: invalid template (line 1)")
    assert str(raised.value) == raised.value.errors[0]


def test_blank_optional_expressions_are_unused():
    mapping = Mapping(summary="$.title", severity=" ", source="", items="  ")

    validate_mapping(mapping)
    (event,) = parse({"title": "t"}, mapping)

    assert (event.severity, event.source) == ("warning", "webhook")


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
_alert_like = st.fixed_dictionaries(
    {},
    optional={
        key: json_values | st.text(max_size=10)
        for key in ("id", "title", "status", "severity", "source", "job", "host", "at")
    },
)
TEMPLATE_MAPPING = Mapping(
    summary="{{ item.title | default('untitled') }} on {{ item.get('host', '?') }}",
    dedup_key="{{ item.id | default('') }}",
    occurred_at="$.at",
    labels="$.tags",
)


def outcome(body: Any, mapping: Mapping) -> tuple[list[AlertEvent] | None, InvalidEvent | None]:
    try:
        return parse(body, mapping), None
    except InvalidEvent as error:
        return None, error


@settings(max_examples=300)
@given(
    body=json_values | _alert_like | st.lists(_alert_like, max_size=3),
    mapping=st.sampled_from([DEFAULT_MAPPING, TEMPLATE_MAPPING, CRON_MAPPING]),
)
def test_parse_raises_nothing_but_invalid_event(body, mapping):
    events, error = outcome(body, mapping)

    if error is not None:
        assert error.errors
    else:
        assert events is not None
        for event in events:
            assert event.dedup_key
            assert len(event.dedup_key) <= 255
            assert 0 < len(event.summary) <= 1024
            assert event.severity in {"critical", "error", "warning", "info"}
