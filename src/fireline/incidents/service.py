"""Incident use cases: declare, change, assign, note, resolve. Each locks the incident row it
changes, writes the timeline entry and the audit record in the caller's transaction, and never
commits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.clock import as_utc
from fireline.errors import Conflict, FieldProblem, InvalidInput, TimestampOrder
from fireline.incidents import lifecycle
from fireline.incidents.lifecycle import Milestone, Status
from fireline.incidents.queries import (
    IncidentFilter,
    find_active_user,
    find_services,
    get_incident,
    get_severity,
    list_incidents,
    parse_reference,
)
from fireline.incidents.recording import (
    add_entry,
    apply_timestamps,
    audit_change,
    iso,
    open_command_thread,
    snapshot,
    timestamps_of,
    utc_text,
)
from fireline.incidents.roles import assign, assign_role, holder, role_history, unassign_role
from fireline.models import (
    Incident,
)

# The incident service's entry points, for routes and the CLI: one module to call.
__all__ = [
    "IncidentFilter",
    "add_entry",
    "assign_role",
    "change_severity",
    "change_status",
    "declare",
    "decline",
    "get_incident",
    "get_severity",
    "list_incidents",
    "parse_reference",
    "reopen",
    "resolution_facts",
    "resolve",
    "role_history",
    "set_timestamps",
    "snapshot",
    "unassign_role",
    "update_fields",
    "war_room_name",
]

WAR_ROOM_MAX = 80


def war_room_name(title: str, declared_at: datetime) -> str:
    """`#incident-YYYY-MM-DD-<slug>`, short enough for chat tools' channel-name limits."""
    prefix = f"#incident-{declared_at:%Y-%m-%d}-"
    # Accented letters keep their base letter (Café → cafe) instead of vanishing from the name.
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-") or "incident"
    return prefix + slug[: WAR_ROOM_MAX - len(prefix)].rstrip("-")


def _unique_war_room(session: Session, incident: Incident, declared_at: datetime) -> str:
    name = war_room_name(incident.title, declared_at)
    written = inspect(incident).has_identity
    taken = select(Incident.id).where(Incident.war_room == name)
    if written:
        taken = taken.where(Incident.id != incident.id)
    # Pending changes need not be written to answer this; they go out in the caller's next flush.
    with session.no_autoflush:
        clash = session.scalar(taken.limit(1))
    if clash is None:
        return name
    if not written:
        session.flush()  # a clash is rare: the suffix needs the incident's number
    suffix = f"-{incident.id}"
    # The cut may land just after a word, so drop its dash or the name would read "--<id>".
    return name[: WAR_ROOM_MAX - len(suffix)].rstrip("-") + suffix


def _check_timestamps(
    timestamps: lifecycle.Timestamps, now: datetime, changed: Collection[Milestone] = ()
) -> None:
    """Refuse future or out-of-order milestones. The lifecycle names the later milestone of a
    clashing pair; a milestone the person just `changed` is named too, so the field they sent
    is the one their form flags even when it is the earlier of the pair."""
    future = lifecycle.future_problems(timestamps, now)
    if future:
        raise InvalidInput(
            detail="; ".join(f"{problem.field}: {problem.message}" for problem in future),
            errors=future,
        )
    try:
        lifecycle.check_order(timestamps)
    except TimestampOrder as error:
        named = {problem.field for problem in error.errors}
        sent = [
            problem
            for milestone in changed
            if milestone.value not in named
            and (problem := _order_clash(timestamps, milestone)) is not None
        ]
        if not sent:
            raise
        problems = sent + error.errors
        fields = ", ".join(problem.field for problem in problems)
        raise TimestampOrder(
            detail=f"Incident timestamps are out of order ({fields}); they must keep the order "
            + " → ".join(m.value.removesuffix("_at").replace("_", " ") for m in Milestone),
            errors=problems,
        ) from None


def _order_clash(timestamps: lifecycle.Timestamps, milestone: Milestone) -> FieldProblem | None:
    """A problem on `milestone` naming the first milestone it is on the wrong side of."""
    instant = timestamps.get(milestone)
    if instant is None:
        return None
    position = lifecycle.MILESTONE_ORDER.index(milestone)
    for index, other in enumerate(lifecycle.MILESTONE_ORDER):
        value = timestamps.get(other)
        if value is None or index == position:
            continue
        if (index < position and as_utc(value) > as_utc(instant)) or (
            index > position and as_utc(value) < as_utc(instant)
        ):
            side = "before" if index < position else "after"
            return FieldProblem(
                milestone.value,
                f"{milestone.value} ({utc_text(instant)}) is {side} {other.value} "
                f"({utc_text(value)}); move it to keep the order of the timeline",
            )
    return None


