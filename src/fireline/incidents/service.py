"""Incident use cases: declare, change, assign, note, resolve. Each locks the incident row it
changes, writes the timeline entry and the audit record in the caller's transaction, and never
commits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from fireline.accounts.principal import Actor
from fireline.accounts.service import find_user
from fireline.audit.service import record
from fireline.clock import as_utc
from fireline.errors import Conflict, FieldProblem, InvalidInput, NotFound, TimestampOrder
from fireline.incidents import lifecycle
from fireline.incidents.lifecycle import Milestone, Status
from fireline.models import (
    SINGLE_HOLDER_ROLES,
    Incident,
    RoleAssignment,
    Service,
    Severity,
    TimelineEntry,
    TimelineThread,
    User,
)

COMMAND_THREAD = "command"
ROLE_NAMES = {
    "commander": "incident commander",
    "tech_lead": "technical lead",
    "comms_lead": "communications lead",
    "scribe": "scribe",
    "sme": "subject-matter expert",
}
WAR_ROOM_MAX = 80
# Ids are 32-bit integer columns; a larger number names no row (and PostgreSQL refuses to compare).
LARGEST_ID = 2**31 - 1


def _with_details(query: Select[Incident]) -> Select[Incident]:
    # Many-to-one rows ride along in the same query; collections come in one query each.
    return query.options(
        joinedload(Incident.severity),
        joinedload(Incident.postmortem_owner),
        selectinload(Incident.services),
        selectinload(Incident.roles).joinedload(RoleAssignment.user),
    )


def parse_reference(ref: str | int) -> int:
    text = str(ref).strip()
    match = re.fullmatch(r"(?i)(?:INC-)?(\d{1,18})", text)
    if match is None:
        raise NotFound(detail=f"No incident '{text}': use its number or reference, e.g. INC-42.")
    incident_id = int(match.group(1))
    if incident_id > LARGEST_ID:
        raise NotFound(detail=f"No incident INC-{incident_id}.")
    return incident_id


def get_incident(session: Session, ref: str | int, *, for_update: bool = False) -> Incident:
    """The incident by id or INC reference, with what its JSON needs loaded.

    With `for_update`, the row is locked until the transaction ends, so concurrent changes to one
    incident are applied one after the other instead of overwriting each other."""
    incident_id = parse_reference(ref)
    if for_update:
        locked = session.scalar(
            select(Incident.id).where(Incident.id == incident_id).with_for_update()
        )
        if locked is None:
            raise NotFound(detail=f"No incident INC-{incident_id}.")
    query = _with_details(select(Incident).where(Incident.id == incident_id))
    incident = session.scalar(query.execution_options(populate_existing=True))
    if incident is None:
        raise NotFound(detail=f"No incident INC-{incident_id}.")
    return incident


@dataclass(frozen=True)
class IncidentFilter:
    statuses: Sequence[Status] = ()
    severities: Sequence[str] = ()
    service: str | None = None
    declared_after: datetime | None = None
    declared_before: datetime | None = None
    search: str | None = None


def list_incidents(
    session: Session, *, where: IncidentFilter, after_id: int | None, limit: int
) -> list[Incident]:
    """Newest first; `after_id` continues from the last incident of the previous page."""
    query = _with_details(select(Incident)).order_by(Incident.id.desc()).limit(limit)
    if after_id is not None:
        query = query.where(Incident.id < after_id)
    if where.statuses:
        query = query.where(Incident.status.in_([status.value for status in where.statuses]))
    if where.severities:
        query = query.join(Severity, Severity.id == Incident.severity_id).where(
            Severity.key.in_(list(where.severities))
        )
    if where.service:
        # Slugs are matched as declare matches them, so "Checkout" finds what it declared.
        slug = where.service.strip().lower()
        query = query.where(Incident.services.any(Service.slug == slug))
    if where.declared_after:
        query = query.where(
            func.coalesce(Incident.declared_at, Incident.reported_at) >= where.declared_after
        )
    if where.declared_before:
        query = query.where(
            func.coalesce(Incident.declared_at, Incident.reported_at) < where.declared_before
        )
    if where.search:
        # The words are matched literally: % and _ typed by a person are not wildcards.
        words = re.sub(r"([\\%_])", r"\\\1", where.search.lower())
        pattern = f"%{words}%"
        query = query.where(
            func.lower(Incident.title).like(pattern, escape="\\")
            | func.lower(Incident.summary).like(pattern, escape="\\")
        )
    return list(session.scalars(query))


def get_severity(session: Session, key: str, *, field: str = "severity") -> Severity:
    severity = session.scalar(select(Severity).where(Severity.key == key.upper()))
    if severity is None:
        raise InvalidInput.on(field, f"'{key}' is not a severity; use SEV1, SEV2, SEV3 or SEV4")
    return severity


def _services(session: Session, slugs: Sequence[str]) -> list[Service]:
    wanted = list(dict.fromkeys(slug.strip().lower() for slug in slugs))
    if not wanted:
        return []
    found = {
        service.slug: service
        for service in session.scalars(select(Service).where(Service.slug.in_(wanted)))
    }
    missing = [slug for slug in wanted if slug not in found]
    if missing:
        raise InvalidInput.on("services", f"unknown service(s): {', '.join(missing)}")
    return [found[slug] for slug in wanted]


def _user(session: Session, ref: str | int, field: str) -> User:
    try:
        user = find_user(session, str(ref))
    except NotFound:
        raise InvalidInput.on(field, f"no user '{ref}'") from None
    if not user.is_active:
        raise InvalidInput.on(field, f"{user.email} is deactivated")
    return user


def war_room_name(title: str, declared_at: datetime) -> str:
    """`#incident-YYYY-MM-DD-<slug>`, short enough for chat tools' channel-name limits."""
    prefix = f"#incident-{declared_at:%Y-%m-%d}-"
    # Accented letters keep their base letter (Café → cafe) instead of vanishing from the name.
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-") or "incident"
    return prefix + slug[: WAR_ROOM_MAX - len(prefix)].rstrip("-")


