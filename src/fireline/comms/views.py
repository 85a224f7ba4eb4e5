"""Settings pages for status pages: the list of pages with the form to add one, and each page's
own page with its settings, its component groups and components, and a status select per
component. Admins shape the pages; responders, who keep customers informed during an incident,
open them to set a component's status (component_views.py).

What the other status page settings pages share lives here too: the path, the names of the
statuses, and turning a refusal into messages beside the fields of the form that was sent."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.alerts.rule_views import refusal_of
from fireline.api.deps import AppClock, DbSession
from fireline.catalog import service as catalog
from fireline.comms import components, pages
from fireline.comms.forms import ask_to_delete
from fireline.comms.public_views import STATUS_WORDS
from fireline.comms.schemas import StatusPageCreate, StatusPageUpdate
from fireline.errors import AppError, Conflict, FieldProblem
from fireline.models import Component, ComponentGroup, ComponentStatus, StatusPage
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    NOTICES,
    PostedForm,
    Refusal,
    all_or_nothing,
    is_ticked,
    see_other,
    settings_page,
    text_of,
)

router = APIRouter(include_in_schema=False)
PAGES = "/settings/status-pages"
# A page's slug or code in a settings path; anything longer names no page.
PageSlug = Annotated[str, Path(max_length=60)]
Code = Annotated[str, Path(max_length=16)]
COMPONENT_STATUSES = [(status.value, STATUS_WORDS[status.value]) for status in ComponentStatus]
# Notices for the status page settings pages' own changes; the rest are the shared ones.
OWN_NOTICES = {
    "status": "Status set: readers of the public page see it now.",
    "moved": "Moved.",
    "scheduled": "The maintenance is announced on the page; subscribers hear of it.",
    "posted": "The update is on the page.",
    "rescheduled": "Rescheduled: the page shows the new window.",
    "cancelled": "Cancelled: the page says so, and its components are back as they were.",
    "removed": "Removed: nothing more is sent to it.",
}
FRIENDLY = {
    "name": "Give it a name.",
    "slug": "Give the page a slug: lowercase letters, digits and hyphens, e.g. payments.",
}
PAGE_FIELDS = ("name", "description", "homepage_url", "support_url", "time_zone")
NEW_PAGE: dict[str, Any] = {
    "slug": "",
    "name": "",
    "description": "",
    "homepage_url": "",
    "support_url": "",
    "time_zone": "Etc/UTC",
    "is_default": False,
}
NEW_GROUP = {"name": "", "description": ""}
NEW_COMPONENT: dict[str, Any] = {
    "name": "",
    "description": "",
    "group": "",
    "service": "",
    "status": ComponentStatus.OPERATIONAL.value,
    "showcase": True,
    "only_show_if_degraded": False,
}


@cache
def time_zones() -> list[tuple[str, str]]:
    """Every IANA zone the system knows, by name, as select options."""
    return [(zone, zone.replace("_", " ")) for zone in sorted(available_timezones())]


def refusal(
    error: AppError | ValidationError,
    *,
    prefix: str = "",
    friendly: dict[str, str] | None = None,
    conflict_field: str = "",
) -> Refusal:
    """The refusal in words for a form, its field names as the form's (`group.name` for the
    service's `name` when `prefix` is `group`). A clash without a field (a name taken) is put
    beside `conflict_field`."""
    if isinstance(error, Conflict) and not error.errors and conflict_field:
        error = Conflict(detail=error.detail, errors=[FieldProblem(conflict_field, error.detail)])
    found = refusal_of(error, friendly if friendly is not None else FRIENDLY)
    if not prefix:
        return found
    fields = {f"{prefix}.{name}": message for name, message in found.fields.items()}
    return Refusal(status=found.status, summary=found.summary, fields=fields)


def notice_of(request: Request) -> str | None:
    done = request.query_params.get("done", "")
    return OWN_NOTICES.get(done) or NOTICES.get(done)


def page_path(page: StatusPage) -> str:
    return f"{PAGES}/{page.slug}"


def public_path(page: StatusPage) -> str:
    """Where readers find the page: /status for the default one."""
    return "/status" if page.is_default else f"/status/{page.slug}"


def back_to(page: StatusPage, done: str, anchor: str = "") -> Response:
    """Back to the page's settings after a change, saying what happened."""
    return see_other(page_path(page), done, anchor)


def sections(
    groups: list[ComponentGroup], components: list[Component]
) -> list[tuple[ComponentGroup | None, list[Component]]]:
    """The components under their groups, in page order; those in no group last."""
    shown: list[tuple[ComponentGroup | None, list[Component]]] = [
        (group, [c for c in components if c.group_id == group.id]) for group in groups
    ]
    loose = [c for c in components if c.group_id is None]
    if loose or not groups:
        shown.append((None, loose))
    return shown


