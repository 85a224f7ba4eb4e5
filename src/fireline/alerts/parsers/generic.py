"""Any JSON body, turned into alert events by a mapping an admin configures on the integration.

Each field of a `Mapping` is an expression, read one of two ways:

- starting with `$`, a JSON path (jsonpath-ng's extended syntax, so filters such as
  `$.alerts[?(@.state == 'firing')]` work) evaluated against the current item; the first match is
  the value, and no match means no value;
- anything else, a Jinja template rendered in a sandbox with `item` (the current item) and `body`
  (the whole request). Text without `{{ }}` is a constant (`source="billing-cron"`). Using a name
  the body lacks is an error naming the field, never a silent blank.

A body is one alert when it is an object, one per element when it is a list, or one per element
of the array the `items` path selects. Then, per item:

- action: "resolve" when the status is one of `resolve_values`, "acknowledge" when one of
  `acknowledge_values` (both compared case-insensitively), else "trigger";
- severity: the value looked up in `severity_map`, else read as a severity word (SEVERITY_ALIASES),
  else `default_severity`;
- dedup_key: the value; without one, the SHA-256 of [summary, source], so repeats of the same
  alert from the same place deduplicate. A value over 255 characters is replaced by its SHA-256;
- source: the value, else "webhook"; details: the item itself;
- occurred_at: a Unix time in seconds (milliseconds above 10^11), as a number or as digits, or
  an ISO 8601 timestamp.

`validate_mapping` is for saving an integration: it raises InvalidMapping naming each bad field.
`parse` raises InvalidEvent naming each field the body could not fill.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.ext.parser import parse as parse_json_path
from jsonpath_ng.jsonpath import JSONPath

from fireline.alerts.events import (
    ALERT_SEVERITIES,
    DEDUP_KEY_MAX_LENGTH,
    AlertAction,
    AlertEvent,
    AlertSeverity,
    InvalidEvent,
    parse_timestamp,
    severity_from_label,
    stable_key,
    truncate_summary,
)

DEFAULT_SOURCE = "webhook"
# Unix times above this are milliseconds: as seconds it would be the year 5138.
_MILLISECONDS_THRESHOLD = 10**11
_UNIX_TIME = re.compile(r"-?\d+(\.\d+)?")
# Limits on template arithmetic, far above what a summary needs.
_MAX_EXPONENT = 100
_MAX_REPEATED_LENGTH = 100_000
_EXPRESSION_FIELDS = (
    "summary",
    "severity",
    "dedup_key",
    "status",
    "source",
    "occurred_at",
    "labels",
    "items",
)


@dataclass(frozen=True)
class Mapping:
    """How to read alerts out of an integration's JSON: one expression per event field.

    Only `summary` is required. `items`, when set, must be a JSON path selecting the alerts.
    """

    summary: str
    severity: str | None = None
    dedup_key: str | None = None
    status: str | None = None
    source: str | None = None
    occurred_at: str | None = None
    labels: str | None = None
    items: str | None = None
    resolve_values: tuple[str, ...] = ("resolved", "ok", "closed")
    acknowledge_values: tuple[str, ...] = ("acknowledged", "ack")
    severity_map: dict[str, AlertSeverity] = field(default_factory=dict)
    default_severity: AlertSeverity = "warning"

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> Mapping:
        """The mapping kept as JSON (lists where the fields hold tuples; nulls for unset)."""
        fields: dict[str, Any] = {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in stored.items()
            if value is not None
        }
        return cls(**fields)


# For a body such as {"id": "42", "title": "Disk full", "status": "open", "severity": "high"}.
DEFAULT_MAPPING = Mapping(
    summary="$.title",
    severity="$.severity",
    dedup_key="$.id",
    status="$.status",
    source="$.source",
)


class InvalidMapping(ValueError):
    """The mapping itself is broken; `errors` are human messages, each naming the mapping field."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


def validate_mapping(mapping: Mapping) -> None:
    """Return quietly when `mapping` can be used; else raise InvalidMapping naming each bad field.

    Checks JSON path and template syntax, that `items` is a JSON path, that severities are among
    PagerDuty's four, and that no status value both resolves and acknowledges.
    """
    errors: list[str] = []
    if not mapping.summary.strip():
        errors.append("summary is required")
    for name in _EXPRESSION_FIELDS:
        expression = getattr(mapping, name)
        if expression is None or not expression.strip():
            continue
        if name == "items" and not _is_path(expression):
            errors.append("items must be a JSON path starting with $")
            continue
        try:
            if name == "items":
                _compile_path(expression)
            else:
                _compile(expression)
        except _CompileError as exc:
            errors.append(f"{name}: {exc}")
    severities = ", ".join(ALERT_SEVERITIES)
    for word, severity in mapping.severity_map.items():
        if severity not in ALERT_SEVERITIES:
            errors.append(f"severity_map[{json.dumps(word)}] must be one of {severities}")
    if mapping.default_severity not in ALERT_SEVERITIES:
        errors.append(f"default_severity must be one of {severities}")
    resolve = {value.strip().lower() for value in mapping.resolve_values}
    acknowledge = {value.strip().lower() for value in mapping.acknowledge_values}
    if "" in resolve or "" in acknowledge:
        errors.append("resolve_values and acknowledge_values must not contain empty values")
    errors.extend(
        f"{json.dumps(value)} is in both resolve_values and acknowledge_values"
        for value in sorted(resolve & acknowledge - {""})
    )
    if errors:
        raise InvalidMapping(errors)