def _unique_war_room(session: Session, incident: Incident, declared_at: datetime) -> str:
    name = war_room_name(incident.title, declared_at)
    taken = select(Incident.id).where(Incident.war_room == name, Incident.id != incident.id)
    if session.scalar(taken.limit(1)) is None:
        return name
    suffix = f"-{incident.id}"
    # The cut may land just after a word, so drop its dash or the name would read "--<id>".
    return name[: WAR_ROOM_MAX - len(suffix)].rstrip("-") + suffix


def snapshot(incident: Incident) -> dict[str, Any]:
    """The incident's own fields, for the audit log's before/after."""
    data: dict[str, Any] = {
        "title": incident.title,
        "summary": incident.summary,
        "severity": incident.severity.key,
        "type": incident.type,
        "status": incident.status,
        "customer_impact": incident.customer_impact,
        "resolution_criteria": incident.resolution_criteria,
        "criteria_met": incident.criteria_met,
        "customer_impact_ended": incident.customer_impact_ended,
        "postmortem_owner_id": incident.postmortem_owner_id,
        "postmortem_due_at": _iso(incident.postmortem_due_at),
        "monitoring_waiver_reason": incident.monitoring_waiver_reason,
        "war_room": incident.war_room,
    }
    data.update(
        {milestone.value: _iso(getattr(incident, milestone.value)) for milestone in Milestone}
    )
    return data


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()


def _utc_text(instant: datetime) -> str:
    return as_utc(instant).isoformat().replace("+00:00", "Z")


def _timestamps(incident: Incident) -> dict[Milestone, datetime | None]:
    return {milestone: getattr(incident, milestone.value) for milestone in Milestone}


def _apply_timestamps(incident: Incident, timestamps: lifecycle.Timestamps) -> None:
    for milestone, instant in timestamps.items():
        setattr(incident, milestone.value, instant)


def command_thread(session: Session, incident: Incident) -> TimelineThread:
    """The incident's command thread (looked up once per unit of work)."""
    known: dict[int, TimelineThread] = session.info.setdefault("command_threads", {})
    if incident.id in known:
        return known[incident.id]
    thread = session.scalar(
        select(TimelineThread).where(
            TimelineThread.incident_id == incident.id, TimelineThread.is_command.is_(True)
        )
    )
    if thread is None:  # pragma: no cover - every incident is created with one
        raise Conflict(detail=f"{incident.reference} has no command thread.")
    known[incident.id] = thread
    return thread


