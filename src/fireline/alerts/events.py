"""The normalised alert events every ingest parser produces, and the rules they share.

Each monitoring tool speaks its own webhook dialect; the parsers in `fireline.alerts.parsers`
turn a body into `AlertEvent`s (or a PagerDuty `ChangeEvent`) so that dedup, routing and paging
only ever see one shape. A body that cannot be accepted raises `InvalidEvent` listing every
problem found, each message naming its field, as PagerDuty's Events API does.

The vocabulary follows PagerDuty's Common Event Format: an event triggers, acknowledges or
resolves the alert named by its `dedup_key`, with one of four severities.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, TypeAlias, get_args
from urllib.parse import urlsplit

AlertAction: TypeAlias = Literal["trigger", "acknowledge", "resolve"]
AlertSeverity: TypeAlias = Literal["critical", "error", "warning", "info"]

ALERT_ACTIONS: tuple[AlertAction, ...] = get_args(AlertAction)
# Most severe first, as PagerDuty lists them.
ALERT_SEVERITIES: tuple[AlertSeverity, ...] = get_args(AlertSeverity)

# PagerDuty's documented limits, which every source is held to so alerts look alike.
SUMMARY_MAX_LENGTH = 1024
DEDUP_KEY_MAX_LENGTH = 255

# What monitoring tools write in a `severity` label, lower-cased, and the severity it means here.
SEVERITY_ALIASES: Mapping[str, AlertSeverity] = MappingProxyType(
    {
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
)


@dataclass(frozen=True)
class Link:
    """A link shown on the alert: where it comes from, a runbook, a dashboard."""

    href: str
    text: str | None = None


@dataclass(frozen=True)
class Image:
    """An image shown on the alert (a graph snapshot), optionally itself a link."""

    src: str
    href: str | None = None
    alt: str | None = None


@dataclass(frozen=True)
class AlertEvent:
    """One thing a monitoring tool says about one alert.

    `dedup_key` names the alert across events; it is None only on a PagerDuty trigger sent without
    one, where the store generates a key. On a trigger, `summary` is never empty and at most
    SUMMARY_MAX_LENGTH characters. A PagerDuty acknowledge or resolve carries no payload, so its
    `summary` and `source` are empty and its `severity` is "info": such an event must change the
    state of the alert it names and nothing else. `occurred_at` is aware and in UTC, or None when
    the source did not say.
    """

    action: AlertAction
    dedup_key: str | None
    summary: str
    severity: AlertSeverity
    source: str
    occurred_at: datetime | None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    component: str | None = None
    group: str | None = None
    class_: str | None = None
    links: tuple[Link, ...] = ()
    images: tuple[Image, ...] = ()
    client: str | None = None
    client_url: str | None = None


@dataclass(frozen=True)
class ChangeEvent:
    """A PagerDuty change event: something changed (a deploy, a config push), nothing is wrong."""

    summary: str
    timestamp: datetime | None
    source: str | None
    details: dict[str, Any]
    links: tuple[Link, ...]


class InvalidEvent(ValueError):
    """The body cannot be accepted; `errors` are human messages, each naming the field.

    For example "payload.severity must be one of critical, error, warning, info".
    """

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


def truncate_summary(summary: str) -> str:
    """The summary cut to SUMMARY_MAX_LENGTH characters, as PagerDuty stores an over-long one."""
    return summary[:SUMMARY_MAX_LENGTH]


def parse_timestamp(text: str) -> datetime | None:
    """The instant an ISO 8601 / RFC 3339 timestamp names, in UTC; None when it is not one.

    Offsets may be written `Z`, `+02:00` or `+0000`; digits past microseconds are dropped. A
    timestamp without an offset is taken to be UTC.
    """
    try:
        instant = datetime.fromisoformat(text.strip())
        if instant.tzinfo is None:
            return instant.replace(tzinfo=UTC)
        return instant.astimezone(UTC)
    except (ValueError, OverflowError):
        # OverflowError: an offset that moves a year-1 or year-9999 instant out of range.
        return None


def severity_from_label(value: str | None) -> AlertSeverity | None:
    """The severity a free-text severity (a label, a field) means per SEVERITY_ALIASES, if any."""
    if value is None:
        return None
    return SEVERITY_ALIASES.get(value.strip().lower())


def stable_key(*parts: Any) -> str:
    """A dedup key derived from JSON-able values: the SHA-256 hex digest of their canonical JSON.

    Canonical means keys sorted, no spaces and non-ASCII escaped, so equal values give equal keys
    on every run and every machine, even for text JSON allows but UTF-8 cannot encode (a lone
    surrogate such as "\\ud800"); the digest is 64 characters, inside DEDUP_KEY_MAX_LENGTH.
    """
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def is_web_url(value: str) -> bool:
    """True for an absolute http(s) URL: the only kind the UI will render as a link or image.

    Anything else (`javascript:`, `data:`, relative paths) could run script or mislead once it is
    placed in an `href`.
    """
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)
