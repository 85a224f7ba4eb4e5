"""The response clocks' timers: jobs that remind an obligation's owner and mark a missed deadline.

Nothing about an obligation is stored, so a timer only says when to look again. When it fires,
fire_clock() plans the incident afresh and acts only if the obligation it was set for is still
owed at that instant: a timer whose obligation was met, waived or moved is stale and does
nothing. Every write that can move a clock calls schedule_clock_timers(), and so does every
timer that fires; timers are keyed by what they are for, so asking twice sets one.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.clock import as_utc
from fireline.errors import Conflict, NotFound
from fireline.incidents.queries import get_incident
from fireline.incidents.recording import add_entry
from fireline.jobs.queue import Timer, enqueue_timers
from fireline.models import Incident, Job, TimelineEntry
from fireline.response import automation
from fireline.response.clocks import (
    ClockEvent,
    Obligation,
    ObligationKind,
    ObligationState,
    due_events,
)
from fireline.response.service import obligations
from fireline.response.triggers import Event, Trigger

if TYPE_CHECKING:
    from fireline.jobs.handlers import JobContext

log = structlog.get_logger()

CLOCK_JOB = "response.clock"
REMINDER_ENTRY, MISSED_ENTRY = "obligation_reminder", "obligation_missed"
ENTRY_KINDS = {ClockEvent.REMIND: REMINDER_ENTRY, ClockEvent.DUE: MISSED_ENTRY}
_IDENTITY = ("kind", "sequence", "event", "due_at")  # the details that name one notice

_WHAT = {
    ObligationKind.ACKNOWLEDGE: "the acknowledgement",
    ObligationKind.FIRST_PUBLIC_UPDATE: "the first public update",
    ObligationKind.PUBLIC_UPDATE: "the next public update",
    ObligationKind.INTERNAL_UPDATE: "the internal update",
    ObligationKind.EXEC_NOTICE: "the exec notice",
    ObligationKind.POST_INCIDENT_SUMMARY: "the post-incident summary",
    ObligationKind.POSTMORTEM_MEETING: "the postmortem meeting",
    ObligationKind.POSTMORTEM_COMPLETION: "the postmortem",
}


def dedupe_key(incident_id: int, event: ClockEvent, obligation: Obligation, at: datetime) -> str:
    """One timer per incident, obligation, event and instant."""
    return (
        f"clock:{incident_id}:{obligation.kind.value}:{obligation.sequence}:"
        f"{event.value}:{as_utc(at).isoformat()}"
    )


def schedule_clock_timers(session: Session, *, incident: Incident, now: datetime) -> list[Job]:
    """Enqueue, in the caller's transaction, a `response.clock` job for every reminder and
    deadline of the incident's pending obligations after `now`. Idempotent: a timer already
    pending is left as it is. An incident whose record cannot be planned gets no timers (its
    obligations read as a 409 and say why) rather than failing the write that asked."""
    session.flush()  # the planner reads the timeline, including entries of this transaction
    try:
        owed = obligations(session, incident, now)
    except Conflict as error:
        log.warning("clock_timers_not_scheduled", incident=incident.reference, error=error.detail)
        return []
    timers = [
        Timer(
            kind=CLOCK_JOB,
            payload={
                "incident_id": incident.id,
                "event": event.value,
                "kind": obligation.kind.value,
                "sequence": obligation.sequence,
                "at": as_utc(at).isoformat(),
            },
            run_at=at,
            dedupe_key=dedupe_key(incident.id, event, obligation, at),
        )
        for at, event, obligation in due_events(owed, after=now)
    ]
    return enqueue_timers(session, timers=timers, now=now)


def fire_clock(session: Session, payload: dict[str, Any], context: JobContext) -> None:
    """The `response.clock` handler: remind the owner of a still-pending obligation, or record
    that it was missed and escalated; then set the incident's next timers. A stale timer (the
    obligation met, waived or moved since it was set) records nothing."""
    now = context.now
    try:
        incident = get_incident(session, int(payload["incident_id"]), for_update=True)
    except NotFound:
        log.warning("clock_timer_incident_gone", incident_id=payload["incident_id"])
        return
    event = ClockEvent(payload["event"])
    key = (ObligationKind(payload["kind"]), int(payload["sequence"]))
    try:
        owed = obligations(session, incident, now)
    except Conflict as error:  # retrying would not help: the record reads the same next time
        log.warning("clock_timer_not_fired", incident=incident.reference, error=error.detail)
        return
    obligation = next((o for o in owed if o.key == key), None)
    if obligation is not None and _still_owed(
        obligation, event, as_utc(datetime.fromisoformat(payload["at"]))
    ):
        _notify(session, incident=incident, obligation=obligation, event=event, now=now)
    schedule_clock_timers(session, incident=incident, now=now)


def _still_owed(obligation: Obligation, event: ClockEvent, at: datetime) -> bool:
    if event is ClockEvent.REMIND:
        return obligation.state is ObligationState.PENDING and obligation.remind_at == at
    return obligation.state is ObligationState.MISSED and obligation.due_at == at


def _notify(
    session: Session,
    *,
    incident: Incident,
    obligation: Obligation,
    event: ClockEvent,
    now: datetime,
) -> None:
    entry_kind = ENTRY_KINDS[event]
    details: dict[str, Any] = {
        "kind": obligation.kind.value,
        "sequence": obligation.sequence,
        "event": event.value,
        "due_at": as_utc(obligation.due_at).isoformat(),
        "owner_role": obligation.owner_role,
        "escalate_to": obligation.escalate_to,
    }
    if _already_noted(session, incident, entry_kind, details):
        return
    what, when = _WHAT[obligation.kind], _when(obligation.due_at, now)
    if event is ClockEvent.REMIND:
        body = f"Reminder: {what} is due at {when} (owner: {_role(obligation.owner_role)})."
    else:
        body = (
            f"Missed: {what} was due at {when}; escalated to the "
            f"incident {_role(obligation.escalate_to)}."
        )
    actor = Actor.system("response clocks")
    entry = add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind=entry_kind,
        body=body,
        details=details,
    )
    session.flush()
    record(
        session,
        actor=actor,
        action=f"incident.{entry_kind}",
        entity_type="incident",
        entity_id=incident.reference,
        at=now,
        after={"entry_id": entry.id, **details},
    )
    trigger = (
        Trigger.OBLIGATION_DUE_SOON if event is ClockEvent.REMIND else Trigger.OBLIGATION_MISSED
    )
    key = dedupe_key(
        incident.id,
        event,
        obligation,
        obligation.remind_at if event is ClockEvent.REMIND else obligation.due_at,
    )
    automation.fire(
        session, incident=incident, event=Event(trigger=trigger, key=key, details=details), now=now
    )


def _already_noted(
    session: Session, incident: Incident, entry_kind: str, details: dict[str, Any]
) -> bool:
    """Whether this notice is on the timeline already (the job ran before, or twice)."""
    existing = session.scalars(
        select(TimelineEntry.details).where(
            TimelineEntry.incident_id == incident.id, TimelineEntry.kind == entry_kind
        )
    )
    wanted = {name: details[name] for name in _IDENTITY}
    return any({name: found.get(name) for name in _IDENTITY} == wanted for found in existing)


def _when(instant: datetime, now: datetime) -> str:
    """`10:15 UTC` today, `2026-01-08 10:20 UTC` on another day."""
    instant, now = as_utc(instant), as_utc(now)
    return instant.strftime("%H:%M UTC" if instant.date() == now.date() else "%Y-%m-%d %H:%M UTC")


def _role(role: str) -> str:
    return role.replace("_", " ")
