"""A status page's component groups and components, from its settings page: adding, editing on
a page of their own, moving up and down, removing after a confirmation, and a component's
status, which responders may set too (the public page shows it at once)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fireline.accounts.permissions import Permission
from fireline.api.deps import AppClock, AppSettings, DbSession
from fireline.catalog import service as catalog
from fireline.comms import components, pages
from fireline.comms.forms import ask_to_delete
from fireline.comms.schemas import ComponentCreate, GroupCreate
from fireline.comms.views import (
    PAGES,
    Code,
    PageSlug,
    back_to,
    detail_page,
    page_path,
    refusal,
)
from fireline.errors import AppError, InvalidInput
from fireline.models import Component, ComponentGroup, StatusPage
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    PostedForm,
    Refusal,
    all_or_nothing,
    is_ticked,
    settings_page,
    text_of,
)

router = APIRouter(include_in_schema=False)
GROUPS = PAGES + "/{slug}/groups"
COMPONENTS = PAGES + "/{slug}/components"
FRIENDLY = {
    "name": "Give it a name.",
    "group": "Choose a group of this page, or none.",
    "service_id": "Choose a service from the list, or none.",
    "status": "Choose a status from the list.",
}


def _moved(codes: list[str], code: str, neighbours: list[int], form: FormData) -> list[str]:
    """`codes` with `code` swapped with its neighbour above (`direction=up`) or below (`down`),
    among the indexes in `neighbours` (the items it moves among); unchanged at either end."""
    direction = text_of(form, "direction")
    if direction not in ("up", "down"):
        raise InvalidInput.on("direction", "must be up or down")
    index = codes.index(code)
    place = neighbours.index(index)
    other = place - 1 if direction == "up" else place + 1
    if not 0 <= other < len(neighbours):
        return codes
    swapped = list(codes)
    a, b = index, neighbours[other]
    swapped[a], swapped[b] = swapped[b], swapped[a]
    return swapped


# --- Groups ------------------------------------------------------------------------------------


@router.post(GROUPS)
def group_create(
    slug: PageSlug, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    values = {name: text_of(form, f"group.{name}") for name in ("name", "description")}
    try:
        with all_or_nothing(db):
            body = GroupCreate.model_validate(values)
            group = pages.create_group(
                db,
                actor=me.actor,
                now=clock.now(),
                page=page,
                name=body.name,
                description=body.description,
            )
    except (AppError, ValidationError) as error:
        refused = refusal(error, prefix="group", friendly=FRIENDLY)
        return detail_page(request, db, me, page, group=values, refused=refused)
    return back_to(page, "created", f"group-{group.code}")


def _group_page(
    request: Request,
    page: StatusPage,
    group: ComponentGroup,
    values: dict[str, Any],
    refused: Refusal | None = None,
) -> Response:
    context = {"current": PAGES, "page": page, "group": group, "values": values}
    return settings_page(request, "statuspages/group_edit.html", context, refusal=refused)


@router.get(GROUPS + "/{code}")
def group_form(
    slug: PageSlug, code: Code, request: Request, me: WebUser, db: DbSession
) -> Response:
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    group = pages.get_group(db, page, code)
    values = {"name": group.name, "description": group.description}
    return _group_page(request, page, group, values)


@router.post(GROUPS + "/{code}")
def group_save(
    slug: PageSlug,
    code: Code,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    group = pages.get_group(db, page, code)
    values = {name: text_of(form, name) for name in ("name", "description")}
    try:
        with all_or_nothing(db):
            changes = GroupCreate.model_validate(values).model_dump(exclude={"position"})
            pages.update_group(db, actor=me.actor, now=clock.now(), group=group, changes=changes)
    except (AppError, ValidationError) as error:
        return _group_page(request, page, group, values, refusal(error, friendly=FRIENDLY))
    return back_to(page, "saved", f"group-{group.code}")


@router.post(GROUPS + "/{code}/move")
def group_move(
    slug: PageSlug, code: Code, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Show the group one place earlier (`direction=up`) or later (`down`) on the page."""
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    group = pages.get_group(db, page, code)
    codes = [each.code for each in pages.list_groups(db, page)]
    wanted = _moved(codes, group.code, list(range(len(codes))), form)
    if wanted != codes:
        pages.reorder_groups(db, actor=me.actor, now=clock.now(), page=page, codes=wanted)
    return back_to(page, "moved", f"group-{group.code}")


