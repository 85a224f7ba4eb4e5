"""Settings pages for audiences, for status page admins: the internal groups stakeholder updates
go to (executives, support, sales, custom lists). Recipients are typed one a line, e.g.
`email cto@example.com` or `webhook https://hooks.example.com/x`. The signing secret of an
audience's webhook deliveries is shown once, on the answer that creates it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fireline.accounts.permissions import Permission
from fireline.api.deps import AppClock, AppSettings, DbSession
from fireline.comms import audiences
from fireline.comms.forms import ask_to_delete
from fireline.comms.stakeholder_schemas import AudienceCreate
from fireline.comms.views import notice_of, refusal
from fireline.errors import AppError, FieldProblem, InvalidInput
from fireline.models import Audience, AudienceKind
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    PostedForm,
    Refusal,
    RowId,
    all_or_nothing,
    see_other,
    settings_page,
    text_of,
)

router = APIRouter(include_in_schema=False)
AUDIENCES = "/settings/audiences"
KINDS = [
    ("executives", "Executives (also get the exec notice of a SEV1)"),
    ("support", "Support"),
    ("sales", "Sales"),
    ("custom", "Custom list"),
]
TRANSPORTS = ("email", "webhook", "slack")
FRIENDLY = {"name": "Give the audience a name.", "kind": "Choose a kind from the list."}
NEW = {"name": "", "kind": "custom", "description": "", "recipients": ""}


@dataclass(frozen=True)
class Recipients:
    """The recipients as typed, one a line, and as the service takes them; `lines[i]` is the
    line number of the i-th recipient, so a refusal can say which line."""

    entries: list[dict[str, str]]
    lines: list[int]

    @classmethod
    def typed(cls, text: str) -> Recipients:
        """Each non-blank line: a transport and a target (`slack https://…`), or only an
        address (email) or an http(s) URL (webhook)."""
        entries, lines = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            words = line.split(maxsplit=1)
            if not words:
                continue
            if len(words) == 2 and words[0].lower() in TRANSPORTS:
                transport, target = words[0].lower(), words[1].strip()
            elif len(words) == 1 and words[0].lower().startswith(("http://", "https://")):
                transport, target = "webhook", words[0]
            elif len(words) == 1 and "@" in words[0]:
                transport, target = "email", words[0]
            else:
                raise InvalidInput.on(
                    "recipients",
                    f"line {number}: write “email someone@example.com”, "
                    "“webhook https://…” or “slack https://…”",
                )
            entries.append({"transport": transport, "target": target})
            lines.append(number)
        return cls(entries=entries, lines=lines)

    def refused(self, error: AppError) -> AppError:
        """The service's `recipients.2.target` as the form's `recipients`, naming the line."""
        if not isinstance(error, InvalidInput) or not error.errors:
            return error
        problems = []
        for problem in error.errors:
            index = problem.field.split(".")[1] if problem.field.startswith("recipients.") else ""
            if index.isdigit() and int(index) < len(self.lines):
                message = f"line {self.lines[int(index)]}: {problem.message}"
                problems.append(FieldProblem("recipients", message))
            else:
                problems.append(problem)
        return InvalidInput(detail="; ".join(p.message for p in problems), errors=problems)


def as_lines(audience: Audience) -> str:
    """The recipients as the form shows them, one a line."""
    return "\n".join(f"{r['transport']} {r['target']}" for r in audience.recipients)


def _values(form: FormData) -> dict[str, Any]:
    return {name: text_of(form, name) for name in ("name", "kind", "description", "recipients")}


def _checked(values: dict[str, Any]) -> tuple[AudienceCreate, Recipients]:
    recipients = Recipients.typed(values["recipients"])
    body = AudienceCreate.model_validate({**values, "recipients": recipients.entries})
    return body, recipients


def _list(
    request: Request,
    db: Session,
    values: dict[str, Any],
    refused: Refusal | None = None,
    *,
    created: Audience | None = None,
) -> Response:
    context = {
        "current": AUDIENCES,
        "items": audiences.list_audiences(db),
        "values": values,
        "kinds": KINDS,
        "kind_names": dict(KINDS),
        "created": created,
        "notice": "Created." if created else notice_of(request),
    }
    return settings_page(request, "statuspages/audiences.html", context, refusal=refused)


def _edit(
    request: Request, audience: Audience, values: dict[str, Any], refused: Refusal | None = None
) -> Response:
    context = {"current": AUDIENCES, "audience": audience, "values": values, "kinds": KINDS}
    return settings_page(request, "statuspages/audience_edit.html", context, refusal=refused)


@router.get(AUDIENCES)
def audience_list(request: Request, me: WebUser, db: DbSession) -> Response:
    """Every audience with its recipients, and the form to add one."""
    require(me, Permission.STATUSPAGE_ADMIN)
    return _list(request, db, NEW)


@router.post(AUDIENCES)
def audience_create(
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """Add the audience; the answer shows its signing secret, this once."""
    require(me, Permission.STATUSPAGE_ADMIN)
    values = _values(form)
    recipients = Recipients(entries=[], lines=[])
    try:
        with all_or_nothing(db):
            body, recipients = _checked(values)
            audience = audiences.create_audience(
                db,
                actor=me.actor,
                now=clock.now(),
                name=body.name,
                kind=body.kind,
                description=body.description,
                recipients=body.model_dump()["recipients"],
                allow_private=settings.webhook_allow_private_targets,
            )
    except (AppError, ValidationError) as error:
        if isinstance(error, AppError):
            error = recipients.refused(error)
        return _list(request, db, values, refusal(error, friendly=FRIENDLY, conflict_field="name"))
    return _list(request, db, NEW, created=audience)


@router.get(AUDIENCES + "/{audience_id}")
def audience_form(audience_id: RowId, request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.STATUSPAGE_ADMIN)
    audience = audiences.get_audience(db, audience_id)
    values = {
        "name": audience.name,
        "kind": audience.kind,
        "description": audience.description,
        "recipients": as_lines(audience),
    }
    return _edit(request, audience, values)


@router.post(AUDIENCES + "/{audience_id}")
def audience_save(
    audience_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """Save the name, kind, description and recipients; the signing secret stays."""
    require(me, Permission.STATUSPAGE_ADMIN)
    audience = audiences.get_audience(db, audience_id)
    values = _values(form)
    recipients = Recipients(entries=[], lines=[])
    try:
        with all_or_nothing(db):
            body, recipients = _checked(values)
            changes = body.model_dump()
            changes["kind"] = AudienceKind(body.kind)
            audiences.update_audience(
                db,
                actor=me.actor,
                now=clock.now(),
                audience=audience,
                changes=changes,
                allow_private=settings.webhook_allow_private_targets,
            )
    except (AppError, ValidationError) as error:
        if isinstance(error, AppError):
            error = recipients.refused(error)
        audience = audiences.get_audience(db, audience_id)
        refused = refusal(error, friendly=FRIENDLY, conflict_field="name")
        return _edit(request, audience, values, refused)
    return see_other(AUDIENCES, "saved", f"audience-{audience.id}")


@router.post(AUDIENCES + "/{audience_id}/delete")
def audience_delete(
    audience_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Asks first; updates already sent to it stay in the delivery log."""
    require(me, Permission.STATUSPAGE_ADMIN)
    audience = audiences.get_audience(db, audience_id)
    asked = ask_to_delete(
        request,
        form,
        kind="audience",
        name=audience.name,
        question="Stakeholder updates can no longer be sent to it; those already sent stay "
        "in the delivery log. This cannot be undone.",
        at=f"{AUDIENCES}/{audience.id}",
        back=AUDIENCES,
    )
    if asked is not None:
        return asked
    audiences.delete_audience(db, actor=me.actor, now=clock.now(), audience=audience)
    return see_other(AUDIENCES, "deleted")
