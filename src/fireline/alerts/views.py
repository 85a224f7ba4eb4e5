"""The alert pages: the list (open alerts unless asked otherwise), one alert with its log, and
what responders press on them: acknowledge, resolve, link to an incident.

An action asked by htmx answers with the alert's row, so the list updates in place; a plain
form post answers with a redirect back to the page it came from. The routes live under
`/alerts/{id}/actions/…`: `/alerts/{id}/{action}` belongs to the signed links in pages
(link_views)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.alerts import service
from fireline.alerts.events import ALERT_SEVERITIES
from fireline.alerts.history import history_of
from fireline.api.deps import AppClock, DbSession
from fireline.api.pagination import decode_id_cursor, encode_id_cursor
from fireline.catalog import service as catalog
from fireline.errors import AppError, FieldProblem, InvalidInput, NotFound
from fireline.incidents.queries import get_incident
from fireline.incidents.views import is_htmx
from fireline.models import Alert, AlertStatus, Incident, User
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import PostedForm, RowId, all_or_nothing, text_of
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)

ALERTS = "/alerts"
PAGE_SIZE = 50
MAX_SEARCH = 200  # as the API
STATUSES = [status.value for status in AlertStatus]
OPEN = list(service.OPEN)
Many = Annotated[list[str] | None, Query()]
PAST = {"acknowledge": "acknowledged", "resolve": "resolved"}
# What the alert page says after a redirect, by its `done` parameter: fixed texts only.
DONE = {
    "acknowledge": "Acknowledged: paging has stopped.",
    "resolve": "Resolved: paging has stopped.",
    "link": "Linked to the incident; its timeline says so.",
}


@dataclass(frozen=True)
class AlertQuery:
    """The filters as typed: to fill the form again and to build the older page's link."""

    status: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    service: str = ""
    q: str = ""

    def pairs(self) -> list[tuple[str, str]]:
        pairs = [("status", value) for value in self.status]
        pairs += [("severity", value) for value in self.severity]
        pairs += [(name, getattr(self, name)) for name in ("service", "q") if getattr(self, name)]
        return pairs

    @property
    def statuses(self) -> tuple[str, ...]:
        """The statuses shown: the open ones unless others were asked for."""
        return self.status or tuple(OPEN)


@dataclass
class Parsed:
    service_id: int | None = None
    before_id: int | None = None
    problems: list[FieldProblem] = field(default_factory=list)


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    acknowledged_by: str | None


def parse_query(db: Session, asked: AlertQuery, cursor: str) -> Parsed:
    """Every problem with the filters at once, so a person fixes them in one go."""
    parsed = Parsed()
    problems = parsed.problems
    for name, value in [*asked.pairs(), ("cursor", cursor)]:
        if "\x00" in value:  # PostgreSQL cannot compare text holding a NUL character
            problems.append(FieldProblem(name, "contains a NUL character."))
    if problems:
        return parsed
    for value in asked.status:
        if value not in STATUSES:
            problems.append(
                FieldProblem("status", f"'{value}' is not one of {', '.join(STATUSES)}.")
            )
    for value in asked.severity:
        if value not in ALERT_SEVERITIES:
            known = ", ".join(ALERT_SEVERITIES)
            problems.append(FieldProblem("severity", f"'{value}' is not one of {known}."))
    if asked.service:
        try:
            parsed.service_id = catalog.get_service(db, asked.service).id
        except NotFound:
            problems.append(FieldProblem("service", f"there is no service '{asked.service}'."))
    if len(asked.q) > MAX_SEARCH:
        problems.append(FieldProblem("q", f"is longer than {MAX_SEARCH} characters."))
    try:
        parsed.before_id = decode_id_cursor(cursor or None)
    except InvalidInput:
        problems.append(
            FieldProblem("cursor", "This page link is broken; start from the first page.")
        )
    return parsed


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_alerts(db: Session, asked: AlertQuery, parsed: Parsed) -> list[Alert]:
    query = (
        select(Alert)
        .options(joinedload(Alert.service))
        .where(Alert.status.in_(asked.statuses))
        .order_by(Alert.id.desc())
        .limit(PAGE_SIZE)
    )
    if asked.severity:
        query = query.where(Alert.severity.in_(asked.severity))
    if parsed.service_id is not None:
        query = query.where(Alert.service_id == parsed.service_id)
    for word in asked.q.split():
        query = query.where(Alert.summary.ilike(f"%{_escape_like(word)}%", escape="\\"))
    if parsed.before_id is not None:
        query = query.where(Alert.id < parsed.before_id)
    return list(db.scalars(query))


