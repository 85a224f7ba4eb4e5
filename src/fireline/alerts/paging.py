"""Paging: an alert's escalation policy pages level after level until someone acknowledges.

A triggered alert pages level 1 at once. Each level waits its `delay_minutes`; if the alert is
still unacknowledged then, the next level is paged, and after the last level the policy starts
again from level 1 while it has repeats left. Acknowledging or resolving the alert stops it:
every step is a durable job that first checks the alert is still triggered, so a step whose
moment comes after the acknowledgement does nothing. Steps are idempotent: a step already taken
(the alert's recorded level and round are at or past it) is not taken twice.

Pages go to each person's contact methods through the notification channels, with signed links
to acknowledge or resolve without signing in (see `fireline.alerts.links`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fireline.alerts import links
from fireline.alerts.history import log_event
from fireline.config import Settings
from fireline.jobs.handlers import Handler, JobContext
from fireline.jobs.queue import Timer, enqueue_timers
from fireline.models import Alert, AlertStatus, EscalationLevel, EscalationPolicy, Service, User
from fireline.notify.notice import Notice
from fireline.notify.service import Occasion, notify_user
from fireline.oncall.policies import targets_at

ESCALATE_JOB = "alerts.escalate"
PAGE_EVENT = "alert.page"


def first_step(alert_id: int, *, now: datetime) -> Timer:
    """The timer that pages a new alert's level 1 now (its policy must be set)."""
    return _timer(alert_id, level=1, round_=0, at=now)


def start_all(session: Session, *, timers: list[Timer], now: datetime) -> None:
    """Begin paging for new alerts, one batched insert for them all."""
    enqueue_timers(session, timers=timers, now=now)


def _timer(alert_id: int, *, level: int, round_: int, at: datetime) -> Timer:
    return Timer(
        kind=ESCALATE_JOB,
        payload={"alert_id": alert_id, "level": level, "round": round_},
        run_at=at,
        dedupe_key=f"alert:{alert_id}:page:{round_}:{level}",
    )


def make_escalate(settings: Settings) -> Handler:
    """The `alerts.escalate` handler, signing its links with the server's secret."""

    def escalate(session: Session, payload: dict[str, Any], context: JobContext) -> None:
        page_level(
            session,
            alert_id=int(payload["alert_id"]),
            level=int(payload["level"]),
            round_=int(payload["round"]),
            now=context.now,
            settings=settings,
        )

    return escalate


def page_level(
    session: Session, *, alert_id: int, level: int, round_: int, now: datetime, settings: Settings
) -> list[User]:
    """Page the people of the alert's policy level `level` (round `round_`), and set the next
    step; returns who was paged (nobody when the alert no longer needs it)."""
    alert = session.scalars(select(Alert).where(Alert.id == alert_id).with_for_update()).first()
    if alert is None or alert.status != AlertStatus.TRIGGERED:
        return []
    if (alert.escalation_round, alert.escalation_level) >= (round_, level):
        return []  # this step ran already
    policy = _policy(session, alert.escalation_policy_id)
    if policy is None or not policy.levels:
        log_event(
            session, alert, now, "unpaged", "Nobody paged: the escalation policy has no levels."
        )
        return []
    if level > len(policy.levels):
        return []  # the policy lost levels since this step was set
    step = policy.levels[level - 1]
    people = targets_at(session, level=step, at=now)
    alert.escalation_level = level
    alert.escalation_round = round_
    alert.updated_at = now
    if not people:
        log_event(session, alert, now, "unpaged", f"Level {level} has nobody to page.", level=level)
    for person in people:
        _page(session, alert=alert, person=person, level=level, round_=round_, now=now, s=settings)
    following = _next(policy, level=level, round_=round_)
    if following is not None:
        at = now + timedelta(minutes=step.delay_minutes)
        timer = _timer(alert.id, level=following[0], round_=following[1], at=at)
        enqueue_timers(session, timers=[timer], now=now)
    return people


def _next(policy: EscalationPolicy, *, level: int, round_: int) -> tuple[int, int] | None:
    if level < len(policy.levels):
        return level + 1, round_
    if round_ < policy.repeat:
        return 1, round_ + 1
    return None


def _policy(session: Session, policy_id: int | None) -> EscalationPolicy | None:
    if policy_id is None:
        return None
    return session.scalars(
        select(EscalationPolicy)
        .where(EscalationPolicy.id == policy_id)
        .options(selectinload(EscalationPolicy.levels).selectinload(EscalationLevel.targets))
    ).first()


def _page(
    session: Session,
    *,
    alert: Alert,
    person: User,
    level: int,
    round_: int,
    now: datetime,
    s: Settings,
) -> None:
    notify_user(
        session,
        user=person,
        notice=page_notice(session, alert=alert, person=person, level=level, settings=s, now=now),
        occasion=Occasion(
            reason=f"Page for alert #{alert.id} (level {level})",
            key=f"page:{alert.id}:{round_}:{level}:{person.id}",
        ),
        now=now,
    )
    log_event(
        session,
        alert,
        now,
        "paged",
        f"Paged {person.name} (level {level}" + (f", repeat {round_}" if round_ else "") + ").",
        user_id=person.id,
        level=level,
    )


def page_notice(
    session: Session, *, alert: Alert, person: User, level: int, settings: Settings, now: datetime
) -> Notice:
    """What a page says: the alert in one line, its facts, and its one-click actions."""
    service = session.get(Service, alert.service_id)
    base = settings.base_url.rstrip("/")
    return Notice(
        event=PAGE_EVENT,
        headline=f"[{alert.severity.upper()}] {alert.summary}",
        body=alert.annotations.get("description", "") if alert.annotations else "",
        facts=(
            ("Service", service.name if service is not None else "?"),
            ("Severity", alert.severity),
            ("Source", alert.source or "unknown"),
            ("Started", alert.started_at.strftime("%Y-%m-%d %H:%M UTC")),
            ("Occurrences", str(alert.occurrences)),
            ("Escalation level", str(level)),
        ),
        actions=(
            ("Acknowledge", links.action_url(settings, alert.id, person.id, "acknowledge", now)),
            ("Resolve", links.action_url(settings, alert.id, person.id, "resolve", now)),
            ("Open in Fireline", f"{base}/alerts/{alert.id}"),
        ),
    )
