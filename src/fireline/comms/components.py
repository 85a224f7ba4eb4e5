"""The components a status page shows, and what they share with the page's component groups.

A component's status only ever changes through status_changes.set_component_status, so its
status history stays whole; every other change a reader of the page can see raises the page's
version (signals.page_changed). The private helpers below (positions, reordering, audit
records, audited create/update/delete) serve both components and pages.py's component groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from fireline.accounts.principal import Actor
from fireline.accounts.service import MAX_ID
from fireline.audit.service import record
from fireline.comms.codes import new_code
from fireline.comms.signals import page_changed
from fireline.comms.status_changes import parse_status, set_component_status
from fireline.errors import InvalidInput, NotFound
from fireline.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    Service,
    StatusPage,
)

Positioned = TypeVar("Positioned", ComponentGroup, Component)


# --- Shared by groups and components ---------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """How the audit log and error messages name groups or components."""

    noun: str  # in error messages
    action: str  # the audit action's prefix
    entity_type: str  # the audit record's entity type


_GROUP = _Kind(noun="group", action="status_component_group", entity_type="status_component_group")
_COMPONENT = _Kind(noun="component", action="component", entity_type="status_component")


def _positions(session: Session, model: type[Positioned], page: StatusPage) -> int:
    """The position after the last of the page's groups or components."""
    last = session.scalar(select(func.max(model.position)).where(model.page_id == page.id))
    return (last or 0) + 1


def _reordered(
    items: Sequence[Positioned], codes: Sequence[str], *, now: datetime, noun: str
) -> list[Positioned]:
    """`items` in the order of `codes`, which must name each of them once; positions set."""
    by_code = {item.code: item for item in items}
    if len(set(codes)) != len(codes):
        raise InvalidInput.on("codes", f"names a {noun} more than once")
    unknown = [code for code in codes if code not in by_code]
    if unknown:
        raise InvalidInput.on("codes", f"no {noun} '{unknown[0]}' on this page")
    missing = sorted(set(by_code) - set(codes))
    if missing:
        raise InvalidInput.on("codes", f"must name every {noun}; '{missing[0]}' is missing")
    ordered = [by_code[code] for code in codes]
    for position, item in enumerate(ordered, start=1):
        if item.position != position:
            item.position = position
            item.updated_at = now
    return ordered


