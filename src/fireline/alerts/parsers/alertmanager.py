"""Prometheus Alertmanager webhook bodies (`webhook_config`, payload version "4").

Alertmanager posts a group of alerts; each entry of `alerts[]` becomes one AlertEvent:

- action: the entry's `status`, "firing" → trigger, "resolved" → resolve (the group's status when
  the entry has none).
- dedup_key: the entry's `fingerprint`, Alertmanager's hash of its labels. Without one, the
  SHA-256 of the labels as canonical JSON (`stable_key`), so the same label set always gives the
  same key.
- severity: the `severity` label through SEVERITY_ALIASES (critical/page/high → critical,
  error/major → error, warning/warn/minor → warning, info/informational/low/none → info);
  "warning" when the label is absent or unknown, so an unlabelled alert still pages sensibly.
- summary: the `summary` annotation, else `message` (older kube-prometheus rules), else the first
  line of `description`, else the alertname with its instance and job, else the labels.
- source: the `instance` label, else `job`, else the host of `generatorURL`, else of
  `externalURL`. PagerDuty's `source` is the affected system; `generatorURL` points at the
  Prometheus that evaluated the rule, so it is only a fallback.
- occurred_at: `startsAt` on a trigger, `endsAt` on a resolve; Go's zero time means unset.
- links: `generatorURL` ("Source") and a `runbook_url` annotation ("Runbook"), when http(s).

A missing `version` is accepted (hand-written senders omit it); any other version than "4" is
refused, since its shape is unknown. Grafana's webhook is this format plus extras and reuses
`parse_batch` (see `fireline.alerts.parsers.grafana`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from fireline.alerts.events import (
    AlertAction,
    AlertEvent,
    InvalidEvent,
    Link,
    is_web_url,
    parse_timestamp,
    severity_from_label,
    stable_key,
    truncate_summary,
)

SUPPORTED_VERSIONS: frozenset[str] = frozenset({"4"})

# The labels that best tell one alert of a rule from another when there is no summary.
_IDENTIFYING_LABELS = ("instance", "job")
_STATUS_ACTIONS: dict[str, AlertAction] = {"firing": "trigger", "resolved": "resolve"}
_SUMMARY_ANNOTATIONS = ("summary", "message")
_RUNBOOK_ANNOTATIONS = ("runbook_url", "runbook")

AlertEnricher: TypeAlias = Callable[[dict[str, Any], AlertEvent], AlertEvent]
"""Adds a dialect's extra fields to the event parsed from one `alerts[]` entry."""


@dataclass(frozen=True)
class AlertmanagerBatch:
    """One webhook call: the group's fields, and one event per alert in `events`, in body order.

    `truncated_alerts` counts alerts Alertmanager left out because of the receiver's
    `max_alerts`; they are not in `events`.
    """

    version: str | None
    group_key: str | None
    status: str | None
    receiver: str | None
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    external_url: str | None
    truncated_alerts: int
    events: list[AlertEvent]


def parse_webhook(body: Any) -> AlertmanagerBatch:
    """The batch of an Alertmanager webhook body; raises InvalidEvent listing every problem."""
    return parse_batch(body, versions=SUPPORTED_VERSIONS, client="Alertmanager")


def parse_batch(
    body: Any,
    *,
    versions: Collection[str],
    client: str,
    enrich: AlertEnricher | None = None,
) -> AlertmanagerBatch:
    """The batch of an Alertmanager-shaped body whose `version` is one of `versions` (or absent).

    `client` names the sender on each event (and in the version error); `enrich`, when given, is
    applied to each event with the `alerts[]` entry it came from. Raises InvalidEvent listing
    every problem, or only the version problem when the version is unknown.
    """
    if not isinstance(body, dict):
        raise InvalidEvent(["the body must be a JSON object"])
    version = _version(body, versions, client)
    errors: list[str] = []
    status = _group_status(body, errors)
    external_url = _optional_text(body, "externalURL", errors)
    group_key = _optional_text(body, "groupKey", errors)
    receiver = _optional_text(body, "receiver", errors)
    group_labels = _string_map(body, "groupLabels", "groupLabels", errors) or {}
    common_labels = _string_map(body, "commonLabels", "commonLabels", errors) or {}
    common_annotations = _string_map(body, "commonAnnotations", "commonAnnotations", errors) or {}
    truncated_alerts = _truncated_alerts(body, errors)
    context = _GroupContext(
        status=status,
        client=client,
        client_url=external_url if external_url and is_web_url(external_url) else None,
        external_host=_host(external_url),
    )
    events: list[AlertEvent] = []
    for where, entry in _alert_entries(body, errors):
        event = _alert_event(entry, where, context, errors)
        if event is not None:
            events.append(enrich(entry, event) if enrich else event)
    if errors:
        raise InvalidEvent(errors)
    return AlertmanagerBatch(
        version=version,
        group_key=group_key,
        status=status,
        receiver=receiver,
        group_labels=group_labels,
        common_labels=common_labels,
        common_annotations=common_annotations,
        external_url=external_url,
        truncated_alerts=truncated_alerts,
        events=events,
    )


@dataclass(frozen=True)
class _GroupContext:
    """What each alert of the group inherits from the body around it."""

    status: str | None
    client: str
    client_url: str | None
    external_host: str | None


def _version(body: dict[str, Any], versions: Collection[str], client: str) -> str | None:
    value = body.get("version")
    if value is None:
        return None
    if isinstance(value, str) and value in versions:
        return value
    expected = " or ".join(f'"{version}"' for version in sorted(versions))
    shown = json.dumps(value)[:40]
    raise InvalidEvent([f"version must be {expected} for the {client} webhook, not {shown}"])


