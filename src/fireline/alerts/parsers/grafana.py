"""Grafana unified alerting webhook bodies (the webhook contact point, payload version "1").

Grafana's body is Alertmanager's (see `fireline.alerts.parsers.alertmanager` for how each alert
becomes an event) plus extras, which are kept but never cause a body to be refused, since
Grafana marks most of them as soon to be deprecated:

- per alert: `values` and `valueString` go into `details["values"]` / `details["value_string"]`;
  `dashboardURL`, `panelURL` and `silenceURL` become links ("Dashboard", "Panel", "Silence");
  `imageURL` (a panel screenshot) becomes an image that opens the panel or dashboard;
- per body: `orgId`, `title`, `state` and `message` are on the batch.

URLs that are not http(s) are left out. A missing `version` is accepted; any other than "1" is
refused.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from fireline.alerts.events import AlertEvent, Image, Link, is_web_url
from fireline.alerts.parsers.alertmanager import AlertmanagerBatch, parse_batch

SUPPORTED_VERSIONS: frozenset[str] = frozenset({"1"})

_LINK_FIELDS = (("dashboardURL", "Dashboard"), ("panelURL", "Panel"), ("silenceURL", "Silence"))


@dataclass(frozen=True)
class GrafanaBatch(AlertmanagerBatch):
    """An Alertmanager batch with Grafana's body-level extras."""

    org_id: int | None = None
    title: str | None = None
    state: str | None = None
    message: str | None = None


def parse_webhook(body: Any) -> GrafanaBatch:
    """The batch of a Grafana webhook body; raises InvalidEvent listing every problem."""
    batch = parse_batch(body, versions=SUPPORTED_VERSIONS, client="Grafana", enrich=_enrich)
    # parse_batch has checked that the body is an object.
    org_id = body.get("orgId")
    return GrafanaBatch(
        **{field.name: getattr(batch, field.name) for field in fields(AlertmanagerBatch)},
        org_id=org_id if isinstance(org_id, int) and not isinstance(org_id, bool) else None,
        title=_text(body, "title"),
        state=_text(body, "state"),
        message=_text(body, "message"),
    )


def _enrich(entry: dict[str, Any], event: AlertEvent) -> AlertEvent:
    details = dict(event.details)
    values = entry.get("values")
    if isinstance(values, dict):
        details["values"] = values
    value_string = _text(entry, "valueString")
    if value_string:
        details["value_string"] = value_string

    links = list(event.links)
    for key, text in _LINK_FIELDS:
        url = _web_url(entry, key)
        if url:
            links.append(Link(href=url, text=text))

    images = event.images
    image_url = _web_url(entry, "imageURL")
    if image_url:
        # The screenshot is of the panel, so clicking it should open the panel.
        target = _web_url(entry, "panelURL") or _web_url(entry, "dashboardURL")
        images = (*images, Image(src=image_url, href=target, alt=event.summary))
    return replace(event, details=details, links=tuple(links), images=images)


def _text(container: dict[str, Any], key: str) -> str | None:
    value = container.get(key)
    return value if isinstance(value, str) and value else None


def _web_url(container: dict[str, Any], key: str) -> str | None:
    value = _text(container, key)
    return value if value and is_web_url(value) else None
