"""The response clocks: what an incident owes, who owes it, by when, and whether it was kept.

plan() derives every obligation from the severity policy and the facts about one incident; it
stores nothing, so re-running it reproduces the same list, which is how lost timers heal.

- Declaring starts the response clocks the policy defines: acknowledge, first public update,
  internal update, exec notice. An update meets the open obligation of its kind, even late, and
  the next falls due a cadence after it; a missed update stays open until one meets it late.
- Resolving settles the response obligations (not yet due: waived "resolved"; overdue: missed)
  and starts the learning clocks: post-incident summary, postmortem meeting (business days),
  postmortem completion. Reopening settles the open learning ones likewise ("reopened") and
  restarts the response clocks from the reopen; a one-off already met is not owed again.
- A severity change keeps the history. Each open obligation not yet due is re-planned as if its
  clock started at the change, but never later than it was already due; if the new policy lacks
  the clock it is waived ("severity lowered"). Clocks the new policy adds start at the change.
- A waiver, keyed by (kind, sequence), settles that obligation as soon as it opens; a waived
  update is skipped and the next one falls due a cadence after the waived one's due time.
- An obligation is missed from its due instant on; one met at its due instant is on time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import astuple, dataclass, field, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from types import MappingProxyType
from typing import Any

from fireline.clock import as_utc
from fireline.incidents.lifecycle import Status
from fireline.response.calendar import BusinessCalendar, require_aware


class ObligationKind(StrEnum):
    """What is owed, in the order obligations due at the same instant are listed."""

    ACKNOWLEDGE = "acknowledge"
    FIRST_PUBLIC_UPDATE = "first_public_update"
    PUBLIC_UPDATE = "public_update"
    INTERNAL_UPDATE = "internal_update"
    EXEC_NOTICE = "exec_notice"
    POST_INCIDENT_SUMMARY = "post_incident_summary"
    POSTMORTEM_MEETING = "postmortem_meeting"
    POSTMORTEM_COMPLETION = "postmortem_completion"


class ObligationState(StrEnum):
    PENDING = "pending"
    MET = "met"
    MISSED = "missed"
    WAIVED = "waived"


class ClockEvent(StrEnum):  # what due_events() reports: remind the owner, or the deadline
    REMIND = "remind"
    DUE = "due"


_K = ObligationKind  # short alias for the tables below
# A clock is named by the kind it owes first; the recurring ones then owe their _NEXT_KIND.
_RESPONSE_CLOCKS = (_K.ACKNOWLEDGE, _K.FIRST_PUBLIC_UPDATE, _K.INTERNAL_UPDATE, _K.EXEC_NOTICE)
_LEARNING_CLOCKS = (_K.POST_INCIDENT_SUMMARY, _K.POSTMORTEM_MEETING, _K.POSTMORTEM_COMPLETION)
_NEXT_KIND = {_K.FIRST_PUBLIC_UPDATE: _K.PUBLIC_UPDATE, _K.INTERNAL_UPDATE: _K.INTERNAL_UPDATE}
RESPONSE_KINDS: frozenset[ObligationKind] = frozenset({*_RESPONSE_CLOCKS, _K.PUBLIC_UPDATE})
LEARNING_KINDS: frozenset[ObligationKind] = frozenset(ObligationKind) - RESPONSE_KINDS

COMMANDER, COMMS_LEAD, POSTMORTEM_OWNER = "commander", "comms_lead", "postmortem_owner"
OWNER_ROLES: Mapping[ObligationKind, str] = MappingProxyType(
    dict.fromkeys(ObligationKind, COMMS_LEAD)
    | dict.fromkeys((_K.ACKNOWLEDGE, _K.EXEC_NOTICE), COMMANDER)
    | dict.fromkeys((_K.POSTMORTEM_MEETING, _K.POSTMORTEM_COMPLETION), POSTMORTEM_OWNER)
)
ESCALATE_TO = COMMANDER  # whoever misses an obligation, the incident commander hears of it
WAIVED_RESOLVED, WAIVED_REOPENED = "resolved", "reopened"
WAIVED_SEVERITY_LOWERED = "severity lowered"
POSTMORTEM_CHOICES = frozenset({"required", "optional", "none"})

# What the severity table does not hold. from_severity() gives major incidents the MAJOR_ ones.
MAJOR_ACKNOWLEDGE_MINUTES, MAJOR_INTERNAL_UPDATE_MINUTES, MAJOR_INTERNAL_CADENCE_MINUTES = 5, 15, 60
DEFAULT_EXEC_NOTICE_MINUTES = 15
DEFAULT_REMINDER_LEAD, DEFAULT_LEARNING_REMINDER_LEAD = timedelta(minutes=5), timedelta(days=1)


@dataclass(frozen=True)
class ClockPolicy:
    """The clocks one severity sets (None: not set); the leads say how long before a response or
    a learning deadline its owner is reminded. Raises ValueError for a negative value or a
    postmortem other than "required", "optional" or "none"."""

    is_major: bool = False
    first_update_minutes: int | None = None
    update_cadence_minutes: int | None = None
    exec_notice: bool = False
    postmortem: str = "none"
    postmortem_meeting_business_days: int | None = None
    public_summary_hours: int | None = None
    acknowledge_minutes: int | None = None
    internal_update_minutes: int | None = None
    internal_cadence_minutes: int | None = None
    exec_notice_minutes: int = DEFAULT_EXEC_NOTICE_MINUTES
    reminder_lead: timedelta = DEFAULT_REMINDER_LEAD
    learning_reminder_lead: timedelta = DEFAULT_LEARNING_REMINDER_LEAD

    def __post_init__(self) -> None:
        if self.postmortem not in POSTMORTEM_CHOICES:
            raise ValueError(f"postmortem must be one of {sorted(POSTMORTEM_CHOICES)}")
        for name, value in vars(self).items():
            zero: Any = timedelta(0) if isinstance(value, timedelta) else 0
            if isinstance(value, int | timedelta) and value < zero:  # bools are never negative
                raise ValueError(f"{name} must not be negative")

    @classmethod
    def from_severity(cls, severity: Any) -> ClockPolicy:
        """The policy of a stored severity: any object with the severity table's seven clock
        fields (the ORM Severity has them), plus the MAJOR_ defaults when it is major."""
        major = bool(severity.is_major)
        return cls(
            is_major=major,
            first_update_minutes=severity.first_update_minutes,
            update_cadence_minutes=severity.update_cadence_minutes,
            exec_notice=severity.exec_notice,
            postmortem=severity.postmortem,
            postmortem_meeting_business_days=severity.postmortem_meeting_business_days,
            public_summary_hours=severity.public_summary_hours,
            acknowledge_minutes=MAJOR_ACKNOWLEDGE_MINUTES if major else None,
            internal_update_minutes=MAJOR_INTERNAL_UPDATE_MINUTES if major else None,
            internal_cadence_minutes=MAJOR_INTERNAL_CADENCE_MINUTES if major else None,
        )


@dataclass(frozen=True)
class SeverityChange:
    """The severity changed at `at`; `previous` is the policy in force until then."""

    at: datetime
    previous: ClockPolicy


@dataclass(frozen=True)
class Reopening:
    """An earlier resolution, undone when the incident was reopened at `reopened_at`."""

    resolved_at: datetime
    reopened_at: datetime


@dataclass(frozen=True)
class IncidentFacts:
    """What happened to one incident, as stored; naive datetimes are read as UTC.

    `severity_changes` lead up to the current severity; `reopenings`, in order, to the current
    active period (resolved_at is the latest resolution). `waivers`: (kind, sequence) → reason.
    """

    status: Status | str
    declared_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    postmortem_due_at: datetime | None = None
    postmortem_completed_at: datetime | None = None
    public_updates: tuple[datetime, ...] = ()
    internal_updates: tuple[datetime, ...] = ()
    exec_notified_at: datetime | None = None
    summary_published_at: datetime | None = None
    postmortem_meeting_at: datetime | None = None
    waivers: Mapping[tuple[ObligationKind, int], str] = field(default_factory=dict)
    severity_changes: tuple[SeverityChange, ...] = ()
    reopenings: tuple[Reopening, ...] = ()

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "status", Status(self.status))
        for name in (f.name for f in fields(self) if f.name.endswith("_at")):
            value = getattr(self, name)
            put(self, name, None if value is None else as_utc(value))
        put(self, "public_updates", tuple(sorted(map(as_utc, self.public_updates))))
        put(self, "internal_updates", tuple(sorted(map(as_utc, self.internal_updates))))
        put(self, "waivers", MappingProxyType(dict(self.waivers)))  # str kinds match the enum
        changes = (replace(c, at=as_utc(c.at)) for c in self.severity_changes)
        put(self, "severity_changes", tuple(sorted(changes, key=lambda c: c.at)))
        put(self, "reopenings", tuple(Reopening(*map(as_utc, astuple(r))) for r in self.reopenings))


@dataclass(frozen=True)
class Obligation:
    """One thing owed: its clock started at `opened_at`; `late` means met after `due_at`.

    `sequence` is 0 for a one-off (1, 2, … if owed again after a reopen or severity change) and
    counts from 1 for the next public updates and for the internal updates.
    """

    kind: ObligationKind
    sequence: int
    owner_role: str
    escalate_to: str
    opened_at: datetime
    due_at: datetime
    remind_at: datetime
    state: ObligationState = ObligationState.PENDING
    met_at: datetime | None = None
    late: bool = False
    waiver_reason: str | None = None

    @property
    def key(self) -> tuple[ObligationKind, int]:
        """What a waiver names: the kind and the sequence."""
        return self.kind, self.sequence


def plan(
    policy: ClockPolicy, facts: IncidentFacts, now: datetime, calendar: BusinessCalendar
) -> list[Obligation]:
    """Every obligation the incident has had, with its state at `now`, by due time then kind.

    `policy` is the severity in force now (since the last of `facts.severity_changes`). The
    facts are taken as given; `now` only decides whether an unmet obligation is pending or
    missed. An incident in triage or declined owes nothing. Raises ValueError for a naive `now`,
    a declared incident without declared_at, a resolved one without resolved_at, or
    declaration, resolutions and reopenings out of order.
    """
    now = as_utc(require_aware(now, "now"))
    if facts.status in {Status.TRIAGE, Status.DECLINED}:
        return []
    if facts.declared_at is None:
        raise ValueError(f"an incident in {facts.status} must have declared_at")
    phases = [facts.declared_at, *(at for r in facts.reopenings for at in astuple(r))]
    if facts.status in {Status.RESOLVED, Status.CLOSED}:
        if facts.resolved_at is None:
            raise ValueError(f"an incident in {facts.status} must have resolved_at")
        phases.append(facts.resolved_at)
    if phases != sorted(phases):
        raise ValueError("declaration, resolutions and reopenings must follow one another in time")

    changes = facts.severity_changes
    planner = _Planner(facts, calendar, changes[0].previous if changes else policy)
    # At one instant: declare, change the severity, meet (under the new policy), resolve or reopen.
    events: list[tuple[datetime, int, Callable[[], None]]] = []
    for index, at in enumerate(phases):
        clocks = _LEARNING_CLOCKS if index % 2 else _RESPONSE_CLOCKS
        events.append((at, 3 if index else 0, partial(planner.enter, clocks, at)))
    for clock, name in _MET_BY.items():
        met_by = getattr(facts, name)
        times = met_by if isinstance(met_by, tuple) else (met_by,) if met_by else ()
        events += [(at, 2, partial(planner.meet, clock, at)) for at in times]
    after = [*(change.previous for change in changes[1:]), policy]  # the policy each one brings
    events += [(c.at, 1, partial(planner.change, after[i], c.at)) for i, c in enumerate(changes)]
    # The sort is stable, so resolving and reopening at one instant keep their order.
    for _, _, action in sorted(events, key=lambda event: event[:2]):
        action()
    return planner.finish(now)


def due_events(
    obligations: Iterable[Obligation], after: datetime
) -> list[tuple[datetime, ClockEvent, Obligation]]:
    """The reminders and deadlines of pending obligations strictly after `after`, soonest first
    (a reminder before a deadline at the same instant): the timers the service should set."""
    after = as_utc(require_aware(after, "after"))
    pending = [o for o in obligations if o.state is ObligationState.PENDING]
    events = [(o.remind_at, ClockEvent.REMIND, o) for o in pending]
    events = [e for e in events + [(o.due_at, ClockEvent.DUE, o) for o in pending] if e[0] > after]
    return sorted(events, key=lambda e: (e[0], e[1] is ClockEvent.DUE, _order(e[2])))


_FIRST_SEQUENCE = {_K.PUBLIC_UPDATE: 1, _K.INTERNAL_UPDATE: 1}
_KIND_ORDER = {kind: index for index, kind in enumerate(ObligationKind)}


# The facts meeting each clock's obligations: a tuple of instants, or one instant or None.
_MET_BY = {
    _K.ACKNOWLEDGE: "acknowledged_at",
    _K.FIRST_PUBLIC_UPDATE: "public_updates",
    _K.INTERNAL_UPDATE: "internal_updates",
    _K.EXEC_NOTICE: "exec_notified_at",
    _K.POST_INCIDENT_SUMMARY: "summary_published_at",
    _K.POSTMORTEM_MEETING: "postmortem_meeting_at",
    _K.POSTMORTEM_COMPLETION: "postmortem_completed_at",
}


@dataclass
class _Planner:
    """Replays an incident's history in time order, opening and settling obligations."""

    facts: IncidentFacts
    calendar: BusinessCalendar
    policy: ClockPolicy
    clocks: tuple[ObligationKind, ...] = ()  # the clocks of the current phase
    open: dict[ObligationKind, Obligation] = field(default_factory=dict)  # unmet, by clock
    settled: list[Obligation] = field(default_factory=list)
    done: set[ObligationKind] = field(default_factory=set)  # clocks with one met or waived
    sequences: dict[ObligationKind, int] = field(default_factory=dict)

    def enter(self, clocks: tuple[ObligationKind, ...], at: datetime) -> None:
        """Declare, resolve or reopen: settle the open obligations, start the new phase's clocks."""
        reason = WAIVED_RESOLVED if self.clocks == _RESPONSE_CLOCKS else WAIVED_REOPENED
        self.settled += [_close(obligation, at, reason) for obligation in self.open.values()]
        self.open.clear()
        self.clocks = clocks
        for clock in clocks:
            self.start(clock, at)

    def start(self, clock: ObligationKind, at: datetime) -> None:
        due = self.first_due(clock, at)
        if due is not None and (clock in _NEXT_KIND or clock not in self.done):  # one-offs: once
            self.open_next(clock, _NEXT_KIND[clock] if clock in self.done else clock, at, due)

    def open_next(self, clock: _K, kind: _K, at: datetime, due: datetime) -> None:
        sequence = self.sequences.get(kind, _FIRST_SEQUENCE.get(kind, 0))
        self.sequences[kind] = sequence + 1
        remind_at = self.remind_at(clock, at, due)
        opened = Obligation(kind, sequence, OWNER_ROLES[kind], ESCALATE_TO, at, due, remind_at)
        reason = self.facts.waivers.get(opened.key)
        if reason is None:
            self.open[clock] = opened
            return
        self.settled.append(replace(opened, state=ObligationState.WAIVED, waiver_reason=reason))
        self.done.add(clock)
        self.follow(clock, at, due)

    def meet(self, clock: ObligationKind, at: datetime) -> None:
        obligation = self.open.pop(clock, None)
        if obligation is None:
            if clock not in _NEXT_KIND:
                self.done.add(clock)  # done before its clock started: not owed
            return
        self.done.add(clock)
        met = replace(obligation, state=ObligationState.MET, met_at=at, late=at > obligation.due_at)
        self.settled.append(met)
        self.follow(clock, at, at)

    def follow(self, clock: ObligationKind, at: datetime, start: datetime) -> None:
        """Open the next update of a recurring clock at `at`, due a cadence after `start`."""
        policy = self.policy
        cadences = {_K.FIRST_PUBLIC_UPDATE: policy.update_cadence_minutes}
        minutes = (cadences | {_K.INTERNAL_UPDATE: policy.internal_cadence_minutes}).get(clock)
        if minutes is not None:
            self.open_next(clock, _NEXT_KIND[clock], at, start + timedelta(minutes=minutes))

    def change(self, policy: ClockPolicy, at: datetime) -> None:
        self.policy = policy
        for clock in self.clocks:
            obligation = self.open.get(clock)
            if obligation is None:
                self.start(clock, at)
                continue
            due = self.first_due(clock, at)
            if due is None:
                del self.open[clock]
                self.settled.append(_close(obligation, at, WAIVED_SEVERITY_LOWERED))
            elif at < obligation.due_at:  # a missed one stays missed and open
                due = min(obligation.due_at, due)
                remind_at = self.remind_at(clock, at, due)
                self.open[clock] = replace(obligation, due_at=due, remind_at=remind_at)

    def finish(self, now: datetime) -> list[Obligation]:
        missed = ObligationState.MISSED
        still_open = [
            replace(o, state=missed) if now >= o.due_at else o for o in self.open.values()
        ]
        return sorted(self.settled + still_open, key=_order)

    def first_due(self, clock: ObligationKind, start: datetime) -> datetime | None:
        policy = self.policy
        if clock is _K.POSTMORTEM_MEETING:
            days = policy.postmortem_meeting_business_days
            if days is None or policy.postmortem == "none":
                return None
            return self.calendar.add_business_days(start, days)
        if clock is _K.POSTMORTEM_COMPLETION:
            return self.facts.postmortem_due_at if policy.postmortem == "required" else None
        hours = policy.public_summary_hours
        minutes = {
            _K.ACKNOWLEDGE: policy.acknowledge_minutes,
            _K.FIRST_PUBLIC_UPDATE: policy.first_update_minutes,
            _K.INTERNAL_UPDATE: policy.internal_update_minutes,
            _K.EXEC_NOTICE: policy.exec_notice_minutes if policy.exec_notice else None,
            _K.POST_INCIDENT_SUMMARY: None if hours is None else hours * 60,
        }[clock]
        return None if minutes is None else start + timedelta(minutes=minutes)

    def remind_at(self, clock: ObligationKind, at: datetime, due: datetime) -> datetime:
        policy = self.policy
        lead = policy.learning_reminder_lead if clock in LEARNING_KINDS else policy.reminder_lead
        return max(due - lead, min(at, due))  # not before the clock started nor after the deadline


def _close(obligation: Obligation, at: datetime, reason: str) -> Obligation:
    """Settled at `at` without being met: missed once due, waived with `reason` before."""
    if at >= obligation.due_at:
        return replace(obligation, state=ObligationState.MISSED)
    return replace(obligation, state=ObligationState.WAIVED, waiver_reason=reason)


def _order(obligation: Obligation) -> tuple[datetime, int, int]:
    return obligation.due_at, _KIND_ORDER[obligation.kind], obligation.sequence
