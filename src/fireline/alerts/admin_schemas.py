"""What the alerts admin API takes and returns: integrations, routing and declare rules,
maintenance windows, silences, heartbeats and change events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from fireline.alerts.events import AlertSeverity
from fireline.models import (
    ChangeEvent,
    DeclareRule,
    Heartbeat,
    Integration,
    IntegrationType,
    MaintenanceWindow,
    RoutingRule,
    Service,
    Silence,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
ServiceRef = Annotated[str, Field(min_length=1, max_length=100, description="Id or slug.")]
RateLimit = Annotated[int, Field(ge=1, le=100_000, description="Events a minute; null: default.")]
Conditions = Annotated[
    list[dict[str, Any]],
    Field(
        max_length=50,
        description='All must hold: [{"field": "labels.team", "op": "equals", '
        '"value": "payments"}]; see fireline.alerts.conditions.',
    ),
]
Expression = Annotated[str, StringConstraints(max_length=2000)]
Minutes = Annotated[int, Field(ge=1, le=10080)]


class ServiceSummary(BaseModel):
    id: int
    slug: str
    name: str

    @classmethod
    def of(cls, service: Service) -> ServiceSummary:
        return cls(id=service.id, slug=service.slug, name=service.name)


# --- Integrations ----------------------------------------------------------------------------


class WebhookMapping(BaseModel):
    """How a generic webhook's JSON becomes alerts: JSON paths (`$.title`) or templates."""

    model_config = ConfigDict(extra="forbid")

    summary: Expression
    severity: Expression | None = None
    dedup_key: Expression | None = None
    status: Expression | None = None
    source: Expression | None = None
    occurred_at: Expression | None = None
    labels: Expression | None = None
    items: Expression | None = None
    resolve_values: list[Annotated[str, StringConstraints(max_length=100)]] | None = None
    acknowledge_values: list[Annotated[str, StringConstraints(max_length=100)]] | None = None
    severity_map: dict[str, AlertSeverity] | None = None
    default_severity: AlertSeverity | None = None


class IntegrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: ServiceRef
    type: IntegrationType
    name: Name
    mapping: WebhookMapping | None = Field(default=None, description="Only for type webhook.")
    rate_limit_per_minute: RateLimit | None = None
    enabled: bool = True


class IntegrationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: ServiceRef | None = None
    name: Name | None = None
    enabled: bool | None = None
    mapping: WebhookMapping | None = Field(
        default=None, description="Only for type webhook; null restores the default mapping."
    )
    rate_limit_per_minute: RateLimit | None = None


class EndpointOut(BaseModel):
    """Where a monitoring tool sends events for this integration."""

    purpose: str = Field(description="`events`, `change events` or `webhook`.")
    url: str
    routing_key: str | None = Field(description="For the PagerDuty API: the `routing_key`.")


class IntegrationOut(BaseModel):
    id: int
    name: str
    type: IntegrationType
    service: ServiceSummary
    key: str
    urls: list[EndpointOut]
    mapping: dict[str, Any]
    rate_limit_per_minute: int | None
    enabled: bool
    last_event_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, integration: Integration, urls: list[EndpointOut]) -> IntegrationOut:
        return cls(
            id=integration.id,
            name=integration.name,
            type=IntegrationType(integration.type),
            service=ServiceSummary.of(integration.service),
            key=integration.key,
            urls=urls,
            mapping=dict(integration.mapping),
            rate_limit_per_minute=integration.rate_limit_per_minute,
            enabled=integration.enabled,
            last_event_at=integration.last_event_at,
            created_at=integration.created_at,
            updated_at=integration.updated_at,
        )


class TestSent(BaseModel):
    """The test alert the integration produced: look for it in the alert list."""

    alert_id: int
    dedup_key: str
    status: str
    service: str = Field(description="Slug of the service the alert was routed to.")


# --- Routing and declare rules ---------------------------------------------------------------


class RoutingRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    conditions: Conditions = Field(default_factory=list)
    integration_id: int | None = Field(default=None, description="Only this integration's.")
    service: ServiceRef | None = Field(default=None, description="Send matches to this service.")
    severity: AlertSeverity | None = None
    escalation_policy_id: int | None = None
    enabled: bool = True


class RoutingRuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    conditions: Conditions | None = None
    integration_id: int | None = None
    service: ServiceRef | None = None
    severity: AlertSeverity | None = None
    escalation_policy_id: int | None = None
    enabled: bool | None = None


class RoutingRuleOut(BaseModel):
    id: int
    name: str
    position: int
    conditions: list[dict[str, Any]]
    integration_id: int | None
    service: ServiceSummary | None
    severity: str | None
    escalation_policy_id: int | None
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rule: RoutingRule, service: Service | None) -> RoutingRuleOut:
        return cls(
            id=rule.id,
            name=rule.name,
            position=rule.position,
            conditions=list(rule.conditions),
            integration_id=rule.integration_id,
            service=ServiceSummary.of(service) if service is not None else None,
            severity=rule.severity,
            escalation_policy_id=rule.escalation_policy_id,
            enabled=rule.enabled,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
        )


SeverityKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)]


class DeclareRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    conditions: Conditions = Field(default_factory=list)
    severity: SeverityKey = Field(description="The incident's severity, e.g. SEV2.")
    enabled: bool = True


class DeclareRuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    conditions: Conditions | None = None
    severity: SeverityKey | None = None
    enabled: bool | None = None


class DeclareRuleOut(BaseModel):
    id: int
    name: str
    position: int
    conditions: list[dict[str, Any]]
    severity: str
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rule: DeclareRule) -> DeclareRuleOut:
        return cls(
            id=rule.id,
            name=rule.name,
            position=rule.position,
            conditions=list(rule.conditions),
            severity=rule.severity,
            enabled=rule.enabled,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
        )


class RuleOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[int] = Field(
        max_length=1000, description="Every rule's id, in the order they are to be tried."
    )


# --- Maintenance windows and silences --------------------------------------------------------

TimeState = Literal["active", "upcoming", "past"]


class MaintenanceWindowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: Text
    services: list[ServiceRef] = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime | None = Field(default=None, description="Now when omitted.")
    ends_at: AwareDatetime


class MaintenanceWindowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: Text | None = None
    services: list[ServiceRef] | None = Field(default=None, min_length=1, max_length=200)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class MaintenanceWindowOut(BaseModel):
    id: int
    description: str
    services: list[ServiceSummary]
    starts_at: datetime
    ends_at: datetime
    state: TimeState
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, window: MaintenanceWindow, state: TimeState) -> MaintenanceWindowOut:
        return cls(
            id=window.id,
            description=window.description,
            services=[ServiceSummary.of(service) for service in window.services],
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            state=state,
            created_by_id=window.created_by_id,
            created_at=window.created_at,
            updated_at=window.updated_at,
        )


class SilenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Text
    conditions: Conditions = Field(min_length=1)
    starts_at: AwareDatetime | None = Field(default=None, description="Now when omitted.")
    ends_at: AwareDatetime


class SilenceOut(BaseModel):
    id: int
    comment: str
    conditions: list[dict[str, Any]]
    starts_at: datetime
    ends_at: datetime
    state: TimeState
    created_by_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, silence: Silence, state: TimeState) -> SilenceOut:
        return cls(
            id=silence.id,
            comment=silence.comment,
            conditions=list(silence.conditions),
            starts_at=silence.starts_at,
            ends_at=silence.ends_at,
            state=state,
            created_by_id=silence.created_by_id,
            created_at=silence.created_at,
        )


# --- Heartbeats ------------------------------------------------------------------------------


class HeartbeatCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: ServiceRef
    name: Name
    interval_minutes: Minutes = Field(description="How often the job calls its ping URL.")
    grace_minutes: Annotated[int, Field(ge=0, le=10080)] = 0
    severity: AlertSeverity = "critical"


class HeartbeatUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: ServiceRef | None = None
    name: Name | None = None
    interval_minutes: Minutes | None = None
    grace_minutes: Annotated[int, Field(ge=0, le=10080)] | None = None
    severity: AlertSeverity | None = None


class HeartbeatOut(BaseModel):
    id: int
    name: str
    service: ServiceSummary
    key: str
    ping_url: str = Field(description="GET or POST it at least every interval.")
    interval_minutes: int
    grace_minutes: int
    severity: str
    status: str
    last_ping_at: datetime | None
    due_by: datetime | None = Field(description="When silence fires an alert; null when down.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, heartbeat: Heartbeat, *, ping_url: str, due_by: datetime | None) -> HeartbeatOut:
        return cls(
            id=heartbeat.id,
            name=heartbeat.name,
            service=ServiceSummary.of(heartbeat.service),
            key=heartbeat.key,
            ping_url=ping_url,
            interval_minutes=heartbeat.interval_minutes,
            grace_minutes=heartbeat.grace_minutes,
            severity=heartbeat.severity,
            status=heartbeat.status,
            last_ping_at=heartbeat.last_ping_at,
            due_by=due_by,
            created_at=heartbeat.created_at,
            updated_at=heartbeat.updated_at,
        )


class PingOut(BaseModel):
    status: str
    due_by: datetime


# --- Change events ---------------------------------------------------------------------------


class ChangeEventOut(BaseModel):
    id: int
    service_id: int
    integration_id: int | None
    summary: str
    source: str | None
    details: dict[str, Any]
    links: list[dict[str, Any]]
    occurred_at: datetime

    @classmethod
    def of(cls, change: ChangeEvent) -> ChangeEventOut:
        return cls(
            id=change.id,
            service_id=change.service_id,
            integration_id=change.integration_id,
            summary=change.summary,
            source=change.source,
            details=dict(change.details),
            links=list(change.links),
            occurred_at=change.occurred_at,
        )