def add_entry(
    session: Session,
    *,
    incident: Incident,
    actor: Actor,
    now: datetime,
    kind: str,
    body: str,
    details: dict[str, Any] | None = None,
    thread: TimelineThread | None = None,
    occurred_at: datetime | None = None,
    pinned: bool = False,
) -> TimelineEntry:
    """Append a timeline entry (the command thread unless another is named)."""
    entry = TimelineEntry(
        incident_id=incident.id,
        thread_id=(thread or command_thread(session, incident)).id,
        kind=kind,
        body=body,
        details=details or {},
        author_id=actor.user_id,
        occurred_at=occurred_at or now,
        created_at=now,
        pinned=pinned,
    )
    session.add(entry)
    return entry


def _audit(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    action: str,
    incident: Incident,
    before: dict[str, Any] | None,
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        entity_type="incident",
        entity_id=incident.reference,
        at=now,
        before=before,
        after=snapshot(incident),
    )


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
                f"{milestone.value} ({_utc_text(instant)}) is {side} {other.value} "
                f"({_utc_text(value)}); move it to keep the order of the timeline",
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
    affected = _services(session, services)
    commander_user = _user(session, commander, "commander") if commander is not None else None
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
    _apply_timestamps(incident, timestamps)
    # Everything the caller will read is set here, so nothing needs loading back afterwards.
    incident.severity = level
    incident.services = affected
    incident.roles = []
    incident.postmortem_owner = None
    session.add(incident)
    session.flush()
    thread = TimelineThread(
        incident_id=incident.id,
        name=COMMAND_THREAD,
        is_command=True,
        created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(thread)
    session.flush()
    session.info.setdefault("command_threads", {})[incident.id] = thread
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
    _audit(session, actor=actor, now=now, action="incident.create", incident=incident, before=None)
    if commander_user is not None:
        _assign(
            session, incident=incident, actor=actor, now=now, role="commander", user=commander_user
        )
    session.flush()
    return incident


def _move(
    session: Session, *, incident: Incident, actor: Actor, now: datetime, target: Status, note: str
) -> None:
    current = Status(incident.status)
    result = lifecycle.transition(current, _timestamps(incident), target, now)
    incident.status = result.status.value
    _apply_timestamps(incident, result.timestamps)
    incident.updated_at = now
    if current == Status.TRIAGE and target in lifecycle.ACTIVE_STATUSES:
        incident.war_room = _unique_war_room(session, incident, now)
        if _holder(incident, "commander") is not None:
            _apply_timestamps(
                incident, lifecycle.acknowledge(result.status, result.timestamps, now)
            )
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
    _audit(
        session, actor=actor, now=now, action="incident.status", incident=incident, before=before
    )
    session.flush()
    return get_incident(session, incident.id)


def decline(
    session: Session, *, actor: Actor, now: datetime, incident: Incident, reason: str
) -> Incident:
    if not lifecycle.can_transition(Status(incident.status), Status.DECLINED):
        # The move itself is the first thing wrong; say so before asking for a reason.
        lifecycle.transition(Status(incident.status), _timestamps(incident), Status.DECLINED, now)
    if not reason.strip():
        raise InvalidInput.on("reason", "say why this is not an incident")
    before = snapshot(incident)
    _move(session, incident=incident, actor=actor, now=now, target=Status.DECLINED, note=reason)
    incident.decline_reason = reason
    _audit(
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
    _audit(
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
        lifecycle.transition(Status(incident.status), _timestamps(incident), Status.RESOLVED, now)
    if resolution_criteria is not None:
        incident.resolution_criteria = resolution_criteria
    if criteria_met is not None:
        incident.criteria_met = criteria_met
    if customer_impact_ended is not None:
        incident.customer_impact_ended = customer_impact_ended
    if postmortem_owner is not None:
        owner = _user(session, postmortem_owner, "postmortem_owner")
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
    _audit(
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
    _audit(
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
        affected = _services(session, changes["services"])
        # The same services in another order are no change (they are listed by name anyway).
        if {s.id for s in affected} != {s.id for s in incident.services}:
            incident.services = affected
            changed.append("services")
    if "postmortem_owner" in changes:
        ref = changes["postmortem_owner"]
        owner = None if ref is None else _user(session, ref, "postmortem_owner")
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
    _audit(
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
    timestamps = _timestamps(incident)
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
    _apply_timestamps(incident, timestamps)
    incident.updated_at = now
    add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="timestamp_change",
        body=f"{actor.label} corrected "
        + ", ".join(
            f"{m.value.removesuffix('_at').replace('_', ' ')} to {_iso(v) or 'unset'}"
            for m, v in changes.items()
        )
        + ".",
        details={m.value: _iso(v) for m, v in changes.items()},
    )
    _audit(
        session,
        actor=actor,
        now=now,
        action="incident.timestamps",
        incident=incident,
        before=before,
    )
    session.flush()
    return get_incident(session, incident.id)


# --- roles ------------------------------------------------------------------------------------


def _holder(incident: Incident, role: str) -> RoleAssignment | None:
    for assignment in incident.roles:
        if assignment.role == role and assignment.ended_at is None:
            return assignment
    return None


def _assign(
    session: Session, *, incident: Incident, actor: Actor, now: datetime, role: str, user: User
) -> None:
    previous = _holder(incident, role) if role in SINGLE_HOLDER_ROLES else None
    if role == "sme" and any(
        a.role == "sme" and a.ended_at is None and a.user_id == user.id for a in incident.roles
    ):
        raise Conflict(
            detail=f"{user.name} is already a subject-matter expert on {incident.reference}."
        )
    if previous is not None:
        if previous.user_id == user.id:
            raise Conflict(
                detail=f"{user.name} is already the {ROLE_NAMES[role]} of {incident.reference}."
            )
        previous.ended_at = now
        previous.ended_by_id = actor.user_id
        # The hand-off must reach the database before the new holder's row, or the one-holder
        # index trips.
        session.flush()
    incident.roles.append(
        RoleAssignment(
            incident_id=incident.id,
            role=role,
            user_id=user.id,
            user=user,
            assigned_at=now,
            assigned_by_id=actor.user_id,
        )
    )
    if previous is not None:
        body = f"{actor.label} handed {ROLE_NAMES[role]} from {previous.user.name} to {user.name}."
    else:
        body = f"{actor.label} made {user.name} {ROLE_NAMES[role]}."
    add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="role_change",
        body=body,
        details={
            "role": role,
            "user_id": user.id,
            "previous_user_id": previous.user_id if previous else None,
        },
    )
    if role == "commander":
        _apply_timestamps(
            incident, lifecycle.acknowledge(Status(incident.status), _timestamps(incident), now)
        )
    incident.updated_at = now
    record(
        session,
        actor=actor,
        action="incident.role.assign",
        entity_type="incident",
        entity_id=incident.reference,
        at=now,
        before={"role": role, "user_id": previous.user_id} if previous else None,
        after={"role": role, "user_id": user.id},
    )


def assign_role(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    role: str,
    user_ref: str | int,
) -> Incident:
    user = _user(session, user_ref, "user")
    _assign(session, incident=incident, actor=actor, now=now, role=role, user=user)
    session.flush()
    return get_incident(session, incident.id)


def unassign_role(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    role: str,
    user_ref: str | int | None,
) -> Incident:
    if role == "commander":
        raise Conflict(
            detail="An incident always has a commander once assigned; hand the role to "
            "someone else instead of removing it."
        )
    holders = [a for a in incident.roles if a.role == role and a.ended_at is None]
    if user_ref is not None:
        # No active check: someone who has left must still be releasable from their role.
        try:
            user = find_user(session, str(user_ref))
        except NotFound:
            raise InvalidInput.on("user", f"no user '{user_ref}'") from None
        holders = [a for a in holders if a.user_id == user.id]
    if not holders:
        raise NotFound(
            detail=f"Nobody holds {ROLE_NAMES[role]} on {incident.reference}"
            + (f" as {user_ref}" if user_ref is not None else "")
            + "."
        )
    for assignment in holders:
        assignment.ended_at = now
        assignment.ended_by_id = actor.user_id
        add_entry(
            session,
            incident=incident,
            actor=actor,
            now=now,
            kind="role_change",
            body=f"{actor.label} released {assignment.user.name} from {ROLE_NAMES[role]}.",
            details={"role": role, "user_id": None, "previous_user_id": assignment.user_id},
        )
        record(
            session,
            actor=actor,
            action="incident.role.release",
            entity_type="incident",
            entity_id=incident.reference,
            at=now,
            before={"role": role, "user_id": assignment.user_id},
        )
    incident.updated_at = now
    session.flush()
    return get_incident(session, incident.id)


def role_history(session: Session, incident: Incident) -> list[RoleAssignment]:
    query = (
        select(RoleAssignment)
        .where(RoleAssignment.incident_id == incident.id)
        .options(selectinload(RoleAssignment.user))
        .order_by(RoleAssignment.assigned_at, RoleAssignment.id)
    )
    return list(session.scalars(query))
