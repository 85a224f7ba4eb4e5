"""The severity assistant: proposes a severity from a responder's answers about impact.

It follows the severity policy. SEV1 is complete unavailability for all or most customers, data
loss or a security breach; SEV2 is a major feature degraded or a subset of customers unable to
use core functionality; SEV3 is limited degradation for a small subset or a non-critical
feature; SEV4 is cosmetic or minor with a workaround. The proposal is advice with reasons a
responder can check: the commander still sets the severity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class CustomerImpact(StrEnum):
    """How many customers feel the incident."""

    ALL_OR_MOST = "all_or_most"
    SUBSET = "subset"
    FEW = "few"
    NONE = "none"


@dataclass(frozen=True)
class SeverityAnswers:
    """A responder's answers to the severity questions."""

    customer_impact: CustomerImpact
    core_functionality_unavailable: bool = False
    revenue_impact: bool = False
    security_or_data_loss: bool = False
    workaround_available: bool = False


@dataclass(frozen=True)
class SeverityProposal:
    """A proposed severity, the reasons behind it (deciding one first) and a one-line summary."""

    severity: str
    reasons: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class _Finding:
    level: int  # 1 is the most severe, as in SEV1.
    reason: str


_SECURITY = _Finding(1, "A security breach or data loss is always SEV1.")
_REVENUE = _Finding(2, "Revenue is affected, which makes the incident at least SEV2.")
_FEW_WITH_WORKAROUND = _Finding(
    4, "Only a few customers are affected and a workaround is available, which is SEV4."
)

# How widely customers are hit, and whether they lose core functionality, sets the baseline.
_REACH: Mapping[tuple[CustomerImpact, bool], _Finding] = MappingProxyType(
    {
        (CustomerImpact.ALL_OR_MOST, True): _Finding(
            1, "Core functionality is unavailable for all or most customers, which is SEV1."
        ),
        (CustomerImpact.ALL_OR_MOST, False): _Finding(
            2,
            "All or most customers are affected but can still use core functionality, "
            "which is SEV2.",
        ),
        (CustomerImpact.SUBSET, True): _Finding(
            2, "A subset of customers cannot use core functionality, which is SEV2."
        ),
        (CustomerImpact.SUBSET, False): _Finding(
            3,
            "A subset of customers is affected but can still use core functionality, "
            "which is SEV3.",
        ),
        (CustomerImpact.FEW, True): _Finding(
            3, "A few customers cannot use core functionality, which is SEV3."
        ),
        (CustomerImpact.FEW, False): _Finding(
            3, "A few customers are affected and have no workaround, which is SEV3."
        ),
        (CustomerImpact.NONE, True): _Finding(
            3,
            "No customers are affected, but core functionality is unavailable internally "
            "(for example internal tooling), which is SEV3.",
        ),
        (CustomerImpact.NONE, False): _Finding(4, "No customers are affected, which is SEV4."),
    }
)


def propose_severity(answers: SeverityAnswers) -> SeverityProposal:
    """The severity the policy gives these answers, with every reason that applies.

    The most severe finding decides; it comes first in `reasons` and is quoted in `summary`.
    """
    # Listed in policy order, so among equally severe findings the more specific one leads.
    findings = [_reach_finding(answers)]
    if answers.security_or_data_loss:
        findings.insert(0, _SECURITY)
    if answers.revenue_impact:
        findings.append(_REVENUE)
    ranked = sorted(findings, key=lambda finding: finding.level)
    deciding = ranked[0]
    severity = f"SEV{deciding.level}"
    return SeverityProposal(
        severity=severity,
        reasons=tuple(finding.reason for finding in ranked),
        summary=f"{severity} proposed: {deciding.reason[0].lower()}{deciding.reason[1:]}",
    )


def _reach_finding(answers: SeverityAnswers) -> _Finding:
    core_unavailable = answers.core_functionality_unavailable
    if (
        answers.customer_impact == CustomerImpact.FEW
        and answers.workaround_available
        and not core_unavailable
    ):
        return _FEW_WITH_WORKAROUND
    return _REACH[(CustomerImpact(answers.customer_impact), core_unavailable)]
