"""The service catalog's pages: everyone signed in reads it; catalog writers add and edit
services through the same service functions (and audit records) as the API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from fireline.accounts import service as accounts
from fireline.accounts.permissions import Permission
from fireline.api.deps import AppClock, DbSession
from fireline.catalog import service as catalog
from fireline.catalog.schemas import ServiceCreate, ServiceUpdate
from fireline.errors import AppError, FieldProblem, NotFound
from fireline.models import Service
from fireline.web.deps import WebUser, require
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]  # as typed; checked by the view, never a bare 422
TIERS = ((1, "Tier 1 — most critical"), (2, "Tier 2"), (3, "Tier 3 — least critical"))
LABELS = {
    "name": "Name",
    "slug": "Slug",
    "description": "Description",
    "owner_team": "Owner team",
    "tier": "Tier",
    "runbook_url": "Runbook",
}
FRIENDLY = {
    "name": "Give the service a name.",
    "slug": "Use lower-case letters, digits and single dashes, e.g. checkout-api.",
    "tier": "Choose tier 1, 2 or 3.",
    "runbook_url": "Enter a full web address starting with https:// (or leave it empty).",
}


@dataclass(frozen=True)
class ServiceForm:
    """The form's values as typed; empty text means "none" for the optional fields."""

    name: str = ""
    slug: str = ""
    description: str = ""
    owner_team: str = ""
    tier: str = "2"
    runbook_url: str = ""

    @classmethod
    def of(cls, service: Service) -> ServiceForm:
        team = service.owner_team
        return cls(
            name=service.name,
            slug=service.slug,
            description=service.description,
            owner_team=team.slug if team else "",
            tier=str(service.tier),
            runbook_url=service.runbook_url or "",
        )

    def fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "owner_team": self.owner_team.strip() or None,
            "tier": self.tier,
            "runbook_url": self.runbook_url.strip() or None,
        }


def _problems(error: ValidationError) -> list[FieldProblem]:
    problems = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "form"
        problems.append(FieldProblem(name, FRIENDLY.get(name, item["msg"])))
    return problems


def _messages(problems: Iterable[FieldProblem]) -> dict[str, str]:
    joined: dict[str, list[str]] = {}
    for problem in problems:
        joined.setdefault(problem.field, []).append(problem.message)
    return {name: " ".join(dict.fromkeys(texts)) for name, texts in joined.items()}


def _form_page(
    request: Request,
    db: Session,
    *,
    values: ServiceForm,
    editing: Service | None,
    can_write: bool = True,
    problems: Iterable[FieldProblem] = (),
    status_code: int = 200,
    saved: bool = False,
) -> Response:
    context = {
        "nav": "services",
        "values": values,
        "editing": editing,
        "can_write": can_write,
        "errors": _messages(problems),
        "labels": LABELS,
        "teams": accounts.list_teams(db),
        "tiers": TIERS,
        "saved": saved,
    }
    return page(request, "services/form.html", context, status_code=status_code)


def _refused(error: Exception) -> tuple[list[FieldProblem], int]:
    """What to tell the person about a refused save, and the status to say it with."""
    if isinstance(error, ValidationError):
        return _problems(error), 422
    if isinstance(error, AppError):
        return error.errors or [FieldProblem("form", error.detail)], error.status
    return [FieldProblem("form", "A value cannot be stored: too long, or a NUL character.")], 422


def _service(db: Session, slug: str) -> Service:
    if "\x00" in slug:  # PostgreSQL cannot compare text holding a NUL; no slug has one
        raise NotFound(detail=f"No service '{slug.replace(chr(0), '')}'.")
    return catalog.get_service(db, slug)


@router.get("/services")
def service_list(request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.CATALOG_READ)
    context = {
        "nav": "services",
        "services": catalog.list_services(db),
        "can_write": me.can(Permission.CATALOG_WRITE),
    }
    return page(request, "services/list.html", context)


@router.get("/services/new")
def new_service_form(request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.CATALOG_WRITE)
    return _form_page(request, db, values=ServiceForm(), editing=None)


@router.post("/services/new")
def create_service(
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    name: FormText = "",
    slug: FormText = "",
    description: FormText = "",
    owner_team: FormText = "",
    tier: FormText = "2",
    runbook_url: FormText = "",
) -> Response:
    """Add a service, then show it; refused input comes back inline with every value kept."""
    require(me, Permission.CATALOG_WRITE)
    values = ServiceForm(name, slug, description, owner_team, tier, runbook_url)
    try:
        with db.begin_nested():  # a refused save leaves nothing behind
            body = ServiceCreate.model_validate({**values.fields(), "slug": slug.strip() or None})
            created = catalog.create_service(
                db, actor=me.actor, now=clock.now(), **_as_arguments(body)
            )
    except (ValidationError, AppError, DataError) as error:
        problems, code = _refused(error)
        return _form_page(
            request, db, values=values, editing=None, problems=problems, status_code=code
        )
    return RedirectResponse(f"/services/{created.slug}?saved=1", status_code=303)


def _as_arguments(body: BaseModel) -> dict[str, Any]:
    arguments = body.model_dump(exclude_unset=False)
    if arguments.get("runbook_url") is not None:
        arguments["runbook_url"] = str(arguments["runbook_url"])
    return arguments


@router.get("/services/{slug}")
def service_page(
    request: Request, slug: str, me: WebUser, db: DbSession, saved: str = ""
) -> Response:
    """The service's edit form for catalog writers; its details, read only, for everyone else."""
    require(me, Permission.CATALOG_READ)
    item = _service(db, slug)
    return _form_page(
        request,
        db,
        values=ServiceForm.of(item),
        editing=item,
        can_write=me.can(Permission.CATALOG_WRITE),
        saved=bool(saved),
    )


@router.post("/services/{slug}")
def update_service(
    request: Request,
    slug: str,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    name: FormText = "",
    description: FormText = "",
    owner_team: FormText = "",
    tier: FormText = "2",
    runbook_url: FormText = "",
) -> Response:
    """Save the edits (an empty owner or runbook clears it), then show the service again."""
    require(me, Permission.CATALOG_WRITE)
    item = _service(db, slug)
    values = ServiceForm(name, item.slug, description, owner_team, tier, runbook_url)
    try:
        with db.begin_nested():
            body = ServiceUpdate.model_validate(values.fields())
            changes = _as_arguments(body)
            changed = catalog.update_service(
                db, actor=me.actor, now=clock.now(), service=item, changes=changes
            )
    except (ValidationError, AppError, DataError) as error:
        problems, code = _refused(error)
        item = catalog.get_service(db, slug)  # as stored, now the refused edit is rolled back
        return _form_page(
            request, db, values=values, editing=item, problems=problems, status_code=code
        )
    return RedirectResponse(f"/services/{changed.slug}?saved=1", status_code=303)
