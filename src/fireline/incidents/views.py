"""The incident page: what a responder needs during an incident on one screen, and the partials
that keep it live (htmx re-fetches a section when the live stream says the incident changed).

Reading is here; the forms that change the incident post to action_views.py, which re-renders
a section from here with what the person typed when a change is refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload
from starlette.convertors import Convertor, register_url_convertor

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.alerts.changes import changes_before_impact
from fireline.api.deps import AppClock, DbSession
from fireline.api.pagination import decode_time_cursor, encode_time_cursor
from fireline.clock import as_utc
from fireline.comms.public_incidents import public_incident_for
from fireline.errors import AppError, Conflict, FieldProblem, InvalidInput, NotFound
from fireline.incidents import service, severities
from fireline.incidents.lifecycle import (
    ALLOWED_TRANSITIONS,
    Status,
    can_transition,
    is_reopen,
    resolution_blockers,
)
from fireline.incidents.roles import holder
from fireline.incidents.severity_assistant import CustomerImpact, SeverityProposal
from fireline.incidents.timeline import list_threads
from fireline.models import (
    SINGLE_HOLDER_ROLES,
    ChangeEvent,
    Incident,
    IncidentTask,
    RoleAssignment,
    TimelineEntry,
    TimelineThread,
    User,
)
from fireline.models.comms import ENDED_STATUSES
from fireline.response.clocks import Obligation, ObligationState
from fireline.response.playbooks import checklist
from fireline.response.playbooks.schemas import TaskState
from fireline.response.service import INTERNAL, PUBLIC, obligations
from fireline.web.deps import WebUser, require
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)

TIMELINE_PAGE = 100  # newest entries first; older ones a link away
MAX_PEOPLE = 500  # people offered when assigning a role; anyone else by typing their email
STATUS_ORDER = tuple(Status)


class IncidentRefConvertor(Convertor[str]):
    """Matches only an incident reference (`INC-42` or `42`), so /incidents/new and the like
    stay free for other pages whatever order the routers are included in."""

    regex = "[Ii][Nn][Cc]-[0-9]{1,18}|[0-9]{1,18}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("incident_ref", IncidentRefConvertor())
INCIDENT = "/incidents/{ref:incident_ref}"

# The page's sections, each re-rendered on its own by htmx; the name is also the element's id.
SECTIONS: Mapping[str, str] = {
    "summary": "incidents/_summary.html",
    "controls": "incidents/_controls.html",
    "roles": "incidents/_roles.html",
    "obligations": "incidents/_obligations.html",
    "tasks": "incidents/_tasks.html",
    "composer": "incidents/_composer.html",
    "timeline": "incidents/_timeline.html",
    "older": "incidents/_entries.html",
    "updates": "incidents/_updates.html",
    "resolve": "incidents/_resolve.html",
}


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@dataclass(frozen=True)
class FormState:
    """One form as it is shown again: what was typed, and what was wrong with it."""

    values: Mapping[str, str] = field(default_factory=dict)
    detail: str = ""
    problems: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def refused(
        cls, values: Mapping[str, str], error: AppError, aliases: Mapping[str, str]
    ) -> FormState:
        """The form with `error` explained; `aliases` name the form field a service's problem
        is about when the service calls it something else (a decline's `reason` is the note)."""
        problems = {aliases.get(p.field, p.field): p.message for p in error.errors}
        detail = error.detail
        if error.status == 422 and problems:  # "field: message; …" reads better beside each field
            detail = "Nothing was saved: correct what is marked below."
        return cls(values=values, detail=detail, problems=problems)

    @property
    def failed(self) -> bool:
        return bool(self.detail)

    def value(self, name: str, default: str = "") -> str:
        """What was typed into `name`, or `default` when the form is shown fresh."""
        return self.values.get(name, "") if self.values else default

    def checked(self, name: str, default: bool) -> bool:
        return self.values.get(name) in {"true", "on"} if self.values else default

    def problem(self, name: str) -> str:
        return self.problems.get(name, "")

    def unplaced(self, shown: tuple[str, ...]) -> list[str]:
        """Problems about fields this form does not show, so they are listed at its top."""
        return [message for name, message in self.problems.items() if name not in shown]


@dataclass(frozen=True)
class UpdatePreview:
    """A status update as it would read, with what to reconsider before posting it."""

    text: str
    warnings: list[str]


@dataclass(frozen=True)
class UpdateDraft:
    """What an update form starts with: a sketch from the incident's record, to be edited."""

    current_impact: str
    doing_now: str
    users_should: str


@dataclass(frozen=True)
class TimelineFilter:
    thread: str = ""
    kind: str = ""
    pinned: bool = False
    before: str = ""

    def query(self, *, before: str | None = None) -> str:
        """The filter as a query string, starting from another page when `before` is given."""
        values = {
            "thread": self.thread,
            "kind": self.kind,
            "pinned": "true" if self.pinned else "",
            "before": self.before if before is None else before,
        }
        return urlencode({name: value for name, value in values.items() if value})


def _timeline_filter(
    thread: Annotated[str, Query(max_length=100)] = "",
    kind: Annotated[str, Query(max_length=30)] = "",
    pinned: bool = False,
    before: Annotated[str, Query(max_length=200)] = "",
) -> TimelineFilter:
    return TimelineFilter(thread=thread.strip(), kind=kind.strip(), pinned=pinned, before=before)


Filters = Annotated[TimelineFilter, Depends(_timeline_filter)]


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    older: str | None  # the cursor of the next older page, when there is one
    problem: str = ""


@dataclass(frozen=True)
class TaskRow:
    task: IncidentTask
    state: TaskState
    late: bool


@dataclass(frozen=True)
class Phase:
    name: str
    tasks: list[TaskRow]


@dataclass(frozen=True)
class RoleRow:
    role: str
    holders: list[RoleAssignment]


def incident_version(session: Session, incident_id: int) -> str | None:
    """A token that changes whenever the incident does (a field, a timeline entry, a pin), or
    None when there is no such incident: what the live stream compares, in one query."""
    newest = (
        select(func.max(TimelineEntry.id))
        .where(TimelineEntry.incident_id == incident_id)
        .scalar_subquery()
    )
    pins = (
        select(func.count(TimelineEntry.id))
        .where(TimelineEntry.incident_id == incident_id, TimelineEntry.pinned.is_(True))
        .scalar_subquery()
    )
    row = session.execute(
        select(Incident.updated_at, newest, pins).where(Incident.id == incident_id)
    ).one_or_none()
    if row is None:
        return None
    updated_at, newest_id, pinned = row
    return f"{as_utc(updated_at):%Y%m%d%H%M%S%f}-{newest_id or 0}-{pinned}"


def newest_entries(
    session: Session,
    incident: Incident,
    *,
    thread_id: int | None,
    kind: str,
    pinned: bool,
    before: tuple[datetime, int] | None,
    limit: int,
) -> list[TimelineEntry]:
    """Timeline entries newest first (the page's reading order), older than `before`."""
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id)
        .options(joinedload(TimelineEntry.thread), joinedload(TimelineEntry.author))
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
        .limit(limit)
    )
    if thread_id is not None:
        query = query.where(TimelineEntry.thread_id == thread_id)
    if kind:
        query = query.where(TimelineEntry.kind == kind)
    if pinned:
        query = query.where(TimelineEntry.pinned.is_(True))
    if before is not None:
        instant, last_id = before
        query = query.where(
            (TimelineEntry.occurred_at < instant)
            | ((TimelineEntry.occurred_at == instant) & (TimelineEntry.id < last_id))
        )
    return list(session.scalars(query))


