"""What can set the response engine going: the triggers automation rules listen for."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Trigger(StrEnum):
    INCIDENT_DECLARED = "incident.declared"
    SEVERITY_CHANGED = "incident.severity_changed"
    STATUS_CHANGED = "incident.status_changed"
    ROLE_ASSIGNED = "incident.role_assigned"
    OBLIGATION_DUE_SOON = "obligation.due_soon"
    OBLIGATION_MISSED = "obligation.missed"
    TASK_OVERDUE = "task.overdue"


@dataclass(frozen=True)
class Event:
    """One occurrence of a trigger on an incident. `key` names the occurrence, so that running
    its rules twice (a retried job) acts once; `details` say what changed ({"from", "to"}, the
    role and user, the obligation or task)."""

    trigger: Trigger
    key: str
    details: dict[str, Any] = field(default_factory=dict)
