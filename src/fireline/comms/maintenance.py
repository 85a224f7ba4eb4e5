"""Scheduled maintenance: announced ahead, started and ended by the worker at the window's edges.

A maintenance is a PublicIncident of kind maintenance: scheduled → in_progress → verifying →
completed. With `auto_transition` the worker starts it at `scheduled_for` (its components go
under maintenance) and completes it at `scheduled_until` (they return to operational, unless an
open incident holds them); `remind_minutes` before the start subscribers get a reminder. Each
timer is a durable job keyed by the instant it was set for: rescheduling sets new ones, and a
job whose instant no longer matches the row does nothing. Under maintenance is not an outage,
so maintenance never counts as downtime.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.clock import as_utc
from fireline.comms import notifications
from fireline.comms.codes import new_code
from fireline.comms.public_incidents import components_of, held_status
from fireline.comms.publishing import (
    PublicParts,
    change_components,
    check_parts,
    components_named,
    link_components,
    render_body,
    write_update,
)
from fireline.comms.signals import page_changed
from fireline.config import Settings
from fireline.errors import IllegalTransition, InvalidInput, NotFound
from fireline.jobs.queue import Timer, enqueue_timers
from fireline.models import (
    Impact,
    PublicIncident,
    PublicKind,
    PublicStatus,
    PublicUpdate,
    StatusPage,
)

if TYPE_CHECKING:
    from fireline.jobs.handlers import Handler, JobContext

log = structlog.get_logger()

START_JOB, END_JOB, REMINDER_JOB = (
    "comms.maintenance_start",
    "comms.maintenance_end",
    "comms.maintenance_reminder",
)
# Forward only; scheduled → completed is a cancellation.
_ORDER = (
    PublicStatus.SCHEDULED,
    PublicStatus.IN_PROGRESS,
    PublicStatus.VERIFYING,
    PublicStatus.COMPLETED,
)
MAX_REMIND_MINUTES = 7 * 24 * 60
STARTED_NOTE = "Scheduled maintenance is in progress. We will provide updates as necessary."
COMPLETED_NOTE = "The scheduled maintenance has been completed."
_SYSTEM = Actor.system("scheduled maintenance")


def schedule_maintenance(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    base_url: str,
    page: StatusPage,
    name: str,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: list[str],
    parts: PublicParts,
    auto_transition: bool = True,
    remind_minutes: int | None = 60,
) -> PublicIncident:
    """A maintenance announced on `page`, scheduled, with its first update and its timers.
    The window must lie in the future; the components are named by code."""
    name = name.strip()
    if not name:
        raise InvalidInput.on("name", "is required")
    _check_window(as_utc(scheduled_for), as_utc(scheduled_until), now)
    _check_remind(remind_minutes)
    check_parts(parts, now)
    affected = components_named(session, page, components)
    maintenance = PublicIncident(
        code=new_code(),
        page_id=page.id,
        incident_id=None,
        kind=PublicKind.MAINTENANCE.value,
        name=name,
        status=PublicStatus.SCHEDULED.value,
        impact=Impact.MAINTENANCE.value,
        started_at=as_utc(scheduled_for),
        scheduled_for=as_utc(scheduled_for),
        scheduled_until=as_utc(scheduled_until),
        auto_transition=auto_transition,
        remind_minutes=remind_minutes,
        report={},
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(maintenance)
    session.flush()
    link_components(session, maintenance, affected)  # their status changes at the start
    record(
        session,
        actor=actor,
        action="maintenance.scheduled",
        entity_type="public_incident",
        entity_id=maintenance.code,
        at=now,
        after=_window_of(maintenance) | {"page": page.slug, "name": name},
    )
    write_update(
        session,
        actor=actor,
        now=now,
        base_url=base_url,
        public_incident=maintenance,
        body=render_body(parts),
        parts=parts.as_document(),
        affected=[],
    )
    schedule_timers(session, maintenance=maintenance, now=now)
    return maintenance


def update_maintenance(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    base_url: str,
    maintenance: PublicIncident,
    parts: PublicParts,
    status: PublicStatus | None = None,
) -> PublicUpdate:
    """Post an update, moving the status forward when `status` is given (scheduled →
    in_progress → verifying → completed): entering in_progress puts the components under
    maintenance, completing returns them. Raises IllegalTransition for a step back."""
    check_parts(parts, now)
    target = PublicStatus(maintenance.status) if status is None else status
    if target not in _ORDER:
        choices = ", ".join(each.value for each in _ORDER)
        raise InvalidInput.on("status", f"must be one of {choices}")
    return _move(
        session,
        actor=actor,
        now=now,
        base_url=base_url,
        maintenance=maintenance,
        status=target,
        body=render_body(parts),
        parts=parts.as_document(),
    )


def reschedule_maintenance(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    maintenance: PublicIncident,
    name: str | None = None,
    scheduled_for: datetime | None = None,
    scheduled_until: datetime | None = None,
    remind_minutes: int | None = None,
    clear_reminder: bool = False,
    auto_transition: bool | None = None,
) -> PublicIncident:
    """Change the name, window, reminder or automatic transitions. The start moves only while
    scheduled; the end also while in progress (to extend the work). New timers are set; the
    old ones find the row changed and do nothing."""
    _check_open(maintenance)
    before = _window_of(maintenance) | {"name": maintenance.name}
    if name is not None:
        if not name.strip():
            raise InvalidInput.on("name", "is required")
        maintenance.name = name.strip()
    started = maintenance.status != PublicStatus.SCHEDULED.value
    if scheduled_for is not None and started:
        raise InvalidInput.on("scheduled_for", "cannot change once the maintenance has started")
    if started and (remind_minutes is not None or clear_reminder):
        raise InvalidInput.on("remind_minutes", "cannot change once the maintenance has started")
    new_for = as_utc(scheduled_for or _at(maintenance.scheduled_for))
    new_until = as_utc(scheduled_until or _at(maintenance.scheduled_until))
    if scheduled_for is not None or scheduled_until is not None:
        if started:
            if new_until <= now:
                raise InvalidInput.on("scheduled_until", "must be in the future")
        else:
            _check_window(new_for, new_until, now)
    new_remind = None if clear_reminder else (remind_minutes or maintenance.remind_minutes)
    _check_remind(new_remind)
    if new_for != _at(maintenance.scheduled_for) or new_remind != maintenance.remind_minutes:
        maintenance.reminded_at = None  # a new start (or lead time) deserves a new reminder
    maintenance.scheduled_for = new_for
    maintenance.started_at = new_for if not started else maintenance.started_at
    maintenance.scheduled_until = new_until
    maintenance.remind_minutes = new_remind
    if auto_transition is not None:
        maintenance.auto_transition = auto_transition
    maintenance.updated_at = now
    page_changed(session, maintenance.page_id)
    record(
        session,
        actor=actor,
        action="maintenance.rescheduled",
        entity_type="public_incident",
        entity_id=maintenance.code,
        at=now,
        before=before,
        after=_window_of(maintenance) | {"name": maintenance.name},
    )
    schedule_timers(session, maintenance=maintenance, now=now)
    return maintenance


def cancel_maintenance(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    base_url: str,
    maintenance: PublicIncident,
    note: str,
) -> PublicUpdate:
    """Cancel a maintenance not yet completed: it is completed with `note` as its last update,
    and components it had under maintenance return to what holds them otherwise."""
    note = note.strip()
    if not note:
        raise InvalidInput.on("note", "is required")
    _check_open(maintenance)
    body = f"This scheduled maintenance has been cancelled. {note}"
    return _move(
        session,
        actor=actor,
        now=now,
        base_url=base_url,
        maintenance=maintenance,
        status=PublicStatus.COMPLETED,
        body=body,
        parts={"note": note, "cancelled": True},
    )


def schedule_timers(session: Session, *, maintenance: PublicIncident, now: datetime) -> None:
    """Set the maintenance's start, end and reminder jobs for its current window (each once)."""
    timers = []
    scheduled_for, scheduled_until = (
        _at(maintenance.scheduled_for),
        _at(maintenance.scheduled_until),
    )
    if maintenance.status == PublicStatus.SCHEDULED.value:
        timers.append(_timer(START_JOB, maintenance, scheduled_for))
        if maintenance.remind_minutes is not None and maintenance.reminded_at is None:
            remind_at = scheduled_for - timedelta(minutes=maintenance.remind_minutes)
            if remind_at > now:  # too late to remind: the scheduled notice just went out
                timers.append(_timer(REMINDER_JOB, maintenance, remind_at))
    timers.append(_timer(END_JOB, maintenance, scheduled_until))
    enqueue_timers(session, timers=timers, now=now)


def start_due(
    session: Session, *, maintenance_id: int, at: datetime, now: datetime, base_url: str
) -> bool:
    """The start job's work: start the maintenance if it is still scheduled to start at `at`
    with automatic transitions. Returns whether it did."""
    return _auto_move(
        session,
        maintenance_id=maintenance_id,
        at=at,
        now=now,
        base_url=base_url,
        from_statuses=(PublicStatus.SCHEDULED,),
        due=lambda maintenance: maintenance.scheduled_for,
        status=PublicStatus.IN_PROGRESS,
        note=STARTED_NOTE,
    )


def end_due(
    session: Session, *, maintenance_id: int, at: datetime, now: datetime, base_url: str
) -> bool:
    """The end job's work: complete the maintenance if it is still due to end at `at`, has
    automatic transitions and has started. Returns whether it did."""
    return _auto_move(
        session,
        maintenance_id=maintenance_id,
        at=at,
        now=now,
        base_url=base_url,
        from_statuses=(PublicStatus.IN_PROGRESS, PublicStatus.VERIFYING),
        due=lambda maintenance: maintenance.scheduled_until,
        status=PublicStatus.COMPLETED,
        note=COMPLETED_NOTE,
    )


def _auto_move(
    session: Session,
    *,
    maintenance_id: int,
    at: datetime,
    now: datetime,
    base_url: str,
    from_statuses: tuple[PublicStatus, ...],
    due: Callable[[PublicIncident], datetime | None],
    status: PublicStatus,
    note: str,
) -> bool:
    """An automatic transition's work: move the maintenance to `status` with `note` if it has
    automatic transitions, is in one of `from_statuses` and is still `due` at `at`. Returns
    whether it did."""
    maintenance = _find(session, maintenance_id)
    if (
        maintenance is None
        or not maintenance.auto_transition
        or maintenance.status not in from_statuses
        or _at(due(maintenance)) != at
    ):
        return False
    _move(
        session,
        actor=_SYSTEM,
        now=now,
        base_url=base_url,
        maintenance=maintenance,
        status=status,
        body=note,
        parts={"note": note, "automatic": True},
    )
    return True


