"""The `notify.deliver` job: send one delivery, and log the attempt whatever happens.

Each attempt is a DeliveryAttempt row committed with the job's outcome, so a failing receiver
leaves its trail in the log. A transient failure retries the job with backoff (RetryLater
keeps the logged attempt); a permanent one (a 4xx answer, a refused address) fails the
delivery at once; running out of attempts fails it and leaves the job dead for an admin to
retry. A delivery already delivered is never sent again, whatever runs the job twice."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.config import Settings
from fireline.jobs.handlers import Handler, JobContext, RetryLater
from fireline.models import (
    Audience,
    Channel,
    ContactMethod,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
)
from fireline.models.notify import Transport
from fireline.notify import transports
from fireline.notify.transports import Outcome

log = structlog.get_logger()

_DONE = (DeliveryState.DELIVERED.value, DeliveryState.SKIPPED.value)


def make_deliver(settings: Settings) -> Handler:
    """The handler, bound to the settings that say how to reach the SMTP server and webhooks."""

    def deliver(session: Session, payload: dict[str, Any], context: JobContext) -> None:
        delivery = session.scalars(
            select(Delivery)
            .where(Delivery.id == int(payload["delivery_id"]))
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if delivery is None or delivery.state in _DONE:
            return
        started = time.monotonic()
        outcome = _send(session, settings, delivery, context.now)
        elapsed_ms = round((time.monotonic() - started) * 1000)
        _log_attempt(session, delivery, outcome, context.now, elapsed_ms)
        if outcome.ok:
            return
        last = context.attempt >= context.max_attempts
        if outcome.permanent or last:
            delivery.state = DeliveryState.FAILED.value
        if outcome.permanent:
            return  # retrying cannot help; the log says why
        if not last:
            delivery.state = DeliveryState.RETRYING.value
        raise RetryLater(outcome.error or "delivery failed")

    return deliver


def _send(session: Session, settings: Settings, delivery: Delivery, now: datetime) -> Outcome:
    transport = Transport(delivery.transport or Transport.EMAIL)
    if transport is Transport.EMAIL:
        return transports.send_email(
            settings,
            to=delivery.target,
            message=delivery.message,
            message_id=f"<delivery-{delivery.id}@fireline>",
        )
    if transport is Transport.SLACK:
        return transports.post_slack(settings, url=delivery.target, message=delivery.message)
    return transports.post_webhook(
        settings,
        url=delivery.target,
        message=delivery.message,
        secret=_secret(session, delivery),
        delivery_id=delivery.id,
        event=delivery.event,
        now=now,
    )


def _secret(session: Session, delivery: Delivery) -> str | None:
    """The destination's signing secret as it is now (it may have been rotated since)."""
    if delivery.channel_id is not None:
        channel = session.get(Channel, delivery.channel_id)
        return channel.secret if channel is not None else None
    if delivery.contact_method_id is not None:
        method = session.get(ContactMethod, delivery.contact_method_id)
        return method.secret if method is not None else None
    if delivery.audience_id is not None:
        audience = session.get(Audience, delivery.audience_id)
        return audience.secret if audience is not None else None
    return None


def _log_attempt(
    session: Session, delivery: Delivery, outcome: Outcome, now: datetime, elapsed_ms: int
) -> None:
    delivery.attempts += 1
    delivery.updated_at = now
    delivery.last_error = outcome.error
    if outcome.ok:
        delivery.state = DeliveryState.DELIVERED.value
        delivery.delivered_at = now
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            at=now,
            succeeded=outcome.ok,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=elapsed_ms,
        )
    )
    session.flush()
    log.info(
        "delivery_attempt",
        delivery_id=delivery.id,
        transport=delivery.transport,
        attempt=delivery.attempts,
        ok=outcome.ok,
        status_code=outcome.status_code,
        error=outcome.error,
    )
