"""Changing a component's status: the one way it happens, so that uptime, caches, subscribers
and the audit log all hear of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.comms import notifications
from fireline.comms.signals import page_changed
from fireline.errors import InvalidInput
from fireline.models import Component, ComponentStatus, ComponentStatusChange, PublicIncident


def parse_status(value: str, *, field: str = "status") -> ComponentStatus:
    """The component status named `value`, or InvalidInput naming `field` and the choices."""
    try:
        return ComponentStatus(value)
    except ValueError:
        choices = ", ".join(status.value for status in ComponentStatus)
        raise InvalidInput.on(field, f"must be one of {choices}") from None


def set_component_status(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    component: Component,
    status: ComponentStatus,
    base_url: str,
    public_incident: PublicIncident | None = None,
    notify: bool = True,
) -> str | None:
    """Put `component` in `status` from `now` on: the status history (uptime is counted from
    it) gets a row, the page's readers see it once committed, subscribers who follow the
    component hear of it (unless `notify` is false: an update that changes components tells
    them in one message instead), and the audit log records it. Returns the old status, or
    None when the component already was in `status` (nothing is written)."""
    old = component.status
    if old == status.value:
        return None
    component.status = status.value
    component.updated_at = now
    session.add(
        ComponentStatusChange(
            component_id=component.id,
            status=status.value,
            at=now,
            public_incident_id=public_incident.id if public_incident is not None else None,
        )
    )
    page_changed(session, component.page_id)
    record(
        session,
        actor=actor,
        action="component.status_changed",
        entity_type="status_component",
        entity_id=component.code,
        at=now,
        before={"status": old},
        after={
            "status": status.value,
            "public_incident": public_incident.code if public_incident is not None else None,
        },
    )
    if notify:
        notifications.component_changed(
            session, component=component, old_status=old, now=now, base_url=base_url
        )
    return old
