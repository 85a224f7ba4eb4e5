"""PagerDuty Events API v2 bodies (`/v2/enqueue`, `/v2/change/enqueue`), checked as PagerDuty does.

Any tool that can page PagerDuty can page Fireline by pointing it at our endpoint. Validation
follows PagerDuty's documentation, and every problem is reported at once, as PagerDuty's own
400 response lists them. Where we differ, it is on purpose:

- `routing_key` is one of our integration keys, so any non-empty string up to 64 characters is
  accepted rather than PagerDuty's 32-character keys.
- A summary over 1024 characters is cut to 1024, not refused: losing a page over a long message
  is worse than losing the end of the message.
- `payload.custom_details` is documented as an object; any other JSON value (often a string) is
  kept under `details["custom_details"]` instead of being refused.
- Link `href`, image `src`/`href` and `client_url` must be http(s) URLs, since the UI renders them.
- A timestamp without an offset is taken as UTC; a missing one is left None for the store to
  stamp with the time of receipt, as PagerDuty does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fireline.alerts.events import (
    ALERT_ACTIONS,
    ALERT_SEVERITIES,
    DEDUP_KEY_MAX_LENGTH,
    AlertAction,
    AlertEvent,
    AlertSeverity,
    ChangeEvent,
    Image,
    InvalidEvent,
    Link,
    is_web_url,
    parse_timestamp,
    truncate_summary,
)

ROUTING_KEY_MAX_LENGTH = 64

_ACTIONS: dict[str, AlertAction] = {action: action for action in ALERT_ACTIONS}
_SEVERITIES: dict[str, AlertSeverity] = {severity: severity for severity in ALERT_SEVERITIES}
_NOT_AN_OBJECT = "the body must be a JSON object"


def parse_event(body: Any) -> tuple[str, AlertEvent]:
    """The routing key and the alert event of a `/v2/enqueue` body.

    A trigger needs a payload with summary, source and severity; an acknowledge or resolve needs
    only the `dedup_key` of the alert it acts on, and its payload, links and images are ignored.
    Raises InvalidEvent listing every problem found.
    """
    if not isinstance(body, dict):
        raise InvalidEvent([_NOT_AN_OBJECT])
    errors: list[str] = []
    routing_key = _routing_key(body, errors)
    action = _event_action(body, errors)
    dedup_key = _dedup_key(body, errors)

    if action is None:
        # Without a valid action it is unknown whether a payload is needed; say only that.
        raise InvalidEvent(errors)
    if action != "trigger":
        # A malformed key has been reported already; only a missing one is reported here.
        if body.get("dedup_key") is None or body.get("dedup_key") == "":
            errors.append(f"dedup_key is required to {action} an alert")
        _raise_if_any(errors)
        return routing_key, AlertEvent(
            action=action,
            dedup_key=dedup_key,
            summary="",
            severity="info",
            source="",
            occurred_at=None,
        )

    payload, payload_errors = _payload(
        body, errors, missing="payload is required for trigger events"
    )
    event = _trigger(body, payload, dedup_key, errors, payload_errors)
    _raise_if_any(errors)
    return routing_key, event


def parse_change(body: Any) -> tuple[str, ChangeEvent]:
    """The routing key and the change event of a `/v2/change/enqueue` body.

    The payload needs a summary; source, timestamp and custom_details are optional, and links are
    the only context PagerDuty accepts on a change. Raises InvalidEvent listing every problem.
    """
    if not isinstance(body, dict):
        raise InvalidEvent([_NOT_AN_OBJECT])
    errors: list[str] = []
    routing_key = _routing_key(body, errors)
    payload, payload_errors = _payload(body, errors, missing="payload is required")
    summary = _required_text(payload, "summary", "payload.summary", payload_errors)
    source = _optional_text(payload, "source", "payload.source", payload_errors)
    timestamp = _timestamp(payload, payload_errors)
    details = _custom_details(payload)
    links = _links(body, errors)
    _raise_if_any(errors)
    change = ChangeEvent(
        summary=truncate_summary(summary),
        timestamp=timestamp,
        source=source,
        details=details,
        links=links,
    )
    return routing_key, change


def _trigger(
    body: dict[str, Any],
    payload: dict[str, Any],
    dedup_key: str | None,
    errors: list[str],
    payload_errors: list[str],
) -> AlertEvent:
    summary = _required_text(payload, "summary", "payload.summary", payload_errors)
    source = _required_text(payload, "source", "payload.source", payload_errors)
    severity = _severity(payload, payload_errors)
    client_url = _optional_text(body, "client_url", "client_url", errors)
    if client_url is not None and not is_web_url(client_url):
        errors.append("client_url must be an http or https URL")
    return AlertEvent(
        action="trigger",
        dedup_key=dedup_key,
        summary=truncate_summary(summary),
        severity=severity,
        source=source,
        occurred_at=_timestamp(payload, payload_errors),
        details=_custom_details(payload),
        component=_optional_text(payload, "component", "payload.component", payload_errors),
        group=_optional_text(payload, "group", "payload.group", payload_errors),
        class_=_optional_text(payload, "class", "payload.class", payload_errors),
        links=_links(body, errors),
        images=_images(body, errors),
        client=_optional_text(body, "client", "client", errors),
        client_url=client_url,
    )


def _payload(
    body: dict[str, Any], errors: list[str], *, missing: str
) -> tuple[dict[str, Any], list[str]]:
    """The payload, and the list its fields' problems go to.

    A missing or malformed payload is one problem, not one per payload field, so its fields'
    problems then go to a list nobody reads.
    """
    payload = body.get("payload")
    if isinstance(payload, dict):
        return payload, errors
    errors.append(missing if payload is None else "payload must be an object")
    return {}, []


def _routing_key(body: dict[str, Any], errors: list[str]) -> str:
    value = body.get("routing_key")
    if value is None or value == "":
        errors.append("routing_key is required")
        return ""
    if not isinstance(value, str) or len(value) > ROUTING_KEY_MAX_LENGTH:
        errors.append(
            f"routing_key must be a string of at most {ROUTING_KEY_MAX_LENGTH} characters"
        )
        return ""
    return value


def _event_action(body: dict[str, Any], errors: list[str]) -> AlertAction | None:
    value = body.get("event_action")
    if value is None:
        errors.append("event_action is required")
        return None
    action = _ACTIONS.get(value) if isinstance(value, str) else None
    if action is None:
        errors.append("event_action must be one of trigger, acknowledge, resolve")
    return action


def _dedup_key(body: dict[str, Any], errors: list[str]) -> str | None:
    value = body.get("dedup_key")
    # An empty key is no key: a trigger then gets a generated one, as in PagerDuty.
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > DEDUP_KEY_MAX_LENGTH:
        errors.append(f"dedup_key must be a string of at most {DEDUP_KEY_MAX_LENGTH} characters")
        return None
    return value


def _severity(payload: dict[str, Any], errors: list[str]) -> AlertSeverity:
    value = payload.get("severity")
    if value is None:
        errors.append("payload.severity is required")
        return "info"
    severity = _SEVERITIES.get(value) if isinstance(value, str) else None
    if severity is None:
        errors.append("payload.severity must be one of " + ", ".join(ALERT_SEVERITIES))
        return "info"
    return severity


def _timestamp(payload: dict[str, Any], errors: list[str]) -> datetime | None:
    value = payload.get("timestamp")
    if value is None:
        return None
    instant = parse_timestamp(value) if isinstance(value, str) else None
    if instant is None:
        errors.append("payload.timestamp must be an ISO 8601 timestamp")
    return instant


def _custom_details(payload: dict[str, Any]) -> dict[str, Any]:
    value = payload.get("custom_details")
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    return {"custom_details": value}


def _links(body: dict[str, Any], errors: list[str]) -> tuple[Link, ...]:
    links: list[Link] = []
    for where, entry in _context_entries(body, "links", errors):
        href = _web_url(entry, "href", f"{where}.href", errors, required=True)
        text = _optional_text(entry, "text", f"{where}.text", errors)
        if href is not None:
            links.append(Link(href=href, text=text))
    return tuple(links)


def _images(body: dict[str, Any], errors: list[str]) -> tuple[Image, ...]:
    images: list[Image] = []
    for where, entry in _context_entries(body, "images", errors):
        src = _web_url(entry, "src", f"{where}.src", errors, required=True)
        href = _web_url(entry, "href", f"{where}.href", errors, required=False)
        alt = _optional_text(entry, "alt", f"{where}.alt", errors)
        if src is not None:
            images.append(Image(src=src, href=href, alt=alt))
    return tuple(images)


def _context_entries(
    body: dict[str, Any], key: str, errors: list[str]
) -> list[tuple[str, dict[str, Any]]]:
    """The objects of the `links` or `images` list, each with its name for error messages."""
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(f"{key} must be a list of objects")
        return []
    entries: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(value):
        where = f"{key}[{index}]"
        if isinstance(entry, dict):
            entries.append((where, entry))
        else:
            errors.append(f"{where} must be an object")
    return entries


def _web_url(
    container: dict[str, Any], key: str, name: str, errors: list[str], *, required: bool
) -> str | None:
    value = container.get(key)
    if value is None or value == "":
        if required:
            errors.append(f"{name} is required")
        return None
    if not isinstance(value, str) or not is_web_url(value):
        errors.append(f"{name} must be an http or https URL")
        return None
    return value


def _required_text(container: dict[str, Any], key: str, name: str, errors: list[str]) -> str:
    value = container.get(key)
    if not isinstance(value, str):
        errors.append(f"{name} is required" if value is None else f"{name} must be a string")
        return ""
    if not value.strip():
        errors.append(f"{name} is required")
        return ""
    return value.strip()


def _optional_text(container: dict[str, Any], key: str, name: str, errors: list[str]) -> str | None:
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(f"{name} must be a string")
        return None
    return value or None


def _raise_if_any(errors: list[str]) -> None:
    if errors:
        raise InvalidEvent(errors)