@router.post(GROUPS + "/{code}/delete")
def group_delete(
    slug: PageSlug,
    code: Code,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Asks first; its components stay on the page, in no group."""
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    group = pages.get_group(db, page, code)
    asked = ask_to_delete(
        request,
        form,
        kind="group",
        name=group.name,
        question="Its components stay on the page, in no group.",
        at=f"{page_path(page)}/groups/{group.code}",
        back=page_path(page),
    )
    if asked is not None:
        return asked
    pages.delete_group(db, actor=me.actor, now=clock.now(), group=group)
    return back_to(page, "deleted", "components")


# --- Components ------------------------------------------------------------------------------


def _component_values(form: FormData, prefix: str = "") -> dict[str, Any]:
    values: dict[str, Any] = {
        name: text_of(form, prefix + name)
        for name in ("name", "description", "group", "service", "status")
    }
    for name in ("showcase", "only_show_if_degraded"):
        values[name] = is_ticked(form, prefix + name)
    return values


def _component_body(values: dict[str, Any]) -> ComponentCreate:
    """The component as the API would take it; a blank group or service is none."""
    service = values["service"]
    return ComponentCreate.model_validate(
        {
            "name": values["name"],
            "description": values["description"],
            "group": values["group"] or None,
            "service_id": service if service else None,
            "status": values["status"] or "operational",
            "showcase": values["showcase"],
            "only_show_if_degraded": values["only_show_if_degraded"],
        }
    )


def _in_form(error: AppError | ValidationError, prefix: str = "") -> Refusal:
    """The refusal with the API's `service_id` as the form's `service`."""
    found = refusal(error, friendly=FRIENDLY)
    fields = {
        prefix + ("service" if name == "service_id" else name): message
        for name, message in found.fields.items()
    }
    return Refusal(status=found.status, summary=found.summary, fields=fields)


@router.post(COMPONENTS)
def component_create(
    slug: PageSlug, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """A new component, last on the page; its uptime is counted from now."""
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    values = _component_values(form, "component.")
    try:
        with all_or_nothing(db):
            body = _component_body(values)
            component = components.create_component(
                db,
                actor=me.actor,
                now=clock.now(),
                page=page,
                name=body.name,
                description=body.description,
                group=pages.find_group(db, page, body.group),
                service=components.find_service(db, body.service_id),
                showcase=body.showcase,
                only_show_if_degraded=body.only_show_if_degraded,
                status=body.status,
            )
    except (AppError, ValidationError) as error:
        refused = _in_form(error, "component.")
        return detail_page(request, db, me, page, component=values, refused=refused)
    return back_to(page, "created", f"component-{component.code}")


def _component_page(
    request: Request,
    db: Session,
    page: StatusPage,
    component: Component,
    values: dict[str, Any],
    refused: Refusal | None = None,
) -> Response:
    context = {
        "current": PAGES,
        "page": page,
        "component": component,
        "values": values,
        "group_choices": [(g.code, g.name) for g in pages.list_groups(db, page)],
        "services": [(str(s.id), s.name) for s in catalog.list_services(db)],
    }
    return settings_page(request, "statuspages/component_edit.html", context, refusal=refused)


@router.get(COMPONENTS + "/{code}")
def component_form(
    slug: PageSlug, code: Code, request: Request, me: WebUser, db: DbSession
) -> Response:
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    component = components.get_component(db, page, code)
    values = {
        "name": component.name,
        "description": component.description,
        "group": component.group.code if component.group is not None else "",
        "service": str(component.service_id or ""),
        "showcase": component.showcase,
        "only_show_if_degraded": component.only_show_if_degraded,
    }
    return _component_page(request, db, page, component, values)


@router.post(COMPONENTS + "/{code}")
def component_save(
    slug: PageSlug,
    code: Code,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Save the name, description, group, service and how the page shows it."""
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    component = components.get_component(db, page, code)
    values = _component_values(form)
    try:
        with all_or_nothing(db):
            body = _component_body(values)
            changes = body.model_dump(include={"name", "description", "showcase"})
            changes["only_show_if_degraded"] = body.only_show_if_degraded
            changes["group"] = pages.find_group(db, page, body.group)
            changes["service"] = components.find_service(db, body.service_id)
            components.update_component(
                db, actor=me.actor, now=clock.now(), component=component, changes=changes
            )
    except (AppError, ValidationError) as error:
        component = components.get_component(db, page, code)
        return _component_page(request, db, page, component, values, _in_form(error))
    return back_to(page, "saved", f"component-{component.code}")


@router.post(COMPONENTS + "/{code}/status")
def component_status(
    slug: PageSlug,
    code: Code,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """Put the component in the status chosen from now on: readers of the public page and the
    component's subscribers see it, and its uptime counts from the change."""
    require(me, Permission.STATUSPAGE_WRITE)
    page = pages.get_page(db, slug)
    component = components.get_component(db, page, code)
    try:
        with all_or_nothing(db):
            components.set_status(
                db,
                actor=me.actor,
                now=clock.now(),
                component=component,
                status=text_of(form, "status"),
                base_url=settings.base_url,
            )
    except AppError as error:
        refused = refusal(error, prefix=f"status-{component.code}", friendly=FRIENDLY)
        return detail_page(request, db, me, page, refused=refused)
    return back_to(page, "status", f"component-{component.code}")


@router.post(COMPONENTS + "/{code}/move")
def component_move(
    slug: PageSlug, code: Code, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Show the component one place earlier (`direction=up`) or later (`down`) in its group."""
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    component = components.get_component(db, page, code)
    listed = components.list_components(db, page)
    codes = [each.code for each in listed]
    same_group = [index for index, each in enumerate(listed) if each.group_id == component.group_id]
    wanted = _moved(codes, component.code, same_group, form)
    if wanted != codes:
        components.reorder_components(db, actor=me.actor, now=clock.now(), page=page, codes=wanted)
    return back_to(page, "moved", f"component-{component.code}")


@router.post(COMPONENTS + "/{code}/delete")
def component_delete(
    slug: PageSlug,
    code: Code,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Asks first; removes the component with its status history."""
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    component = components.get_component(db, page, code)
    asked = ask_to_delete(
        request,
        form,
        kind="component",
        name=component.name,
        question="It leaves the public page at once, with its uptime history; "
        "subscribers who follow only it hear nothing more. This cannot be undone.",
        at=f"{page_path(page)}/components/{component.code}",
        back=page_path(page),
    )
    if asked is not None:
        return asked
    components.delete_component(db, actor=me.actor, now=clock.now(), component=component)
    return back_to(page, "deleted", "components")
