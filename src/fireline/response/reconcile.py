"""The reconcile pass: set again any response timer that has gone missing.

Every write that can move a clock sets its timers, so a timer goes missing only when something
off that path removes it: a job row deleted by hand, a database restored from an older backup, a
bug. The periodic `response.reconcile` job walks the incidents that can still owe something and
asks schedule_clock_timers() for each, which adds only what no pending job holds: on a healthy
database the pass adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.incidents.lifecycle import Status
from fireline.incidents.queries import with_details
from fireline.jobs.queue import enqueue
from fireline.models import Incident
from fireline.response.timers import schedule_clock_timers

if TYPE_CHECKING:
    from fireline.jobs.handlers import JobContext

log = structlog.get_logger()

RECONCILE_JOB = "response.reconcile"
# Incidents per transaction: their rows stay locked while their timers are planned.
BATCH = 50
# Incidents in these statuses owe nothing (a reopen sets their timers again).
_DONE = (Status.CLOSED.value, Status.DECLINED.value)


@dataclass(frozen=True)
class Reconciled:
    """What one batch of the pass did."""

    incident_ids: list[int]  # the incidents looked at, in id order
    healed: dict[str, int]  # timers set again, by incident reference


def reconcile_timers(
    session: Session, *, now: datetime, after_id: int = 0, limit: int = BATCH
) -> Reconciled:
    """Sets again, in the caller's transaction, the missing timers of up to `limit` incidents
    that are neither closed nor declined, taking those after `after_id` in id order.

    An incident another transaction has locked is skipped: that transaction is changing it and
    sets its timers itself (and the next pass looks at it again)."""
    ids = list(
        session.scalars(
            select(Incident.id)
            .where(Incident.status.not_in(_DONE), Incident.id > after_id)
            .order_by(Incident.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return Reconciled(incident_ids=[], healed={})
    incidents = session.scalars(
        with_details(select(Incident))
        .where(Incident.id.in_(ids))
        .order_by(Incident.id)
        .execution_options(populate_existing=True)
    ).all()
    healed: dict[str, int] = {}
    for incident in incidents:
        added = schedule_clock_timers(session, incident=incident, now=now)
        if added:
            healed[incident.reference] = len(added)
    return Reconciled(incident_ids=ids, healed=healed)


def reconcile(session: Session, payload: dict[str, Any], context: JobContext) -> None:
    """The `response.reconcile` handler: one batch of incidents after `after_id` (payload, 0 by
    default). When the batch was full it enqueues a job for the next one, so that each batch
    commits, and releases its incidents, on its own."""
    limit = int(payload.get("batch", BATCH))
    done = reconcile_timers(
        session, now=context.now, after_id=int(payload.get("after_id", 0)), limit=limit
    )
    if done.healed:
        # Worth a look: something removed timers that the writes had set.
        log.warning("clock_timers_reconciled", timers_by_incident=done.healed)
    if len(done.incident_ids) == limit:
        last = done.incident_ids[-1]
        enqueue(
            session,
            kind=RECONCILE_JOB,
            payload={**payload, "after_id": last},
            now=context.now,
            dedupe_key=f"{RECONCILE_JOB}:after:{last}",
        )
