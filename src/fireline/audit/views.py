"""The audit log page (admins): every write, newest first, with what each one changed shown as
a compact field-by-field diff rather than two walls of JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts import service as accounts
from fireline.accounts.permissions import Permission
from fireline.api.deps import DbSession
from fireline.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_id_cursor, encode_id_cursor
from fireline.errors import FieldProblem, InvalidInput, NotFound
from fireline.models import AuditRecord
from fireline.web.deps import WebUser, require
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)

SHOWN_VALUE = 300  # characters of one value's JSON; the API has the rest
# Pages of the web UI an audited entity has, by its entity_type.
ENTITY_PAGES = {"incident": "/incidents/{}", "service": "/services/{}"}


@dataclass(frozen=True)
class FieldChange:
    """One field's value before and after, as compact JSON; None where the field was absent."""

    name: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class AuditFilters:
    """The filters as typed, to fill the form again and to build the next page's link."""

    entity_type: str = ""
    entity_id: str = ""
    actor: str = ""
    action: str = ""
    occurred_after: str = ""
    occurred_before: str = ""
    limit: str = ""

    def pairs(self) -> list[tuple[str, str]]:
        return [(name, value) for name, value in self.__dict__.items() if value]


@dataclass
class AuditQuery:
    actor_id: int | None = None
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None
    before_id: int | None = None
    limit: int = DEFAULT_LIMIT
    problems: list[FieldProblem] = field(default_factory=list)


def compact(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 1] + "…"


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[FieldChange]:
    """The fields whose value differs, in name order: all of them for a creation (no before)
    or a deletion (no after)."""
    before, after = before or {}, after or {}
    return [
        FieldChange(
            name=name,
            before=compact(before[name]) if name in before else None,
            after=compact(after[name]) if name in after else None,
        )
        for name in sorted(before.keys() | after.keys())
        if before.get(name, ...) != after.get(name, ...)
    ]


def _day(name: str, text: str, problems: list[FieldProblem]) -> datetime | None:
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        problems.append(FieldProblem(name, "is not a date; use YYYY-MM-DD."))
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_filters(session: Session, asked: AuditFilters, cursor: str) -> AuditQuery:
    """Every problem with the filters at once, in words for a person."""
    query = AuditQuery()
    problems = query.problems
    for name, value in asked.pairs():
        if "\x00" in value:  # PostgreSQL cannot compare text holding a NUL character
            problems.append(FieldProblem(name, "contains a NUL character."))
    if problems:
        return query
    if asked.actor:
        try:
            query.actor_id = accounts.find_user(session, asked.actor).id
        except NotFound:
            problems.append(FieldProblem("actor", f"no user '{asked.actor}'."))
    query.occurred_after = _day("occurred_after", asked.occurred_after, problems)
    query.occurred_before = _day("occurred_before", asked.occurred_before, problems)
    after, before = query.occurred_after, query.occurred_before
    if after and before and after >= before:
        problems.append(FieldProblem("occurred_before", "must be later than “from”."))
    if asked.limit:
        if asked.limit.isdigit() and 1 <= int(asked.limit) <= MAX_LIMIT:
            query.limit = int(asked.limit)
        else:
            problems.append(FieldProblem("limit", f"must be a number from 1 to {MAX_LIMIT}."))
    try:
        query.before_id = decode_id_cursor(cursor or None)
    except InvalidInput:
        problems.append(FieldProblem("cursor", "This page link is broken; start again."))
    return query


def read_records(session: Session, asked: AuditFilters, query: AuditQuery) -> list[AuditRecord]:
    """The API's filters plus a date range, newest first. Here rather than in the audit
    service, whose `list_records` has no date range yet."""
    statement = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(query.limit)
    if asked.entity_type.strip():
        statement = statement.where(AuditRecord.entity_type == asked.entity_type.strip())
    if asked.entity_id.strip():
        statement = statement.where(AuditRecord.entity_id == asked.entity_id.strip())
    if asked.action.strip():
        statement = statement.where(AuditRecord.action == asked.action.strip())
    if query.actor_id is not None:
        statement = statement.where(AuditRecord.actor_id == query.actor_id)
    if query.occurred_after is not None:
        statement = statement.where(AuditRecord.occurred_at >= query.occurred_after)
    if query.occurred_before is not None:
        statement = statement.where(AuditRecord.occurred_at < query.occurred_before)
    if query.before_id is not None:
        statement = statement.where(AuditRecord.id < query.before_id)
    return list(session.scalars(statement))


@router.get("/audit")
def audit_log(
    request: Request,
    me: WebUser,
    db: DbSession,
    entity_type: str = "",
    entity_id: str = "",
    actor: str = "",
    action: str = "",
    occurred_after: str = "",
    occurred_before: str = "",
    cursor: str = "",
    limit: str = "",
) -> Response:
    """Admins only: the log names everyone and shows what they changed."""
    require(me, Permission.AUDIT_READ)
    asked = AuditFilters(
        entity_type, entity_id, actor, action, occurred_after, occurred_before, limit
    )
    query = parse_filters(db, asked, cursor)
    records: list[AuditRecord] = []
    next_link = None
    if not query.problems:
        records = read_records(db, asked, query)
        if len(records) == query.limit:
            pairs = [*asked.pairs(), ("cursor", encode_id_cursor(records[-1].id))]
            next_link = f"/audit?{urlencode(pairs)}"
    context = {
        "nav": "audit",
        "asked": asked,
        "problems": query.problems,
        "invalid": {problem.field for problem in query.problems},
        "rows": [(record, changes(record.before, record.after)) for record in records],
        "entity_pages": ENTITY_PAGES,
        "next_link": next_link,
        "first_link": f"/audit?{urlencode(asked.pairs())}" if cursor else None,
        "users": accounts.list_users(db),
    }
    return page(request, "audit/list.html", context, status_code=422 if query.problems else 200)
