"""Rotation layers: rows as rotation.py's pure `Layer`s, their validation, their use cases.

A layer is validated whole, as it would be saved, before any change is written: members must be
active users (given by id or email), restrictions must fit their repeat, and the rotation must be
one rotation.py can schedule; each problem names the field at fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.errors import AppError, Conflict, FieldProblem, InvalidInput, NotFound
from fireline.models import Schedule, ScheduleLayer
from fireline.oncall.people import resolve_user
from fireline.oncall.rotation import Layer, Restriction, validate_layer

LAYER_FIELDS = (
    "name",
    "members",
    "shift_length",
    "shift_unit",
    "rotation_start",
    "timezone",
    "restrictions",
    "ends_at",
    "priority",
)
_DAY_MINUTES = 24 * 60


def _restriction(raw: dict[str, Any]) -> Restriction:
    hours, minutes = str(raw["start_time"]).split(":")
    return Restriction(
        start_time=time(int(hours), int(minutes)),
        duration=timedelta(minutes=int(raw["minutes"])),
        weekday=raw.get("weekday"),
    )


def _rotation(layer_id: int, values: dict[str, Any]) -> Layer:
    return Layer(
        id=layer_id,
        priority=values["priority"],
        members=tuple(values["members"]),
        shift_length=values["shift_length"],
        shift_unit=values["shift_unit"],
        rotation_start=values["rotation_start"],
        timezone=values["timezone"],
        restrictions=tuple(_restriction(raw) for raw in values["restrictions"]),
        ends_at=values["ends_at"],
    )


def layer_of(row: ScheduleLayer) -> Layer:
    """The rotation a stored layer describes."""
    return _rotation(row.id, {name: getattr(row, name) for name in LAYER_FIELDS})


def layer_snapshot(row: ScheduleLayer) -> dict[str, Any]:
    """The layer as the audit log records it."""
    return {
        "id": row.id,
        "name": row.name,
        "priority": row.priority,
        "members": list(row.members),
        "shift_length": row.shift_length,
        "shift_unit": row.shift_unit,
        "rotation_start": row.rotation_start.isoformat(),
        "timezone": row.timezone,
        "restrictions": list(row.restrictions),
        "ends_at": row.ends_at.isoformat() if row.ends_at else None,
    }


def _prefixed(error: AppError, prefix: str) -> InvalidInput:
    problems = [FieldProblem(prefix + problem.field, problem.message) for problem in error.errors]
    detail = "; ".join(f"{problem.field}: {problem.message}" for problem in problems)
    return InvalidInput(detail=detail or error.detail, errors=problems)


def _checked_restrictions(raw: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    checked = []
    for position, window in enumerate(raw):
        if window.get("weekday") is None and window["minutes"] > _DAY_MINUTES:
            raise InvalidInput.on(
                f"restrictions.{position}.minutes",
                "a window repeating every day lasts at most 1440 minutes",
            )
        checked.append(
            {
                "weekday": window.get("weekday"),
                "start_time": window["start_time"],
                "minutes": window["minutes"],
            }
        )
    return checked


def _checked_layer(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """The layer's complete values with members as user ids, or InvalidInput naming the field."""
    members = values["members"]
    if not members:
        raise InvalidInput.on("members", "a layer needs at least one member")
    checked = {
        **values,
        "members": [
            resolve_user(session, ref, field=f"members.{n}").id for n, ref in enumerate(members)
        ],
        "restrictions": _checked_restrictions(values.get("restrictions") or []),
    }
    validate_layer(_rotation(0, checked))
    return checked


def _priority_taken(session: Session, schedule_id: int, priority: int, layer_id: int) -> None:
    taken = session.scalar(
        select(ScheduleLayer.name).where(
            ScheduleLayer.schedule_id == schedule_id,
            ScheduleLayer.priority == priority,
            ScheduleLayer.id != layer_id,
        )
    )
    if taken is not None:
        message = f"layer '{taken}' already has priority {priority}"
        raise Conflict(detail=f"priority: {message}", errors=[FieldProblem("priority", message)])


def insert_layer(
    session: Session, *, schedule_id: int, now: datetime, values: dict[str, Any], prefix: str = ""
) -> ScheduleLayer:
    values = {name: values.get(name) for name in LAYER_FIELDS}
    if values["priority"] is None:
        highest = session.scalar(
            select(func.max(ScheduleLayer.priority)).where(ScheduleLayer.schedule_id == schedule_id)
        )
        values["priority"] = (highest or 0) + 1
    try:
        checked = _checked_layer(session, values)
        _priority_taken(session, schedule_id, checked["priority"], 0)
    except InvalidInput as error:
        raise _prefixed(error, prefix) from error
    row = ScheduleLayer(schedule_id=schedule_id, created_at=now, updated_at=now, **checked)
    session.add(row)
    session.flush()
    return row


def get_layer(session: Session, *, schedule: Schedule, layer_id: int) -> ScheduleLayer:
    row = session.get(ScheduleLayer, layer_id)
    if row is None or row.schedule_id != schedule.id:
        raise NotFound(detail=f"Schedule '{schedule.slug}' has no layer {layer_id}.")
    return row


def add_layer(
    session: Session, *, actor: Actor, now: datetime, schedule: Schedule, values: dict[str, Any]
) -> ScheduleLayer:
    """Add a rotation layer (values: LayerCreate's fields; members as ids or emails)."""
    row = insert_layer(session, schedule_id=schedule.id, now=now, values=values)
    schedule.updated_at = now
    record(
        session,
        actor=actor,
        action="schedule.layer.create",
        entity_type="schedule",
        entity_id=schedule.id,
        at=now,
        after=layer_snapshot(row),
    )
    return row


def update_layer(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    schedule: Schedule,
    layer: ScheduleLayer,
    changes: dict[str, Any],
) -> ScheduleLayer:
    """Change the given fields; the whole layer is validated again as it would be saved."""
    before = layer_snapshot(layer)
    for name in ("name", "members", "shift_length", "shift_unit", "rotation_start", "timezone"):
        if name in changes and changes[name] is None:
            raise InvalidInput.on(name, "cannot be null")
    values = {name: getattr(layer, name) for name in LAYER_FIELDS}
    values.update(changes)
    if values["priority"] is None:
        values["priority"] = layer.priority
    checked = _checked_layer(session, values)
    _priority_taken(session, schedule.id, checked["priority"], layer.id)
    for name, value in checked.items():
        setattr(layer, name, value)
    layer.updated_at = now
    schedule.updated_at = now
    session.flush()
    record(
        session,
        actor=actor,
        action="schedule.layer.update",
        entity_type="schedule",
        entity_id=schedule.id,
        at=now,
        before=before,
        after=layer_snapshot(layer),
    )
    return layer


def delete_layer(
    session: Session, *, actor: Actor, now: datetime, schedule: Schedule, layer: ScheduleLayer
) -> None:
    record(
        session,
        actor=actor,
        action="schedule.layer.delete",
        entity_type="schedule",
        entity_id=schedule.id,
        at=now,
        before=layer_snapshot(layer),
    )
    session.delete(layer)
    schedule.updated_at = now
    session.flush()
