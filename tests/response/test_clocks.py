"""The response clocks as responders live them. Stories start on Monday 5 January 2026
(`at("10:15")`, UTC) or Friday 9 January (`at("10:15", FRI)`); show() prints a plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from functools import partial
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fireline.models.severities import Severity
from fireline.response import clocks
from fireline.response.calendar import BusinessCalendar
from fireline.response.clocks import ClockPolicy, IncidentFacts, Obligation, Reopening, plan

MON, FRI, NEXT_MON = date(2026, 1, 5), date(2026, 1, 9), date(2026, 1, 12)


def at(clock: str, day: date = MON) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=UTC)


K, S, SeverityChange = clocks.ObligationKind, clocks.ObligationState, clocks.SeverityChange
UTC_DAYS = BusinessCalendar()
# Wednesday 14 January is a company holiday; the meeting day ends at 17:00 in Berlin.
BERLIN = BusinessCalendar(time_zone="Europe/Berlin", holidays=frozenset({date(2026, 1, 14)}))
COLUMNS = "is_major first_update_minutes update_cadence_minutes exec_notice postmortem"
COLUMNS += " postmortem_meeting_business_days public_summary_hours"
ROWS = {  # the severity table as the migration seeds it (design.md §4)
    "SEV1": (True, 15, 30, True, "required", 5, 72),
    "SEV2": (True, 30, 60, False, "required", None, 72),
    "SEV3": (False, None, None, False, "optional", None, None),
    "SEV4": (False, None, None, False, "none", None, None),
}
STORED = {key: dict(zip(COLUMNS.split(), row, strict=True)) for key, row in ROWS.items()}
SEV1, SEV2, SEV3, SEV4 = (ClockPolicy.from_severity(SimpleNamespace(**r)) for r in STORED.values())
NAMES = "ack first public internal exec summary meeting completion"  # each kind, in order
SHORT = dict(zip(K, NAMES.split(), strict=True))
# Slices of those policies, so a story shows only the clocks it is about.
UPDATES = ClockPolicy(first_update_minutes=15, update_cadence_minutes=30)
SEV2_UPDATES = ClockPolicy(first_update_minutes=30, update_cadence_minutes=60)
SEV2_LEARNING = ClockPolicy(postmortem="required", public_summary_hours=72)
LEARNING = replace(SEV2_LEARNING, postmortem_meeting_business_days=5)
ACK, FIRST_ONLY = ClockPolicy(acknowledge_minutes=5), ClockPolicy(first_update_minutes=20)
INTERNAL = ClockPolicy(internal_update_minutes=15, internal_cadence_minutes=60)
PUBLIC = {K.FIRST_PUBLIC_UPDATE, K.PUBLIC_UPDATE}
# fmt: off
FRIDAY = {  # a SEV1 declared on Friday at 10:00, answered in time and resolved at 10:30
    "declared_at": at("10:00", FRI), "acknowledged_at": at("10:02", FRI), "status": "resolved",
    "public_updates": (at("10:12", FRI),), "internal_updates": (at("10:14", FRI),),
    "exec_notified_at": at("10:05", FRI), "resolved_at": at("10:30", FRI),
    "postmortem_due_at": at("12:00", date(2026, 1, 23)),
}
# fmt: on


def facts(**fields: Any) -> IncidentFacts:
    """An incident declared at 10:00 on Monday and investigating, unless the story says not."""
    return IncidentFacts(**({"status": "investigating", "declared_at": at("10:00")} | fields))


def on_friday(**fields: Any) -> IncidentFacts:
    return facts(**(FRIDAY | fields))


def ups(*clocks: str, day: date = MON) -> dict[str, Any]:  # public updates posted at these times
    return {"public_updates": tuple(at(clock, day) for clock in clocks)}


def changes(*history: tuple[str, ClockPolicy], day: date = MON) -> dict[str, Any]:
    # Severity changes, each (when, the policy in force until then).
    return {"severity_changes": tuple(SeverityChange(at(when, day), was) for when, was in history)}


def show(obligations: list[Obligation], day: date = MON, *, detail: bool = False) -> str:
    """'kind#sequence due state', or with detail 'kind opened>remind>due state'."""

    def line(o: Obligation) -> str:
        times = (o.opened_at, o.remind_at, o.due_at) if detail else (o.due_at,)
        when = ">".join(f"{t:%H:%M}" if t.date() == day else f"{t:%b %d %H:%M}" for t in times)
        label = SHORT[o.kind] + (f"#{o.sequence}" if o.sequence else "")
        extra = " late" if o.late else f" ({o.waiver_reason})" if o.waiver_reason else ""
        return f"{label} {when} {o.state}{extra}"

    return ", ".join(map(line, obligations))


def test_the_issue_story_a_sev1_public_update_missed_then_met_late():
    _, first, _, _ = plan(SEV1, facts(), at("10:00"), UTC_DAYS)  # ack, first, internal, exec
    assert show([first], detail=True) == "first 10:00>10:10>10:15 pending"
    assert (first.owner_role, first.escalate_to) == ("comms_lead", "commander")
    # 10:09: still pending; the timers to set are the 10:10 reminder and the 10:15 deadline.
    at_1009 = plan(UPDATES, facts(), at("10:09"), UTC_DAYS)
    assert show(at_1009) == "first 10:15 pending"
    events = [(when, event) for when, event, _ in clocks.due_events(at_1009, at("10:09"))]
    assert events == [(at("10:10"), "remind"), (at("10:15"), "due")]
    # 10:16: missed, and the incident commander is the one to hear of it.
    missed = plan(SEV1, facts(), at("10:16"), UTC_DAYS)[1]
    assert (missed.kind, missed.state, missed.escalate_to) == (first.kind, S.MISSED, "commander")
    # 10:17: an update meets it late; the next is due 10:47, the comms lead reminded at 10:42.
    after_1017 = plan(UPDATES, facts(**ups("10:17")), at("10:17"), UTC_DAYS)
    assert show(after_1017) == "first 10:15 met late, public#1 10:47 pending"
    assert (after_1017[0].met_at, after_1017[1].remind_at) == (at("10:17"), at("10:42"))
    assert after_1017[1].opened_at == at("10:17")
    # 10:40: the next update is on time and the one after falls due at 11:10.
    after_1040 = plan(UPDATES, facts(**ups("10:17", "10:40")), at("10:40"), UTC_DAYS)
    assert show(after_1040) == "first 10:15 met late, public#1 10:47 met, public#2 11:10 pending"


LOWERED, REOPEN = "(severity lowered)", "(reopened)"
# fmt: off
ACTIVE_STORIES = [
    (SEV1, {}, "10:01", ("ack 10:05 pending, first 10:15 pending, internal#1 10:15 pending, "
                        "exec 10:15 pending")),
    (SEV2, ups("10:25"), "10:26", ("ack 10:05 missed, internal#1 10:15 missed, first 10:30 met, "
                                  "public#1 11:25 pending")),
    (SEV3, ups("10:10"), "18:00", ""), (SEV4, ups("10:10"), "18:00", ""),
    (SEV1, {"status": "triage"}, "10:01", ""), (SEV1, {"status": "declined"}, "10:01", ""),
    (UPDATES, ups("10:12", "10:20", "10:21"), "10:22",
     "first 10:15 met, public#1 10:42 met, public#2 10:50 met, public#3 10:51 pending"),
    (UPDATES, ups("10:12", "12:05"), "12:06", ("first 10:15 met, public#1 10:42 met late, "
                                              "public#2 12:35 pending")),
    (UPDATES, ups("10:15"), "10:15", "first 10:15 met, public#1 10:45 pending"),
    (UPDATES, {}, "10:15", "first 10:15 missed"),
    (ACK, {"acknowledged_at": at("10:07")}, "10:10", "ack 10:05 met late"),
    (INTERNAL, {"internal_updates": (at("10:14"), at("11:20"))}, "11:30",
     "internal#1 10:15 met, internal#2 11:14 met late, internal#3 12:20 pending"),
    (FIRST_ONLY, ups("10:05", "10:30"), "11:00", "first 10:20 met"),
    # Waivers name one obligation; a waived update is skipped and the cadence carries on.
    (UPDATES, {"waivers": {(K.FIRST_PUBLIC_UPDATE, 0): "by phone"}}, "10:01",
     "first 10:15 waived (by phone), public#1 10:45 pending"),
    (UPDATES, ups("10:10") | {"waivers": {(K.PUBLIC_UPDATE, 1): "-", ("public_update", 2): "-"}},
     "10:11", ("first 10:15 met, public#1 10:40 waived (-), public#2 11:10 waived (-), "
              "public#3 11:40 pending")),
    (FIRST_ONLY, {"waivers": {(K.FIRST_PUBLIC_UPDATE, 0): "-"}}, "11:00", "first 10:20 waived (-)"),
    # A severity change keeps the history; open clocks re-plan from it but are never postponed.
    (SEV1, changes(("10:20", SEV3)), "10:21", ("ack 10:25 pending, first 10:35 pending, "
                                              "internal#1 10:35 pending, exec 10:35 pending")),
    (SEV1, changes(("10:20", SEV3)) | ups("10:05") | {"acknowledged_at": at("10:02"),
     "exec_notified_at": at("10:10")}, "10:21", "first 10:35 pending, internal#1 10:35 pending"),
    (SEV1, changes(("10:05", SEV2)), "10:06", ("ack 10:05 missed, internal#1 10:15 pending, "
                                              "first 10:20 pending, exec 10:20 pending")),
    (SEV1, changes(("10:25", SEV2)), "10:26", ("ack 10:05 missed, internal#1 10:15 missed, "
                                              "first 10:30 pending, exec 10:40 pending")),
    (SEV3, changes(("10:12", SEV1)) | ups("10:30"), "12:00", (f"ack 10:05 missed, first 10:15 "
     f"waived {LOWERED}, internal#1 10:15 waived {LOWERED}, exec 10:15 waived {LOWERED}")),
    (SEV2_UPDATES, changes(("10:20", UPDATES)) | ups("10:25"), "10:26",
     "first 10:15 met late, public#1 11:25 pending"),
    (SEV2_UPDATES, changes(("10:30", UPDATES)) | ups("10:17"), "10:31",
     "first 10:15 met late, public#1 10:47 pending"),
    (SEV1, changes(("10:05", SEV1), ("10:30", SEV3)), "10:31", (f"ack 10:05 missed, first 10:15 "
     f"waived {LOWERED}, internal#1 10:15 waived {LOWERED}, exec 10:15 waived {LOWERED}, ack#1 "
     "10:35 pending, first#1 10:45 pending, internal#2 10:45 pending, exec#1 10:45 pending")),
    (UPDATES, changes(("10:05", UPDATES), ("10:30", SEV3)) | ups("10:02"), "10:31",
     f"first 10:15 met, public#1 10:32 waived {LOWERED}, public#2 10:45 pending"),
    (UPDATES, changes(("10:20", SEV2_UPDATES)) | ups("10:20"), "10:21",  # an update as it changes
     "first 10:30 met, public#1 10:50 pending"),
    (UPDATES, changes(("10:40", SEV2_UPDATES), ("10:10", SEV3)) | ups("10:30"), "10:41",
     "first 10:40 met, public#1 10:55 pending"),
]
TUE_20 = date(2026, 1, 20)
LEARNT = "summary Jan 12 10:30 {}, meeting Jan 19 16:00 {}, completion Jan 23 12:00 {}"
REOPENED = {"status": "investigating", "resolved_at": None,
            "reopenings": (Reopening(at("10:30", FRI), at("11:00", FRI)),)}
RESOLVED_STORIES = [
    (SEV1, {}, "10:31", ("ack 10:05 met, first 10:15 met, internal#1 10:15 met, exec 10:15 met, "
     "public#1 10:42 waived (resolved), internal#2 11:14 waived (resolved), ")
     + LEARNT.format("pending", "pending", "pending")),
    (UPDATES, ups(day=FRI) | {"resolved_at": at("10:15", FRI)}, "11:00", "first 10:15 missed"),
    (UPDATES, ups("10:12", "10:30", day=FRI), "10:31",
     "first 10:15 met, public#1 10:42 met, public#2 11:00 waived (resolved)"),
    (LEARNING, {"status": "closed", "summary_published_at": at("09:00", date(2026, 1, 13)),
                "postmortem_meeting_at": at("14:00", date(2026, 1, 20)),
                "postmortem_completed_at": at("11:00", date(2026, 1, 22))}, "10:31",
     LEARNT.format("met late", "met late", "met")),
    (SEV2_LEARNING, {}, "10:31", "summary Jan 12 10:30 pending, completion Jan 23 12:00 pending"),
    (SEV3, {}, "10:31", ""), (SEV4, {}, "10:31", ""),
    (LEARNING, {"postmortem_due_at": None}, "10:31",
     "summary Jan 12 10:30 pending, meeting Jan 19 16:00 pending"),
    (ClockPolicy(postmortem="none", postmortem_meeting_business_days=5), {}, "10:31", ""),
    (ClockPolicy(postmortem="required"), {"postmortem_due_at": at("10:10", FRI)}, "11:00",
     "completion 10:10 missed"),
    # A severity set after resolution re-plans the learning clocks from the change.
    (LEARNING, changes(("09:00", SEV2_LEARNING), day=NEXT_MON), "10:31",
     "summary Jan 12 10:30 pending, meeting Jan 20 16:00 pending, completion Jan 23 12:00 pending"),
    (SEV3, changes(("09:00", LEARNING), day=NEXT_MON), "10:31",
     LEARNT.format(*[f"waived {LOWERED}"] * 3)),
    # Reopening waives the learning clocks and restarts the response ones; one-offs met stay met.
    (SEV1, REOPENED | {"exec_notified_at": None}, "11:01", ("ack 10:05 met, first 10:15 met, "
     "internal#1 10:15 met, exec 10:15 missed, public#1 10:42 waived (resolved), internal#2 11:14 "
     "waived (resolved), public#2 11:15 pending, internal#3 11:15 pending, exec#1 11:15 pending, ")
     + LEARNT.format(*[f"waived {REOPEN}"] * 3)),
    (LEARNING, REOPENED | {"status": "closed", "resolved_at": at("12:00", FRI),
     "summary_published_at": at("11:30", FRI)}, "12:01", (f"summary Jan 12 10:30 waived {REOPEN}, "
     f"meeting Jan 19 16:00 waived {REOPEN}, meeting#1 Jan 19 16:00 pending, "
     f"completion Jan 23 12:00 waived {REOPEN}, completion#1 Jan 23 12:00 pending")),
    (LEARNING, REOPENED | {"reopenings": (Reopening(at("10:30", FRI), at("10:30", TUE_20)),)},
     at("11:00", TUE_20), LEARNT.format("missed", "missed", f"waived {REOPEN}")),
    (LEARNING, {"reopenings": (Reopening(at("10:30", FRI), at("10:30", FRI)),)}, "10:31",
     (f"summary Jan 12 10:30 waived {REOPEN}, summary#1 Jan 12 10:30 pending, meeting Jan 19 16:00 "
     f"waived {REOPEN}, meeting#1 Jan 19 16:00 pending, completion Jan 23 12:00 waived {REOPEN}, "
     "completion#1 Jan 23 12:00 pending")),
    (ClockPolicy(exec_notice=True), REOPENED | {"exec_notified_at": None,
     "waivers": {(K.EXEC_NOTICE, 0): "on the bridge"}}, "11:01",
     "exec 10:15 waived (on the bridge)"),
]
# fmt: on


@pytest.mark.parametrize(("policy", "fields", "now", "expected"), ACTIVE_STORIES)
def test_while_the_incident_is_active(policy, fields, now, expected):
    assert show(plan(policy, facts(**fields), at(now), UTC_DAYS)) == expected


@pytest.mark.parametrize(("policy", "fields", "now", "expected"), RESOLVED_STORIES)
def test_resolving_reopening_and_learning(policy, fields, now, expected):
    # Friday + 5 business days skips the weekend and Wednesday's holiday: Mon 19th, 17:00 Berlin.
    now = at(now, FRI) if isinstance(now, str) else now
    assert show(plan(policy, on_friday(**fields), now, BERLIN), FRI) == expected


# fmt: off
CLOCK_STARTS = [  # when a clock started > when its owner is reminded > when it is due
    (SEV1, facts(**changes(("10:20", SEV3))), "10:21", K.FIRST_PUBLIC_UPDATE,
     "first 10:20>10:30>10:35 pending"),
    (SEV1, facts(**changes(("10:25", SEV2))), "10:26", K.FIRST_PUBLIC_UPDATE,
     "first 10:00>10:25>10:30 pending"),
    (SEV1, on_friday(), "10:31", K.POST_INCIDENT_SUMMARY,
     "summary 10:30>Jan 11 10:30>Jan 12 10:30 pending"),
    (LEARNING, on_friday(**changes(("09:00", SEV2_LEARNING), day=NEXT_MON)), "10:31",
     K.POSTMORTEM_MEETING, "meeting Jan 12 09:00>Jan 19 16:00>Jan 20 16:00 pending"),
]
# fmt: on


@pytest.mark.parametrize(("policy", "story", "now", "kind", "expected"), CLOCK_STARTS)
def test_when_each_clock_starts_reminds_and_falls_due(policy, story, now, kind, expected):
    day = story.declared_at.date()
    (found,) = (o for o in plan(policy, story, at(now, day), BERLIN) if o.kind is kind)
    assert show([found], day, detail=True) == expected


NAIVE = datetime(2026, 1, 5, 10, 0)
REOPENING = {"reopenings": (Reopening(at("10:30"), at("11:00")),)}


def test_planning_is_a_pure_function_of_its_inputs_whatever_their_form():
    story = facts(public_updates=(at("10:40"), at("10:17")), acknowledged_at=at("10:01"))
    first = plan(SEV1, story, at("11:00"), UTC_DAYS)
    assert first == plan(SEV1, story, at("11:00"), UTC_DAYS)
    shuffled = facts(public_updates=[at("10:17"), at("10:40")], acknowledged_at=at("10:01"))
    elsewhere = at("11:00").astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert shuffled == story
    assert plan(SEV1, shuffled, elsewhere, UTC_DAYS) == first
    # Stored naive timestamps (SQLite) are read as UTC.
    aware = facts(**ups("10:17"), **changes(("09:00", SEV3)), **REOPENING)
    # fmt: off
    naive = {"declared_at": NAIVE, "public_updates": (NAIVE + timedelta(minutes=17),),
             "severity_changes": (SeverityChange(NAIVE - timedelta(hours=1), SEV3),),
             "reopenings": (Reopening(NAIVE.replace(minute=30), NAIVE.replace(hour=11)),)}
    # fmt: on
    assert facts(**naive) == aware


def planned(**fields: Any) -> list[Obligation]:
    return plan(SEV1, facts(**fields), at("12:00"), UTC_DAYS)


# fmt: off
REFUSALS = [
    (partial(planned, declared_at=None), "must have declared_at"),
    (partial(planned, status="resolved"), "must have resolved_at"),
    (partial(planned, status="closed", resolved_at=at("09:59")), "must follow one another in time"),
    (partial(planned, reopenings=(Reopening(at("09:00"), at("09:30")),)), "follow one another"),
    (partial(planned, **REOPENING, status="closed", resolved_at=at("10:45")), "follow one another"),
    (lambda: plan(SEV1, facts(), NAIVE, UTC_DAYS), "now must be a timezone-aware datetime"),
    (lambda: clocks.due_events([], NAIVE), "after must be a timezone-aware datetime"),
    (partial(ClockPolicy, first_update_minutes=-1), "first_update_minutes must not be negative"),
    (partial(ClockPolicy, reminder_lead=-timedelta(minutes=5)), "reminder_lead must not be neg"),
    (partial(ClockPolicy, learning_reminder_lead=-timedelta(seconds=1)), "must not be negative"),
    (partial(ClockPolicy, postmortem="sometimes"), "postmortem must be one of"),
]
# fmt: on


@pytest.mark.parametrize(("refused", "message"), REFUSALS)
def test_inconsistent_facts_naive_instants_and_impossible_policies_are_refused(refused, message):
    with pytest.raises(ValueError, match=message):
        refused()


def timers(obligations: list[Obligation], after: str) -> list[str]:
    events = clocks.due_events(obligations, at(after))
    return [f"{when:%H:%M} {event} {SHORT[o.kind]}" for when, event, o in events]


def test_due_events_are_the_timers_of_pending_obligations_reminders_first():
    obligations = plan(SEV1, facts(acknowledged_at=at("10:01")), at("10:06"), UTC_DAYS)
    assert timers(obligations, "10:06") == [
        "10:10 remind first", "10:10 remind internal", "10:10 remind exec",
        "10:15 due first", "10:15 due internal", "10:15 due exec",
    ]  # fmt: skip
    assert timers(obligations, "10:10") == timers(obligations, "10:06")[3:]
    assert timers(obligations, "10:15") == []
    overlap = ClockPolicy(acknowledge_minutes=5, first_update_minutes=10)
    expected = ["10:05 remind first", "10:05 due ack", "10:10 due first"]
    assert timers(plan(overlap, facts(), at("10:00"), UTC_DAYS), "10:00") == expected


def test_the_policy_defaults_the_kinds_and_who_owns_each():
    major = {"acknowledge_minutes": 5, "internal_update_minutes": 15}
    assert ClockPolicy(**STORED["SEV1"], **major, internal_cadence_minutes=60) == SEV1
    assert ClockPolicy(**STORED["SEV3"]) == SEV3
    assert ClockPolicy.from_severity(Severity(**STORED["SEV2"])) == SEV2
    assert set(K) == clocks.RESPONSE_KINDS | clocks.LEARNING_KINDS
    assert not clocks.RESPONSE_KINDS & clocks.LEARNING_KINDS
    resolved = plan(SEV1, on_friday(), at("10:31", FRI), BERLIN)
    assert {o.kind: o.owner_role for o in resolved} == clocks.OWNER_ROLES
    assert clocks.OWNER_ROLES[K.ACKNOWLEDGE] == clocks.OWNER_ROLES[K.EXEC_NOTICE] == "commander"
    assert clocks.OWNER_ROLES[K.POSTMORTEM_MEETING] == clocks.POSTMORTEM_OWNER
    assert {o.escalate_to for o in resolved} == {"commander"}


DECLARED = at("10:00")
MINUTES = st.integers(0, 6 * 60).map(lambda minutes: DECLARED + timedelta(minutes=minutes))
LATER = st.integers(0, 14 * 24 * 60).map(lambda minutes: DECLARED + timedelta(minutes=minutes))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([SEV1, SEV2, UPDATES]), st.lists(MINUTES, max_size=12), MINUTES)
def test_public_updates_follow_the_cadence_from_each_update(policy, updates, now):
    obligations = plan(policy, facts(public_updates=updates), now, UTC_DAYS)
    public = [o for o in obligations if o.kind in PUBLIC]
    assert sum(o.state is S.PENDING for o in public) <= 1
    assert sum(o.state in {S.PENDING, S.MISSED} for o in public) == 1
    # The oracle: first due after first_update_minutes, then a cadence after each update.
    cadence = timedelta(minutes=policy.update_cadence_minutes or 0)
    expected = [DECLARED + timedelta(minutes=policy.first_update_minutes or 0)]
    expected += [update + cadence for update in sorted(updates)]
    assert [o.due_at for o in sorted(public, key=lambda o: o.sequence)] == expected
    assert [o.met_at for o in public if o.state is S.MET] == sorted(updates)


LEARNING_EVENTS = (
    "summary_published_at postmortem_meeting_at postmortem_completed_at postmortem_due_at"
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[IncidentFacts, bool]:
    """Any incident declared at 10:00 (and whether it ends resolved); changes may predate it."""
    phases = sorted(draw(st.lists(MINUTES, max_size=4)))  # resolved, reopened, resolved, …
    resolved = len(phases) % 2 == 1
    policies = st.sampled_from([SEV1, SEV2, SEV3, SEV4, UPDATES, LEARNING])
    earlier = MINUTES.map(lambda instant: instant - timedelta(minutes=30))
    waivable = st.tuples(st.sampled_from(list(K)), st.integers(0, 4))
    story = facts(
        status="resolved" if resolved else "monitoring",
        resolved_at=phases[-1] if resolved else None,
        reopenings=tuple(Reopening(*phases[i : i + 2]) for i in range(0, len(phases) - 1, 2)),
        severity_changes=draw(st.lists(st.builds(SeverityChange, earlier, policies), max_size=4)),
        public_updates=draw(st.lists(MINUTES, max_size=8)),
        internal_updates=draw(st.lists(MINUTES, max_size=4)),
        waivers=draw(st.dictionaries(waivable, st.just("waived on purpose"), max_size=4)),
        **{name: draw(st.none() | MINUTES) for name in ("acknowledged_at", "exec_notified_at")},
        **{name: draw(st.none() | LATER) for name in LEARNING_EVENTS.split()},
    )
    return story, resolved


@settings(max_examples=400, deadline=None)
@given(policy=st.sampled_from([SEV1, SEV2, SEV3, UPDATES]), history=histories(), now=LATER)
def test_any_history_gives_a_consistent_plan(policy, history, now):
    story, resolved = history
    obligations = plan(policy, story, now, BERLIN)
    assert obligations == plan(policy, story, now, BERLIN)  # a pure function
    assert len({o.key for o in obligations}) == len(obligations)
    order = {kind: index for index, kind in enumerate(K)}
    assert obligations == sorted(obligations, key=lambda o: (o.due_at, order[o.kind], o.sequence))
    for o in obligations:
        assert o.opened_at >= DECLARED  # nothing is owed before declaration
        assert o.kind is K.POSTMORTEM_COMPLETION or o.due_at >= o.opened_at
        assert min(o.opened_at, o.due_at) <= o.remind_at <= o.due_at
        assert o.late == (o.met_at is not None and o.met_at > o.due_at)
        assert (o.met_at is not None) == (o.state is S.MET)
        assert o.met_at is None or o.met_at >= o.opened_at
        assert (o.waiver_reason is not None) == (o.state is S.WAIVED)
        assert o.state is not S.PENDING or now < o.due_at
    pending = [o.kind for o in obligations if o.state is S.PENDING]
    assert sum(kind in PUBLIC for kind in pending) <= 1  # one public update owed at a time
    assert all(pending.count(kind) <= 1 for kind in set(K) - PUBLIC)
    # Resolved: no response clock runs; active: no learning clock does.
    assert not set(pending) & (clocks.RESPONSE_KINDS if resolved else clocks.LEARNING_KINDS)
