"""Every table, importable from one place (Alembic and services import from here)."""

from fireline.models.accounts import ApiToken, Role, Team, TeamMember, User, WebSession
from fireline.models.audit import AuditRecord
from fireline.models.base import Base
from fireline.models.catalog import Service
from fireline.models.idempotency import IdempotencyRecord
from fireline.models.incidents import (
    SINGLE_HOLDER_ROLES,
    Incident,
    RoleAssignment,
    TimelineEntry,
    TimelineThread,
    incident_services,
)
from fireline.models.jobs import Job, JobState
from fireline.models.notify import (
    Channel,
    ContactMethod,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Transport,
)
from fireline.models.response import (
    AutomationRule,
    AutomationRun,
    Holiday,
    IncidentPlaybook,
    IncidentTask,
    Playbook,
)
from fireline.models.severities import Severity

__all__ = [
    "SINGLE_HOLDER_ROLES",
    "ApiToken",
    "AuditRecord",
    "AutomationRule",
    "AutomationRun",
    "Base",
    "Channel",
    "ContactMethod",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryState",
    "Holiday",
    "IdempotencyRecord",
    "Incident",
    "IncidentPlaybook",
    "IncidentTask",
    "Job",
    "JobState",
    "Playbook",
    "Role",
    "RoleAssignment",
    "Service",
    "Severity",
    "Team",
    "TeamMember",
    "TimelineEntry",
    "TimelineThread",
    "Transport",
    "User",
    "WebSession",
    "incident_services",
]