def declare(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    title: str,
    severity: str,
    summary: str = "",
    services: Sequence[str] = (),
    incident_type: str = "default",
    customer_impact: str = "",
    resolution_criteria: str = "",
    status: Status = Status.INVESTIGATING,
    impact_started_at: datetime | None = None,
    detected_at: datetime | None = None,
    commander: str | int | None = None,
) -> Incident:
    """Report (status triage) or declare an incident; returns it with everything loaded."""
    if status not in lifecycle.OPEN_STATUSES:
        raise InvalidInput.on("status", "a new incident starts in triage or an active status")
    level = get_severity(session, severity)
    affected = find_services(session, services)
    commander_user = (
        find_active_user(session, commander, "commander") if commander is not None else None
    )
    incident = Incident(
        title=title.strip(),
        summary=summary,
        severity_id=level.id,
        type=incident_type,
        status=Status.TRIAGE.value,
        customer_impact=customer_impact,
        resolution_criteria=resolution_criteria,
        war_room="",
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    timestamps = dict.fromkeys(Milestone)
    timestamps[Milestone.IMPACT_STARTED] = impact_started_at
    timestamps[Milestone.DETECTED] = detected_at or now
    timestamps[Milestone.REPORTED] = now
    given = {Milestone.IMPACT_STARTED: impact_started_at, Milestone.DETECTED: detected_at}
    _check_timestamps(timestamps, now, changed=[m for m, v in given.items() if v is not None])
    apply_timestamps(incident, timestamps)
    # Everything the caller will read is set here, so nothing needs loading back afterwards.
    incident.severity = level
    incident.services = affected
    incident.roles = []
    incident.postmortem_owner = None
    session.add(incident)
    open_command_thread(session, incident=incident, actor=actor, now=now)
    add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="reported",
        body=f"{actor.label} reported “{incident.title}” as {level.key}.",
        details={"severity": level.key, "services": [service.slug for service in affected]},
    )
    if status != Status.TRIAGE:
        _move(session, incident=incident, actor=actor, now=now, target=status, note="")
    # One flush writes the incident, its thread and its first entries; the audit needs its id.
    session.flush()
    audit_change(
        session, actor=actor, now=now, action="incident.create", incident=incident, before=None
    )
    if commander_user is not None:
        assign(
            session, incident=incident, actor=actor, now=now, role="commander", user=commander_user
        )
    session.flush()
    return incident


def _move(
    session: Session, *, incident: Incident, actor: Actor, now: datetime, target: Status, note: str
) -> None:
    current = Status(incident.status)
    result = lifecycle.transition(current, timestamps_of(incident), target, now)
    incident.status = result.status.value
    apply_timestamps(incident, result.timestamps)
    incident.updated_at = now
    if current == Status.TRIAGE and target in lifecycle.ACTIVE_STATUSES:
        incident.war_room = _unique_war_room(session, incident, now)
        if holder(incident, "commander") is not None:
            apply_timestamps(incident, lifecycle.acknowledge(result.status, result.timestamps, now))
        add_entry(
            session,
            incident=incident,
            actor=actor,
            now=now,
            kind="declared",
            body=f"{actor.label} declared the incident; war room {incident.war_room}.",
            details={"war_room": incident.war_room},
        )
    if result.reopened:
        incident.criteria_met = False
        incident.customer_impact_ended = False
        incident.monitoring_waiver_reason = None
    kind = "reopened" if result.reopened else "status_change"
    verb = "reopened the incident" if result.reopened else "changed the status"
    add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind=kind,
        body=f"{actor.label} {verb}: {current.value} → {target.value}."
        + (f" {note}" if note else ""),
        details={"from": current.value, "to": target.value, "note": note},
    )


def change_status(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    status: Status,
    note: str = "",
) -> Incident:
    """Move the incident along its lifecycle. Resolving goes through the resolution gate."""
    if status == Status.RESOLVED:
        return resolve(session, actor=actor, now=now, incident=incident, note=note)
    if status == Status.DECLINED:
        return decline(session, actor=actor, now=now, incident=incident, reason=note)
    before = snapshot(incident)
    _move(session, incident=incident, actor=actor, now=now, target=status, note=note)
    audit_change(
        session, actor=actor, now=now, action="incident.status", incident=incident, before=before
    )
    session.flush()
    return get_incident(session, incident.id)


