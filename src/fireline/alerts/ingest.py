"""Applying alert events, many at a time: dedup, routing, suppression, paging, declaring.

Dedup follows PagerDuty's rules, per integration: a trigger whose key names an open alert adds
an occurrence to it (no new page); once that alert is resolved the same key opens a new alert;
an acknowledge or resolve naming no open alert is accepted and dropped. The database holds the
rule too (a unique index on the open alerts' keys), so two processes racing on one new key
still make one alert: the loser's batch meets the index, rolls back to its savepoint and is
applied again, now seeing the winner's alert.

A batch costs a handful of queries whatever its size: the open alerts it names (locked, in id
order), the routing and declare rules, silences and maintenance windows (read once), one
multi-row insert of the new alerts, and one of their first pages. (What an alert was when it
arrived is its log's first line, read from the alert itself: see `fireline.alerts.history`.)
Events apply in the order given, so a trigger then a resolve of one key in one batch ends
resolved.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from fireline.alerts import paging, rulebook
from fireline.alerts.bulk import insert_alerts, keys_clause
from fireline.alerts.conditions import holds
from fireline.alerts.events import ALERT_SEVERITIES, AlertEvent
from fireline.alerts.history import log_event
from fireline.models import (
    Alert,
    AlertStatus,
    Integration,
    Service,
)

OPEN = (AlertStatus.TRIGGERED.value, AlertStatus.ACKNOWLEDGED.value, AlertStatus.SUPPRESSED.value)
# An integration's "last event" is kept to the minute: writing it on every event would make all
# events of one key wait on that row's lock in turn.
SEEN_GRANULARITY = timedelta(seconds=30)
ATTEMPTS = 3


@dataclass(frozen=True)
class Outcome:
    """What one event did: the alert it touched (none when dropped) and whether it is new. A
    new alert comes as its id alone (`alert` is None): loading it is for callers who need it."""

    dedup_key: str
    alert_id: int | None
    created: bool = False
    alert: Alert | None = None


@dataclass
class _Opened:
    """An alert this batch opens: its row until written, then its id too."""

    row: dict[str, Any]
    integration: Integration
    id: int | None = None


@dataclass(frozen=True)
class Route:
    """Where a new alert goes once the routing rules have been read."""

    service_id: int
    severity: str
    escalation_policy_id: int | None
    rule_id: int | None


def ingest(
    session: Session, *, integration: Integration, event: AlertEvent, now: datetime
) -> Outcome:
    """Apply one event from `integration` (whose service must be loaded)."""
    [outcome] = ingest_many(session, events=[(integration, event)], now=now)
    return outcome


def ingest_many(
    session: Session, *, events: Sequence[tuple[Integration, AlertEvent]], now: datetime
) -> list[Outcome]:
    """Apply the events in order, each from its integration (services loaded); one outcome per
    event. Retried from a savepoint when another transaction wins a race on a new key."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with session.begin_nested():
                return _Batch(session, now).apply(events)
        except (IntegrityError, OperationalError):
            # A unique-key race (or the deadlock two such races can make): the savepoint is
            # gone, the other transaction has committed; applying again sees its alerts.
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class _Batch:
    session: Session
    now: datetime
    rules: Rules = field(init=False)
    unsettled: list[_Opened] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rules = Rules(self.session, self.now)

    def apply(self, events: Sequence[tuple[Integration, AlertEvent]]) -> list[Outcome]:
        _mark_seen(self.session, [integration for integration, _ in events], self.now)
        keyed = [(integration, event, _key_of(event)) for integration, event in events]
        alerts: dict[tuple[int | None, str], Alert | _Opened] = dict(
            _open_alerts(self.session, {(i.id, key) for i, _, key in keyed})
        )
        results: list[tuple[str, Alert | _Opened | None, bool]] = []
        for integration, event, key in keyed:
            pair = (integration.id, key)
            found = alerts.get(pair)
            if event.action == "trigger":
                if isinstance(found, _Opened):
                    _repeat_row(found.row, event, self.now)
                elif found is not None:
                    _repeat(found, event, self.now)
                else:
                    found = alerts[pair] = self._open(integration, event, key)
                    results.append((key, found, True))
                    continue
                results.append((key, found, False))
                continue
            if isinstance(found, _Opened):
                # Opened in this batch and changed at once: write it, then change it as stored.
                self.settle()
                found = alerts[pair] = self.session.get_one(Alert, found.id)
            results.append((key, found, False))
            if found is None:
                continue
            if event.action == "acknowledge":
                acknowledge(
                    self.session, alert=found, now=self.now, user_id=None, by=integration.name
                )
            else:
                resolve(self.session, alert=found, now=self.now, user_id=None, by=integration.name)
                del alerts[pair]
        self.settle()
        return [
            Outcome(
                dedup_key=key,
                alert_id=found.id if found is not None else None,
                created=created,
                alert=found if isinstance(found, Alert) else None,
            )
            for key, found, created in results
        ]

    def _open(self, integration: Integration, event: AlertEvent, key: str) -> _Opened:
        route = self.rules.route(integration, event)
        row = _new_row(integration, event, key=key, route=route, now=self.now)
        suppressed_by = self.rules.suppression(row)
        if suppressed_by is not None:
            row["status"] = AlertStatus.SUPPRESSED.value
            row["suppressed_by"] = suppressed_by
        opened = _Opened(row=row, integration=integration)
        self.unsettled.append(opened)
        return opened

    def settle(self) -> None:
        """Write the alerts opened so far (one multi-row insert), page them, declare by rule."""
        if not self.unsettled:
            return
        opened, self.unsettled = self.unsettled, []
        ids = insert_alerts(self.session, [item.row for item in opened], self.now)
        timers = []
        for item, alert_id in zip(opened, ids, strict=True):
            item.id = alert_id
            row = item.row
            if row["status"] == AlertStatus.TRIGGERED and row["escalation_policy_id"] is not None:
                timers.append(paging.first_step(alert_id, now=self.now))
        paging.start_all(self.session, timers=timers, now=self.now)
        for item in opened:
            rule = self.rules.declare_rule(item.row)
            if rule is not None and item.id is not None:
                from fireline.alerts.declaring import declare_from_alert

                declare_from_alert(
                    self.session,
                    alert=self.session.get_one(Alert, item.id),
                    service=self.rules.service(item.row["service_id"]),
                    severity=rule.severity,
                    rule=rule,
                    now=self.now,
                )


