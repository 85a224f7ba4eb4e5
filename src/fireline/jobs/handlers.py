"""What a job handler is, and the handlers Fireline ships. Domains add theirs by kind name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from fireline.config import Settings

PING = "fireline.ping"


@dataclass(frozen=True)
class JobContext:
    """What a handler knows about the run it is part of."""

    now: datetime
    job_id: int
    attempt: int  # 1 on the first run; a handler may run again for the same job
    max_attempts: int = 8  # the job is dead if the attempt numbered this one fails


class RetryLater(Exception):
    """Raised by a handler whose attempt failed but whose work so far must be kept: the worker
    commits the handler's changes (a delivery attempt in the log, say) and retries the job
    after the usual backoff, or marks it dead when it has used its attempts."""


class Handler(Protocol):
    def __call__(self, session: Session, payload: dict[str, Any], context: JobContext) -> None:
        """Do the job's work in `session`, whose transaction also marks the job succeeded.

        Raise to fail the attempt: its database changes are rolled back and the job is retried
        later. Handlers must be idempotent, because a job may run more than once (a worker that
        dies after the work but before the commit)."""
        ...


def ping(session: Session, payload: dict[str, Any], context: JobContext) -> None:
    """Does nothing: proves a worker is taking jobs (`fireline jobs ping`)."""


def default_handlers(settings: Settings | None = None) -> dict[str, Handler]:
    """The built-in handlers by job kind; a new mapping each call, so callers may extend it.
    `settings` say how notices are sent and linked (the defaults when not given)."""
    # Imported here: the domains' handlers import this module for JobContext and Handler.
    from fireline.alerts.heartbeats import HEARTBEAT_CHECK_JOB, check_heartbeat
    from fireline.alerts.paging import ESCALATE_JOB, make_escalate
    from fireline.comms.maintenance import make_handlers as maintenance_handlers
    from fireline.comms.stakeholders import EXEC_NOTICE_JOB, make_send_exec_notice
    from fireline.jobs.prune import PRUNE_JOB, prune
    from fireline.notify.deliver import make_deliver
    from fireline.response.automation import AUTOMATION_JOB, make_run_rule
    from fireline.response.playbooks.tasks import TASK_DUE_JOB, fire_task_due
    from fireline.response.reconcile import RECONCILE_JOB, reconcile
    from fireline.response.timers import CLOCK_JOB, fire_clock

    settings = settings or Settings()
    return {
        PING: ping,
        CLOCK_JOB: fire_clock,
        "notify.deliver": make_deliver(settings),
        AUTOMATION_JOB: make_run_rule(settings),
        TASK_DUE_JOB: fire_task_due,
        RECONCILE_JOB: reconcile,
        PRUNE_JOB: prune,
        ESCALATE_JOB: make_escalate(settings),
        HEARTBEAT_CHECK_JOB: check_heartbeat,
        EXEC_NOTICE_JOB: make_send_exec_notice(settings),
        **maintenance_handlers(settings),
    }


def quick_kinds() -> frozenset[str]:
    """The kinds whose handlers only touch the database and take milliseconds: a worker lets a
    run of them share one commit (see Worker). Any other kind, in particular one that calls out
    to another system, commits alone, so that its wait holds back no other job's commit."""
    from fireline.comms.maintenance import END_JOB, REMINDER_JOB, START_JOB
    from fireline.response.playbooks.tasks import TASK_DUE_JOB
    from fireline.response.timers import CLOCK_JOB

    # The maintenance jobs only queue deliveries (notify.deliver jobs) besides their rows.
    return frozenset({PING, CLOCK_JOB, TASK_DUE_JOB, START_JOB, END_JOB, REMINDER_JOB})
