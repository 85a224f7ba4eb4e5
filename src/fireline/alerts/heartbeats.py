"""Heartbeats: a scheduled job calls its URL every interval; silence past the grace fires an alert.

Silence is counted from the last ping, or from creation for a heartbeat never pinged (a job that
never starts is as broken as one that stopped). The deadline is checked by a durable job
(`alerts.heartbeat_check`) set for each deadline as it is made: at creation, at each ping and
when the interval or grace changes. A check whose deadline has moved on (a ping came) does
nothing but make sure the later check is set, so a check may run any number of times.

A heartbeat is its own alert source: its alerts go through `fireline.alerts.service.ingest` like
any other (routing rules, maintenance windows, silences, paging by the service's escalation
policy, declare rules), from an unsaved Integration of type "heartbeat" standing for it. Such
alerts belong to no integration row (their `integration_id` is null), so they do not depend on the
service having an integration. Each heartbeat has at most one open alert, keyed
`heartbeat:<id>`: it fires when the heartbeat goes down and the next ping resolves it. Checks and
pings lock the heartbeat's row, which keeps the two from racing.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fireline.accounts.principal import Actor
from fireline.alerts import service as alerts
from fireline.alerts.events import AlertEvent, severity_from_label
from fireline.audit.service import record
from fireline.clock import as_utc
from fireline.config import Settings
from fireline.errors import NotFound
from fireline.jobs.handlers import JobContext
from fireline.jobs.queue import enqueue
from fireline.models import Heartbeat, Integration, Service

HEARTBEAT_CHECK_JOB = "alerts.heartbeat_check"
SOURCE_TYPE = "heartbeat"


class Status:
    NEW = "new"  # made, never pinged
    UP = "up"
    DOWN = "down"  # its deadline passed: its alert is open until the next ping


def ping_url(settings: Settings, heartbeat: Heartbeat) -> str:
    return f"{settings.base_url.rstrip('/')}/integrations/heartbeat/{heartbeat.key}"


def dedup_key(heartbeat: Heartbeat) -> str:
    return f"heartbeat:{heartbeat.id}"


def due_by(heartbeat: Heartbeat) -> datetime | None:
    """When silence fires the alert; None while it is down (the alert is open already)."""
    if heartbeat.status not in (Status.NEW, Status.UP):
        return None
    since = heartbeat.last_ping_at or heartbeat.created_at
    window = timedelta(minutes=heartbeat.interval_minutes + heartbeat.grace_minutes)
    return as_utc(since) + window


def _schedule_check(session: Session, heartbeat: Heartbeat, now: datetime) -> None:
    due = due_by(heartbeat)
    if due is None:
        return
    enqueue(
        session,
        kind=HEARTBEAT_CHECK_JOB,
        payload={"heartbeat_id": heartbeat.id},
        now=now,
        run_at=max(due, now),
        dedupe_key=f"heartbeat:{heartbeat.id}:check:{due.isoformat()}",
    )


def source_of(heartbeat: Heartbeat) -> Integration:
    """The unsaved integration that stands for the heartbeat when its alerts are ingested."""
    return Integration(
        id=None,
        service=heartbeat.service,
        name=f"Heartbeat “{heartbeat.name}”",
        type=SOURCE_TYPE,
        key="",
        mapping={},
        enabled=True,
    )


def _snapshot(heartbeat: Heartbeat) -> dict[str, Any]:
    return {
        "name": heartbeat.name,
        "service_id": heartbeat.service_id,
        "interval_minutes": heartbeat.interval_minutes,
        "grace_minutes": heartbeat.grace_minutes,
        "severity": heartbeat.severity,
        "status": heartbeat.status,
    }


def _audit(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    verb: str,
    heartbeat: Heartbeat,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    record(
        session,
        actor=actor,
        action=f"heartbeat.{verb}",
        entity_type="heartbeat",
        entity_id=heartbeat.id,
        at=now,
        before=before,
        after=after,
    )


def list_heartbeats(
    session: Session, *, service: Service | None = None, after_id: int | None = None, limit: int
) -> list[Heartbeat]:
    """Heartbeats in the order they were made, with their services."""
    query = (
        select(Heartbeat)
        .options(selectinload(Heartbeat.service))
        .order_by(Heartbeat.id)
        .limit(limit)
    )
    if service is not None:
        query = query.where(Heartbeat.service_id == service.id)
    if after_id is not None:
        query = query.where(Heartbeat.id > after_id)
    return list(session.scalars(query))


def _locked(session: Session, *criteria: Any) -> Heartbeat | None:
    return session.scalars(
        select(Heartbeat)
        .where(*criteria)
        .options(selectinload(Heartbeat.service))
        .with_for_update()
    ).first()


def get_heartbeat(session: Session, heartbeat_id: int) -> Heartbeat:
    heartbeat = _locked(session, Heartbeat.id == heartbeat_id)
    if heartbeat is None:
        raise NotFound(detail=f"No heartbeat {heartbeat_id}.")
    return heartbeat


def create_heartbeat(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    service: Service,
    name: str,
    interval_minutes: int,
    grace_minutes: int = 0,
    severity: str = "critical",
) -> Heartbeat:
    """A heartbeat with a fresh key; it is due its first ping within interval + grace."""
    heartbeat = Heartbeat(
        service=service,
        name=name,
        key=secrets.token_hex(16),
        interval_minutes=interval_minutes,
        grace_minutes=grace_minutes,
        severity=severity,
        status=Status.NEW,
        created_at=now,
        updated_at=now,
    )
    session.add(heartbeat)
    session.flush()
    _schedule_check(session, heartbeat, now)
    _audit(
        session,
        actor=actor,
        now=now,
        verb="create",
        heartbeat=heartbeat,
        after=_snapshot(heartbeat),
    )
    return heartbeat


def update_heartbeat(
    session: Session, *, actor: Actor, now: datetime, heartbeat: Heartbeat, changes: dict[str, Any]
) -> Heartbeat:
    """Change name, service (a Service), interval_minutes, grace_minutes or severity; a new
    interval or grace moves the deadline at once."""
    before = _snapshot(heartbeat)
    if "service" in changes:
        heartbeat.service = changes["service"]
    for name in ("name", "interval_minutes", "grace_minutes", "severity"):
        if name in changes:
            setattr(heartbeat, name, changes[name])
    heartbeat.updated_at = now
    session.flush()
    if {"interval_minutes", "grace_minutes"} & changes.keys():
        _schedule_check(session, heartbeat, now)
    _audit(
        session,
        actor=actor,
        now=now,
        verb="update",
        heartbeat=heartbeat,
        before=before,
        after=_snapshot(heartbeat),
    )
    return heartbeat


def delete_heartbeat(
    session: Session, *, actor: Actor, now: datetime, heartbeat: Heartbeat
) -> None:
    """Remove the heartbeat, resolving its open alert: nothing will ping it any more."""
    if heartbeat.status == Status.DOWN:
        _resolve_alert(session, heartbeat, now)
    _audit(
        session,
        actor=actor,
        now=now,
        verb="delete",
        heartbeat=heartbeat,
        before=_snapshot(heartbeat),
    )
    session.delete(heartbeat)
    session.flush()


def record_ping(session: Session, *, key: str, now: datetime) -> Heartbeat:
    """The heartbeat's job checked in: it is up, its alert (if it fired) is resolved, and the
    next deadline is set. NotFound for an unknown key."""
    heartbeat = _locked(session, Heartbeat.key == key)
    if heartbeat is None:
        raise NotFound(detail="No heartbeat has this key.")
    if heartbeat.status == Status.DOWN:
        _resolve_alert(session, heartbeat, now)
    heartbeat.last_ping_at = now
    heartbeat.status = Status.UP
    session.flush()
    _schedule_check(session, heartbeat, now)
    return heartbeat


def _resolve_alert(session: Session, heartbeat: Heartbeat, now: datetime) -> None:
    event = AlertEvent(
        action="resolve",
        dedup_key=dedup_key(heartbeat),
        summary="",
        severity="info",
        source="",
        occurred_at=now,
    )
    alerts.ingest(session, integration=source_of(heartbeat), event=event, now=now)


def check_heartbeat(session: Session, payload: dict[str, Any], context: JobContext) -> None:
    """The `alerts.heartbeat_check` job: fire the heartbeat's alert if its deadline has passed
    without a ping; otherwise make sure the check for its later deadline is set."""
    heartbeat = _locked(session, Heartbeat.id == payload["heartbeat_id"])
    if heartbeat is None:  # deleted since
        return
    due = due_by(heartbeat)
    if due is None:  # down already: its alert is open
        return
    if context.now < due:
        _schedule_check(session, heartbeat, context.now)
        return
    heartbeat.status = Status.DOWN
    last = heartbeat.last_ping_at
    silence = (
        "it has never been pinged"
        if last is None
        else f"last ping {as_utc(last):%Y-%m-%d %H:%M} UTC"
    )
    event = AlertEvent(
        action="trigger",
        dedup_key=dedup_key(heartbeat),
        summary=f"Heartbeat “{heartbeat.name}” missed: {silence}",
        severity=severity_from_label(heartbeat.severity) or "critical",
        source="fireline heartbeat",
        occurred_at=due,
        details={
            "heartbeat_id": heartbeat.id,
            "interval_minutes": heartbeat.interval_minutes,
            "grace_minutes": heartbeat.grace_minutes,
            "last_ping_at": None if last is None else as_utc(last).isoformat(),
        },
    )
    alerts.ingest(session, integration=source_of(heartbeat), event=event, now=context.now)
