"""The two statements a burst of alerts repeats most, written for the database at hand.

On PostgreSQL a batch's keys travel as one array per integration (`dedup_key = ANY(…)`) and its
new alerts as one array per column (`INSERT … SELECT … FROM unnest(…)`): the statement text
stays the same whatever the batch size, so the driver parses it once and the server plans it
once, where a multi-row VALUES list with a placeholder per value is new text for every size
(and, at a hundred alerts, thousands of placeholders to parse each time). SQLite gets the
portable forms.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, any_, insert, literal, or_, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from fireline.models import Alert

# Columns of a new alert that vary from one alert to the next, with their PostgreSQL types.
_VARYING = (
    ("integration_id", "integer"),
    ("service_id", "integer"),
    ("dedup_key", "text"),
    ("status", "text"),
    ("severity", "text"),
    ("summary", "text"),
    ("source", "text"),
    ("component", "text"),
    ("group", "text"),
    ("class_", "text"),
    ("labels", "jsonb"),
    ("annotations", "jsonb"),
    ("details", "jsonb"),
    ("links", "jsonb"),
    ("images", "jsonb"),
    ("client", "text"),
    ("client_url", "text"),
    ("started_at", "timestamptz"),
    ("occurrences", "integer"),
    ("escalation_policy_id", "integer"),
    ("suppressed_by", "text"),
)
_JSON = frozenset(name for name, kind in _VARYING if kind == "jsonb")


def _column(name: str) -> str:
    return {"group": '"group"', "class_": '"class"'}.get(name, name)


_UNNEST_INSERT = text(
    "INSERT INTO alerts ("  # noqa: S608 - built from the constant column list above
    + ", ".join(_column(name) for name, _ in _VARYING)
    + ", first_seen_at, last_seen_at, escalation_level, escalation_round, created_at, updated_at)"
    + " SELECT "
    + ", ".join(
        f"v.c{n}::jsonb" if name in _JSON else f"v.c{n}" for n, (name, _) in enumerate(_VARYING)
    )
    + ", :now, :now, 0, 0, :now, :now FROM unnest("
    + ", ".join(
        f"CAST(:{name} AS {'text' if kind == 'jsonb' else kind}[])" for name, kind in _VARYING
    )
    + ") AS v("
    + ", ".join(f"c{n}" for n in range(len(_VARYING)))
    + ") RETURNING id, integration_id, dedup_key"
)


def insert_alerts(session: Session, rows: Sequence[dict[str, Any]], now: datetime) -> list[int]:
    """Insert the new alerts' rows (first and last seen, created and updated at `now`) in one
    statement; their ids, in the rows' order."""
    if session.get_bind().dialect.name != "postgresql":
        return list(
            session.scalars(
                insert(Alert).returning(Alert.id, sort_by_parameter_order=True), list(rows)
            )
        )
    columns: dict[str, list[Any]] = {name: [] for name, _ in _VARYING}
    for row in rows:
        for name, values in columns.items():
            value = row[name]
            values.append(json.dumps(value) if name in _JSON else value)
    returned = session.execute(_UNNEST_INSERT, {**columns, "now": now})
    # Matched by key, not by position: an INSERT … SELECT promises no order for what it returns.
    ids = {(integration_id, key): alert_id for alert_id, integration_id, key in returned}
    return [ids[(row["integration_id"], row["dedup_key"])] for row in rows]


def keys_clause(session: Session, pairs: set[tuple[int | None, str]]) -> ColumnElement[bool] | None:
    """A condition matching alerts by (integration, dedup key) pairs; None for no pairs."""
    if not pairs:
        return None
    postgres = session.get_bind().dialect.name == "postgresql"
    by_integration: dict[int | None, list[str]] = defaultdict(list)
    for integration_id, key in sorted(pairs, key=lambda pair: (pair[0] or 0, pair[1])):
        by_integration[integration_id].append(key)
    clauses: list[ColumnElement[bool]] = []
    for integration_id, keys in by_integration.items():
        owner = (
            Alert.integration_id.is_(None)
            if integration_id is None
            else Alert.integration_id == integration_id
        )
        if postgres:
            matched = Alert.dedup_key == any_(literal(keys, type_=ARRAY(String)))
        else:
            matched = Alert.dedup_key.in_(keys)
        clauses.append(owner & matched)
    return or_(*clauses)
