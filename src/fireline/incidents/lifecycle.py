"""The incident lifecycle: which status changes are allowed and what each does to the timeline.

An incident starts in triage. A responder either declares it, moving it to an active status
(investigating, identified, monitoring), or declines it as not an incident. Active incidents
are resolved, and closed once the follow-up is done. Nothing is final: a declined incident can
go back to triage, and a resolved or closed one can be reopened into investigating. A reopen is
flagged on the transition so it can be recorded, and it clears the milestones of the stages the
incident has to go through again.

Milestone timestamps must keep MILESTONE_ORDER. Everything here is pure: callers pass the current
state and `now`, and get the new state back or a domain error explaining what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import TypeAlias

from fireline.clock import as_utc
from fireline.errors import FieldProblem, IllegalTransition, ResolutionBlocked, TimestampOrder


class Status(StrEnum):
    """Where an incident is in its lifecycle."""

    TRIAGE = "triage"
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"
    DECLINED = "declined"


ACTIVE_STATUSES: frozenset[Status] = frozenset(
    {Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING}
)
OPEN_STATUSES: frozenset[Status] = frozenset({Status.TRIAGE}) | ACTIVE_STATUSES

# The statuses an incident leaves only by being reopened.
_FINISHED_STATUSES: frozenset[Status] = frozenset({Status.RESOLVED, Status.CLOSED, Status.DECLINED})


class Milestone(StrEnum):
    """A moment on the incident timeline, named after the field that stores it."""

    IMPACT_STARTED = "impact_started_at"
    DETECTED = "detected_at"
    REPORTED = "reported_at"
    DECLARED = "declared_at"
    ACKNOWLEDGED = "acknowledged_at"
    IDENTIFIED = "identified_at"
    MITIGATED = "mitigated_at"
    RESOLVED = "resolved_at"
    CLOSED = "closed_at"


# Enum iteration follows definition order, which is the order the milestones must keep.
MILESTONE_ORDER: tuple[Milestone, ...] = tuple(Milestone)

Timestamps: TypeAlias = Mapping[Milestone, datetime | None]

ALLOWED_TRANSITIONS: Mapping[Status, frozenset[Status]] = MappingProxyType(
    {
        Status.TRIAGE: frozenset(
            {Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING, Status.DECLINED}
        ),
        Status.INVESTIGATING: frozenset({Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED}),
        Status.IDENTIFIED: frozenset({Status.INVESTIGATING, Status.MONITORING, Status.RESOLVED}),
        Status.MONITORING: frozenset({Status.INVESTIGATING, Status.IDENTIFIED, Status.RESOLVED}),
        Status.RESOLVED: frozenset({Status.CLOSED, Status.INVESTIGATING}),
        Status.CLOSED: frozenset({Status.INVESTIGATING}),
        Status.DECLINED: frozenset({Status.TRIAGE}),
    }
)

# How far an incident has got, lowest rank first. Moving to a lower rank means the later stages
# will be lived again, so their milestones must not keep describing the earlier attempt.
_STAGES: tuple[Status, ...] = (
    Status.INVESTIGATING,
    Status.IDENTIFIED,
    Status.MONITORING,
    Status.RESOLVED,
    Status.CLOSED,
)

# The milestone recorded when an incident first enters each stage.
_STAGE_MILESTONE: Mapping[Status, Milestone] = MappingProxyType(
    {
        Status.IDENTIFIED: Milestone.IDENTIFIED,
        Status.MONITORING: Milestone.MITIGATED,
        Status.RESOLVED: Milestone.RESOLVED,
        Status.CLOSED: Milestone.CLOSED,
    }
)

_ORDER_IN_WORDS = " → ".join(
    milestone.value.removesuffix("_at").replace("_", " ") for milestone in MILESTONE_ORDER
)


def can_transition(current: Status, target: Status) -> bool:
    """True when an incident in `current` may move to `target` (never to the status it is in)."""
    return target in ALLOWED_TRANSITIONS[current]


def is_reopen(current: Status, target: Status) -> bool:
    """True when the move brings a resolved, closed or declined incident back to an open status."""
    return current in _FINISHED_STATUSES and target in OPEN_STATUSES


def order_problems(timestamps: Timestamps) -> list[FieldProblem]:
    """One problem per set milestone that is earlier than a milestone meant to come before it.

    Unset milestones are skipped and equal instants are fine. Each set milestone is compared with
    the nearest set milestone before it: the milestones keep their order exactly when every such
    neighbouring pair does, and a single misplaced value yields a single problem, naming the
    milestone it clashes with. Missing keys count as unset.
    """
    problems: list[FieldProblem] = []
    previous: tuple[Milestone, datetime] | None = None
    for milestone in MILESTONE_ORDER:
        value = timestamps.get(milestone)
        if value is None:
            continue
        instant = as_utc(value)
        if previous is not None and instant < previous[1]:
            earlier, earlier_instant = previous
            problems.append(
                FieldProblem(
                    milestone.value,
                    f"{milestone.value} ({_iso(instant)}) is before {earlier.value} "
                    f"({_iso(earlier_instant)}); timestamps must keep the order {_ORDER_IN_WORDS}",
                )
            )
        previous = (milestone, instant)
    return problems


def check_order(timestamps: Timestamps) -> None:
    """Return quietly when the milestones keep their order; raise TimestampOrder listing each
    out-of-order milestone otherwise."""
    problems = order_problems(timestamps)
    if problems:
        fields = ", ".join(problem.field for problem in problems)
        raise TimestampOrder(
            detail=f"Incident timestamps are out of order ({fields}); "
            f"they must keep the order {_ORDER_IN_WORDS}",
            errors=problems,
        )


def future_problems(timestamps: Timestamps, now: datetime) -> list[FieldProblem]:
    """One problem per set milestone later than `now`, in milestone order."""
    now = _require_aware(now)
    return [
        FieldProblem(
            milestone.value,
            f"{milestone.value} ({_iso(value)}) cannot be in the future; it is now {_iso(now)}",
        )
        for milestone in MILESTONE_ORDER
        if (value := timestamps.get(milestone)) is not None and as_utc(value) > now
    ]


@dataclass(frozen=True)
class Transition:
    """The incident after a status change: its new status, full timeline and whether it reopened."""

    status: Status
    timestamps: dict[Milestone, datetime | None]
    reopened: bool


def transition(
    current: Status, timestamps: Timestamps, target: Status, now: datetime
) -> Transition:
    """Move an incident from `current` to `target` at `now`.

    Returns the new status, a fresh timeline holding every milestone (the input is not changed)
    and whether this was a reopen. Raises IllegalTransition, listing where the incident can go,
    when the move is not allowed (including staying put); TimestampOrder when the resulting
    timeline is out of order; ValueError when `now` is naive.
    """
    now = _require_aware(now)
    # Callers may pass the stored string; the enum keeps the result's status well typed.
    current, target = Status(current), Status(target)
    if not can_transition(current, target):
        raise _illegal(current, target)
    result = _complete(timestamps)

    if current in _STAGES and target in _STAGES and _STAGES.index(target) < _STAGES.index(current):
        for stage in _STAGES[_STAGES.index(target) + 1 :]:
            result[_STAGE_MILESTONE[stage]] = None

    if current == Status.TRIAGE and target in ACTIVE_STATUSES:
        # Declaring is when the incident was reported at the latest, if nobody recorded it earlier.
        _set_if_unset(result, Milestone.REPORTED, now)
        _set_if_unset(result, Milestone.DECLARED, now)
    if target == Status.RESOLVED:
        # Resolved without a monitoring stage: impact was mitigated by the time it was resolved
        # at the latest, which keeps time-to-mitigate measurable for every resolved incident.
        _set_if_unset(result, Milestone.MITIGATED, now)
    entered = _STAGE_MILESTONE.get(target)
    if entered is not None:
        _set_if_unset(result, entered, now)

    check_order(result)
    return Transition(status=target, timestamps=result, reopened=is_reopen(current, target))


def acknowledge(
    status: Status, timestamps: Timestamps, now: datetime
) -> dict[Milestone, datetime | None]:
    """The timeline with acknowledged_at set to `now`, as when the first commander is assigned.

    Only a declared incident that is still active and not yet acknowledged gets the milestone,
    and only when `now` keeps the order; otherwise the timeline comes back unchanged (as a fresh
    dict holding every milestone). Raises ValueError when `now` is naive.
    """
    now = _require_aware(now)
    result = _complete(timestamps)
    if (
        status in ACTIVE_STATUSES
        and result[Milestone.DECLARED] is not None
        and result[Milestone.ACKNOWLEDGED] is None
        # A commander assigned after the cause was identified did not acknowledge before it;
        # recording `now` would break the order, and inventing an earlier time would mislead.
        and _fits(result, Milestone.ACKNOWLEDGED, now)
    ):
        result[Milestone.ACKNOWLEDGED] = now
    return result


@dataclass(frozen=True)
class ResolutionFacts:
    """What is known about an incident when someone asks to resolve it."""

    is_major: bool
    resolution_criteria: str | None
    criteria_met: bool
    customer_impact_ended: bool
    postmortem_owner_set: bool
    postmortem_due_at: datetime | None
    mitigated_at: datetime | None
    monitoring_period: timedelta
    monitoring_waiver_reason: str | None
    now: datetime


def resolution_blockers(facts: ResolutionFacts) -> list[FieldProblem]:
    """One problem per unmet resolution condition, each saying what to do; empty when resolvable.

    Conditions, in order: resolution_criteria, criteria_met, customer_impact_ended,
    postmortem_owner and postmortem_due_at (major incidents), monitoring_period.
    Raises ValueError when `facts.now` is naive.
    """
    now = _require_aware(facts.now)
    checks = (
        (
            not _has_text(facts.resolution_criteria),
            "resolution_criteria",
            "Record the resolution criteria: what stable means for this incident.",
        ),
        (
            not facts.criteria_met,
            "criteria_met",
            "Confirm that the systems are stable against the resolution criteria.",
        ),
        (
            not facts.customer_impact_ended,
            "customer_impact_ended",
            "Confirm that customer impact has ended.",
        ),
        (
            facts.is_major and not facts.postmortem_owner_set,
            "postmortem_owner",
            "A major incident needs a postmortem owner; assign one before resolving.",
        ),
    )
    blockers = [FieldProblem(field, message) for unmet, field, message in checks if unmet]
    due_problem = _postmortem_due_problem(facts.is_major, facts.postmortem_due_at, now)
    if due_problem is not None:
        blockers.append(due_problem)
    monitoring_problem = _monitoring_problem(facts, now)
    if monitoring_problem is not None:
        blockers.append(monitoring_problem)
    return blockers


def check_resolvable(facts: ResolutionFacts) -> None:
    """Return quietly when the incident may be resolved; raise ResolutionBlocked listing every
    unmet condition otherwise."""
    blockers = resolution_blockers(facts)
    if blockers:
        count = len(blockers)
        conditions = "condition" if count == 1 else "conditions"
        raise ResolutionBlocked(
            detail=f"The incident cannot be resolved yet: {count} {conditions} unmet",
            errors=blockers,
        )


def _postmortem_due_problem(
    is_major: bool, due_at: datetime | None, now: datetime
) -> FieldProblem | None:
    if due_at is None:
        if is_major:
            return FieldProblem(
                "postmortem_due_at",
                "A major incident needs a postmortem due date; set one before resolving.",
            )
        return None
    # A due date already past is a mistake whatever the severity, so it blocks minor ones too.
    if as_utc(due_at) < now:
        return FieldProblem(
            "postmortem_due_at",
            f"The postmortem due date ({_iso(due_at)}) must be in the future; "
            f"it is now {_iso(now)}. Move it later.",
        )
    return None


def _monitoring_problem(facts: ResolutionFacts, now: datetime) -> FieldProblem | None:
    if _has_text(facts.monitoring_waiver_reason):
        return None
    period = facts.monitoring_period
    if facts.mitigated_at is None:
        if period <= timedelta(0):
            return None
        return FieldProblem(
            "monitoring_period",
            f"The incident was never in monitoring; wait out the {_ceil_minutes(period)}-minute "
            "monitoring period or waive it with a reason.",
        )
    ends_at = as_utc(facts.mitigated_at) + period
    if now >= ends_at:
        return None
    remaining = _ceil_minutes(ends_at - now)
    minutes = "minute" if remaining == 1 else "minutes"
    return FieldProblem(
        "monitoring_period",
        f"The monitoring period has {remaining} {minutes} left (it ends at {_iso(ends_at)}); "
        "wait it out or waive it with a reason.",
    )


def _illegal(current: Status, target: Status) -> IllegalTransition:
    allowed = sorted(status.value for status in ALLOWED_TRANSITIONS[current])
    if target == current:
        refusal = f"The incident's status is already {current}"
    else:
        refusal = f"Cannot move an incident from {current} to {target}"
    detail = f"{refusal}; from {current} it can go to: {', '.join(allowed)}"
    return IllegalTransition(detail=detail, extra={"allowed": allowed})


def _complete(timestamps: Timestamps) -> dict[Milestone, datetime | None]:
    return {milestone: timestamps.get(milestone) for milestone in MILESTONE_ORDER}


def _set_if_unset(
    timestamps: dict[Milestone, datetime | None], milestone: Milestone, now: datetime
) -> None:
    # The first time a milestone was reached is what response metrics measure; keep it.
    if timestamps[milestone] is None:
        timestamps[milestone] = now


def _fits(timestamps: Timestamps, milestone: Milestone, instant: datetime) -> bool:
    position = MILESTONE_ORDER.index(milestone)
    before = (timestamps.get(other) for other in MILESTONE_ORDER[:position])
    after = (timestamps.get(other) for other in MILESTONE_ORDER[position + 1 :])
    return all(value is None or as_utc(value) <= instant for value in before) and all(
        value is None or as_utc(value) >= instant for value in after
    )


def _has_text(value: str | None) -> bool:
    return value is not None and bool(value.strip())


def _require_aware(now: datetime) -> datetime:
    # A naive `now` written into the timeline would be ambiguous once stored; refuse it early.
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return as_utc(now)


def _ceil_minutes(duration: timedelta) -> int:
    # Round up so "0 minutes left" is never shown while the period is still running.
    return -(-duration // timedelta(minutes=1))


def _iso(instant: datetime) -> str:
    return as_utc(instant).isoformat().replace("+00:00", "Z")
