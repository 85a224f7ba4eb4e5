"""A notice: what one notification says, before it is rendered for a transport."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class IncidentRef:
    """The incident a notice is about, as the reader needs it."""

    reference: str  # INC-42
    title: str
    severity: str  # SEV1
    status: str  # investigating
    url: str  # link to the incident in Fireline


@dataclass(frozen=True)
class Notice:
    """One notification, transport-neutral. `event` names what happened (`obligation.missed`,
    `incident.declared`, …); `headline` is one line (an email subject, a chat message's first
    line); `body` is plain text in paragraphs; `facts` are short labelled values (Severity, Due,
    Commander) shown as a list or table; `actions` are labelled links the reader can follow
    (a page's Acknowledge and Resolve), shown as buttons where the transport has them."""

    event: str
    headline: str
    body: str = ""
    incident: IncidentRef | None = None
    facts: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    actions: tuple[tuple[str, str], ...] = field(default_factory=tuple)
