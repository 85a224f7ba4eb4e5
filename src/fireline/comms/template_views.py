"""Settings pages for update templates, for status page admins: the starting texts of public
updates (for the public status they suit) and of internal stakeholder updates; adding, editing
and removing after a confirmation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fireline.accounts.permissions import Permission
from fireline.api.deps import AppClock, DbSession
from fireline.comms import templates
from fireline.comms.forms import ask_to_delete
from fireline.comms.public_views import STATUS_WORDS
from fireline.comms.schemas import TemplateCreate
from fireline.comms.views import notice_of, refusal
from fireline.errors import AppError
from fireline.models import PublicStatus, UpdateTemplate
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
TEMPLATES = "/settings/update-templates"
AUDIENCES = [("public", "Public update (status page)"), ("internal", "Internal stakeholder update")]
STATUSES = [(status.value, STATUS_WORDS[status.value]) for status in PublicStatus]
FIELDS = ("name", "audience", "status", *templates.PARTS)
FRIENDLY = {
    "name": "Give the template a name.",
    "audience": "Choose public or internal.",
    "status": "Choose a status from the list, or any.",
}
NEW = {"name": "", "audience": "public", "status": "", **dict.fromkeys(templates.PARTS, "")}


def _values(form: FormData) -> dict[str, Any]:
    return {name: text_of(form, name) for name in FIELDS}


def _body(values: dict[str, Any]) -> dict[str, Any]:
    """The template as the API takes it, checked; a blank status suits any."""
    body = TemplateCreate.model_validate({**values, "status": values["status"] or None})
    fields = body.model_dump()
    fields["status"] = body.status.value if body.status is not None else None
    return fields


def _list(
    request: Request, db: Session, values: dict[str, Any], refused: Refusal | None = None
) -> Response:
    context = {
        "current": TEMPLATES,
        "items": templates.list_templates(db),
        "values": values,
        "audiences": AUDIENCES,
        "statuses": STATUSES,
        "status_words": STATUS_WORDS,
        "notice": notice_of(request),
    }
    return settings_page(request, "statuspages/templates.html", context, refusal=refused)


def _edit(
    request: Request,
    template: UpdateTemplate,
    values: dict[str, Any],
    refused: Refusal | None = None,
) -> Response:
    context = {
        "current": TEMPLATES,
        "template": template,
        "values": values,
        "audiences": AUDIENCES,
        "statuses": STATUSES,
    }
    return settings_page(request, "statuspages/template_edit.html", context, refusal=refused)


@router.get(TEMPLATES)
def template_list(request: Request, me: WebUser, db: DbSession) -> Response:
    """Every template by name, and the form to add one."""
    require(me, Permission.STATUSPAGE_ADMIN)
    return _list(request, db, NEW)


@router.post(TEMPLATES)
def template_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    require(me, Permission.STATUSPAGE_ADMIN)
    values = _values(form)
    try:
        with all_or_nothing(db):
            template = templates.create_template(
                db, actor=me.actor, now=clock.now(), **_body(values)
            )
    except (AppError, ValidationError) as error:
        return _list(request, db, values, refusal(error, friendly=FRIENDLY, conflict_field="name"))
    return see_other(TEMPLATES, "created", f"template-{template.id}")


@router.get(TEMPLATES + "/{template_id}")
def template_form(template_id: RowId, request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.STATUSPAGE_ADMIN)
    template = templates.get_template(db, template_id)
    values = {name: getattr(template, name) or "" for name in FIELDS}
    return _edit(request, template, values)


@router.post(TEMPLATES + "/{template_id}")
def template_save(
    template_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    require(me, Permission.STATUSPAGE_ADMIN)
    template = templates.get_template(db, template_id)
    values = _values(form)
    try:
        with all_or_nothing(db):
            templates.update_template(
                db, actor=me.actor, now=clock.now(), template=template, changes=_body(values)
            )
    except (AppError, ValidationError) as error:
        template = templates.get_template(db, template_id)
        refused = refusal(error, friendly=FRIENDLY, conflict_field="name")
        return _edit(request, template, values, refused)
    return see_other(TEMPLATES, "saved", f"template-{template.id}")


@router.post(TEMPLATES + "/{template_id}/delete")
def template_delete(
    template_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Asks first; updates already composed from it keep their words."""
    require(me, Permission.STATUSPAGE_ADMIN)
    template = templates.get_template(db, template_id)
    asked = ask_to_delete(
        request,
        form,
        kind="template",
        name=template.name,
        question="Updates already composed from it keep their words; nobody can start "
        "from it again. This cannot be undone.",
        at=f"{TEMPLATES}/{template.id}",
        back=TEMPLATES,
    )
    if asked is not None:
        return asked
    templates.delete_template(db, actor=me.actor, now=clock.now(), template=template)
    return see_other(TEMPLATES, "deleted")
