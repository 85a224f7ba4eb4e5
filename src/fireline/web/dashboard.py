"""The dashboard: every active incident, who commands it, and what it owes next."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fireline.api.deps import AppClock, DbSession
from fireline.errors import Conflict
from fireline.incidents.lifecycle import Status
from fireline.incidents.queries import IncidentFilter, list_incidents
from fireline.incidents.roles import holder
from fireline.models import Incident
from fireline.response.clocks import Obligation, ObligationState
from fireline.response.service import obligations
from fireline.web.deps import WebUser
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)
ACTIVE = (Status.TRIAGE, Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING)
MAX_SHOWN = 200


@dataclass(frozen=True)
class ActiveIncident:
    incident: Incident
    commander: str | None
    next_obligation: Obligation | None


def _next_owed(owed: list[Obligation]) -> Obligation | None:
    """The most pressing obligation: an overdue one first, else the soonest due."""
    open_ = [o for o in owed if o.state in (ObligationState.PENDING, ObligationState.MISSED)]
    return min(open_, key=lambda o: (o.state is not ObligationState.MISSED, o.due_at), default=None)


@router.get("/")
def dashboard(request: Request, me: WebUser, db: DbSession, clock: AppClock) -> Response:
    now = clock.now()
    incidents = list_incidents(
        db, where=IncidentFilter(statuses=ACTIVE), after_id=None, limit=MAX_SHOWN
    )
    rows = []
    for incident in sorted(incidents, key=lambda i: (i.severity.level, -i.id)):
        assignment = holder(incident, "commander")
        try:
            owed = obligations(db, incident, now)
        except Conflict:
            owed = []
        rows.append(
            ActiveIncident(
                incident=incident,
                commander=assignment.user.name if assignment else None,
                next_obligation=_next_owed(owed),
            )
        )
    return page(request, "dashboard.html", {"nav": "dashboard", "rows": rows})
