"""Conditions on alerts, shared by routing rules, silences and declare rules. Pure: no I/O.

A condition is `{"field": …, "op": …, "value": …}`; a rule's conditions must all hold (an empty
list always holds). Fields name what an alert carries: `severity`, `summary`, `source`,
`component`, `group`, `class`, `dedup_key`, `labels.<name>`, `annotations.<name>`, and, once it
is routed, `service` (the slug) and `service.tier`, and `integration` (its type).

Operators: `equals`, `not_equals`, `contains` (text), `matches` (a Python regular expression,
searched, so anchor it with ^…$ to match the whole text), `in` / `not_in` (a list of texts),
`exists` / `not_exists` (no value), `severity_at_least` (critical > error > warning > info),
`at_most` / `at_least` (numbers, for `service.tier`). A field the alert lacks never equals,
contains or matches anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fireline.alerts.events import ALERT_SEVERITIES

PLAIN_FIELDS = frozenset(
    {
        "severity",
        "summary",
        "source",
        "component",
        "group",
        "class",
        "dedup_key",
        "service",
        "service.tier",
        "integration",
    }
)
MAPPED_PREFIXES = ("labels.", "annotations.")
VALUELESS = frozenset({"exists", "not_exists"})
LISTED = frozenset({"in", "not_in"})
NUMERIC = frozenset({"at_most", "at_least"})
TEXTUAL = frozenset({"equals", "not_equals", "contains", "matches", "severity_at_least"})
OPERATORS = VALUELESS | LISTED | NUMERIC | TEXTUAL
_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(reversed(ALERT_SEVERITIES))}


class InvalidCondition(ValueError):
    """A condition an admin wrote cannot be used; `field` says where (`conditions[2].op`)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any = None


def parse_conditions(raw: Any, *, where: str = "conditions") -> list[Condition]:
    """The conditions in `raw` (a list of objects), checked; raises InvalidCondition naming the
    first problem (`conditions[1].value: not a valid regular expression: …`)."""
    if not isinstance(raw, list):
        raise InvalidCondition(where, "must be a list of conditions")
    return [_parse_one(item, f"{where}[{index}]") for index, item in enumerate(raw)]


def _parse_one(item: Any, where: str) -> Condition:
    if not isinstance(item, Mapping):
        raise InvalidCondition(where, 'must be an object like {"field", "op", "value"}')
    unknown = set(item) - {"field", "op", "value"}
    if unknown:
        raise InvalidCondition(where, f"unknown key {sorted(unknown)[0]!r}")
    field, op, value = item.get("field"), item.get("op", "equals"), item.get("value")
    if not isinstance(field, str) or not _known_field(field):
        raise InvalidCondition(
            f"{where}.field",
            "must be one of " + ", ".join(sorted(PLAIN_FIELDS)) + ", labels.<name>, "
            "annotations.<name>",
        )
    if op not in OPERATORS:
        raise InvalidCondition(f"{where}.op", "must be one of " + ", ".join(sorted(OPERATORS)))
    _check_value(op, value, f"{where}.value")
    return Condition(field=field, op=op, value=value)


def _known_field(field: str) -> bool:
    if field in PLAIN_FIELDS:
        return True
    return any(field.startswith(prefix) and len(field) > len(prefix) for prefix in MAPPED_PREFIXES)


def _check_value(op: str, value: Any, where: str) -> None:
    if op in VALUELESS:
        if value is not None:
            raise InvalidCondition(where, f"{op} takes no value")
    elif op in LISTED:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidCondition(where, f"{op} needs a list of texts")
    elif op in NUMERIC:
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidCondition(where, f"{op} needs a whole number")
    elif not isinstance(value, str):
        raise InvalidCondition(where, f"{op} needs a text value")
    elif op == "matches":
        try:
            re.compile(value)
        except re.error as error:
            raise InvalidCondition(where, f"not a valid regular expression: {error}") from None
    elif op == "severity_at_least" and value not in _RANK:
        raise InvalidCondition(where, "must be one of " + ", ".join(ALERT_SEVERITIES))


def holds(conditions: Sequence[Condition], facts: Mapping[str, Any]) -> bool:
    """Whether every condition holds for an alert described by `facts` (see ingest.facts_of)."""
    return all(_holds(condition, facts) for condition in conditions)


def _holds(condition: Condition, facts: Mapping[str, Any]) -> bool:
    return _TESTS[condition.op](_lookup(facts, condition.field), condition.value)


def _text_test(test: Callable[[str, Any], bool]) -> Callable[[Any, Any], bool]:
    """A test of the field's text; a field the alert lacks passes none of them."""
    return lambda actual, value: actual is not None and test(str(actual), value)


def _number_test(test: Callable[[int, int], bool]) -> Callable[[Any, Any], bool]:
    return lambda actual, value: isinstance(actual, int) and test(actual, value)


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "exists": lambda actual, _value: actual is not None,
    "not_exists": lambda actual, _value: actual is None,
    "not_equals": lambda actual, value: actual is None or str(actual) != value,
    "not_in": lambda actual, value: actual is None or str(actual) not in value,
    "equals": _text_test(lambda text, value: text == value),
    "contains": _text_test(lambda text, value: value in text),
    "matches": _text_test(lambda text, value: re.search(value, text) is not None),
    "in": _text_test(lambda text, value: text in value),
    "severity_at_least": _text_test(lambda text, value: _RANK.get(text, -1) >= _RANK[value]),
    "at_most": _number_test(lambda number, value: number <= value),
    "at_least": _number_test(lambda number, value: number >= value),
}


def _lookup(facts: Mapping[str, Any], field: str) -> Any:
    for prefix in MAPPED_PREFIXES:
        if field.startswith(prefix):
            mapping = facts.get(prefix[:-1]) or {}
            return mapping.get(field[len(prefix) :])
    return facts.get(field)


def as_json(conditions: Sequence[Condition]) -> list[dict[str, Any]]:
    """The conditions as stored: valueless operators without a value key."""
    return [
        {"field": c.field, "op": c.op}
        if c.op in VALUELESS
        else {"field": c.field, "op": c.op, "value": c.value}
        for c in conditions
    ]