class IncidentPage:
    """What the incident page shows. The incident comes loaded; every other part is read the
    first time a template asks for it, so a section re-fetched alone costs only its own queries."""

    def __init__(
        self,
        db: Session,
        *,
        incident: Incident,
        me: Principal,
        now: datetime,
        filters: TimelineFilter | None = None,
        forms: Mapping[str, FormState] | None = None,
        previews: Mapping[str, UpdatePreview] | None = None,
        proposal: SeverityProposal | None = None,
    ) -> None:
        self.db = db
        self.incident = incident
        self.me = me
        self.now = now
        self.filters = filters or TimelineFilter()
        self.forms = forms or {}
        self.previews = previews or {}
        self.proposal = proposal

    @property
    def ref(self) -> str:
        return self.incident.reference

    @property
    def url(self) -> str:
        return f"/incidents/{self.ref}"

    @property
    def can_write(self) -> bool:
        return self.me.can(Permission.INCIDENTS_WRITE)

    def form(self, name: str) -> FormState:
        return self.forms.get(name) or FormState()

    @property
    def commander(self) -> RoleAssignment | None:
        return holder(self.incident, "commander")

    @property
    def roles(self) -> list[RoleRow]:
        held = [a for a in self.incident.roles if a.ended_at is None]
        return [
            RoleRow(role, [a for a in held if a.role == role])
            for role in (*SINGLE_HOLDER_ROLES, "sme")
        ]

    @property
    def next_statuses(self) -> list[tuple[Status, str]]:
        """Where the status may go from here, with how to say it; resolving has its own form."""
        current = Status(self.incident.status)
        allowed = ALLOWED_TRANSITIONS[current] - {Status.RESOLVED}
        return [
            (status, f"{status.value} (reopen)" if is_reopen(current, status) else status.value)
            for status in STATUS_ORDER
            if status in allowed
        ]

    @cached_property
    def severity_choices(self) -> list[tuple[str, str]]:
        return [(s.key, f"{s.key} — {s.name}") for s in severities.list_severities(self.db)]

    @property
    def impact_choices(self) -> list[CustomerImpact]:
        return list(CustomerImpact)

    @cached_property
    def people(self) -> list[User]:
        query = select(User).where(User.is_active.is_(True)).order_by(User.name, User.id)
        return list(self.db.scalars(query.limit(MAX_PEOPLE)))

    @cached_property
    def changes(self) -> list[ChangeEvent]:
        return changes_before_impact(self.db, incident=self.incident, now=self.now)

    @cached_property
    def obligations(self) -> list[Obligation]:
        try:
            return obligations(self.db, self.incident, self.now)
        except Conflict:  # a record the planner cannot read still shows the rest of the page
            return []

    def waivable(self, obligation: Obligation) -> bool:
        return obligation.state in (ObligationState.PENDING, ObligationState.MISSED)

    @cached_property
    def phases(self) -> list[Phase]:
        """The checklist grouped by phase, phases in the order their first task comes."""
        grouped: dict[str, list[TaskRow]] = {}
        for task in checklist.list_tasks(self.db, self.incident):
            row = TaskRow(task, checklist.task_state(task, self.now), checklist.is_late(task))
            grouped.setdefault(task.phase or "Other tasks", []).append(row)
        return [Phase(name, rows) for name, rows in grouped.items()]

    @cached_property
    def threads(self) -> list[TimelineThread]:
        return list_threads(self.db, self.incident)

    @property
    def thread_choices(self) -> list[tuple[str, str]]:
        """Where a note can go: the command thread (the default) or a subsystem's thread."""
        named = [(t.name, t.name) for t in self.threads if not t.is_command]
        return [("", "Command"), *named]

    @cached_property
    def kinds(self) -> list[str]:
        query = (
            select(TimelineEntry.kind)
            .where(TimelineEntry.incident_id == self.incident.id)
            .distinct()
            .order_by(TimelineEntry.kind)
        )
        return list(self.db.scalars(query))

    @cached_property
    def timeline(self) -> TimelinePage:
        problems = []
        thread_id = None
        if self.filters.thread:
            named = [t for t in self.threads if t.name == self.filters.thread]
            if named:
                thread_id = named[0].id
            else:
                problems.append(f"There is no thread named “{self.filters.thread}”.")
        try:
            before = decode_time_cursor(self.filters.before)
        except InvalidInput:
            before = None
            problems.append("That link to older entries is broken; showing the newest.")
        entries = newest_entries(
            self.db,
            self.incident,
            thread_id=thread_id,
            kind=self.filters.kind,
            pinned=self.filters.pinned,
            before=before,
            limit=TIMELINE_PAGE + 1,
        )
        shown = entries[:TIMELINE_PAGE]
        older = None
        if len(entries) > TIMELINE_PAGE:
            older = encode_time_cursor(shown[-1].occurred_at, shown[-1].id)
        return TimelinePage(entries=shown, older=older, problem=" ".join(problems))

    @cached_property
    def blockers(self) -> list[FieldProblem]:
        """What the resolution gate still needs, as the resolution check reports it."""
        facts = service.resolution_facts(self.incident, self.now)
        found = resolution_blockers(facts)
        current = Status(self.incident.status)
        if not can_transition(current, Status.RESOLVED):
            found.insert(
                0, FieldProblem("status", f"A {current.value} incident cannot be resolved.")
            )
        return found

    @cached_property
    def version(self) -> str:
        return incident_version(self.db, self.incident.id) or ""

    @property
    def next_update_default(self) -> str:
        """A next update time to start from: one update cadence from now, in UTC."""
        minutes = self.incident.severity.update_cadence_minutes or 30
        instant = as_utc(self.now).replace(second=0, microsecond=0) + timedelta(minutes=minutes)
        return local_input(instant)

    def update_draft(self, audience: str) -> UpdateDraft:
        incident = self.incident
        impact = incident.customer_impact or f"Some customers are affected by: {incident.title}."
        if audience == PUBLIC:
            return UpdateDraft(
                current_impact=impact,
                doing_now="Our engineers are working to restore service.",
                users_should="No action is needed from you; we will update this page by the time "
                "below.",
            )
        commander = self.commander
        command = f"; {commander.user.name} is commanding" if commander else ""
        return UpdateDraft(
            current_impact=impact,
            doing_now=f"{incident.severity.key}, {incident.status}{command}.",
            users_should="",
        )

    @staticmethod
    def local_input(instant: datetime | None) -> str:
        return local_input(instant)

    def preview(self, audience: str) -> UpdatePreview | None:
        return self.previews.get(audience)

    @cached_property
    def audiences(self) -> tuple[str, ...]:
        """The update forms shown: a published incident's public updates are composed in the
        status page section (comms/incident_views.py), with its status and components."""
        public = public_incident_for(self.db, self.incident)
        if public is not None and public.status not in ENDED_STATUSES:
            return (INTERNAL,)
        return PUBLIC, INTERNAL


