"""The rules alert ingest applies — routing rules, declare rules, silences, maintenance windows —
read once and kept for a moment, so that a storm of alerts does not re-read them per batch.

A snapshot lives `TTL` (two seconds) in each process. A change committed in the same process
replaces it at once (a session hook notices the rules among what was written); another web
process sees the change within the TTL. Windows and silences are kept with their
times and judged against each batch's clock, so one starting or ending needs no reload.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session, UOWTransaction

from fireline.alerts.conditions import Condition, parse_conditions
from fireline.models import (
    DeclareRule,
    MaintenanceWindow,
    RoutingRule,
    Silence,
    maintenance_window_services,
)

TTL = 2.0  # seconds a snapshot serves before it is read again


@dataclass(frozen=True)
class RoutingSpec:
    id: int
    integration_id: int | None
    conditions: tuple[Condition, ...]
    service_id: int | None
    severity: str | None
    escalation_policy_id: int | None


@dataclass(frozen=True)
class DeclareSpec:
    id: int
    name: str
    severity: str
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class SilenceSpec:
    id: int
    comment: str
    conditions: tuple[Condition, ...]
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class WindowSpec:
    id: int
    description: str
    starts_at: datetime
    ends_at: datetime
    service_ids: frozenset[int]


@dataclass(frozen=True)
class Rulebook:
    routing: tuple[RoutingSpec, ...]
    declare: tuple[DeclareSpec, ...]
    silences: tuple[SilenceSpec, ...]
    windows: tuple[WindowSpec, ...]

    def window_for(self, service_id: int, at: datetime) -> WindowSpec | None:
        """The service's maintenance window active at `at` (the one ending last)."""
        active = [
            window
            for window in self.windows
            if service_id in window.service_ids and window.starts_at <= at < window.ends_at
        ]
        return max(active, key=lambda window: (window.ends_at, window.id), default=None)

    def silences_at(self, at: datetime) -> list[SilenceSpec]:
        return [s for s in self.silences if s.starts_at <= at < s.ends_at]


_lock = threading.Lock()
_generation = 0
_cached: tuple[int, float, Rulebook] | None = None


def changed() -> None:
    """Forget the snapshot: a rule, silence or window was just written in this process."""
    global _generation  # noqa: PLW0603 - the process-wide snapshot is the point
    with _lock:
        _generation += 1


_RULE_TYPES = (RoutingRule, DeclareRule, Silence, MaintenanceWindow)
_WROTE_RULES = "fireline.rules_written"


@event.listens_for(Session, "after_flush")
def _note_rule_writes(session: Session, _flush: UOWTransaction) -> None:
    written = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(item, _RULE_TYPES) for item in written):
        session.info[_WROTE_RULES] = True


@event.listens_for(Session, "after_commit")
def _forget_after_rule_writes(session: Session) -> None:
    # After the commit, not the flush: a snapshot read in between would miss the change.
    if session.info.pop(_WROTE_RULES, False):
        changed()


@event.listens_for(Session, "after_rollback")
def _drop_rule_note(session: Session) -> None:
    session.info.pop(_WROTE_RULES, None)


def current(session: Session, now: datetime) -> Rulebook:
    """The snapshot, read through `session` when it is missing, stale or outdated."""
    global _cached  # noqa: PLW0603 - the process-wide snapshot is the point
    with _lock:
        generation = _generation
        cached = _cached
    if cached is not None and cached[0] == generation and time.monotonic() - cached[1] < TTL:
        return cached[2]
    book = load(session, now)
    with _lock:
        if _generation == generation:
            _cached = (generation, time.monotonic(), book)
    return book


def load(session: Session, now: datetime) -> Rulebook:
    """The rules in force at `now` or later, from the database."""
    routing = tuple(
        RoutingSpec(
            id=rule.id,
            integration_id=rule.integration_id,
            conditions=tuple(parse_conditions(rule.conditions)),
            service_id=rule.service_id,
            severity=rule.severity,
            escalation_policy_id=rule.escalation_policy_id,
        )
        for rule in session.scalars(
            select(RoutingRule)
            .where(RoutingRule.enabled.is_(True))
            .order_by(RoutingRule.position, RoutingRule.id)
        )
    )
    declare = tuple(
        DeclareSpec(
            id=rule.id,
            name=rule.name,
            severity=rule.severity,
            conditions=tuple(parse_conditions(rule.conditions)),
        )
        for rule in session.scalars(
            select(DeclareRule)
            .where(DeclareRule.enabled.is_(True))
            .order_by(DeclareRule.position, DeclareRule.id)
        )
    )
    silences = tuple(
        SilenceSpec(
            id=silence.id,
            comment=silence.comment,
            conditions=tuple(parse_conditions(silence.conditions)),
            starts_at=silence.starts_at,
            ends_at=silence.ends_at,
        )
        for silence in session.scalars(
            select(Silence).where(Silence.ends_at > now).order_by(Silence.id)
        )
    )
    services: dict[int, set[int]] = {}
    for window_id, service_id in session.execute(
        select(maintenance_window_services.c.window_id, maintenance_window_services.c.service_id)
        .join(MaintenanceWindow, maintenance_window_services.c.window_id == MaintenanceWindow.id)
        .where(MaintenanceWindow.ends_at > now)
    ):
        services.setdefault(window_id, set()).add(service_id)
    windows = tuple(
        WindowSpec(
            id=window.id,
            description=window.description,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            service_ids=frozenset(services.get(window.id, ())),
        )
        for window in session.scalars(
            select(MaintenanceWindow)
            .where(MaintenanceWindow.ends_at > now)
            .order_by(MaintenanceWindow.id)
        )
    )
    return Rulebook(routing=routing, declare=declare, silences=silences, windows=windows)