def decline(
    session: Session, *, actor: Actor, now: datetime, incident: Incident, reason: str
) -> Incident:
    if not lifecycle.can_transition(Status(incident.status), Status.DECLINED):
        # The move itself is the first thing wrong; say so before asking for a reason.
        lifecycle.transition(Status(incident.status), timestamps_of(incident), Status.DECLINED, now)
    if not reason.strip():
        raise InvalidInput.on("reason", "say why this is not an incident")
    before = snapshot(incident)
    _move(session, incident=incident, actor=actor, now=now, target=Status.DECLINED, note=reason)
    incident.decline_reason = reason
    audit_change(
        session, actor=actor, now=now, action="incident.decline", incident=incident, before=before
    )
    session.flush()
    return get_incident(session, incident.id)


def reopen(
    session: Session, *, actor: Actor, now: datetime, incident: Incident, reason: str
) -> Incident:
    current = Status(incident.status)
    target = Status.TRIAGE if current == Status.DECLINED else Status.INVESTIGATING
    if not lifecycle.is_reopen(current, target):
        raise Conflict(
            detail=f"{incident.reference} is {current.value}; only resolved, closed or "
            "declined incidents can be reopened."
        )
    before = snapshot(incident)
    _move(session, incident=incident, actor=actor, now=now, target=target, note=reason)
    incident.decline_reason = None
    audit_change(
        session, actor=actor, now=now, action="incident.reopen", incident=incident, before=before
    )
    session.flush()
    return get_incident(session, incident.id)


def resolution_facts(incident: Incident, now: datetime) -> lifecycle.ResolutionFacts:
    return lifecycle.ResolutionFacts(
        is_major=incident.severity.is_major,
        resolution_criteria=incident.resolution_criteria,
        criteria_met=incident.criteria_met,
        customer_impact_ended=incident.customer_impact_ended,
        postmortem_owner_set=incident.postmortem_owner_id is not None,
        postmortem_due_at=incident.postmortem_due_at,
        mitigated_at=incident.mitigated_at,
        monitoring_period=timedelta(minutes=incident.severity.monitoring_minutes),
        monitoring_waiver_reason=incident.monitoring_waiver_reason,
        now=now,
    )


def resolve(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    resolution_criteria: str | None = None,
    criteria_met: bool | None = None,
    customer_impact_ended: bool | None = None,
    postmortem_owner: str | int | None = None,
    postmortem_due_at: datetime | None = None,
    monitoring_waiver_reason: str | None = None,
    note: str = "",
) -> Incident:
    """Record what the resolution gate asks for, then resolve, or explain all that is missing."""
    before = snapshot(incident)
    if not lifecycle.can_transition(Status(incident.status), Status.RESOLVED):
        lifecycle.transition(Status(incident.status), timestamps_of(incident), Status.RESOLVED, now)
    if resolution_criteria is not None:
        incident.resolution_criteria = resolution_criteria
    if criteria_met is not None:
        incident.criteria_met = criteria_met
    if customer_impact_ended is not None:
        incident.customer_impact_ended = customer_impact_ended
    if postmortem_owner is not None:
        owner = find_active_user(session, postmortem_owner, "postmortem_owner")
        incident.postmortem_owner_id = owner.id
        incident.postmortem_owner = owner
    if postmortem_due_at is not None:
        incident.postmortem_due_at = postmortem_due_at
    if monitoring_waiver_reason is not None:
        incident.monitoring_waiver_reason = monitoring_waiver_reason.strip() or None
    lifecycle.check_resolvable(resolution_facts(incident, now))
    waived = incident.monitoring_waiver_reason
    _move(session, incident=incident, actor=actor, now=now, target=Status.RESOLVED, note=note)
    if waived:
        add_entry(
            session,
            incident=incident,
            actor=actor,
            now=now,
            kind="decision",
            body=f"Monitoring period waived: {waived}",
            details={"waiver": waived},
        )
    audit_change(
        session, actor=actor, now=now, action="incident.resolve", incident=incident, before=before
    )
    session.flush()
    return get_incident(session, incident.id)