def local_input(instant: datetime | None) -> str:
    """The instant as a datetime-local field shows it: UTC, to the minute."""
    return "" if instant is None else as_utc(instant).strftime("%Y-%m-%dT%H:%M")


def render_page(request: Request, view: IncidentPage, status_code: int = 200) -> HTMLResponse:
    context = {"view": view, "nav": "incidents"}
    return page(request, "incidents/detail.html", context, status_code=status_code)


def render_section(
    request: Request, view: IncidentPage, section: str, status_code: int = 200
) -> HTMLResponse:
    return page(request, SECTIONS[section], {"view": view}, status_code=status_code)


@router.get(INCIDENT)
def incident_page(
    ref: str, request: Request, me: WebUser, db: DbSession, clock: AppClock, filters: Filters
) -> HTMLResponse:
    """The whole incident page; `before` shows an older page of the timeline."""
    require(me, Permission.INCIDENTS_READ)
    incident = service.get_incident(db, ref)
    view = IncidentPage(db, incident=incident, me=me, now=clock.now(), filters=filters)
    return render_page(request, view)


@router.get(INCIDENT + "/partials/{section}")
def incident_section(
    ref: str,
    section: str,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    filters: Filters,
) -> HTMLResponse:
    """One section of the page, fresh: what htmx swaps in when the incident changes."""
    require(me, Permission.INCIDENTS_READ)
    if section not in SECTIONS:
        raise NotFound(detail=f"The incident page has no section '{section}'.")
    incident = service.get_incident(db, ref)
    view = IncidentPage(db, incident=incident, me=me, now=clock.now(), filters=filters)
    return render_section(request, view, section)
