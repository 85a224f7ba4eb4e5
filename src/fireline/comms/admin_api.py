"""JSON routes for setting up status pages: pages, component groups, components and the
templates updates start from.

Admins shape the pages (StatusPageAdmin); responders, who keep customers informed during an
incident, may read them and set a component's status (StatusPageWriter).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy.orm import Session

from fireline.api.deps import (
    AppClock,
    AppSettings,
    DbSession,
    StatusPageAdmin,
    StatusPageWriter,
)
from fireline.api.responses import json_response
from fireline.comms import components, pages, templates
from fireline.comms.schemas import (
    Audience,
    ComponentCreate,
    ComponentOut,
    ComponentStatusIn,
    ComponentUpdate,
    GroupCreate,
    GroupOut,
    GroupUpdate,
    Order,
    StatusPageCreate,
    StatusPageOut,
    StatusPageUpdate,
    TemplateCreate,
    TemplateOut,
    TemplateUpdate,
)
from fireline.errors import InvalidInput
from fireline.models import Component, ComponentGroup, PublicStatus

router = APIRouter(prefix="/api/v1", tags=["status pages"])

PageRef = Annotated[str, Path(description="The page's slug or code.")]


def _not_null(changes: dict[str, Any], *names: str) -> None:
    """Refuse null for fields that must keep a value (PATCH's null means "clear" elsewhere)."""
    for name in names:
        if name in changes and changes[name] is None:
            raise InvalidInput.on(name, "cannot be null")


def _group(db: Session, slug: str, code: str) -> ComponentGroup:
    """The group `code` of the page `slug`, or NotFound."""
    return pages.get_group(db, pages.get_page(db, slug), code)


def _component(db: Session, slug: str, code: str) -> Component:
    """The component `code` of the page `slug`, or NotFound."""
    return components.get_component(db, pages.get_page(db, slug), code)


# --- Pages -----------------------------------------------------------------------------------


@router.get("/status-pages", response_model=list[StatusPageOut])
def list_status_pages(principal: StatusPageWriter, db: DbSession) -> Response:
    """Every status page, the default (served at /status) first."""
    return json_response([StatusPageOut.of(page) for page in pages.list_pages(db)])


@router.post("/status-pages", status_code=201, response_model=StatusPageOut)
def create_status_page(
    body: StatusPageCreate, principal: StatusPageAdmin, db: DbSession, clock: AppClock
) -> Response:
    """A new page at /status/{slug}, without components yet."""
    page = pages.create_page(
        db,
        actor=principal.actor,
        now=clock.now(),
        slug=body.slug,
        name=body.name,
        description=body.description,
        homepage_url=body.homepage_url,
        support_url=body.support_url,
        time_zone=body.time_zone,
        is_default=body.is_default,
    )
    return json_response(StatusPageOut.of(page), status_code=201)


@router.get("/status-pages/{slug}", response_model=StatusPageOut)
def get_status_page(slug: PageRef, principal: StatusPageWriter, db: DbSession) -> Response:
    """A page by slug or code."""
    return json_response(StatusPageOut.of(pages.get_page(db, slug)))


@router.patch("/status-pages/{slug}", response_model=StatusPageOut)
def update_status_page(
    slug: PageRef,
    body: StatusPageUpdate,
    principal: StatusPageAdmin,
    db: DbSession,
    clock: AppClock,
) -> Response:
    """Change what the page says about itself; `is_default: true` moves /status to it."""
    page = pages.get_page(db, slug)
    changes = body.model_dump(exclude_unset=True)
    _not_null(changes, *changes)
    page = pages.update_page(db, actor=principal.actor, now=clock.now(), page=page, changes=changes)
    return json_response(StatusPageOut.of(page))


@router.delete("/status-pages/{slug}", status_code=204)
def delete_status_page(
    slug: PageRef, principal: StatusPageAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Delete a page and everything on it; the default page cannot be deleted."""
    page = pages.get_page(db, slug)
    pages.delete_page(db, actor=principal.actor, now=clock.now(), page=page)
    return Response(status_code=204)


# --- Component groups ------------------------------------------------------------------------


@router.get("/status-pages/{slug}/groups", response_model=list[GroupOut])
def list_groups(slug: PageRef, principal: StatusPageWriter, db: DbSession) -> Response:
    """The page's component groups in page order."""
    page = pages.get_page(db, slug)
    return json_response([GroupOut.of(group) for group in pages.list_groups(db, page)])


@router.post("/status-pages/{slug}/groups", status_code=201, response_model=GroupOut)
def create_group(
    slug: PageRef, body: GroupCreate, principal: StatusPageAdmin, db: DbSession, clock: AppClock
) -> Response:
    page = pages.get_page(db, slug)
    group = pages.create_group(
        db,
        actor=principal.actor,
        now=clock.now(),
        page=page,
        name=body.name,
        description=body.description,
        position=body.position,
    )
    return json_response(GroupOut.of(group), status_code=201)


@router.put("/status-pages/{slug}/groups/order", response_model=list[GroupOut])
def reorder_groups(
    slug: PageRef, body: Order, principal: StatusPageAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Set the order the page shows its groups in: `codes` names every group once."""
    page = pages.get_page(db, slug)
    ordered = pages.reorder_groups(
        db, actor=principal.actor, now=clock.now(), page=page, codes=body.codes
    )
    return json_response([GroupOut.of(group) for group in ordered])


@router.patch("/status-pages/{slug}/groups/{code}", response_model=GroupOut)
def update_group(
    slug: PageRef,
    code: str,
    body: GroupUpdate,
    principal: StatusPageAdmin,
    db: DbSession,
    clock: AppClock,
) -> Response:
    group = _group(db, slug, code)
    changes = body.model_dump(exclude_unset=True)
    _not_null(changes, *changes)
    group = pages.update_group(
        db, actor=principal.actor, now=clock.now(), group=group, changes=changes
    )
    return json_response(GroupOut.of(group))


@router.delete("/status-pages/{slug}/groups/{code}", status_code=204)
def delete_group(
    slug: PageRef, code: str, principal: StatusPageAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Delete the group; its components stay on the page, ungrouped."""
    group = _group(db, slug, code)
    pages.delete_group(db, actor=principal.actor, now=clock.now(), group=group)
    return Response(status_code=204)


# --- Components ------------------------------------------------------------------------------


@router.get("/status-pages/{slug}/components", response_model=list[ComponentOut])
def list_components(slug: PageRef, principal: StatusPageWriter, db: DbSession) -> Response:
    """The page's components in page order, each with its status."""
    page = pages.get_page(db, slug)
    return json_response([ComponentOut.of(item) for item in components.list_components(db, page)])


@router.post("/status-pages/{slug}/components", status_code=201, response_model=ComponentOut)
def create_component(
    slug: PageRef,
    body: ComponentCreate,
    principal: StatusPageAdmin,
    db: DbSession,
    clock: AppClock,
) -> Response:
    """A new component; its uptime is counted from now, in `status`."""
    page = pages.get_page(db, slug)
    component = components.create_component(
        db,
        actor=principal.actor,
        now=clock.now(),
        page=page,
        name=body.name,
        description=body.description,
        group=pages.find_group(db, page, body.group),
        service=components.find_service(db, body.service_id),
        position=body.position,
        showcase=body.showcase,
        only_show_if_degraded=body.only_show_if_degraded,
        status=body.status,
    )
    return json_response(ComponentOut.of(component), status_code=201)


@router.put("/status-pages/{slug}/components/order", response_model=list[ComponentOut])
def reorder_components(
    slug: PageRef, body: Order, principal: StatusPageAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Set the order the page shows its components in: `codes` names every component once."""
    page = pages.get_page(db, slug)
    ordered = components.reorder_components(
        db, actor=principal.actor, now=clock.now(), page=page, codes=body.codes
    )
    return json_response([ComponentOut.of(component) for component in ordered])


@router.get("/status-pages/{slug}/components/{code}", response_model=ComponentOut)
def get_component(slug: PageRef, code: str, principal: StatusPageWriter, db: DbSession) -> Response:
    return json_response(ComponentOut.of(_component(db, slug, code)))


@router.patch("/status-pages/{slug}/components/{code}", response_model=ComponentOut)
def update_component(
    slug: PageRef,
    code: str,
    body: ComponentUpdate,
    principal: StatusPageAdmin,
    db: DbSession,
    clock: AppClock,
) -> Response:
    """Change the component; `group` moves it to another group of the page (null: none)."""
    page = pages.get_page(db, slug)
    component = components.get_component(db, page, code)
    changes = body.model_dump(exclude_unset=True)
    _not_null(changes, "name", "description", "position", "showcase", "only_show_if_degraded")
    if "group" in changes:
        changes["group"] = pages.find_group(db, page, changes["group"])
    if "service_id" in changes:
        changes["service"] = components.find_service(db, changes.pop("service_id"))
    component = components.update_component(
        db, actor=principal.actor, now=clock.now(), component=component, changes=changes
    )
    return json_response(ComponentOut.of(component))


@router.put("/status-pages/{slug}/components/{code}/status", response_model=ComponentOut)
def set_component_status(
    slug: PageRef,
    code: str,
    body: ComponentStatusIn,
    principal: StatusPageWriter,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Put the component in `status` from now on: readers of the page and the component's
    subscribers see it, and its uptime counts from the change."""
    component = _component(db, slug, code)
    component = components.set_status(
        db,
        actor=principal.actor,
        now=clock.now(),
        component=component,
        status=body.status,
        base_url=settings.base_url,
    )
    return json_response(ComponentOut.of(component))


@router.delete("/status-pages/{slug}/components/{code}", status_code=204)
def delete_component(
    slug: PageRef, code: str, principal: StatusPageAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Delete the component and its status history."""
    component = _component(db, slug, code)
    components.delete_component(db, actor=principal.actor, now=clock.now(), component=component)
    return Response(status_code=204)


# --- Update templates ------------------------------------------------------------------------


@router.get("/update-templates", response_model=list[TemplateOut])
def list_update_templates(
    principal: StatusPageWriter,
    db: DbSession,
    audience: Annotated[Audience | None, Query(description="public or internal.")] = None,
    status: Annotated[PublicStatus | None, Query(description="Suiting this status.")] = None,
) -> Response:
    """The texts updates start from, by name."""
    found = templates.list_templates(
        db, audience=audience, status=status.value if status is not None else None
    )
    return json_response([TemplateOut.of(template) for template in found])


@router.post("/update-templates", status_code=201, response_model=TemplateOut)
def create_update_template(
    body: TemplateCreate, principal: StatusPageAdmin, db: DbSession, clock: AppClock
) -> Response:
    template = templates.create_template(
        db,
        actor=principal.actor,
        now=clock.now(),
        name=body.name,
        audience=body.audience,
        status=body.status.value if body.status is not None else None,
        current_impact=body.current_impact,
        doing_now=body.doing_now,
        users_should=body.users_should,
    )
    return json_response(TemplateOut.of(template), status_code=201)


@router.get("/update-templates/{template_id}", response_model=TemplateOut)
def get_update_template(template_id: int, principal: StatusPageWriter, db: DbSession) -> Response:
    return json_response(TemplateOut.of(templates.get_template(db, template_id)))


@router.patch("/update-templates/{template_id}", response_model=TemplateOut)
def update_update_template(
    template_id: int,
    body: TemplateUpdate,
    principal: StatusPageAdmin,
    db: DbSession,
    clock: AppClock,
) -> Response:
    """Change the template; `status: null` makes it suit any status."""
    template = templates.get_template(db, template_id)
    changes = body.model_dump(exclude_unset=True)
    _not_null(changes, *(name for name in changes if name != "status"))
    if changes.get("status") is not None:
        changes["status"] = PublicStatus(changes["status"]).value
    template = templates.update_template(
        db, actor=principal.actor, now=clock.now(), template=template, changes=changes
    )
    return json_response(TemplateOut.of(template))


@router.delete("/update-templates/{template_id}", status_code=204)
def delete_update_template(
    template_id: int, principal: StatusPageAdmin, db: DbSession, clock: AppClock
) -> Response:
    template = templates.get_template(db, template_id)
    templates.delete_template(db, actor=principal.actor, now=clock.now(), template=template)
    return Response(status_code=204)