def parse(body: Any, mapping: Mapping) -> list[AlertEvent]:
    """One event per alert in `body`, read through `mapping`, in body order.

    Raises InvalidMapping when the mapping is broken (validate_mapping should have refused it when
    it was saved), else InvalidEvent listing every field the body could not fill.
    """
    validate_mapping(mapping)
    items = _items(body, mapping)
    events: list[AlertEvent] = []
    errors: list[str] = []
    # A single-object body has one alert; otherwise messages say which alert they are about.
    single = isinstance(body, dict) and not (mapping.items and mapping.items.strip())
    for index, item in enumerate(items):
        prefix = "" if single else f"items[{index}]: "
        if not isinstance(item, dict):
            errors.append(f"{prefix}each alert must be a JSON object")
            continue
        reader = _ItemReader(body=body, item=item, prefix=prefix, errors=errors)
        event = _event(reader, mapping)
        if event is not None:
            events.append(event)
    if errors:
        raise InvalidEvent(errors)
    return events


class _CompileError(Exception):
    """An expression that does not compile; the message says why, without the field name."""


def _finalize(value: Any) -> Any:
    # A JSON null prints as nothing, not as Python's "None".
    return "" if value is None else value


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, also refusing huge powers and repetitions (`{{ "x" * 10**10 }}`).

    Templates are written by admins, so this guards the ingest path against slips, not against
    attack: a filter such as `center` can still build a large string.
    """

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _number(right) and abs(right) > _MAX_EXPONENT:
            raise SecurityError(f"exponents above {_MAX_EXPONENT} are not allowed")
        if operator == "*" and _repeats_too_much(left, right):
            raise SecurityError(
                f"repeating text or lists past {_MAX_REPEATED_LENGTH} is not allowed"
            )
        return super().call_binop(context, operator, left, right)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _repeats_too_much(left: Any, right: Any) -> bool:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(count, int):
            return len(sequence) * count > _MAX_REPEATED_LENGTH
    return False


# Autoescape is off because the output is plain text stored on the alert, never HTML here; the
# web templates escape it when they show it.
_TEMPLATES = _Sandbox(undefined=StrictUndefined, autoescape=False, finalize=_finalize)


@lru_cache(maxsize=512)
def _compile(expression: str) -> JSONPath | Template:
    """The JSON path or template an expression is; cached, as integrations reuse few of them."""
    if _is_path(expression):
        return _compile_path(expression)
    try:
        return _TEMPLATES.from_string(expression)
    except TemplateSyntaxError as exc:
        raise _CompileError(f"invalid template (line {exc.lineno}): {exc.message}") from exc


@lru_cache(maxsize=512)
def _compile_path(expression: str) -> JSONPath:
    try:
        return parse_json_path(expression.strip())
    except JSONPathError as exc:
        raise _CompileError(f"invalid JSON path: {exc}") from exc


def _is_path(expression: str) -> bool:
    return expression.lstrip().startswith("$")


def _items(body: Any, mapping: Mapping) -> list[Any]:
    if mapping.items and mapping.items.strip():
        errors: list[str] = []
        matches = _find(_compile_path(mapping.items), body, "items", errors)
        if matches is None:
            raise InvalidEvent(errors)
        if not matches:
            raise InvalidEvent([f"items: {mapping.items.strip()} found nothing in the body"])
        if len(matches) == 1 and isinstance(matches[0], list):
            return list(matches[0])
        return matches
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        return [body]
    raise InvalidEvent(["the body must be a JSON object or a list of objects"])


def _find(path: JSONPath, item: Any, name: str, errors: list[str]) -> list[Any] | None:
    try:
        return [match.value for match in path.find(item)]
    # jsonpath-ng raises what it likes on odd data (filters comparing mixed types, arithmetic on
    # strings), and the body is untrusted: any failure is the body's, reported, not a crash.
    except Exception as exc:  # noqa: BLE001
        errors.append(f"{name}: the JSON path failed on this body: {exc}")
        return None


@dataclass(frozen=True)
class _ItemReader:
    """Evaluates a mapping's expressions on one item, noting each failure against its field."""

    body: Any
    item: dict[str, Any]
    prefix: str
    errors: list[str]

    def value(self, name: str, expression: str | None) -> Any:
        """The expression's value on the item; None when it has none or failed (error noted)."""
        if expression is None or not expression.strip():
            return None
        compiled = _compile(expression)
        if isinstance(compiled, JSONPath):
            matches = _find(compiled, self.item, self.prefix + name, self.errors)
            return matches[0] if matches else None
        return self._render(name, compiled)

    def text(self, name: str, expression: str | None) -> str | None:
        """The value as text; None when it is missing or blank."""
        return _as_text(self.value(name, expression))

    def fail(self, name: str, message: str) -> None:
        self.errors.append(f"{self.prefix}{name}: {message}")

    def _render(self, name: str, template: Template) -> str | None:
        try:
            return template.render(body=self.body, item=self.item)
        except UndefinedError as exc:
            self.fail(name, f"the template uses something this body does not have ({exc.message})")
        except SecurityError as exc:
            self.fail(name, f"the template did something the sandbox forbids ({exc})")
        # Admin-written templates can raise anything ({{ 1 / 0 }}, {{ "a" + 1 }}); the sender
        # must get a 4xx naming the field, not a 500.
        except Exception as exc:  # noqa: BLE001
            self.fail(name, f"the template failed: {type(exc).__name__}: {exc}")
        return None


