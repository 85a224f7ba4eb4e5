"""Maintenance windows (planned work on services) and silences (alerts matching conditions):
while one is active, new alerts it covers are stored as suppressed and nobody is paged.

Both last at most MAX_SPAN and must end after they start. Ending one now is how it is cut short;
a window or silence that has not started yet is simply removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from fireline.accounts.principal import Actor
from fireline.alerts.rules import checked_conditions
from fireline.audit.service import record
from fireline.clock import as_utc
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.models import MaintenanceWindow, Service, Silence

MAX_SPAN = timedelta(days=90)
TimeState = Literal["active", "upcoming", "past"]
Timed = MaintenanceWindow | Silence
T = TypeVar("T", MaintenanceWindow, Silence)


def state_of(item: Timed, now: datetime) -> TimeState:
    if as_utc(item.starts_at) > now:
        return "upcoming"
    return "active" if as_utc(item.ends_at) > now else "past"


def check_span(starts_at: datetime, ends_at: datetime) -> None:
    """Refuse a span that ends before it starts or lasts longer than MAX_SPAN."""
    if ends_at <= starts_at:
        raise InvalidInput.on("ends_at", "must be after starts_at")
    if ends_at - starts_at > MAX_SPAN:
        raise InvalidInput.on("ends_at", f"must be at most {MAX_SPAN.days} days after starts_at")


def _in_state(
    query: Select[T], model: type[T], state: TimeState | None, now: datetime
) -> Select[T]:
    if state == "active":
        return query.where(model.starts_at <= now, model.ends_at > now)
    if state == "upcoming":
        return query.where(model.starts_at > now)
    if state == "past":
        return query.where(model.ends_at <= now)
    return query


# --- Maintenance windows ---------------------------------------------------------------------


def _window_view(window: MaintenanceWindow) -> dict[str, Any]:
    return {
        "description": window.description,
        "service_ids": [service.id for service in window.services],
        "starts_at": as_utc(window.starts_at).isoformat(),
        "ends_at": as_utc(window.ends_at).isoformat(),
    }


def _audit_window(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    verb: str,
    window: MaintenanceWindow,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    record(
        session,
        actor=actor,
        action=f"maintenance_window.{verb}",
        entity_type="maintenance_window",
        entity_id=window.id,
        at=now,
        before=before,
        after=after,
    )


def list_windows(
    session: Session,
    *,
    now: datetime,
    state: TimeState | None = None,
    service: Service | None = None,
    before_id: int | None = None,
    limit: int,
) -> list[MaintenanceWindow]:
    """Maintenance windows, newest first, in `state` at `now` when given."""
    query = (
        select(MaintenanceWindow)
        .options(selectinload(MaintenanceWindow.services))
        .order_by(MaintenanceWindow.id.desc())
        .limit(limit)
    )
    query = _in_state(query, MaintenanceWindow, state, now)
    if service is not None:
        query = query.where(MaintenanceWindow.services.any(Service.id == service.id))
    if before_id is not None:
        query = query.where(MaintenanceWindow.id < before_id)
    return list(session.scalars(query))


def get_window(session: Session, window_id: int) -> MaintenanceWindow:
    window = session.scalars(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.id == window_id)
        .options(selectinload(MaintenanceWindow.services))
    ).first()
    if window is None:
        raise NotFound(detail=f"No maintenance window {window_id}.")
    return window


def create_window(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    description: str,
    services: Sequence[Service],
    starts_at: datetime | None,
    ends_at: datetime,
) -> MaintenanceWindow:
    """A window over `services` from `starts_at` (now when None) to `ends_at`."""
    starts_at = starts_at or now
    check_span(starts_at, ends_at)
    window = MaintenanceWindow(
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    window.services = list({service.id: service for service in services}.values())
    session.add(window)
    session.flush()
    _audit_window(
        session, actor=actor, now=now, verb="create", window=window, after=_window_view(window)
    )
    return window


def update_window(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    window: MaintenanceWindow,
    changes: dict[str, Any],
) -> MaintenanceWindow:
    """Change the description, the services (a list of Service) or the times."""
    before = _window_view(window)
    starts_at = changes.get("starts_at") or as_utc(window.starts_at)
    ends_at = changes.get("ends_at") or as_utc(window.ends_at)
    check_span(starts_at, ends_at)
    window.starts_at, window.ends_at = starts_at, ends_at
    if "description" in changes:
        window.description = changes["description"]
    if "services" in changes:
        window.services = list({service.id: service for service in changes["services"]}.values())
    window.updated_at = now
    session.flush()
    _audit_window(
        session,
        actor=actor,
        now=now,
        verb="update",
        window=window,
        before=before,
        after=_window_view(window),
    )
    return window


def end_window(
    session: Session, *, actor: Actor, now: datetime, window: MaintenanceWindow
) -> MaintenanceWindow:
    """End an active window now: alerts from here on page again."""
    state = state_of(window, now)
    if state != "active" or as_utc(window.starts_at) >= now:
        raise Conflict(
            detail="The window has already ended."
            if state == "past"
            else "The window has not started yet; delete it instead."
        )
    before = _window_view(window)
    window.ends_at = now
    window.updated_at = now
    session.flush()
    _audit_window(
        session,
        actor=actor,
        now=now,
        verb="end",
        window=window,
        before=before,
        after=_window_view(window),
    )
    return window


def delete_window(
    session: Session, *, actor: Actor, now: datetime, window: MaintenanceWindow
) -> None:
    _audit_window(
        session, actor=actor, now=now, verb="delete", window=window, before=_window_view(window)
    )
    session.delete(window)
    session.flush()


# --- Silences --------------------------------------------------------------------------------


def _silence_view(silence: Silence) -> dict[str, Any]:
    return {
        "comment": silence.comment,
        "conditions": list(silence.conditions),
        "starts_at": as_utc(silence.starts_at).isoformat(),
        "ends_at": as_utc(silence.ends_at).isoformat(),
    }


def list_silences(
    session: Session,
    *,
    now: datetime,
    state: TimeState | None = None,
    before_id: int | None = None,
    limit: int,
) -> list[Silence]:
    """Silences, newest first, in `state` at `now` when given."""
    query = select(Silence).order_by(Silence.id.desc()).limit(limit)
    query = _in_state(query, Silence, state, now)
    if before_id is not None:
        query = query.where(Silence.id < before_id)
    return list(session.scalars(query))


def get_silence(session: Session, silence_id: int) -> Silence:
    silence = session.get(Silence, silence_id)
    if silence is None:
        raise NotFound(detail=f"No silence {silence_id}.")
    return silence


def create_silence(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    comment: str,
    conditions: list[dict[str, Any]],
    starts_at: datetime | None,
    ends_at: datetime,
) -> Silence:
    """A silence over alerts matching every condition, from `starts_at` (now when None)."""
    starts_at = starts_at or now
    check_span(starts_at, ends_at)
    silence = Silence(
        comment=comment,
        conditions=checked_conditions(conditions),
        starts_at=starts_at,
        ends_at=ends_at,
        created_by_id=actor.user_id,
        created_at=now,
    )
    session.add(silence)
    session.flush()
    record(
        session,
        actor=actor,
        action="silence.create",
        entity_type="silence",
        entity_id=silence.id,
        at=now,
        after=_silence_view(silence),
    )
    return silence


def expire_silence(session: Session, *, actor: Actor, now: datetime, silence: Silence) -> None:
    """End the silence now; one not started yet is removed, one already over stays as it was."""
    state = state_of(silence, now)
    if state == "past":
        return
    before = _silence_view(silence)
    if state == "upcoming" or as_utc(silence.starts_at) >= now:
        session.delete(silence)
        after = None
    else:
        silence.ends_at = now
        after = _silence_view(silence)
    record(
        session,
        actor=actor,
        action="silence.expire",
        entity_type="silence",
        entity_id=silence.id,
        at=now,
        before=before,
        after=after,
    )
    session.flush()
