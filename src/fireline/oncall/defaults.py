"""Who takes an incident role when the person declaring names nobody: whoever is on call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.models import EscalationLevel, Service, User
from fireline.oncall.policies import targets_at
from fireline.oncall.schedules import default_holder


def default_commander(session: Session, *, services: Sequence[str], at: datetime) -> User | None:
    """The incident-commander schedule's person on call at `at`; without one, the first person
    the escalation policy of the first affected service (by the order given) pages first;
    None when neither names anyone."""
    person = default_holder(session, role="commander", at=at)
    if person is not None:
        return person
    for slug in services:
        policy_id = session.scalar(select(Service.escalation_policy_id).where(Service.slug == slug))
        if policy_id is None:
            continue
        first = session.scalar(
            select(EscalationLevel)
            .where(EscalationLevel.policy_id == policy_id)
            .order_by(EscalationLevel.position)
        )
        people = targets_at(session, level=first, at=at) if first is not None else []
        if people:
            return people[0]
    return None