def _event(reader: _ItemReader, mapping: Mapping) -> AlertEvent | None:
    errors_before = len(reader.errors)
    summary = reader.text("summary", mapping.summary)
    if summary is None and len(reader.errors) == errors_before:
        reader.fail("summary", f"{mapping.summary.strip()} gave nothing for this body")
    source = reader.text("source", mapping.source) or DEFAULT_SOURCE
    status = reader.text("status", mapping.status)
    severity = _severity(reader.text("severity", mapping.severity), mapping)
    dedup_key = reader.text("dedup_key", mapping.dedup_key)
    occurred_at = _occurred_at(reader, mapping)
    labels = _labels(reader, mapping)
    if summary is None or len(reader.errors) > errors_before:
        return None
    if dedup_key is None:
        dedup_key = stable_key(summary, source)
    elif len(dedup_key) > DEDUP_KEY_MAX_LENGTH:
        dedup_key = stable_key(dedup_key)
    return AlertEvent(
        action=_action(status, mapping),
        dedup_key=dedup_key,
        summary=truncate_summary(summary),
        severity=severity,
        source=source,
        occurred_at=occurred_at,
        labels=labels,
        details=dict(reader.item),
    )


def _action(status: str | None, mapping: Mapping) -> AlertAction:
    if status is None:
        return "trigger"
    word = status.lower()
    if word in _folded(mapping.resolve_values):
        return "resolve"
    if word in _folded(mapping.acknowledge_values):
        return "acknowledge"
    return "trigger"


def _severity(word: str | None, mapping: Mapping) -> AlertSeverity:
    if word is None:
        return mapping.default_severity
    folded_map = {key.strip().lower(): value for key, value in mapping.severity_map.items()}
    return folded_map.get(word.lower()) or severity_from_label(word) or mapping.default_severity


def _occurred_at(reader: _ItemReader, mapping: Mapping) -> datetime | None:
    value = reader.value("occurred_at", mapping.occurred_at)
    if value is None or value == "":
        return None
    instant: datetime | None = None
    if isinstance(value, str) and _UNIX_TIME.fullmatch(value.strip()):
        # Templates render text, so a Unix time from one arrives as digits.
        instant = _from_unix_time(float(value))
    elif isinstance(value, str):
        instant = parse_timestamp(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        instant = _from_unix_time(value)
    if instant is None:
        reader.fail("occurred_at", "must be an ISO 8601 timestamp or a Unix time")
    return instant


def _from_unix_time(value: float) -> datetime | None:
    if not math.isfinite(value):
        return None
    seconds = value / 1000 if abs(value) > _MILLISECONDS_THRESHOLD else value
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _labels(reader: _ItemReader, mapping: Mapping) -> dict[str, str]:
    value = reader.value("labels", mapping.labels)
    if value is None:
        return {}
    if not isinstance(value, dict):
        reader.fail("labels", "must select a JSON object")
        return {}
    labels: dict[str, str] = {}
    for key, raw in value.items():
        text = _as_text(raw)
        if text is not None:
            labels[str(key)] = text
    return labels


def _as_text(value: Any) -> str | None:
    """A JSON value as text: strings stripped, numbers and booleans as JSON writes them."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _folded(values: Sequence[str]) -> set[str]:
    return {value.strip().lower() for value in values}
