"""The Atlassian Statuspage v2 public API documents (summary.json, status.json, components.json,
incidents.json, incidents/unresolved.json, scheduled-maintenances.json and its upcoming and
active lists), made from a PageSnapshot with Statuspage's field names and values, so the
tools that read a Statuspage page read a Fireline page too.

Ids are the public codes. Times are UTC in Statuspage's own form, milliseconds and a Z:
"2026-11-27T10:00:00.000Z"; `start_date` is a date, "2026-11-27". Empty descriptions are null,
as Statuspage sends them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fireline.comms.snapshot import (
    ComponentView,
    GroupView,
    IncidentView,
    PageSnapshot,
    UpdateView,
)

# Statuspage lists the 50 most recent incidents and scheduled maintenances.
RECENT_LIMIT = 50

Document = dict[str, Any]

# Maintenances summary.json lists: upcoming and under way.
_NOT_ENDED = frozenset({"scheduled", "in_progress", "verifying"})


def summary(snapshot: PageSnapshot) -> Document:
    """summary.json: the page, its components (groups included), the unresolved incidents,
    the upcoming and active maintenances, and the overall status."""
    return {
        "page": _page(snapshot),
        "components": _components(snapshot),
        "incidents": _incidents(snapshot, snapshot.unresolved_incidents),
        "scheduled_maintenances": _incidents(
            snapshot, tuple(m for m in snapshot.maintenances if m.status in _NOT_ENDED)
        ),
        "status": _status(snapshot),
    }


def status(snapshot: PageSnapshot) -> Document:
    """status.json: the page and its overall indicator and description."""
    return {"page": _page(snapshot), "status": _status(snapshot)}


def components(snapshot: PageSnapshot) -> Document:
    """components.json: every component and group, in page order."""
    return {"page": _page(snapshot), "components": _components(snapshot)}


def incidents(snapshot: PageSnapshot) -> Document:
    """incidents.json: the RECENT_LIMIT most recent incidents, newest first, in any status."""
    recent = snapshot.incidents[:RECENT_LIMIT]
    return {"page": _page(snapshot), "incidents": _incidents(snapshot, recent)}


def unresolved_incidents(snapshot: PageSnapshot) -> Document:
    """incidents/unresolved.json: incidents not yet resolved (or in postmortem), newest first."""
    unresolved = snapshot.unresolved_incidents
    return {"page": _page(snapshot), "incidents": _incidents(snapshot, unresolved)}


def scheduled_maintenances(snapshot: PageSnapshot) -> Document:
    """scheduled-maintenances.json: the RECENT_LIMIT most recent maintenances, newest first."""
    return _maintenances(snapshot, snapshot.maintenances[:RECENT_LIMIT])


def upcoming_maintenances(snapshot: PageSnapshot) -> Document:
    """scheduled-maintenances/upcoming.json: maintenances still in status scheduled."""
    return _maintenances(snapshot, snapshot.upcoming_maintenances)


def active_maintenances(snapshot: PageSnapshot) -> Document:
    """scheduled-maintenances/active.json: maintenances in progress or being verified."""
    return _maintenances(snapshot, snapshot.active_maintenances)


def dumps(document: Document) -> bytes:
    """The document as compact UTF-8 JSON."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode()


def timestamp(instant: datetime) -> str:
    """An instant as Statuspage writes it: UTC, milliseconds, Z."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _maybe(instant: datetime | None) -> str | None:
    return None if instant is None else timestamp(instant)


def _page(snapshot: PageSnapshot) -> Document:
    page = snapshot.page
    return {
        "id": page.code,
        "name": page.name,
        "url": page.url,
        "time_zone": page.time_zone,
        "updated_at": timestamp(page.updated_at),
    }


def _status(snapshot: PageSnapshot) -> Document:
    return {
        "indicator": snapshot.indicator.indicator,
        "description": snapshot.indicator.description,
    }


def _maintenances(snapshot: PageSnapshot, chosen: tuple[IncidentView, ...]) -> Document:
    return {
        "page": _page(snapshot),
        "scheduled_maintenances": _incidents(snapshot, chosen),
    }


def _components(snapshot: PageSnapshot) -> list[Document]:
    """Groups and components as Statuspage lists them: each group (group true, with the ids of
    its components) before its components, all in page order."""
    groups = {group.code: group for group in snapshot.groups}
    listed: list[Document] = []
    shown: set[str] = set()
    for component in snapshot.components:
        group = groups.get(component.group_code or "")
        if group is not None and group.code not in shown:
            shown.add(group.code)
            listed.append(_group(snapshot, group))
        listed.append(_component(snapshot, component))
    # Groups with no component still appear, after the others.
    listed += [_group(snapshot, g) for g in snapshot.groups if g.code not in shown]
    return listed


def _component(snapshot: PageSnapshot, component: ComponentView) -> Document:
    return {
        "id": component.code,
        "name": component.name,
        "status": component.status,
        "created_at": timestamp(component.created_at),
        "updated_at": timestamp(component.updated_at),
        "position": component.position,
        "description": component.description or None,
        "showcase": component.showcase,
        "start_date": component.started_at.astimezone(UTC).date().isoformat(),
        "group_id": component.group_code,
        "page_id": snapshot.page.code,
        "group": False,
        "only_show_if_degraded": component.only_show_if_degraded,
    }


def _group(snapshot: PageSnapshot, group: GroupView) -> Document:
    return {
        "id": group.code,
        "name": group.name,
        "status": group.status,
        "created_at": timestamp(group.created_at),
        "updated_at": timestamp(group.updated_at),
        "position": group.position,
        "description": group.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": snapshot.page.code,
        "group": True,
        "only_show_if_degraded": False,
        "components": list(group.component_codes),
    }


def _incidents(snapshot: PageSnapshot, chosen: tuple[IncidentView, ...]) -> list[Document]:
    by_code = {component.code: component for component in snapshot.components}
    return [_incident(snapshot, incident, by_code) for incident in chosen]


def _incident(
    snapshot: PageSnapshot, incident: IncidentView, by_code: dict[str, ComponentView]
) -> Document:
    document: Document = {
        "id": incident.code,
        "name": incident.name,
        "status": incident.status,
        "created_at": timestamp(incident.created_at),
        "updated_at": timestamp(incident.updated_at),
        "monitoring_at": _maybe(incident.monitoring_at),
        "resolved_at": _maybe(incident.resolved_at),
        "impact": incident.impact,
        "shortlink": incident.shortlink,
        "started_at": timestamp(incident.started_at),
        "page_id": snapshot.page.code,
        "incident_updates": [_update(incident, update) for update in incident.updates],
        "components": [
            _component(snapshot, by_code[ref.code])
            for ref in incident.components
            if ref.code in by_code
        ],
    }
    if incident.kind == "maintenance":
        document["scheduled_for"] = _maybe(incident.scheduled_for)
        document["scheduled_until"] = _maybe(incident.scheduled_until)
    return document


def _update(incident: IncidentView, update: UpdateView) -> Document:
    return {
        "id": update.code,
        "status": update.status,
        "body": update.body,
        "incident_id": incident.code,
        "created_at": timestamp(update.created_at),
        "updated_at": timestamp(update.created_at),
        "display_at": timestamp(update.display_at),
        "affected_components": [
            {
                "code": affected.code,
                "name": affected.name,
                "old_status": affected.old_status,
                "new_status": affected.new_status,
            }
            for affected in update.affected_components
        ],
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }
