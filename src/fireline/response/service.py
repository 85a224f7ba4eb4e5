"""Status updates, and the obligations an incident has, read from its record.

Nothing here stores an obligation: incident_facts() reads the incident row and its timeline, and
plan() (response/clocks.py) derives every obligation from those facts each time it is asked, so
what is owed can never drift from what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.clock import as_utc
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.incidents.lifecycle import Status
from fireline.incidents.queries import get_severity
from fireline.incidents.recording import utc_text
from fireline.incidents.timeline import write_entry
from fireline.models import Incident, Severity, TimelineEntry
from fireline.response import holidays
from fireline.response.calendar import BusinessCalendar
from fireline.response.clocks import (
    ClockPolicy,
    IncidentFacts,
    Obligation,
    ObligationKind,
    ObligationState,
    Reopening,
    SeverityChange,
    plan,
)

PUBLIC, INTERNAL = "public", "internal"
UPDATE_KINDS = {PUBLIC: "public_update", INTERNAL: "internal_update"}
_NO_UPDATES = frozenset({Status.TRIAGE, Status.DECLINED})
_RESOLUTION_KINDS = frozenset({"status_change", "reopened"})
_ENDED = frozenset({Status.RESOLVED.value, Status.CLOSED.value})
EXEC_NOTICE_KIND = "exec_notice"  # written when the exec notice is sent
WAIVER_KIND = "obligation_waived"
_FACT_KINDS = (
    *UPDATE_KINDS.values(),
    EXEC_NOTICE_KIND,
    WAIVER_KIND,
    "severity_change",
    "reopened",
    "status_change",
)


@dataclass(frozen=True)
class UpdateParts:
    """The four parts of a status update; `users_should` is required when it is public."""

    audience: str
    current_impact: str
    doing_now: str
    users_should: str | None = None
    next_update_at: datetime | None = None


def render(parts: UpdateParts) -> str:
    """The update as people read it, one part to a line."""
    lines = [f"Current impact: {parts.current_impact}", f"What we are doing: {parts.doing_now}"]
    if parts.users_should:
        lines.append(f"What users should do: {parts.users_should}")
    if parts.next_update_at is None:
        lines.append("Next update: none scheduled.")
    else:
        lines.append(f"Next update: by {utc_text(parts.next_update_at)}.")
    return "\n".join(lines)


def post_update(
    session: Session, *, actor: Actor, now: datetime, incident: Incident, parts: UpdateParts
) -> TimelineEntry:
    """Record a public or internal status update on the timeline, with an audit record.

    Raises Conflict for an incident in triage or declined (it owes no updates), and InvalidInput
    for a public update without `users_should` or a `next_update_at` not in the future.
    """
    status = Status(incident.status)
    if status in _NO_UPDATES:
        raise Conflict(
            detail=f"{incident.reference} is {status.value}; status updates are posted "
            "once an incident is declared."
        )
    if parts.audience == PUBLIC and not parts.users_should:
        raise InvalidInput.on("users_should", "is required for a public update")
    if parts.next_update_at is not None and as_utc(parts.next_update_at) <= now:
        raise InvalidInput.on("next_update_at", "must be in the future")
    kind = UPDATE_KINDS[parts.audience]
    details = {
        "audience": parts.audience,
        "current_impact": parts.current_impact,
        "doing_now": parts.doing_now,
        "users_should": parts.users_should,
        "next_update_at": None if parts.next_update_at is None else utc_text(parts.next_update_at),
    }
    return write_entry(
        session,
        actor=actor,
        now=now,
        incident=incident,
        kind=kind,
        body=render(parts),
        details=details,
        audited=details,
    )


def incident_facts(session: Session, incident: Incident) -> IncidentFacts:
    """What the planner needs to know about `incident`, from its row and its timeline."""
    entries = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id, TimelineEntry.kind.in_(_FACT_KINDS))
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
    ).all()
    updates: dict[str, list[datetime]] = {kind: [] for kind in UPDATE_KINDS.values()}
    changes: list[SeverityChange] = []
    reopenings: list[Reopening] = []
    policies: dict[str, ClockPolicy] = {}
    last_resolved: datetime | None = None
    exec_notified_at: datetime | None = None
    waivers: dict[tuple[ObligationKind, int], str] = {}
    for entry in entries:
        at = as_utc(entry.occurred_at)
        if entry.kind == EXEC_NOTICE_KIND:
            exec_notified_at = exec_notified_at or at
        elif entry.kind == WAIVER_KIND:
            waived = (ObligationKind(entry.details["kind"]), int(entry.details["sequence"]))
            waivers[waived] = str(entry.details["reason"])
        elif entry.kind in updates:
            updates[entry.kind].append(at)
        elif entry.kind == "severity_change":
            key = str(entry.details.get("from", ""))
            if key not in policies:
                policies[key] = _policy_of(session, key, incident.severity)
            changes.append(SeverityChange(at=at, previous=policies[key]))
        reopens = entry.kind == "reopened" and entry.details.get("from") in _ENDED
        if reopens and last_resolved is not None:
            reopenings.append(Reopening(resolved_at=last_resolved, reopened_at=at))
        if entry.kind in _RESOLUTION_KINDS and entry.details.get("to") == Status.RESOLVED.value:
            last_resolved = at
    return IncidentFacts(
        status=incident.status,
        declared_at=incident.declared_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
        postmortem_due_at=incident.postmortem_due_at,
        public_updates=tuple(updates[UPDATE_KINDS[PUBLIC]]),
        internal_updates=tuple(updates[UPDATE_KINDS[INTERNAL]]),
        exec_notified_at=exec_notified_at,
        waivers=waivers,
        severity_changes=tuple(changes),
        reopenings=tuple(reopenings),
    )


def _policy_of(session: Session, key: str, current: Severity) -> ClockPolicy:
    """The policy of the stored severity `key` (the current one if the key is unknown)."""
    try:
        return ClockPolicy.from_severity(get_severity(session, key))
    except InvalidInput:
        return ClockPolicy.from_severity(current)


def obligations(
    session: Session,
    incident: Incident,
    now: datetime,
    calendar: BusinessCalendar | None = None,
) -> list[Obligation]:
    """Every obligation the incident has had, with its state at `now` (see plan())."""
    facts = incident_facts(session, incident)
    policy = ClockPolicy.from_severity(incident.severity)
    if calendar is None and facts.resolved_at is not None:  # only learning clocks count days
        calendar = holidays.calendar(session)
    try:
        return plan(policy, facts, now, calendar or BusinessCalendar())
    except ValueError as error:
        raise Conflict(
            detail=f"{incident.reference}'s record cannot be read as a timeline: {error}"
        ) from error


def waive(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    kind: ObligationKind,
    sequence: int,
    reason: str,
) -> TimelineEntry:
    """Waive an obligation still owed (pending, or missed and not yet met), with the reason on
    the timeline: "no public impact, so no status page update". Its timers then do nothing; a
    waived update's successor falls due a cadence after the waived one was due."""
    owed = {o.key: o for o in obligations(session, incident, now)}
    obligation = owed.get((kind, sequence))
    if obligation is None:
        raise NotFound(detail=f"{incident.reference} owes no {kind.value} numbered {sequence}.")
    if obligation.state not in (ObligationState.PENDING, ObligationState.MISSED):
        raise Conflict(
            detail=f"The {kind.value} {sequence} of {incident.reference} is "
            f"{obligation.state.value} already; only an obligation still owed can be waived."
        )
    details = {"kind": kind.value, "sequence": sequence, "reason": reason}
    return write_entry(
        session,
        actor=actor,
        now=now,
        incident=incident,
        kind=WAIVER_KIND,
        body=f"Waived {kind.value.replace('_', ' ')} {sequence}: {reason}",
        details=details,
        audited=details,
    )