def _key_of(event: AlertEvent) -> str:
    if event.dedup_key:
        return event.dedup_key
    return uuid.uuid4().hex if event.action == "trigger" else ""


def _mark_seen(session: Session, integrations: Sequence[Integration], now: datetime) -> None:
    """Note when each integration last sent an event, to the granularity's precision: only those
    whose stored time (as loaded) is older are written, so most batches write nothing."""
    stale = now - SEEN_GRANULARITY
    ids = sorted(
        {
            integration.id
            for integration in integrations
            if integration.id is not None
            and (integration.last_event_at is None or integration.last_event_at < stale)
        }
    )
    if not ids:
        return
    session.execute(
        update(Integration)
        .where(
            Integration.id.in_(ids),
            or_(
                Integration.last_event_at.is_(None),
                Integration.last_event_at < now - SEEN_GRANULARITY,
            ),
        )
        .values(last_event_at=now)
        .execution_options(synchronize_session=False)
    )


def _open_alerts(
    session: Session, pairs: set[tuple[int | None, str]]
) -> dict[tuple[int | None, str], Alert]:
    """The open alerts with these (integration, key) pairs, locked in id order."""
    matching = keys_clause(session, pairs)
    if matching is None:
        return {}
    found = session.scalars(
        select(Alert).where(matching, Alert.status.in_(OPEN)).order_by(Alert.id).with_for_update()
    )
    return {(alert.integration_id, alert.dedup_key): alert for alert in found}


def _new_row(
    integration: Integration, event: AlertEvent, *, key: str, route: Route, now: datetime
) -> dict[str, Any]:
    """The columns of a new alert, as the multi-row insert takes them."""
    return dict(  # noqa: C408 - the column names read best as keywords
        integration_id=integration.id,
        service_id=route.service_id,
        dedup_key=key,
        status=AlertStatus.TRIGGERED.value,
        severity=route.severity,
        summary=event.summary,
        source=event.source,
        component=event.component,
        group=event.group,
        class_=event.class_,
        labels=dict(event.labels),
        annotations=dict(event.annotations),
        details=dict(event.details),
        links=[asdict(link) for link in event.links],
        images=[asdict(image) for image in event.images],
        client=event.client,
        client_url=event.client_url,
        started_at=min(event.occurred_at or now, now),
        first_seen_at=now,
        last_seen_at=now,
        occurrences=1,
        escalation_policy_id=route.escalation_policy_id,
        escalation_level=0,
        escalation_round=0,
        suppressed_by=None,
        created_at=now,
        updated_at=now,
    )


def _repeat_row(row: dict[str, Any], event: AlertEvent, now: datetime) -> None:
    """_repeat, for an alert opened in this batch and not written yet."""
    row["occurrences"] += 1
    row["last_seen_at"] = now
    row["summary"] = event.summary or row["summary"]
    row["labels"] = dict(event.labels) or row["labels"]
    row["annotations"] = dict(event.annotations) or row["annotations"]
    if ALERT_SEVERITIES.index(event.severity) < ALERT_SEVERITIES.index(row["severity"]):
        row["severity"] = event.severity