def _audit(
    session: Session,
    kind: _Kind,
    *,
    actor: Actor,
    now: datetime,
    verb: str,
    item: ComponentGroup | Component,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    record(
        session,
        actor=actor,
        action=f"{kind.action}.{verb}",
        entity_type=kind.entity_type,
        entity_id=item.code,
        at=now,
        before=before,
        after=after,
    )


def _created(
    session: Session,
    kind: _Kind,
    *,
    actor: Actor,
    now: datetime,
    item: ComponentGroup | Component,
    after: dict[str, Any],
) -> None:
    """Announce and audit `item`, just added and flushed."""
    page_changed(session, item.page_id)
    _audit(session, kind, actor=actor, now=now, verb="create", item=item, after=after)


def _updated(
    session: Session,
    kind: _Kind,
    *,
    actor: Actor,
    now: datetime,
    item: ComponentGroup | Component,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """When the view of `item` changed from `before` to `after`: stamp, announce, audit."""
    if after == before:
        return
    item.updated_at = now
    session.flush()
    page_changed(session, item.page_id)
    _audit(
        session, kind, actor=actor, now=now, verb="update", item=item, before=before, after=after
    )


def _deleted(
    session: Session,
    kind: _Kind,
    *,
    actor: Actor,
    now: datetime,
    item: ComponentGroup | Component,
    before: dict[str, Any],
) -> None:
    """Announce, audit and delete `item`."""
    page_changed(session, item.page_id)
    _audit(session, kind, actor=actor, now=now, verb="delete", item=item, before=before)
    session.delete(item)
    session.flush()


def _reorder(
    session: Session,
    kind: _Kind,
    *,
    actor: Actor,
    now: datetime,
    page: StatusPage,
    items: Sequence[Positioned],
    codes: Sequence[str],
) -> list[Positioned]:
    """Put `items` (all the page's groups, or components) in the order of `codes`; audited."""
    before = {item.code: item.position for item in items}
    ordered = _reordered(items, codes, now=now, noun=kind.noun)
    session.flush()
    page_changed(session, page.id)
    record(
        session,
        actor=actor,
        action=f"{kind.action}.reorder",
        entity_type="status_page",
        entity_id=page.code,
        at=now,
        before=before,
        after={item.code: item.position for item in ordered},
    )
    return ordered


# --- Components ------------------------------------------------------------------------------


def _component_view(component: Component) -> dict[str, Any]:
    return {
        "name": component.name,
        "description": component.description,
        "group": component.group.code if component.group is not None else None,
        "service_id": component.service_id,
        "position": component.position,
        "showcase": component.showcase,
        "only_show_if_degraded": component.only_show_if_degraded,
    }


def _components(page: StatusPage) -> Select[Component]:
    return (
        select(Component)
        .where(Component.page_id == page.id)
        .options(selectinload(Component.group), selectinload(Component.service))
        .order_by(Component.position, Component.id)
    )


def list_components(session: Session, page: StatusPage) -> list[Component]:
    """The page's components in the order the page shows them, with group and service."""
    return list(session.scalars(_components(page)))


def get_component(session: Session, page: StatusPage, code: str) -> Component:
    component = session.scalar(_components(page).where(Component.code == code))
    if component is None:
        raise NotFound(detail=f"No component '{code}' on page '{page.slug}'.")
    return component


def find_service(
    session: Session, service_id: int | None, *, field: str = "service_id"
) -> Service | None:
    """The catalog service a component stands for (None for none), or InvalidInput."""
    if service_id is None:
        return None
    service = session.get(Service, service_id) if 0 < service_id <= MAX_ID else None
    if service is None:
        raise InvalidInput.on(field, f"no service {service_id}")
    return service


def create_component(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    page: StatusPage,
    name: str,
    description: str = "",
    group: ComponentGroup | None = None,
    service: Service | None = None,
    position: int | None = None,
    showcase: bool = True,
    only_show_if_degraded: bool = False,
    status: ComponentStatus = ComponentStatus.OPERATIONAL,
) -> Component:
    """A new component on `page` in `status` from `now` on (its first status history row:
    uptime is counted from its creation), last unless `position` is given."""
    if group is not None and group.page_id != page.id:
        raise InvalidInput.on("group", f"no group '{group.code}' on page '{page.slug}'")
    component = Component(
        code=new_code(),
        page_id=page.id,
        name=name,
        description=description,
        position=position if position is not None else _positions(session, Component, page),
        status=status.value,
        showcase=showcase,
        only_show_if_degraded=only_show_if_degraded,
        started_at=now,
        created_at=now,
        updated_at=now,
    )
    component.group = group
    component.service = service
    session.add(component)
    session.flush()
    session.add(ComponentStatusChange(component_id=component.id, status=status.value, at=now))
    _created(
        session,
        _COMPONENT,
        actor=actor,
        now=now,
        item=component,
        after={**_component_view(component), "status": component.status},
    )
    session.flush()
    return component


def update_component(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    component: Component,
    changes: dict[str, Any],
) -> Component:
    """Change name, description, position, showcase, only_show_if_degraded, `service` (a
    Service or None) or `group` (a ComponentGroup of the same page, or None to ungroup).
    The status changes only through set_status."""
    before = _component_view(component)
    for name in ("name", "description", "position", "showcase", "only_show_if_degraded"):
        if name in changes:
            setattr(component, name, changes[name])
    if "service" in changes:
        component.service = changes["service"]
    if "group" in changes:
        group: ComponentGroup | None = changes["group"]
        if group is not None and group.page_id != component.page_id:
            raise InvalidInput.on("group", "must be a group of the component's own page")
        component.group = group
    _updated(
        session,
        _COMPONENT,
        actor=actor,
        now=now,
        item=component,
        before=before,
        after=_component_view(component),
    )
    return component


def move_component(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    component: Component,
    group: ComponentGroup | None,
) -> Component:
    """Put the component in `group` (of the same page), or take it out of its group."""
    return update_component(
        session, actor=actor, now=now, component=component, changes={"group": group}
    )


def set_status(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    component: Component,
    status: str,
    base_url: str,
) -> Component:
    """Put the component in `status` from now on (see status_changes.set_component_status)."""
    set_component_status(
        session,
        actor=actor,
        now=now,
        component=component,
        status=parse_status(status),
        base_url=base_url,
    )
    session.flush()
    return component


def delete_component(
    session: Session, *, actor: Actor, now: datetime, component: Component
) -> None:
    """Delete the component with its status history."""
    _deleted(
        session,
        _COMPONENT,
        actor=actor,
        now=now,
        item=component,
        before={**_component_view(component), "status": component.status},
    )


def reorder_components(
    session: Session, *, actor: Actor, now: datetime, page: StatusPage, codes: Sequence[str]
) -> list[Component]:
    """Show the page's components in the order of `codes`, which names each one once."""
    components = list_components(session, page)
    return _reorder(
        session, _COMPONENT, actor=actor, now=now, page=page, items=components, codes=codes
    )


def components_for_services(
    session: Session, page: StatusPage, service_ids: Sequence[int]
) -> list[Component]:
    """The page's components standing for any of these catalog services, in page order: what
    an incident affecting those services affects on the page."""
    if not service_ids:
        return []
    query = _components(page).where(Component.service_id.in_(set(service_ids)))
    return list(session.scalars(query))
