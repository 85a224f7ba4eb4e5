"""The incident lifecycle as responders live it: status moves, the timeline and resolving."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from itertools import combinations, product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fireline.errors import IllegalTransition, ResolutionBlocked, TimestampOrder
from fireline.incidents.lifecycle import (
    ACTIVE_STATUSES,
    ALLOWED_TRANSITIONS,
    MILESTONE_ORDER,
    OPEN_STATUSES,
    Milestone,
    ResolutionFacts,
    Status,
    acknowledge,
    can_transition,
    check_order,
    check_resolvable,
    future_problems,
    is_reopen,
    order_problems,
    resolution_blockers,
    transition,
)

S, M = Status, Milestone
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
NAIVE = datetime(2026, 1, 5, 10, 0)

# Written out again rather than read from the module, so a slip in the module is caught here.
EXPECTED_ALLOWED = {
    S.TRIAGE: {S.INVESTIGATING, S.IDENTIFIED, S.MONITORING, S.DECLINED},
    S.INVESTIGATING: {S.IDENTIFIED, S.MONITORING, S.RESOLVED},
    S.IDENTIFIED: {S.INVESTIGATING, S.MONITORING, S.RESOLVED},
    S.MONITORING: {S.INVESTIGATING, S.IDENTIFIED, S.RESOLVED},
    S.RESOLVED: {S.CLOSED, S.INVESTIGATING},
    S.CLOSED: {S.INVESTIGATING},
    S.DECLINED: {S.TRIAGE},
}
FINISHED = {S.RESOLVED, S.CLOSED, S.DECLINED}
STAGE_RANK = {S.INVESTIGATING: 1, S.IDENTIFIED: 2, S.MONITORING: 3, S.RESOLVED: 4, S.CLOSED: 5}
# The milestone each stage records on entry; it must be unset while the incident is below it.
STAGE_MILESTONES = {S.IDENTIFIED: M.IDENTIFIED, S.MONITORING: M.MITIGATED}
STAGE_MILESTONES |= {S.RESOLVED: M.RESOLVED, S.CLOSED: M.CLOSED}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def stamps(**values: datetime | None) -> dict[Milestone, datetime | None]:
    """A full timeline from keyword milestones: stamps(detected=T0) sets detected_at."""
    return dict.fromkeys(Milestone) | {M[name.upper()]: value for name, value in values.items()}


def timeline_in(status: Status) -> dict[Milestone, datetime | None]:
    """A plausible timeline, all at T0, for an incident that has reached `status`."""
    timeline = stamps(detected=T0, reported=T0)
    if status not in {S.TRIAGE, S.DECLINED}:
        timeline[M.DECLARED] = T0
    for stage, milestone in STAGE_MILESTONES.items():
        if STAGE_RANK[stage] <= STAGE_RANK.get(status, 0):
            timeline[milestone] = T0
    return timeline


# --- Status moves -------------------------------------------------------------------------------
def test_the_constants_describe_the_lifecycle():
    assert {S.INVESTIGATING, S.IDENTIFIED, S.MONITORING} == ACTIVE_STATUSES
    assert {S.TRIAGE, *ACTIVE_STATUSES} == OPEN_STATUSES
    assert dict(ALLOWED_TRANSITIONS) == EXPECTED_ALLOWED
    # MILESTONE_ORDER is spelled out in the words of every order problem, tested below.


@pytest.mark.parametrize(("current", "target"), list(product(Status, Status)))
def test_every_status_move_is_allowed_or_refused_with_the_way_forward(current, target):
    before = timeline_in(current)
    snapshot = dict(before)
    allowed = target in EXPECTED_ALLOWED[current]
    assert can_transition(current, target) is allowed
    assert is_reopen(current, target) is (current in FINISHED and target in OPEN_STATUSES)
    if allowed:
        moved = transition(current, before, target, at(5))
        assert (moved.status, moved.reopened) == (target, is_reopen(current, target))
        assert set(moved.timestamps) == set(Milestone)
    else:
        with pytest.raises(IllegalTransition) as refused:
            transition(current, before, target, at(5))
        options = sorted(s.value for s in EXPECTED_ALLOWED[current])
        assert (refused.value.extra, refused.value.status) == ({"allowed": options}, 409)
        assert refused.value.detail.endswith(f"from {current} it can go to: {', '.join(options)}")
    assert before == snapshot, "the caller's timeline is never changed"


def test_a_refusal_says_where_the_incident_can_go():
    with pytest.raises(IllegalTransition) as refused:
        transition(S.RESOLVED, timeline_in(S.RESOLVED), S.MONITORING, at(5))
    assert refused.value.detail == (
        "Cannot move an incident from resolved to monitoring; "
        "from resolved it can go to: closed, investigating"
    )
    with pytest.raises(IllegalTransition, match="status is already monitoring; from monitoring"):
        transition(S.MONITORING, timeline_in(S.MONITORING), S.MONITORING, at(5))


def test_stored_status_strings_are_accepted_but_naive_times_are_not():
    moved = transition("triage", timeline_in(S.TRIAGE), "investigating", at(5))  # type: ignore[arg-type]
    assert moved.status is S.INVESTIGATING
    with pytest.raises(ValueError, match="timezone-aware"):
        transition(S.TRIAGE, timeline_in(S.TRIAGE), S.INVESTIGATING, NAIVE)
    with pytest.raises(ValueError, match="timezone-aware"):
        acknowledge(S.INVESTIGATING, timeline_in(S.INVESTIGATING), NAIVE)


# --- What each move records on the timeline ----------------------------------------------------
@pytest.mark.parametrize(("target", "reported"), list(product(ACTIVE_STATUSES, [None, T0])))
def test_declaring_from_triage_records_declared_and_reported_if_missing(target, reported):
    moved = transition(S.TRIAGE, stamps(detected=T0, reported=reported), target, at(3))
    assert moved.timestamps[M.DECLARED] == at(3)
    assert moved.timestamps[M.REPORTED] == (reported or at(3))
    assert moved.timestamps[M.DETECTED] == T0


def test_declining_records_no_declaration_and_bringing_it_back_changes_nothing():
    declined = transition(S.TRIAGE, timeline_in(S.TRIAGE), S.DECLINED, at(3))
    assert declined.timestamps == timeline_in(S.TRIAGE)
    back = transition(S.DECLINED, declined.timestamps, S.TRIAGE, at(9))
    assert (back.timestamps, back.reopened) == (declined.timestamps, True)


@pytest.mark.parametrize(
    ("current", "target", "recorded", "cleared"),
    [
        (S.TRIAGE, S.INVESTIGATING, {M.DECLARED}, set()),
        (S.TRIAGE, S.IDENTIFIED, {M.DECLARED, M.IDENTIFIED}, set()),
        (S.TRIAGE, S.MONITORING, {M.DECLARED, M.MITIGATED}, set()),
        (S.INVESTIGATING, S.IDENTIFIED, {M.IDENTIFIED}, set()),
        (S.INVESTIGATING, S.MONITORING, {M.MITIGATED}, set()),
        # Resolved without monitoring: it was mitigated by then at the latest.
        (S.INVESTIGATING, S.RESOLVED, {M.MITIGATED, M.RESOLVED}, set()),
        (S.IDENTIFIED, S.MONITORING, {M.MITIGATED}, set()),
        (S.RESOLVED, S.CLOSED, {M.CLOSED}, set()),
        # Stepping back or reopening: the stages above the target will be lived again.
        (S.MONITORING, S.INVESTIGATING, set(), {M.IDENTIFIED, M.MITIGATED}),
        (S.MONITORING, S.IDENTIFIED, set(), {M.MITIGATED}),
        (S.IDENTIFIED, S.INVESTIGATING, set(), {M.IDENTIFIED}),
        (S.RESOLVED, S.INVESTIGATING, set(), {M.IDENTIFIED, M.MITIGATED, M.RESOLVED}),
        (S.CLOSED, S.INVESTIGATING, set(), {M.IDENTIFIED, M.MITIGATED, M.RESOLVED, M.CLOSED}),
    ],
)
def test_a_move_records_its_stage_and_clears_those_to_redo(current, target, recorded, cleared):
    before = timeline_in(current)
    moved = transition(current, before, target, at(7))
    # Everything else, the original declaration included, stays as it was.
    assert moved.timestamps == before | dict.fromkeys(cleared) | dict.fromkeys(recorded, at(7))


def test_a_move_that_would_break_the_order_is_refused():
    # Only possible when a later milestone was entered in the future by mistake.
    timeline = timeline_in(S.INVESTIGATING) | {M.ACKNOWLEDGED: at(60)}
    with pytest.raises(TimestampOrder) as refused:
        transition(S.INVESTIGATING, timeline, S.IDENTIFIED, at(5))
    assert [p.field for p in refused.value.errors] == ["identified_at"]


# --- Acknowledging -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "timeline", "now", "acknowledged_at"),
    [
        (S.INVESTIGATING, timeline_in(S.INVESTIGATING), at(4), at(4)),  # the first commander
        (S.INVESTIGATING, stamps(declared=T0, acknowledged=at(1)), at(4), at(1)),  # a second one
        (S.IDENTIFIED, timeline_in(S.IDENTIFIED), T0, T0),  # joined as the cause was found
        (S.TRIAGE, stamps(reported=T0), at(4), None),  # otherwise left alone: not declared yet
        (S.DECLINED, stamps(reported=T0), at(4), None),
        (S.RESOLVED, timeline_in(S.RESOLVED), at(4), None),  # a postmortem commander is no ack
        (S.IDENTIFIED, timeline_in(S.IDENTIFIED), at(4), None),  # cause found before anyone acked
        (S.INVESTIGATING, stamps(declared=at(30)), at(4), None),  # declared after `now`
    ],
)
def test_the_first_commander_acknowledges(status, timeline, now, acknowledged_at):
    assert acknowledge(status, timeline, now) == timeline | {M.ACKNOWLEDGED: acknowledged_at}


# --- Timeline order and the future -------------------------------------------------------------
def test_detection_before_impact_is_reported_in_words_naming_both_fields():
    (problem,) = order_problems({M.IMPACT_STARTED: at(10), M.DETECTED: T0})
    assert problem.field == "detected_at"
    assert problem.message == (
        "detected_at (2026-01-05T10:00:00Z) is before impact_started_at (2026-01-05T10:10:00Z); "
        "timestamps must keep the order impact started → detected → reported → declared → "
        "acknowledged → identified → mitigated → resolved → closed"
    )
    # Stored naive times count as UTC, and other zones are shown in UTC.
    paris = timezone(timedelta(hours=1))
    (problem,) = order_problems({M.DETECTED: NAIVE + timedelta(minutes=30), M.REPORTED: at(0)})
    assert problem.message.startswith("reported_at (2026-01-05T10:00:00Z) is before detected_at")
    assert order_problems({M.DETECTED: NAIVE, M.REPORTED: T0.astimezone(paris)}) == []


def test_one_misplaced_value_yields_one_problem_against_the_latest_earlier_milestone():
    consistent = stamps(detected=T0, declared=T0, mitigated=at(5), closed=at(9))  # gaps, ties
    assert order_problems(consistent) == order_problems({}) == []
    check_order(consistent)
    # The close was typed an hour early: only closed_at is wrong, and it clashes with resolved_at.
    timeline = stamps(detected=T0, declared=at(5), resolved=at(60), closed=at(1))
    (problem,) = order_problems(timeline)
    assert problem.field == "closed_at"
    assert "is before resolved_at (2026-01-05T11:00:00Z)" in problem.message


def test_a_too_late_start_is_reported_once_against_the_next_milestone_and_refused():
    timeline = stamps(impact_started=at(30), detected=T0, reported=at(20))
    problems = order_problems(timeline)
    assert [p.field for p in problems] == ["detected_at"]
    assert "is before impact_started_at (2026-01-05T10:30:00Z)" in problems[0].message
    with pytest.raises(TimestampOrder) as refused:
        check_order(timeline)
    assert (refused.value.errors, refused.value.status) == (problems, 422)
    assert refused.value.detail.startswith("Incident timestamps are out of order (detected_at)")


def test_milestones_in_the_future_are_refused():
    timeline = stamps(detected=T0, declared=at(5), mitigated=at(6))
    (problem,) = future_problems(timeline, at(5))
    assert problem.field == "mitigated_at"
    assert problem.message == (
        "mitigated_at (2026-01-05T10:06:00Z) cannot be in the future; "
        "it is now 2026-01-05T10:05:00Z"
    )
    assert future_problems(timeline, at(6)) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        future_problems(timeline, NAIVE)


# --- Any sequence of moves keeps the timeline true ---------------------------------------------
def assert_timeline_holds(status, timeline, now):
    assert isinstance(status, Status)
    assert set(timeline) == set(Milestone)
    assert order_problems(timeline) == future_problems(timeline, now) == []
    set_times = [timeline[m] for m in MILESTONE_ORDER if timeline[m] is not None]
    assert set_times == sorted(set_times), "no negative duration between two milestones"
    assert timeline[M.DETECTED] == timeline[M.REPORTED] == T0
    assert (timeline[M.DECLARED] is not None) is (status not in {S.TRIAGE, S.DECLINED})
    assert timeline[M.ACKNOWLEDGED] is None or timeline[M.DECLARED] is not None
    assert (timeline[M.RESOLVED] is not None) is (status in {S.RESOLVED, S.CLOSED})
    assert (timeline[M.CLOSED] is not None) is (status == S.CLOSED)
    # Every resolved incident has a time of mitigation, so time-to-mitigate can be measured.
    assert (timeline[M.MITIGATED] is not None) is (status in {S.MONITORING, S.RESOLVED, S.CLOSED})
    # The current stage's milestone is set, and none of those of the stages beyond it.
    for stage, milestone in STAGE_MILESTONES.items():
        assert stage != status or timeline[milestone] is not None, milestone
        if STAGE_RANK[stage] > STAGE_RANK.get(status, 0):
            assert timeline[milestone] is None, milestone


@settings(max_examples=300, deadline=None)
@given(
    declared=st.booleans(),
    impact_lead=st.none() | st.integers(0, 120),
    steps=st.lists(st.tuples(st.sampled_from([*Status, "ack"]), st.integers(0, 240)), max_size=40),
)
def test_any_sequence_of_moves_keeps_the_timeline_true(declared, impact_lead, steps):
    """Incidents created in triage or already declared, moved at random and acknowledged."""
    status = S.INVESTIGATING if declared else S.TRIAGE
    timeline = stamps(detected=T0, reported=T0, declared=T0 if declared else None)
    if impact_lead is not None:
        timeline[M.IMPACT_STARTED] = at(-impact_lead)
    now = T0
    assert_timeline_holds(status, timeline, now)
    for target, minutes in steps:
        now += timedelta(minutes=minutes)
        snapshot, new_status = dict(timeline), status
        if target == "ack":
            new_timeline = acknowledge(status, timeline, now)
            stages = [timeline[m] for m in STAGE_MILESTONES.values()]
            fits = all(instant in {None, now} for instant in stages)
            if status in ACTIVE_STATUSES and timeline[M.ACKNOWLEDGED] is None and fits:
                assert new_timeline == timeline | {M.ACKNOWLEDGED: now}
            else:
                assert new_timeline == timeline
        elif target in EXPECTED_ALLOWED[status]:
            moved = transition(status, timeline, target, now)
            assert moved.status == target
            assert moved.reopened is (status in FINISHED and target != S.CLOSED)
            new_status, new_timeline = moved.status, moved.timestamps
        else:
            with pytest.raises(IllegalTransition):
                transition(status, timeline, target, now)
            new_timeline = timeline
        assert timeline == snapshot, "the caller's timeline is never changed"
        status, timeline = new_status, new_timeline
        assert_timeline_holds(status, timeline, now)


# --- Resolving ---------------------------------------------------------------------------------
READY = ResolutionFacts(
    is_major=True,
    resolution_criteria="Checkout error rate under 0.1 % for 30 minutes",
    criteria_met=True,
    customer_impact_ended=True,
    postmortem_owner_set=True,
    postmortem_due_at=at(7 * 24 * 60),
    mitigated_at=T0,
    monitoring_period=timedelta(minutes=30),
    monitoring_waiver_reason=None,
    now=at(45),
)
# Each condition, the one change to READY that leaves it unmet, and what the responder is told.
GAPS = {
    "resolution_criteria": {"resolution_criteria": None},
    "criteria_met": {"criteria_met": False},
    "customer_impact_ended": {"customer_impact_ended": False},
    "postmortem_owner": {"postmortem_owner_set": False},
    "postmortem_due_at": {"postmortem_due_at": None},
    "monitoring_period": {"mitigated_at": at(30)},
}
TOLD = {
    "resolution_criteria": "Record the resolution criteria: what stable means for this incident.",
    "criteria_met": "Confirm that the systems are stable against the resolution criteria.",
    "customer_impact_ended": "Confirm that customer impact has ended.",
    "postmortem_owner": "A major incident needs a postmortem owner; assign one before resolving.",
    "postmortem_due_at": "A major incident needs a postmortem due date; set one before resolving.",
    "monitoring_period": "The monitoring period has 15 minutes left "
    "(it ends at 2026-01-05T11:00:00Z); wait it out or waive it with a reason.",
}
WAIVER = "Fix verified by replaying the failed checkouts"


@pytest.mark.parametrize(
    "missing", [combo for size in range(7) for combo in combinations(GAPS, size)]
)
def test_every_unmet_condition_is_listed_in_order_saying_what_to_do(missing):
    facts = READY
    for field in missing:
        facts = replace(facts, **GAPS[field])
    blockers = resolution_blockers(facts)
    assert [(b.field, b.message) for b in blockers] == [(f, TOLD[f]) for f in missing]
    if not missing:
        check_resolvable(facts)
        return
    with pytest.raises(ResolutionBlocked) as blocked:
        check_resolvable(facts)
    assert (blocked.value.errors, blocked.value.status) == (blockers, 409)
    unmet = f"{len(missing)} condition{'' if len(missing) == 1 else 's'} unmet"
    assert blocked.value.detail == f"The incident cannot be resolved yet: {unmet}"


@pytest.mark.parametrize(
    ("changes", "blocked_on"),
    [
        # Blank criteria say nothing about what stable means.
        ({"resolution_criteria": " \n"}, ["resolution_criteria"]),
        # A minor incident needs no postmortem arrangements...
        ({"is_major": False, "postmortem_owner_set": False, "postmortem_due_at": None}, []),
        # ...but a due date already past must be moved whatever the severity; now is not past.
        ({"postmortem_due_at": at(44)}, ["postmortem_due_at"]),
        ({"is_major": False, "postmortem_due_at": at(44)}, ["postmortem_due_at"]),
        ({"postmortem_due_at": at(45)}, []),
        # The monitoring period may end right now, not be required, or be waived with a reason.
        ({"mitigated_at": at(15)}, []),
        ({"mitigated_at": None}, ["monitoring_period"]),
        ({"mitigated_at": None, "monitoring_period": timedelta(0)}, []),
        ({"mitigated_at": None, "monitoring_waiver_reason": WAIVER}, []),
        ({"mitigated_at": at(44), "monitoring_waiver_reason": WAIVER}, []),
        ({"mitigated_at": at(44), "monitoring_waiver_reason": "  "}, ["monitoring_period"]),
    ],
)
def test_what_blocks_resolving(changes, blocked_on):
    assert [b.field for b in resolution_blockers(replace(READY, **changes))] == blocked_on


def test_the_blockers_name_the_dates_and_durations_involved():
    (past_due,) = resolution_blockers(replace(READY, postmortem_due_at=at(44)))
    assert past_due.message == (
        "The postmortem due date (2026-01-05T10:44:00Z) must be in the future; "
        "it is now 2026-01-05T10:45:00Z. Move it later."
    )
    (never,) = resolution_blockers(replace(READY, mitigated_at=None))
    assert never.message == (
        "The incident was never in monitoring; wait out the 30-minute monitoring period "
        "or waive it with a reason."
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        resolution_blockers(replace(READY, now=NAIVE))


@pytest.mark.parametrize(
    ("minutes_ago", "left"), [(0, 30), (1e-6 / 60, 30), (15.5, 15), (29, 1), (29.99, 1)]
)
def test_the_monitoring_time_left_is_rounded_up_to_whole_minutes(minutes_ago, left):
    (blocker,) = resolution_blockers(replace(READY, mitigated_at=at(45 - minutes_ago)))
    unit = "minute" if left == 1 else "minutes"
    assert blocker.message.startswith(f"The monitoring period has {left} {unit} left (it ends at ")
