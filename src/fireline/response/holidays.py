"""The holiday calendar: days the business-day clocks skip, kept in the database so an admin can
change them without a restart."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.errors import NotFound
from fireline.models import Holiday
from fireline.response.calendar import BusinessCalendar


def list_all(session: Session) -> list[Holiday]:
    return list(session.scalars(select(Holiday).order_by(Holiday.day)))


def calendar(session: Session) -> BusinessCalendar:
    """The business calendar with the stored holidays."""
    return BusinessCalendar(holidays=frozenset(session.scalars(select(Holiday.day))))


def put(session: Session, *, actor: Actor, now: datetime, day: date, name: str) -> Holiday:
    holiday = session.scalars(select(Holiday).where(Holiday.day == day)).first()
    before = None if holiday is None else {"day": day.isoformat(), "name": holiday.name}
    if holiday is None:
        holiday = Holiday(day=day, name=name, created_at=now)
        session.add(holiday)
    else:
        holiday.name = name
    session.flush()
    record(
        session,
        actor=actor,
        action="holiday.put",
        entity_type="holiday",
        entity_id=day.isoformat(),
        at=now,
        before=before,
        after={"day": day.isoformat(), "name": name},
    )
    return holiday


def remove(session: Session, *, actor: Actor, now: datetime, day: date) -> None:
    holiday = session.scalars(select(Holiday).where(Holiday.day == day)).first()
    if holiday is None:
        raise NotFound(detail=f"{day.isoformat()} is not a holiday.")
    record(
        session,
        actor=actor,
        action="holiday.delete",
        entity_type="holiday",
        entity_id=day.isoformat(),
        at=now,
        before={"day": day.isoformat(), "name": holiday.name},
    )
    session.delete(holiday)
    session.flush()
