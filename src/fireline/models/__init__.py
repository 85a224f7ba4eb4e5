"""Every table, importable from one place (Alembic and services import from here)."""

from fireline.models.accounts import ApiToken, Role, Team, TeamMember, User, WebSession
from fireline.models.alerts import (
    Alert,
    AlertLogEntry,
    AlertStatus,
    ChangeEvent,
    DeclareRule,
    Heartbeat,
    Integration,
    IntegrationType,
    MaintenanceWindow,
    RoutingRule,
    Silence,
    maintenance_window_services,
)
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
from fireline.models.oncall import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    RoleSchedule,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
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
    "Alert",
    "AlertLogEntry",
    "AlertStatus",
    "ApiToken",
    "AuditRecord",
    "AutomationRule",
    "AutomationRun",
    "Base",
    "ChangeEvent",
    "Channel",
    "ContactMethod",
    "DeclareRule",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryState",
    "EscalationLevel",
    "EscalationPolicy",
    "EscalationTarget",
    "Heartbeat",
    "Holiday",
    "IdempotencyRecord",
    "Incident",
    "IncidentPlaybook",
    "IncidentTask",
    "Integration",
    "IntegrationType",
    "Job",
    "JobState",
    "MaintenanceWindow",
    "Playbook",
    "Role",
    "RoleAssignment",
    "RoleSchedule",
    "RoutingRule",
    "Schedule",
    "ScheduleLayer",
    "ScheduleOverride",
    "Service",
    "Severity",
    "Silence",
    "Team",
    "TeamMember",
    "TimelineEntry",
    "TimelineThread",
    "Transport",
    "User",
    "WebSession",
    "incident_services",
    "maintenance_window_services",
]