def _page_values(page: StatusPage) -> dict[str, Any]:
    return {name: getattr(page, name) for name in (*PAGE_FIELDS, "is_default", "slug")}


def detail_page(
    request: Request,
    db: Session,
    me: Principal,
    page: StatusPage,
    *,
    settings_values: dict[str, Any] | None = None,
    group: dict[str, Any] | None = None,
    component: dict[str, Any] | None = None,
    refused: Refusal | None = None,
) -> Response:
    """The page's settings, groups and components, with the forms filled as given."""
    groups = pages.list_groups(db, page)
    listed = components.list_components(db, page)
    context = {
        "current": PAGES,
        "page": page,
        "public_path": public_path(page),
        "shown": sections(groups, listed),
        "groups": groups,
        "group_choices": [(g.code, g.name) for g in groups],
        "services": [(str(s.id), s.name) for s in catalog.list_services(db)],
        "statuses": COMPONENT_STATUSES,
        "status_words": STATUS_WORDS,
        "zones": time_zones(),
        "values": settings_values or _page_values(page),
        "new_group": group or NEW_GROUP,
        "new_component": component or NEW_COMPONENT,
        "can_admin": me.can(Permission.STATUSPAGE_ADMIN),
        "notice": notice_of(request),
    }
    return settings_page(request, "statuspages/page.html", context, refusal=refused)


def _list_page(
    request: Request, db: Session, me: Principal, values: dict[str, Any], refused: Refusal | None
) -> Response:
    context = {
        "current": PAGES,
        "pages": [(page, public_path(page)) for page in pages.list_pages(db)],
        "values": values,
        "zones": time_zones(),
        "can_admin": me.can(Permission.STATUSPAGE_ADMIN),
        "notice": notice_of(request),
    }
    return settings_page(request, "statuspages/index.html", context, refusal=refused)


@router.get(PAGES)
def page_list(request: Request, me: WebUser, db: DbSession) -> Response:
    """Every status page, the default (served at /status) first, and the form to add one."""
    require(me, Permission.STATUSPAGE_WRITE)
    return _list_page(request, db, me, NEW_PAGE, None)


@router.post(PAGES)
def page_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    require(me, Permission.STATUSPAGE_ADMIN)
    values: dict[str, Any] = {name: text_of(form, name) for name in ("slug", *PAGE_FIELDS)}
    values["is_default"] = is_ticked(form, "is_default")
    try:
        with all_or_nothing(db):
            body = StatusPageCreate.model_validate(values)
            page = pages.create_page(
                db, actor=me.actor, now=clock.now(), **body.model_dump(exclude_unset=False)
            )
    except (AppError, ValidationError) as error:
        return _list_page(request, db, me, values, refusal(error, conflict_field="slug"))
    return back_to(page, "created")


@router.get(PAGES + "/{slug}")
def page_form(slug: PageSlug, request: Request, me: WebUser, db: DbSession) -> Response:
    """The page's settings, groups and components."""
    require(me, Permission.STATUSPAGE_WRITE)
    return detail_page(request, db, me, pages.get_page(db, slug))


@router.post(PAGES + "/{slug}")
def page_save(
    slug: PageSlug, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Save what the page says about itself; ticking "default" moves /status to it."""
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    values: dict[str, Any] = {name: text_of(form, name) for name in PAGE_FIELDS}
    values["is_default"] = is_ticked(form, "is_default")
    try:
        with all_or_nothing(db):
            body = StatusPageUpdate.model_validate(values)
            changes = body.model_dump(exclude_none=True)
            if not changes["is_default"] and not page.is_default:
                del changes["is_default"]  # "not the default" is the only way to stay so
            pages.update_page(db, actor=me.actor, now=clock.now(), page=page, changes=changes)
    except (AppError, ValidationError) as error:
        db.refresh(page)
        values["slug"] = page.slug
        return detail_page(request, db, me, page, settings_values=values, refused=refusal(error))
    return back_to(page, "saved", "settings")


@router.post(PAGES + "/{slug}/delete")
def page_delete(
    slug: PageSlug, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Asks first; then removes the page with everything on it. The default page stays."""
    require(me, Permission.STATUSPAGE_ADMIN)
    page = pages.get_page(db, slug)
    asked = ask_to_delete(
        request,
        form,
        kind="status page",
        name=page.name,
        question=f"{public_path(page)} stops answering at once, and its components, their "
        "history, its incidents and maintenances and its subscribers go with it. "
        "This cannot be undone.",
        at=page_path(page),
        back=page_path(page),
    )
    if asked is not None:
        return asked
    try:
        with all_or_nothing(db):
            pages.delete_page(db, actor=me.actor, now=clock.now(), page=page)
    except AppError as error:
        return detail_page(request, db, me, page, refused=Refusal.of(error))
    return see_other(PAGES, "deleted")