def _repeat(alert: Alert, event: AlertEvent, now: datetime) -> None:
    """A trigger for an open alert: count it, keep the newest text, and let severity only rise."""
    alert.occurrences += 1
    alert.last_seen_at = now
    alert.updated_at = now
    alert.summary = event.summary or alert.summary
    alert.labels = dict(event.labels) or alert.labels
    alert.annotations = dict(event.annotations) or alert.annotations
    if ALERT_SEVERITIES.index(event.severity) < ALERT_SEVERITIES.index(alert.severity):
        alert.severity = event.severity


def acknowledge(
    session: Session, *, alert: Alert, now: datetime, user_id: int | None, by: str
) -> None:
    """Mark the alert acknowledged (paging stops) and say so on its log and its incident's."""
    if alert.status == AlertStatus.ACKNOWLEDGED:
        return
    alert.status = AlertStatus.ACKNOWLEDGED.value
    alert.acknowledged_at = now
    alert.acknowledged_by_id = user_id
    alert.updated_at = now
    log_event(session, alert, now, "acknowledged", f"Acknowledged by {by}.", user_id=user_id)
    if alert.incident_id is not None:
        from fireline.alerts.declaring import acknowledge_incident

        acknowledge_incident(session, alert=alert, now=now, by=by, user_id=user_id)


def resolve(session: Session, *, alert: Alert, now: datetime, user_id: int | None, by: str) -> None:
    """Mark the alert resolved: paging stops, its key is free for a new alert."""
    alert.status = AlertStatus.RESOLVED.value
    alert.resolved_at = now
    alert.resolved_by_id = user_id
    alert.updated_at = now
    log_event(session, alert, now, "resolved", f"Resolved by {by}.", user_id=user_id)


class Rules:
    """The routing rules, declare rules, silences and maintenance windows one batch applies
    (from the process's short-lived snapshot, see `fireline.alerts.rulebook`)."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self._book: rulebook.Rulebook | None = None

    @property
    def book(self) -> rulebook.Rulebook:
        if self._book is None:
            self._book = rulebook.current(self.session, self.now)
        return self._book

    def service(self, service_id: int) -> Service:
        return self.session.get_one(Service, service_id)

    def route(self, integration: Integration, event: AlertEvent) -> Route:
        """The first enabled routing rule (by position) for this integration whose conditions
        hold decides; what it leaves empty comes from the integration and its service."""
        service = integration.service
        facts = facts_of(event, integration=integration, service=service)
        for rule in self.book.routing:
            if rule.integration_id not in (None, integration.id):
                continue
            if not holds(rule.conditions, facts):
                continue
            policy = rule.escalation_policy_id
            if policy is None and rule.service_id is not None:
                policy = self.service(rule.service_id).escalation_policy_id
            return Route(
                service_id=rule.service_id or service.id,
                severity=rule.severity or event.severity,
                escalation_policy_id=policy or service.escalation_policy_id,
                rule_id=rule.id,
            )
        return Route(
            service_id=service.id,
            severity=event.severity,
            escalation_policy_id=service.escalation_policy_id,
            rule_id=None,
        )

    def suppression(self, row: dict[str, Any]) -> str | None:
        """Why this new alert (its row) must not page anyone: an active maintenance window on
        its service or a matching silence, named for its log; None when nothing suppresses it."""
        window = self.book.window_for(row["service_id"], self.now)
        if window is not None:
            return f"maintenance window {window.id} ({window.description})"
        silences = self.book.silences_at(self.now)
        if not silences:
            return None
        facts = row_facts(row, service=self.service(row["service_id"]))
        for silence in silences:
            if holds(silence.conditions, facts):
                return f"silence {silence.id} ({silence.comment})"
        return None

    def declare_rule(self, row: dict[str, Any]) -> rulebook.DeclareSpec | None:
        """The first enabled declare rule whose conditions hold for the new alert (its row)."""
        if not self.book.declare:
            return None
        facts = row_facts(row, service=self.service(row["service_id"]))
        return next((rule for rule in self.book.declare if holds(rule.conditions, facts)), None)


def facts_of(
    event: AlertEvent, *, integration: Integration, service: Service | None
) -> dict[str, Any]:
    """What conditions can test about an alert event (see fireline.alerts.conditions)."""
    return {
        "severity": event.severity,
        "summary": event.summary,
        "source": event.source,
        "component": event.component,
        "group": event.group,
        "class": event.class_,
        "dedup_key": event.dedup_key,
        "labels": event.labels,
        "annotations": event.annotations,
        "integration": integration.type,
        "service": service.slug if service is not None else None,
        "service.tier": service.tier if service is not None else None,
    }


def row_facts(row: dict[str, Any], *, service: Service | None) -> dict[str, Any]:
    """What conditions can test about a new alert, from its row."""
    return {
        "severity": row["severity"],
        "summary": row["summary"],
        "source": row["source"],
        "component": row["component"],
        "group": row["group"],
        "class": row["class_"],
        "dedup_key": row["dedup_key"],
        "labels": row["labels"],
        "annotations": row["annotations"],
        "integration": None,
        "service": service.slug if service is not None else None,
        "service.tier": service.tier if service is not None else None,
    }