def remind_due(
    session: Session, *, maintenance_id: int, at: datetime, now: datetime, base_url: str
) -> bool:
    """The reminder job's work: tell subscribers the maintenance starts soon, once, if it is
    still scheduled with this lead time. Returns whether it did."""
    maintenance = _find(session, maintenance_id)
    if (
        maintenance is None
        or maintenance.status != PublicStatus.SCHEDULED.value
        or maintenance.reminded_at is not None
        or maintenance.remind_minutes is None
        or _at(maintenance.scheduled_for) - timedelta(minutes=maintenance.remind_minutes) != at
    ):
        return False
    maintenance.reminded_at = now
    notifications.maintenance_reminder(session, maintenance=maintenance, now=now, base_url=base_url)
    record(
        session,
        actor=_SYSTEM,
        action="maintenance.reminded",
        entity_type="public_incident",
        entity_id=maintenance.code,
        at=now,
        after={"scheduled_for": _iso(maintenance.scheduled_for)},
    )
    return True


def make_handlers(settings: Settings) -> dict[str, Handler]:
    """The three maintenance job handlers, linking to the page at the server's base URL."""
    works = {START_JOB: start_due, END_JOB: end_due, REMINDER_JOB: remind_due}

    def handler_for(kind: str) -> Handler:
        work = works[kind]

        def handle(session: Session, payload: dict[str, Any], context: JobContext) -> None:
            done = work(
                session,
                maintenance_id=int(payload["public_incident_id"]),
                at=as_utc(datetime.fromisoformat(payload["at"])),
                now=context.now,
                base_url=settings.base_url,
            )
            if not done:
                log.info("maintenance_timer_stale", kind=kind, **payload)

        return handle

    return {kind: handler_for(kind) for kind in works}


