"""Building blocks for alert tests: a service with an integration and an escalation policy."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fireline.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Integration,
    Service,
    User,
)


@dataclass
class Setup:
    service: Service
    integration: Integration
    policy: EscalationPolicy | None


def add_service(db: Session, now: datetime, *, slug: str = "checkout", tier: int = 1) -> Service:
    service = Service(
        name=slug.title(),
        slug=slug,
        description="",
        tier=tier,
        created_at=now,
        updated_at=now,
    )
    db.add(service)
    db.flush()
    return service


def add_integration(
    db: Session, now: datetime, service: Service, *, kind: str = "pagerduty", name: str = "Prom"
) -> Integration:
    integration = Integration(
        service_id=service.id,
        name=name,
        type=kind,
        key=secrets.token_hex(16),
        mapping={},
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    db.add(integration)
    db.flush()
    return integration


def add_policy(
    db: Session, now: datetime, levels: list[tuple[int, list[User]]], *, repeat: int = 0
) -> EscalationPolicy:
    """A policy whose levels page these users, each level waiting its minutes."""
    policy = EscalationPolicy(
        name=f"policy-{secrets.token_hex(3)}",
        description="",
        repeat=repeat,
        created_at=now,
        updated_at=now,
    )
    policy.levels = [
        EscalationLevel(
            position=position,
            delay_minutes=delay,
            targets=[EscalationTarget(user_id=user.id) for user in users],
        )
        for position, (delay, users) in enumerate(levels, start=1)
    ]
    db.add(policy)
    db.flush()
    return policy


def pd_trigger(key: str, summary: str, *, dedup_key: str | None = None, **payload: object) -> dict:
    event: dict = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {"summary": summary, "source": "prometheus", "severity": "critical", **payload},
    }
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    return event


def pd_action(key: str, action: str, dedup_key: str) -> dict:
    return {"routing_key": key, "event_action": action, "dedup_key": dedup_key}