def _group_status(body: dict[str, Any], errors: list[str]) -> str | None:
    value = body.get("status")
    if value is None:
        return None
    if isinstance(value, str) and value in _STATUS_ACTIONS:
        return value
    errors.append("status must be firing or resolved")
    return None


def _truncated_alerts(body: dict[str, Any], errors: list[str]) -> int:
    value = body.get("truncatedAlerts")
    if value is None:
        return 0
    # bool is an int in Python, but `true` is not a count.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    errors.append("truncatedAlerts must be a non-negative integer")
    return 0


def _alert_entries(body: dict[str, Any], errors: list[str]) -> list[tuple[str, dict[str, Any]]]:
    value = body.get("alerts")
    if value is None:
        errors.append("alerts is required")
        return []
    if not isinstance(value, list):
        errors.append("alerts must be a list of objects")
        return []
    entries: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(value):
        where = f"alerts[{index}]"
        if isinstance(entry, dict):
            entries.append((where, entry))
        else:
            errors.append(f"{where} must be an object")
    return entries


def _alert_event(
    entry: dict[str, Any], where: str, context: _GroupContext, errors: list[str]
) -> AlertEvent | None:
    labels = _string_map(entry, "labels", f"{where}.labels", errors, required=True)
    annotations = _string_map(entry, "annotations", f"{where}.annotations", errors) or {}
    action = _action(entry, where, context.status, errors)
    starts_at = _instant(entry, "startsAt", where, errors)
    ends_at = _instant(entry, "endsAt", where, errors)
    fingerprint = _optional_text(entry, "fingerprint", errors, name=f"{where}.fingerprint")
    generator_url = _optional_text(entry, "generatorURL", errors, name=f"{where}.generatorURL")
    if labels is None or action is None:
        return None

    details: dict[str, Any] = {}
    if fingerprint:
        details["fingerprint"] = fingerprint
    if generator_url:
        details["generator_url"] = generator_url
    if starts_at:
        details["starts_at"] = starts_at.isoformat()
    if ends_at:
        details["ends_at"] = ends_at.isoformat()
    return AlertEvent(
        action=action,
        dedup_key=fingerprint or stable_key(labels),
        summary=truncate_summary(_summary(labels, annotations, context.client)),
        severity=severity_from_label(labels.get("severity")) or "warning",
        source=_source(labels, generator_url, context),
        occurred_at=starts_at if action == "trigger" else ends_at,
        labels=labels,
        annotations=annotations,
        details=details,
        class_=labels.get("alertname") or None,
        links=_links(generator_url, annotations),
        client=context.client,
        client_url=context.client_url,
    )


def _action(
    entry: dict[str, Any], where: str, group_status: str | None, errors: list[str]
) -> AlertAction | None:
    value = entry.get("status", group_status)
    action = _STATUS_ACTIONS.get(value) if isinstance(value, str) else None
    if action is None:
        errors.append(f"{where}.status must be firing or resolved")
    return action


def _instant(entry: dict[str, Any], key: str, where: str, errors: list[str]) -> datetime | None:
    value = entry.get(key)
    if value is None or value == "":
        return None
    instant = parse_timestamp(value) if isinstance(value, str) else None
    if instant is None:
        errors.append(f"{where}.{key} must be an RFC 3339 timestamp")
        return None
    # Go's zero time (0001-01-01T00:00:00Z) is how Alertmanager writes "not set".
    if instant.year == 1:
        return None
    return instant


def _summary(labels: dict[str, str], annotations: dict[str, str], client: str) -> str:
    for key in _SUMMARY_ANNOTATIONS:
        text = annotations.get(key, "").strip()
        if text:
            return text
    description = annotations.get("description", "")
    for line in description.splitlines():
        if line.strip():
            return line.strip()
    alertname = labels.get("alertname", "").strip()
    identity = ", ".join(
        f"{key}={labels[key]}" for key in _IDENTIFYING_LABELS if labels.get(key, "").strip()
    )
    if alertname:
        return f"{alertname} ({identity})" if identity else alertname
    if labels:
        return ", ".join(f"{key}={value}" for key, value in sorted(labels.items()))
    return f"{client} alert"


def _source(labels: dict[str, str], generator_url: str | None, context: _GroupContext) -> str:
    for key in _IDENTIFYING_LABELS:
        value = labels.get(key, "").strip()
        if value:
            return value
    return _host(generator_url) or context.external_host or context.client.lower()


def _links(generator_url: str | None, annotations: dict[str, str]) -> tuple[Link, ...]:
    links: list[Link] = []
    if generator_url and is_web_url(generator_url):
        links.append(Link(href=generator_url, text="Source"))
    for key in _RUNBOOK_ANNOTATIONS:
        runbook = annotations.get(key, "").strip()
        if is_web_url(runbook):
            links.append(Link(href=runbook, text="Runbook"))
            break
    return tuple(links)


def _host(url: str | None) -> str | None:
    """The host (and port) of an http(s) URL, without any user name or password in it."""
    if not url or not is_web_url(url):
        return None
    return urlsplit(url).netloc.rpartition("@")[2] or None


def _string_map(
    container: dict[str, Any], key: str, name: str, errors: list[str], *, required: bool = False
) -> dict[str, str] | None:
    """The object at `key` when all its values are strings, as labels and annotations must be."""
    value = container.get(key)
    if value is None:
        if required:
            errors.append(f"{name} is required")
        return None
    if not isinstance(value, dict):
        errors.append(f"{name} must be an object")
        return None
    bad = [label for label, text in value.items() if not isinstance(text, str)]
    if bad:
        errors.extend(f"{name}.{label} must be a string" for label in bad)
        return None
    return dict(value)


def _optional_text(
    container: dict[str, Any], key: str, errors: list[str], *, name: str | None = None
) -> str | None:
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(f"{name or key} must be a string")
        return None
    return value