def names_of(db: Session, ids: Sequence[int | None]) -> dict[int, str]:
    """People's names by id, in one query."""
    wanted = {user_id for user_id in ids if user_id is not None}
    if not wanted:
        return {}
    return {user.id: user.name for user in db.scalars(select(User).where(User.id.in_(wanted)))}


def rows_of(db: Session, alerts: Sequence[Alert]) -> list[AlertRow]:
    names = names_of(db, [alert.acknowledged_by_id for alert in alerts])
    return [AlertRow(alert=alert, acknowledged_by=_acknowledger(alert, names)) for alert in alerts]


def _acknowledger(alert: Alert, names: dict[int, str]) -> str | None:
    if alert.acknowledged_at is None:
        return None
    if alert.acknowledged_by_id is None:
        return "the monitoring tool"
    return names.get(alert.acknowledged_by_id, "a removed user")


def _loaded(db: Session, alert_id: int) -> Alert:
    alert = db.scalars(
        select(Alert)
        .where(Alert.id == alert_id)
        .options(joinedload(Alert.service), joinedload(Alert.integration))
        .execution_options(populate_existing=True)
    ).first()
    if alert is None:
        raise NotFound(detail=f"No alert {alert_id}.")
    return alert


def back_to(text: str, alert_id: int) -> str:
    """Where a plain form post returns: the alert pages only, so no link can send a person
    elsewhere after pressing a button."""
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or not parts.path.startswith(ALERTS) or "\\" in text:
        return f"{ALERTS}/{alert_id}"
    return text


@router.get(ALERTS)
def alert_list(
    request: Request,
    me: WebUser,
    db: DbSession,
    status: Many = None,
    severity: Many = None,
    service: str = "",
    q: str = "",
    cursor: str = "",
) -> Response:
    """Alerts, newest first: the open ones unless other statuses are asked for."""
    require(me, Permission.ALERTS_READ)
    asked = AlertQuery(
        status=tuple(status or ()), severity=tuple(severity or ()), service=service, q=q
    )
    parsed = parse_query(db, asked, cursor)
    rows: list[AlertRow] = []
    older = None
    if not parsed.problems:
        found = find_alerts(db, asked, parsed)
        rows = rows_of(db, found)
        if len(found) == PAGE_SIZE:
            pairs = [*asked.pairs(), ("cursor", encode_id_cursor(found[-1].id))]
            older = f"{ALERTS}?{urlencode(pairs)}"
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    context: dict[str, Any] = {
        "nav": "alerts",
        "asked": asked,
        "problems": parsed.problems,
        "invalid": {problem.field for problem in parsed.problems},
        "rows": rows,
        "older": older,
        "newest": f"{ALERTS}?{urlencode(asked.pairs())}" if cursor else None,
        "statuses": STATUSES,
        "severities": ALERT_SEVERITIES,
        "services": catalog.list_services(db),
        "can_act": me.can(Permission.ALERTS_WRITE),
        "back": here,
    }
    status_code = 422 if parsed.problems else 200
    return page(request, "alerts/list.html", context, status_code=status_code)


