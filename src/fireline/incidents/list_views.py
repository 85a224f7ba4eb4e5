"""The incident list: every incident, newest first, narrowed by the same filters as the API
and paged with the API's cursors, so a link copied from either reads the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from fireline.accounts.permissions import Permission
from fireline.api.deps import DbSession
from fireline.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_id_cursor, encode_id_cursor
from fireline.catalog import service as catalog
from fireline.errors import FieldProblem, InvalidInput
from fireline.incidents import severities
from fireline.incidents.lifecycle import Status
from fireline.incidents.queries import IncidentFilter, list_incidents
from fireline.incidents.roles import holder
from fireline.models import Incident
from fireline.web.deps import WebUser, require
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)

MAX_SEARCH = 200  # as the API: a search longer than this is a paste gone wrong
Many = Annotated[list[str] | None, Query()]


@dataclass(frozen=True)
class ListQuery:
    """The filters as typed, to fill the form again and to build the next page's link."""

    status: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    service: str = ""
    declared_after: str = ""
    declared_before: str = ""
    q: str = ""
    limit: str = ""

    def pairs(self) -> list[tuple[str, str]]:
        """The non-empty filters as query parameters, repeated ones repeated."""
        pairs = [("status", value) for value in self.status]
        pairs += [("severity", value) for value in self.severity]
        for name in ("service", "declared_after", "declared_before", "q", "limit"):
            value = getattr(self, name)
            if value:
                pairs.append((name, value))
        return pairs


@dataclass
class Parsed:
    """The filters as the query wants them, and what was wrong with the rest."""

    where: IncidentFilter = field(default_factory=IncidentFilter)
    after_id: int | None = None
    limit: int = DEFAULT_LIMIT
    problems: list[FieldProblem] = field(default_factory=list)


@dataclass(frozen=True)
class IncidentRow:
    incident: Incident
    commander: str | None


def parse_instant(text: str) -> datetime | None:
    """A date (midnight UTC) or an ISO 8601 instant (UTC unless it says otherwise)."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        instant = datetime.fromisoformat(text)
        return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("is not a date; use YYYY-MM-DD") from None


def _statuses(values: Sequence[str], problems: list[FieldProblem]) -> list[Status]:
    statuses = []
    for value in values:
        try:
            statuses.append(Status(value.strip().lower()))
        except ValueError:
            known = ", ".join(status.value for status in Status)
            problems.append(FieldProblem("status", f"'{value}' is not a status; use {known}."))
    return statuses


def _severities(values: Sequence[str], known: set[str], problems: list[FieldProblem]) -> list[str]:
    wanted = [value.strip().upper() for value in values]
    for key in wanted:
        if key not in known:
            listed = ", ".join(sorted(known))
            problems.append(FieldProblem("severity", f"'{key}' is not a severity; use {listed}."))
    return wanted


def _bound(name: str, text: str, problems: list[FieldProblem]) -> datetime | None:
    try:
        return parse_instant(text)
    except ValueError as error:
        problems.append(FieldProblem(name, str(error)))
        return None


def _page(limit: str, cursor: str, parsed: Parsed) -> None:
    if limit:
        if limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT:
            parsed.limit = int(limit)
        else:
            parsed.problems.append(
                FieldProblem("limit", f"must be a number from 1 to {MAX_LIMIT}.")
            )
    try:
        parsed.after_id = decode_id_cursor(cursor or None)
    except InvalidInput:
        parsed.problems.append(
            FieldProblem("cursor", "This page link is broken; start from the first page.")
        )


def parse_query(asked: ListQuery, *, severity_keys: set[str], cursor: str) -> Parsed:
    """Every problem with the filters at once, so a person fixes them in one go."""
    parsed = Parsed()
    problems = parsed.problems
    for name, value in [*asked.pairs(), ("cursor", cursor)]:
        if "\x00" in value:  # PostgreSQL cannot compare text holding a NUL character
            problems.append(FieldProblem(name, "contains a NUL character."))
    if problems:
        return parsed
    statuses = _statuses(asked.status, problems)
    wanted = _severities(asked.severity, severity_keys, problems)
    after = _bound("declared_after", asked.declared_after, problems)
    before = _bound("declared_before", asked.declared_before, problems)
    if after and before and after >= before:
        problems.append(FieldProblem("declared_before", "must be later than “declared after”."))
    if len(asked.q) > MAX_SEARCH:
        problems.append(FieldProblem("q", f"is longer than {MAX_SEARCH} characters."))
    _page(asked.limit, cursor, parsed)
    parsed.where = IncidentFilter(
        statuses=statuses,
        severities=wanted,
        service=asked.service.strip() or None,
        declared_after=after,
        declared_before=before,
        search=asked.q.strip() or None,
    )
    return parsed


@router.get("/incidents")
def incident_list(
    request: Request,
    me: WebUser,
    db: DbSession,
    status: Many = None,
    severity: Many = None,
    service: str = "",
    declared_after: str = "",
    declared_before: str = "",
    q: str = "",
    cursor: str = "",
    limit: str = "",
) -> Response:
    """Incidents, newest first. Filters that make no sense are explained above the form, with
    status 422, instead of being ignored and showing a list that looks right but is not."""
    require(me, Permission.INCIDENTS_READ)
    asked = ListQuery(
        status=tuple(status or ()),
        severity=tuple(severity or ()),
        service=service,
        declared_after=declared_after,
        declared_before=declared_before,
        q=q,
        limit=limit,
    )
    levels = severities.list_severities(db)
    parsed = parse_query(asked, severity_keys={level.key for level in levels}, cursor=cursor)
    rows: list[IncidentRow] = []
    next_link = None
    if not parsed.problems:
        found = list_incidents(db, where=parsed.where, after_id=parsed.after_id, limit=parsed.limit)
        rows = [_row(incident) for incident in found]
        if len(found) == parsed.limit:
            pairs = [*asked.pairs(), ("cursor", encode_id_cursor(found[-1].id))]
            next_link = f"/incidents?{urlencode(pairs)}"
    context: dict[str, Any] = {
        "nav": "incidents",
        "asked": asked,
        "problems": parsed.problems,
        "invalid": {problem.field for problem in parsed.problems},
        "rows": rows,
        "next_link": next_link,
        "first_link": f"/incidents?{urlencode(asked.pairs())}" if cursor else None,
        "statuses": [status.value for status in Status],
        "severities": levels,
        "services": catalog.list_services(db),
        "can_declare": me.can(Permission.INCIDENTS_WRITE),
    }
    return page(
        request, "incidents/list.html", context, status_code=422 if parsed.problems else 200
    )


def _row(incident: Incident) -> IncidentRow:
    assignment = holder(incident, "commander")
    return IncidentRow(incident=incident, commander=assignment.user.name if assignment else None)