def change_severity(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    severity: str,
    reason: str = "",
) -> Incident:
    target = get_severity(session, severity)
    current = incident.severity
    if target.id == current.id:
        raise Conflict(detail=f"{incident.reference} is already {current.key}.")
    before = snapshot(incident)
    incident.severity_id = target.id
    incident.severity = target
    incident.updated_at = now
    direction = "raised" if target.level < current.level else "lowered"
    add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="severity_change",
        body=f"{actor.label} {direction} the severity: {current.key} → {target.key}."
        + (f" {reason}" if reason else ""),
        details={"from": current.key, "to": target.key, "reason": reason},
    )
    audit_change(
        session, actor=actor, now=now, action="incident.severity", incident=incident, before=before
    )
    session.flush()
    return get_incident(session, incident.id)


_EDITABLE = (
    "title",
    "summary",
    "type",
    "customer_impact",
    "resolution_criteria",
    "criteria_met",
    "customer_impact_ended",
    "postmortem_due_at",
)
_CLEARABLE = frozenset({"postmortem_due_at"})


def update_fields(
    session: Session, *, actor: Actor, now: datetime, incident: Incident, changes: dict[str, Any]
) -> Incident:
    """Edit the incident's descriptive fields; each change is on the timeline."""
    before = snapshot(incident)
    changed: list[str] = []
    for name in _EDITABLE:
        if name not in changes:
            continue
        # null clears what may be empty (as for postmortem_owner) and is refused elsewhere,
        # rather than answering 200 while changing nothing.
        if changes[name] is None and name not in _CLEARABLE:
            raise InvalidInput.on(name, "cannot be null; leave it out to keep it unchanged")
        if getattr(incident, name) != changes[name]:
            setattr(incident, name, changes[name])
            changed.append(name)
    if "services" in changes and changes["services"] is None:
        raise InvalidInput.on("services", "cannot be null; send [] to clear the services")
    if changes.get("services") is not None:
        affected = find_services(session, changes["services"])
        # The same services in another order are no change (they are listed by name anyway).
        if {s.id for s in affected} != {s.id for s in incident.services}:
            incident.services = affected
            changed.append("services")
    if "postmortem_owner" in changes:
        ref = changes["postmortem_owner"]
        owner = None if ref is None else find_active_user(session, ref, "postmortem_owner")
        if (owner.id if owner else None) != incident.postmortem_owner_id:
            incident.postmortem_owner_id = owner.id if owner else None
            incident.postmortem_owner = owner
            changed.append("postmortem_owner")
    if not changed:
        return incident
    incident.updated_at = now
    add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="field_change",
        body=f"{actor.label} updated {', '.join(name.replace('_', ' ') for name in changed)}.",
        details={"fields": changed},
    )
    audit_change(
        session, actor=actor, now=now, action="incident.update", incident=incident, before=before
    )
    session.flush()
    return get_incident(session, incident.id)


# Milestones people may correct by hand; the rest belong to status changes.
CORRECTABLE = (
    Milestone.IMPACT_STARTED,
    Milestone.DETECTED,
    Milestone.REPORTED,
    Milestone.ACKNOWLEDGED,
)


def set_timestamps(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    changes: dict[Milestone, datetime | None],
) -> Incident:
    timestamps = timestamps_of(incident)
    for milestone, instant in changes.items():
        if milestone not in CORRECTABLE:
            raise InvalidInput.on(milestone.value, "is set by status changes, not by hand")
        timestamps[milestone] = instant
    if changes.get(Milestone.REPORTED, now) is None:
        raise InvalidInput.on("reported_at", "every incident has a time it was reported")
    changes = {m: v for m, v in changes.items() if v != getattr(incident, m.value)}
    if not changes:
        return incident
    _check_timestamps(timestamps, now, changed=list(changes))
    before = snapshot(incident)
    apply_timestamps(incident, timestamps)
    incident.updated_at = now
    add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="timestamp_change",
        body=f"{actor.label} corrected "
        + ", ".join(
            f"{m.value.removesuffix('_at').replace('_', ' ')} to {iso(v) or 'unset'}"
            for m, v in changes.items()
        )
        + ".",
        details={m.value: iso(v) for m, v in changes.items()},
    )
    audit_change(
        session,
        actor=actor,
        now=now,
        action="incident.timestamps",
        incident=incident,
        before=before,
    )
    session.flush()
    return get_incident(session, incident.id)