def _move(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    base_url: str,
    maintenance: PublicIncident,
    status: PublicStatus,
    body: str,
    parts: dict[str, Any],
) -> PublicUpdate:
    if maintenance.kind != PublicKind.MAINTENANCE.value:
        raise NotFound(detail=f"No maintenance {maintenance.code!r}.")
    current = PublicStatus(maintenance.status)
    if current is PublicStatus.COMPLETED or _ORDER.index(status) < _ORDER.index(current):
        raise IllegalTransition(
            detail=f"Maintenance {maintenance.code} is {current.value}; it cannot become "
            f"{status.value}."
        )
    maintenance.status = status.value
    maintenance.updated_at = now
    affected: list[dict[str, Any]] = []
    if current is PublicStatus.SCHEDULED and status in (
        PublicStatus.IN_PROGRESS,
        PublicStatus.VERIFYING,
    ):
        maintenance.started_at = now
        affected = _restore(
            session, actor=actor, now=now, base_url=base_url, maintenance=maintenance
        )
    elif status is PublicStatus.COMPLETED:
        maintenance.resolved_at = now
        if current is not PublicStatus.SCHEDULED:
            affected = _restore(
                session, actor=actor, now=now, base_url=base_url, maintenance=maintenance
            )
    if status is not current:
        record(
            session,
            actor=actor,
            action="maintenance.status_changed",
            entity_type="public_incident",
            entity_id=maintenance.code,
            at=now,
            before={"status": current.value},
            after={"status": status.value},
        )
    return write_update(
        session,
        actor=actor,
        now=now,
        base_url=base_url,
        public_incident=maintenance,
        body=body,
        parts=parts,
        affected=affected,
    )


def _restore(
    session: Session, *, actor: Actor, now: datetime, base_url: str, maintenance: PublicIncident
) -> list[dict[str, Any]]:
    """Put each component in the worst status what is open holds it in: under maintenance
    while this maintenance runs (unless an incident holds it worse), else what is left."""
    changes = {
        component: held_status(session, component)
        for component in components_of(session, maintenance)
    }
    return change_components(
        session,
        actor=actor,
        now=now,
        base_url=base_url,
        public_incident=maintenance,
        changes=changes,
    )


def _check_window(scheduled_for: datetime, scheduled_until: datetime, now: datetime) -> None:
    if scheduled_for <= now:
        raise InvalidInput.on("scheduled_for", "must be in the future")
    if scheduled_until <= scheduled_for:
        raise InvalidInput.on("scheduled_until", "must be after scheduled_for")


def _check_remind(remind_minutes: int | None) -> None:
    if remind_minutes is not None and not 1 <= remind_minutes <= MAX_REMIND_MINUTES:
        raise InvalidInput.on("remind_minutes", f"must be between 1 and {MAX_REMIND_MINUTES}")


def _check_open(maintenance: PublicIncident) -> None:
    if maintenance.status == PublicStatus.COMPLETED.value:
        raise IllegalTransition(detail=f"Maintenance {maintenance.code} is completed already.")


def _timer(kind: str, maintenance: PublicIncident, at: datetime) -> Timer:
    instant = as_utc(at).isoformat()
    return Timer(
        kind=kind,
        payload={"public_incident_id": maintenance.id, "at": instant},
        run_at=at,
        dedupe_key=f"maintenance:{maintenance.id}:{kind.rpartition('_')[2]}:{instant}",
    )


def _find(session: Session, maintenance_id: int) -> PublicIncident | None:
    return session.scalar(
        select(PublicIncident)
        .where(
            PublicIncident.id == maintenance_id,
            PublicIncident.kind == PublicKind.MAINTENANCE.value,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _window_of(maintenance: PublicIncident) -> dict[str, Any]:
    return {
        "scheduled_for": _iso(maintenance.scheduled_for),
        "scheduled_until": _iso(maintenance.scheduled_until),
        "remind_minutes": maintenance.remind_minutes,
        "auto_transition": maintenance.auto_transition,
    }


def _at(instant: datetime | None) -> datetime:
    # A maintenance always has its window; the columns are nullable because incidents have none.
    if instant is None:  # pragma: no cover - schedule_maintenance always sets both
        raise ValueError("a maintenance without its window")
    return as_utc(instant)


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else as_utc(instant).isoformat()
