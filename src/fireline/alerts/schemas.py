"""Alerts as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from fireline.alerts.history import LogLine
from fireline.models import Alert


class AlertLogOut(BaseModel):
    kind: str
    message: str
    user_id: int | None
    level: int | None
    occurred_at: datetime

    @classmethod
    def of(cls, entry: LogLine) -> AlertLogOut:
        return cls(
            kind=entry.kind,
            message=entry.message,
            user_id=entry.user_id,
            level=entry.level,
            occurred_at=entry.occurred_at,
        )


class AlertOut(BaseModel):
    id: int
    status: str = Field(description="triggered, acknowledged, resolved or suppressed")
    severity: str = Field(description="critical, error, warning or info")
    summary: str
    source: str
    dedup_key: str
    service_id: int
    integration_id: int | None
    component: str | None
    group: str | None
    alert_class: str | None = Field(description="PagerDuty's `payload.class`.")
    labels: dict[str, Any]
    annotations: dict[str, Any]
    details: dict[str, Any]
    links: list[dict[str, Any]]
    images: list[dict[str, Any]]
    started_at: datetime
    first_seen_at: datetime
    last_seen_at: datetime
    occurrences: int
    acknowledged_at: datetime | None
    acknowledged_by_id: int | None
    resolved_at: datetime | None
    resolved_by_id: int | None
    suppressed_by: str | None
    escalation_policy_id: int | None
    escalation_level: int
    incident_id: int | None
    seconds_to_acknowledge: float | None = Field(
        description="Acknowledged minus first seen: this alert's share of the time to acknowledge."
    )

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        acknowledged = alert.acknowledged_at
        return cls(
            id=alert.id,
            status=alert.status,
            severity=alert.severity,
            summary=alert.summary,
            source=alert.source,
            dedup_key=alert.dedup_key,
            service_id=alert.service_id,
            integration_id=alert.integration_id,
            component=alert.component,
            group=alert.group,
            alert_class=alert.class_,
            labels=alert.labels,
            annotations=alert.annotations,
            details=alert.details,
            links=alert.links,
            images=alert.images,
            started_at=alert.started_at,
            first_seen_at=alert.first_seen_at,
            last_seen_at=alert.last_seen_at,
            occurrences=alert.occurrences,
            acknowledged_at=acknowledged,
            acknowledged_by_id=alert.acknowledged_by_id,
            resolved_at=alert.resolved_at,
            resolved_by_id=alert.resolved_by_id,
            suppressed_by=alert.suppressed_by,
            escalation_policy_id=alert.escalation_policy_id,
            escalation_level=alert.escalation_level,
            incident_id=alert.incident_id,
            seconds_to_acknowledge=(acknowledged - alert.first_seen_at).total_seconds()
            if acknowledged is not None
            else None,
        )


class AlertDetailOut(AlertOut):
    log: list[AlertLogOut]


class AlertLink(BaseModel):
    incident: str = Field(description="The incident's reference or number: INC-42.")