def _detail_page(
    request: Request,
    db: Session,
    me: Principal,
    alert: Alert,
    *,
    problem: str | None = None,
    typed: str = "",
    link_error: str | None = None,
    status_code: int = 200,
) -> Response:
    entries = history_of(db, alert)
    names = names_of(
        db,
        [alert.acknowledged_by_id, alert.resolved_by_id, *(entry.user_id for entry in entries)],
    )
    incident = db.get(Incident, alert.incident_id) if alert.incident_id is not None else None
    context: dict[str, Any] = {
        "nav": "alerts",
        "alert": alert,
        "integration": alert.integration,
        "acknowledged_by": _acknowledger(alert, names),
        "resolved_by": names.get(alert.resolved_by_id) if alert.resolved_by_id else None,
        "log": [(entry, names.get(entry.user_id) if entry.user_id else None) for entry in entries],
        "incident": incident,
        "links": [_shown_link(link) for link in alert.links if isinstance(link, dict)],
        "client_url": alert.client_url if is_web_address(alert.client_url) else None,
        "can_act": me.can(Permission.ALERTS_WRITE),
        "problem": problem,
        "typed": typed,
        "link_error": link_error,
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return page(request, "alerts/detail.html", context, status_code=status_code)


def is_web_address(text: Any) -> bool:
    """Only http(s) addresses become links: a `javascript:` link from a payload must not."""
    if not isinstance(text, str):
        return False
    parts = urlsplit(text.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _shown_link(link: dict[str, Any]) -> dict[str, Any]:
    href = link.get("href")
    text = link.get("text") or href or ""
    return {"href": href if is_web_address(href) else None, "text": str(text)}


@router.get(ALERTS + "/{alert_id}")
def alert_page(alert_id: RowId, request: Request, me: WebUser, db: DbSession) -> Response:
    """One alert: what it says, its log, its incident, and the buttons to act on it."""
    require(me, Permission.ALERTS_READ)
    return _detail_page(request, db, me, _loaded(db, alert_id))


def _act(
    verb: str,
    alert_id: int,
    request: Request,
    me: Principal,
    db: Session,
    clock: AppClock,
    back: str,
) -> Response:
    require(me, Permission.ALERTS_WRITE)
    alert = service.get_alert(db, alert_id, for_update=True)
    problem: AppError | None = None
    try:
        with all_or_nothing(db):
            change = service.acknowledge if verb == "acknowledge" else service.resolve
            change(db, actor=me.actor, alert=alert, now=clock.now())
    except AppError as error:
        problem = error
    alert = _loaded(db, alert_id)
    if is_htmx(request):
        context = {
            "row": rows_of(db, [alert])[0],
            "can_act": True,
            "back": back_to(back, alert_id),
            "problem": problem.detail if problem else None,
            "announce": None if problem else f"Alert {alert.id} {PAST[verb]}.",
            "focus": True,
        }
        return page(
            request, "alerts/_row.html", context, status_code=problem.status if problem else 200
        )
    if problem is not None:
        return _detail_page(
            request, db, me, alert, problem=problem.detail, status_code=problem.status
        )
    target = back_to(back, alert_id)
    if target == f"{ALERTS}/{alert_id}":
        target += f"?done={verb}"
    return RedirectResponse(target, status_code=303)


@router.post(ALERTS + "/{alert_id}/actions/acknowledge")
def acknowledge(
    alert_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Take the alert: paging stops."""
    return _act("acknowledge", alert_id, request, me, db, clock, text_of(form, "next"))


@router.post(ALERTS + "/{alert_id}/actions/resolve")
def resolve(
    alert_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Resolve the alert: paging stops, and its key opens a new alert next time."""
    return _act("resolve", alert_id, request, me, db, clock, text_of(form, "next"))


@router.post(ALERTS + "/{alert_id}/actions/link")
def link_to_incident(
    alert_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Attach the alert to an incident by its reference; its timeline says so."""
    require(me, Permission.ALERTS_WRITE)
    alert = service.get_alert(db, alert_id, for_update=True)
    typed = text_of(form, "incident")
    if not typed:
        return _refused_link(
            request, db, me, alert_id, typed, "Enter the incident's reference, e.g. INC-42."
        )
    try:
        incident = get_incident(db, typed.replace("\x00", ""), for_update=True)
    except NotFound as error:
        return _refused_link(request, db, me, alert_id, typed, error.detail)
    service.link(db, actor=me.actor, now=clock.now(), alert=alert, incident=incident)
    return RedirectResponse(f"{ALERTS}/{alert.id}?done=link", status_code=303)


def _refused_link(
    request: Request, db: Session, me: Principal, alert_id: int, typed: str, message: str
) -> Response:
    alert = _loaded(db, alert_id)
    return _detail_page(request, db, me, alert, typed=typed, link_error=message, status_code=422)
