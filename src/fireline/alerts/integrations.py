"""Integrations: the doors monitoring tools send alerts through, one secret key each.

A key is 32 hexadecimal characters, like a PagerDuty integration key, and stays readable: tools
are configured with it. Rotating it makes the old key stop working at once. Only generic
webhook integrations carry a mapping (how their JSON becomes alerts); it is checked when saved.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fireline.accounts.principal import Actor
from fireline.alerts import service as alerts
from fireline.alerts.events import AlertEvent
from fireline.alerts.parsers import generic
from fireline.audit.service import record
from fireline.catalog.service import get_service
from fireline.config import Settings
from fireline.errors import Conflict, FieldProblem, InternalError, InvalidInput, NotFound
from fireline.models import Alert, Integration, IntegrationType, Service

TEST_SUMMARY = "Test alert from Fireline"


@dataclass(frozen=True)
class Endpoint:
    """A URL a tool is pointed at; for the PagerDuty API, with the routing key to send."""

    purpose: str
    url: str
    routing_key: str | None = None


def new_key() -> str:
    return secrets.token_hex(16)


def find_service(session: Session, ref: str, *, field: str = "service") -> Service:
    """The service named by id or slug in a request body, or InvalidInput naming `field`."""
    try:
        return get_service(session, ref.strip())
    except NotFound:
        raise InvalidInput.on(field, f"no service '{ref}'") from None


def integration_urls(settings: Settings, integration: Integration) -> list[Endpoint]:
    """Where the integration's tool sends its events, under the server's public URL."""
    base = settings.base_url.rstrip("/")
    if integration.type == IntegrationType.PAGERDUTY:
        return [
            Endpoint("events", f"{base}/v2/enqueue", integration.key),
            Endpoint("change events", f"{base}/v2/change/enqueue", integration.key),
        ]
    return [Endpoint("webhook", f"{base}/integrations/{integration.type}/{integration.key}")]


def checked_mapping(raw: dict[str, Any]) -> dict[str, Any]:
    """A generic webhook mapping fit to store, or InvalidInput naming each problem."""
    stored = {name: value for name, value in raw.items() if value is not None}
    try:
        generic.validate_mapping(generic.Mapping.from_stored(stored))
    except generic.InvalidMapping as invalid:
        raise InvalidInput(
            detail="The mapping cannot be used: " + "; ".join(invalid.errors),
            errors=[FieldProblem("mapping", message) for message in invalid.errors],
        ) from None
    return stored


def _snapshot(integration: Integration) -> dict[str, Any]:
    return {
        "name": integration.name,
        "type": integration.type,
        "service_id": integration.service_id,
        "mapping": dict(integration.mapping),
        "rate_limit_per_minute": integration.rate_limit_per_minute,
        "enabled": integration.enabled,
    }


def _audit(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    action: str,
    integration: Integration,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        entity_type="integration",
        entity_id=integration.id,
        at=now,
        before=before,
        after=after,
    )


def list_integrations(
    session: Session, *, service: Service | None = None, after_id: int | None = None, limit: int
) -> list[Integration]:
    """Integrations in the order they were made, with their services."""
    query = (
        select(Integration)
        .options(joinedload(Integration.service))
        .order_by(Integration.id)
        .limit(limit)
    )
    if service is not None:
        query = query.where(Integration.service_id == service.id)
    if after_id is not None:
        query = query.where(Integration.id > after_id)
    return list(session.scalars(query))


def get_integration(session: Session, integration_id: int) -> Integration:
    integration = session.scalars(
        select(Integration)
        .where(Integration.id == integration_id)
        .options(joinedload(Integration.service))
    ).first()
    if integration is None:
        raise NotFound(detail=f"No integration {integration_id}.")
    return integration


def _no_mapping_unless_webhook(kind: str) -> None:
    if kind != IntegrationType.WEBHOOK:
        raise InvalidInput.on("mapping", f"only webhook integrations have one, not {kind}")


def create_integration(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    service: Service,
    kind: IntegrationType,
    name: str,
    mapping: dict[str, Any] | None = None,
    rate_limit_per_minute: int | None = None,
    enabled: bool = True,
) -> Integration:
    """A new integration with a fresh key into `service`."""
    if mapping is not None:
        _no_mapping_unless_webhook(kind)
    integration = Integration(
        service=service,
        name=name,
        type=kind.value,
        key=new_key(),
        mapping=checked_mapping(mapping) if mapping is not None else {},
        rate_limit_per_minute=rate_limit_per_minute,
        enabled=enabled,
        created_at=now,
        updated_at=now,
    )
    session.add(integration)
    session.flush()
    _audit(
        session,
        actor=actor,
        now=now,
        action="integration.create",
        integration=integration,
        after=_snapshot(integration),
    )
    return integration


def update_integration(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    integration: Integration,
    changes: dict[str, Any],
) -> Integration:
    """Change the given fields: `service` (a Service), `name`, `enabled`, `mapping` (None
    restores the default), `rate_limit_per_minute` (None: the server's default)."""
    before = _snapshot(integration)
    if "mapping" in changes:
        _no_mapping_unless_webhook(integration.type)
        raw = changes["mapping"]
        integration.mapping = checked_mapping(raw) if raw is not None else {}
    if "service" in changes:
        integration.service = changes["service"]
    for name in ("name", "enabled", "rate_limit_per_minute"):
        if name in changes:
            setattr(integration, name, changes[name])
    integration.updated_at = now
    session.flush()
    _audit(
        session,
        actor=actor,
        now=now,
        action="integration.update",
        integration=integration,
        before=before,
        after=_snapshot(integration),
    )
    return integration


def rotate_key(session: Session, *, actor: Actor, now: datetime, integration: Integration) -> str:
    """A new key for the integration; the old one stops working when this commits."""
    integration.key = new_key()
    integration.updated_at = now
    session.flush()
    # The audit says that the key changed, never what it is.
    _audit(
        session,
        actor=actor,
        now=now,
        action="integration.rotate_key",
        integration=integration,
        after={"id": integration.id},
    )
    return integration.key


def delete_integration(
    session: Session, *, actor: Actor, now: datetime, integration: Integration
) -> None:
    """Remove the integration; its alerts stay, no longer naming it."""
    _audit(
        session,
        actor=actor,
        now=now,
        action="integration.delete",
        integration=integration,
        before=_snapshot(integration),
    )
    session.delete(integration)
    session.flush()


def send_test(session: Session, *, actor: Actor, now: datetime, integration: Integration) -> Alert:
    """Trigger a test alert through the integration, as its tool would: routed, suppressed and
    paged like any other, so admins see where a real one would land."""
    if not integration.enabled:
        raise Conflict(detail=f"The integration “{integration.name}” is disabled.")
    event = AlertEvent(
        action="trigger",
        dedup_key=f"fireline-test-{uuid.uuid4().hex}",
        summary=TEST_SUMMARY,
        severity="info",
        source="fireline",
        occurred_at=now,
        details={"test": True, "requested_by": actor.label},
    )
    outcome = alerts.ingest(session, integration=integration, event=event, now=now)
    if outcome.alert_id is None:  # a trigger always makes or repeats an alert
        raise InternalError(detail="The test alert was not stored.")
    alert = session.get_one(Alert, outcome.alert_id)
    _audit(
        session,
        actor=actor,
        now=now,
        action="integration.test",
        integration=integration,
        after={"alert_id": alert.id},
    )
    return alert
