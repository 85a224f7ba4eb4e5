"""The severity assistant, checked against every possible set of answers and real incidents."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from fireline.incidents.severity_assistant import (
    CustomerImpact,
    SeverityAnswers,
    SeverityProposal,
    propose_severity,
)

FLAGS = (
    "core_functionality_unavailable",
    "revenue_impact",
    "security_or_data_loss",
    "workaround_available",
)
# Flags that make things worse; a workaround is the one answer that can only make them better.
AGGRAVATING = FLAGS[:3]
# From the widest reach to none at all.
REACH = (CustomerImpact.ALL_OR_MOST, CustomerImpact.SUBSET, CustomerImpact.FEW, CustomerImpact.NONE)

EVERY_ANSWER = [
    SeverityAnswers(impact, *flags)
    for impact, *flags in itertools.product(CustomerImpact, *[(False, True)] * len(FLAGS))
]


def level(proposal: SeverityProposal) -> int:
    return int(proposal.severity.removeprefix("SEV"))


def test_every_set_of_answers_is_covered():
    assert len(EVERY_ANSWER) == len(CustomerImpact) * 2 ** len(FLAGS) == 64
    assert set(REACH) == set(CustomerImpact)


@pytest.mark.parametrize("answers", EVERY_ANSWER, ids=repr)
def test_every_proposal_is_a_policy_severity_explained_in_plain_sentences(answers):
    proposal = propose_severity(answers)
    assert proposal.severity in {"SEV1", "SEV2", "SEV3", "SEV4"}
    assert proposal.reasons, "a proposal always says why"
    assert len(set(proposal.reasons)) == len(proposal.reasons)
    for reason in proposal.reasons:
        assert reason[0].isupper()
        assert reason.endswith(".")
        # Field names and enum values are for machines, not for a responder at 3 a.m.
        assert "_" not in reason
        assert "True" not in reason
        assert "False" not in reason
    deciding = proposal.reasons[0]
    assert deciding.endswith(f"{proposal.severity}.")
    assert proposal.summary == f"{proposal.severity} proposed: {deciding[0].lower()}{deciding[1:]}"
    # Reasons run from the most to the least severe finding.
    levels = [int(reason.removesuffix(".")[-1]) for reason in proposal.reasons]
    assert levels == sorted(levels)
    assert levels[0] == level(proposal)


@pytest.mark.parametrize(
    ("answers", "flag"),
    [(answers, flag) for answers in EVERY_ANSWER for flag in AGGRAVATING],
    ids=repr,
)
def test_adding_a_worse_answer_never_lowers_the_severity(answers, flag):
    worse = replace(answers, **{flag: True})
    assert level(propose_severity(worse)) <= level(propose_severity(answers))


@pytest.mark.parametrize("answers", EVERY_ANSWER, ids=repr)
def test_a_workaround_never_raises_the_severity(answers):
    with_workaround = replace(answers, workaround_available=True)
    assert level(propose_severity(with_workaround)) >= level(propose_severity(answers))


@pytest.mark.parametrize("answers", EVERY_ANSWER, ids=repr)
def test_reaching_more_customers_never_lowers_the_severity(answers):
    position = REACH.index(answers.customer_impact)
    for wider in REACH[:position]:
        widened = replace(answers, customer_impact=wider)
        assert level(propose_severity(widened)) <= level(propose_severity(answers))


@pytest.mark.parametrize("answers", EVERY_ANSWER, ids=repr)
def test_security_and_revenue_set_a_floor(answers):
    proposal = propose_severity(answers)
    if answers.security_or_data_loss:
        assert proposal.severity == "SEV1"
        assert proposal.reasons[0] == "A security breach or data loss is always SEV1."
    if answers.revenue_impact:
        assert level(proposal) <= 2
        assert "Revenue is affected, which makes the incident at least SEV2." in proposal.reasons


@pytest.mark.parametrize(
    ("impact", "core", "workaround", "expected"),
    [
        (CustomerImpact.ALL_OR_MOST, True, False, "SEV1"),
        (CustomerImpact.ALL_OR_MOST, False, False, "SEV2"),
        (CustomerImpact.SUBSET, True, False, "SEV2"),
        (CustomerImpact.SUBSET, False, False, "SEV3"),
        (CustomerImpact.SUBSET, False, True, "SEV3"),
        (CustomerImpact.FEW, True, False, "SEV3"),
        (CustomerImpact.FEW, True, True, "SEV3"),
        (CustomerImpact.FEW, False, False, "SEV3"),
        (CustomerImpact.FEW, False, True, "SEV4"),
        (CustomerImpact.NONE, True, False, "SEV3"),
        (CustomerImpact.NONE, False, False, "SEV4"),
        (CustomerImpact.NONE, False, True, "SEV4"),
    ],
)
def test_reach_and_core_functionality_set_the_baseline(impact, core, workaround, expected):
    answers = SeverityAnswers(
        impact, core_functionality_unavailable=core, workaround_available=workaround
    )
    proposal = propose_severity(answers)
    assert proposal.severity == expected
    assert len(proposal.reasons) == 1


# --- Incidents a responder would recognise ----------------------------------------------------


def test_checkout_down_in_all_regions_is_sev1():
    proposal = propose_severity(
        SeverityAnswers(
            CustomerImpact.ALL_OR_MOST, core_functionality_unavailable=True, revenue_impact=True
        )
    )
    assert proposal.severity == "SEV1"
    assert proposal.reasons == (
        "Core functionality is unavailable for all or most customers, which is SEV1.",
        "Revenue is affected, which makes the incident at least SEV2.",
    )
    assert proposal.summary == (
        "SEV1 proposed: core functionality is unavailable for all or most customers, which is SEV1."
    )


def test_an_authentication_outage_for_most_users_is_sev1():
    proposal = propose_severity(
        SeverityAnswers(CustomerImpact.ALL_OR_MOST, core_functionality_unavailable=True)
    )
    assert proposal.severity == "SEV1"


def test_a_leaked_database_backup_is_sev1_even_before_customers_notice():
    proposal = propose_severity(
        SeverityAnswers(CustomerImpact.NONE, security_or_data_loss=True, workaround_available=True)
    )
    assert proposal.severity == "SEV1"
    assert proposal.summary == "SEV1 proposed: a security breach or data loss is always SEV1."
    assert proposal.reasons == (
        "A security breach or data loss is always SEV1.",
        "No customers are affected, which is SEV4.",
    )


def test_a_subset_of_customers_unable_to_export_reports_depends_on_whether_export_is_core():
    core = SeverityAnswers(CustomerImpact.SUBSET, core_functionality_unavailable=True)
    assert propose_severity(core).severity == "SEV2"
    assert propose_severity(replace(core, core_functionality_unavailable=False)).severity == "SEV3"


def test_slow_dashboards_for_everyone_that_still_load_are_sev2():
    proposal = propose_severity(SeverityAnswers(CustomerImpact.ALL_OR_MOST))
    assert proposal.severity == "SEV2"
    assert proposal.summary.startswith("SEV2 proposed: all or most customers are affected")


def test_failed_payments_for_a_few_customers_are_raised_to_sev2_by_revenue():
    proposal = propose_severity(SeverityAnswers(CustomerImpact.FEW, revenue_impact=True))
    assert proposal.severity == "SEV2"
    assert proposal.reasons == (
        "Revenue is affected, which makes the incident at least SEV2.",
        "A few customers are affected and have no workaround, which is SEV3.",
    )


def test_a_misaligned_button_a_few_customers_can_work_around_is_sev4():
    proposal = propose_severity(SeverityAnswers(CustomerImpact.FEW, workaround_available=True))
    assert proposal.severity == "SEV4"
    assert "workaround is available" in proposal.summary


def test_the_internal_admin_console_down_with_no_customer_impact_is_sev3():
    proposal = propose_severity(
        SeverityAnswers(CustomerImpact.NONE, core_functionality_unavailable=True)
    )
    assert proposal.severity == "SEV3"
    assert "internal tooling" in proposal.reasons[0]


def test_when_two_findings_agree_the_policy_order_decides_which_leads():
    # Security and a full outage are both SEV1; the security rule is the one quoted.
    proposal = propose_severity(
        SeverityAnswers(
            CustomerImpact.ALL_OR_MOST,
            core_functionality_unavailable=True,
            security_or_data_loss=True,
        )
    )
    assert proposal.reasons[0] == "A security breach or data loss is always SEV1."
    assert len(proposal.reasons) == 2


def test_the_stored_impact_string_is_accepted():
    answers = SeverityAnswers("subset", core_functionality_unavailable=True)  # type: ignore[arg-type]
    assert propose_severity(answers).severity == "SEV2"
