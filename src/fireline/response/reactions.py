"""What follows a change to an incident, in the same transaction: its clocks' timers are set
again, the playbooks it now matches are attached, and the automation rules listening for the
change are queued."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fireline.comms.stakeholders import exec_notice_wanted
from fireline.incidents.lifecycle import Status
from fireline.models import Incident
from fireline.response import automation
from fireline.response.playbooks.service import attach_matching
from fireline.response.timers import schedule_clock_timers
from fireline.response.triggers import Event, Trigger


def after_change(
    session: Session,
    *,
    incident: Incident,
    now: datetime,
    trigger: Trigger | None = None,
    details: dict[str, Any] | None = None,
    also: Sequence[Trigger] = (),
) -> None:
    """Call after every write that may move an incident's clocks, playbooks or rules; with a
    trigger (and `also` others, sharing its details), the rules listening for it run. Each
    call is its own occurrence."""
    schedule_clock_timers(session, incident=incident, now=now)
    attach_matching(session, incident=incident, now=now)
    for each in (*([trigger] if trigger is not None else []), *also):
        event = Event(trigger=each, key=uuid.uuid4().hex, details=details or {})
        automation.fire(session, incident=incident, event=event, now=now)
        if each in (Trigger.INCIDENT_DECLARED, Trigger.SEVERITY_CHANGED):
            exec_notice_wanted(session, incident=incident, now=now)


def after_status_change(
    session: Session, *, incident: Incident, now: datetime, before: str
) -> None:
    """after_change for a status change from `before`: the status trigger, and the declaration
    trigger too when the incident left triage for an active status."""
    if incident.status == before:
        after_change(session, incident=incident, now=now)
        return
    declared = before == Status.TRIAGE.value and incident.status != Status.DECLINED.value
    after_change(
        session,
        incident=incident,
        now=now,
        trigger=Trigger.STATUS_CHANGED,
        details={"from": before, "to": incident.status},
        also=[Trigger.INCIDENT_DECLARED] if declared else [],
    )
