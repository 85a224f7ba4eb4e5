"""JSON Schemas of Atlassian Statuspage's public API v2 documents (summary.json, status.json,
components.json, incidents.json, incidents/unresolved.json, scheduled-maintenances.json,
scheduled-maintenances/upcoming.json and active.json), written from Statuspage's documented
shapes: the fields its clients read, their types and enum values.

Objects are closed (no field Statuspage lacks) so a misspelt name fails; times are Statuspage's
"2026-11-27T10:00:00.000Z" form.
"""

from __future__ import annotations

from typing import Any

TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"}
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
ID = {"type": "string", "minLength": 1}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _closed(properties: dict[str, Any], *optional: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


COMPONENT_STATUS = {
    "enum": [
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
    ]
}
INCIDENT_STATUS = {"enum": ["investigating", "identified", "monitoring", "resolved", "postmortem"]}
MAINTENANCE_STATUS = {"enum": ["scheduled", "in_progress", "verifying", "completed"]}
IMPACT = {"enum": ["none", "minor", "major", "critical", "maintenance"]}
INDICATOR = {"enum": ["none", "minor", "major", "critical"]}

PAGE = _closed(
    {
        "id": ID,
        "name": {"type": "string"},
        "url": {"type": "string", "pattern": "^https?://"},
        "time_zone": {"type": "string"},
        "updated_at": TIME,
    }
)

STATUS = _closed({"indicator": INDICATOR, "description": {"type": "string", "minLength": 1}})

COMPONENT = {
    **_closed(
        {
            "id": ID,
            "name": {"type": "string"},
            "status": COMPONENT_STATUS,
            "created_at": TIME,
            "updated_at": TIME,
            "position": {"type": "integer"},
            "description": _nullable({"type": "string"}),
            "showcase": {"type": "boolean"},
            "start_date": _nullable(DATE),
            "group_id": _nullable(ID),
            "page_id": ID,
            "group": {"type": "boolean"},
            "only_show_if_degraded": {"type": "boolean"},
            "components": {"type": "array", "items": ID},
        },
        "components",
    ),
    # A group lists its components' ids; a component does not.
    "if": {"properties": {"group": {"const": True}}},
    "then": {"required": ["components"], "properties": {"group_id": {"type": "null"}}},
    "else": {"not": {"required": ["components"]}},
}


def _update(status: dict[str, Any]) -> dict[str, Any]:
    return _closed(
        {
            "id": ID,
            "status": status,
            "body": {"type": "string"},
            "incident_id": ID,
            "created_at": TIME,
            "updated_at": TIME,
            "display_at": TIME,
            "affected_components": _nullable(
                {
                    "type": "array",
                    "items": _closed(
                        {
                            "code": ID,
                            "name": {"type": "string"},
                            "old_status": _nullable(COMPONENT_STATUS),
                            "new_status": COMPONENT_STATUS,
                        }
                    ),
                }
            ),
            "deliver_notifications": {"type": "boolean"},
            "custom_tweet": _nullable({"type": "string"}),
            "tweet_id": _nullable({"type": "string"}),
        }
    )


def _incident(
    status: dict[str, Any], update_status: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return _closed(
        {
            "id": ID,
            "name": {"type": "string"},
            "status": status,
            "created_at": TIME,
            "updated_at": TIME,
            "monitoring_at": _nullable(TIME),
            "resolved_at": _nullable(TIME),
            "impact": IMPACT,
            "shortlink": {"type": "string", "pattern": "^https?://"},
            "started_at": TIME,
            "page_id": ID,
            "incident_updates": {"type": "array", "items": _update(update_status)},
            "components": {"type": "array", "items": COMPONENT},
            **extra,
        }
    )


def _maintenance(status: dict[str, Any]) -> dict[str, Any]:
    window = {"scheduled_for": _nullable(TIME), "scheduled_until": _nullable(TIME)}
    return _incident(status, MAINTENANCE_STATUS, **window)


INCIDENT = _incident(INCIDENT_STATUS, INCIDENT_STATUS)
UNRESOLVED_INCIDENT = _incident(
    {"enum": ["investigating", "identified", "monitoring"]}, INCIDENT_STATUS
)
MAINTENANCE = _maintenance(MAINTENANCE_STATUS)
UPCOMING_MAINTENANCE = _maintenance({"const": "scheduled"})
ACTIVE_MAINTENANCE = _maintenance({"enum": ["in_progress", "verifying"]})


def _document(**fields: Any) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **_closed({"page": PAGE, **fields}),
    }


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


SUMMARY = _document(
    components=_list(COMPONENT),
    incidents=_list(UNRESOLVED_INCIDENT),
    scheduled_maintenances=_list({"anyOf": [UPCOMING_MAINTENANCE, ACTIVE_MAINTENANCE]}),
    status=STATUS,
)
STATUS_DOCUMENT = _document(status=STATUS)
COMPONENTS = _document(components=_list(COMPONENT))
INCIDENTS = _document(incidents={**_list(INCIDENT), "maxItems": 50})
UNRESOLVED_INCIDENTS = _document(incidents=_list(UNRESOLVED_INCIDENT))
SCHEDULED_MAINTENANCES = _document(scheduled_maintenances={**_list(MAINTENANCE), "maxItems": 50})
UPCOMING_MAINTENANCES = _document(scheduled_maintenances=_list(UPCOMING_MAINTENANCE))
ACTIVE_MAINTENANCES = _document(scheduled_maintenances=_list(ACTIVE_MAINTENANCE))
