"""Reading public incidents and maintenances: finding them, their updates, the components they
affect, and the status they still hold a component in. No writes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from fireline.comms.indicator import worst_status
from fireline.errors import NotFound
from fireline.models import (
    Component,
    ComponentStatus,
    Incident,
    PublicIncident,
    PublicKind,
    PublicStatus,
    PublicUpdate,
    StatusPage,
    TimelineEntry,
    public_incident_components,
)
from fireline.models.comms import ENDED_STATUSES

# The statuses in which a maintenance holds its components under maintenance.
_MAINTENANCE_HOLDS = frozenset({PublicStatus.IN_PROGRESS.value, PublicStatus.VERIFYING.value})


def public_incident_for(session: Session, incident: Incident) -> PublicIncident | None:
    """The internal incident's public incident: the open one, else the latest; None if it was
    never published."""
    published = session.scalars(
        select(PublicIncident)
        .where(
            PublicIncident.incident_id == incident.id,
            PublicIncident.kind == PublicKind.INCIDENT.value,
        )
        .order_by(PublicIncident.id.desc())
    ).all()
    open_ones = [each for each in published if each.status not in ENDED_STATUSES]
    if open_ones:
        return open_ones[0]
    return published[0] if published else None


def get_public_incident(
    session: Session, code: str, *, for_update: bool = False, kind: PublicKind | None = None
) -> PublicIncident:
    """The public incident (or, with `kind`, only that kind) by code, or NotFound."""
    what = "maintenance" if kind is PublicKind.MAINTENANCE else "public incident"
    if len(code) > 16 or "\x00" in code:
        raise NotFound(detail=f"No {what} {code[:16]!r}.")
    query = select(PublicIncident).where(PublicIncident.code == code)
    if kind is not None:
        query = query.where(PublicIncident.kind == kind.value)
    if for_update:
        query = query.with_for_update()
    found = session.scalar(query.execution_options(populate_existing=True))
    if found is None:
        raise NotFound(detail=f"No {what} {code!r}.")
    return found


def list_public_incidents(
    session: Session,
    page: StatusPage,
    *,
    kind: PublicKind = PublicKind.INCIDENT,
    status: PublicStatus | None = None,
    unresolved: bool = False,
    before_id: int | None = None,
    limit: int = 50,
) -> list[PublicIncident]:
    """The page's public incidents (or maintenances), newest first."""
    query = (
        select(PublicIncident)
        .where(PublicIncident.page_id == page.id, PublicIncident.kind == kind.value)
        .order_by(PublicIncident.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(PublicIncident.status == status.value)
    if unresolved:
        query = query.where(PublicIncident.status.not_in([s.value for s in ENDED_STATUSES]))
    if before_id is not None:
        query = query.where(PublicIncident.id < before_id)
    return list(session.scalars(query))


def updates_of(session: Session, public_incident: PublicIncident) -> list[PublicUpdate]:
    """Its updates, newest first, as the page shows them."""
    return list(
        session.scalars(
            select(PublicUpdate)
            .where(PublicUpdate.public_incident_id == public_incident.id)
            .order_by(PublicUpdate.display_at.desc(), PublicUpdate.id.desc())
        )
    )


def components_of(session: Session, public_incident: PublicIncident) -> list[Component]:
    """The components it affects, in page order."""
    return list(
        session.scalars(
            select(Component)
            .join(
                public_incident_components,
                public_incident_components.c.component_id == Component.id,
            )
            .where(public_incident_components.c.public_incident_id == public_incident.id)
            .order_by(Component.position, Component.id)
        )
    )


def timeline_entry_of(session: Session, update: PublicUpdate) -> TimelineEntry | None:
    """The internal timeline entry the update wrote, if it wrote one."""
    if update.timeline_entry_id is None:
        return None
    return session.scalar(
        select(TimelineEntry)
        .where(TimelineEntry.id == update.timeline_entry_id)
        .options(joinedload(TimelineEntry.thread), joinedload(TimelineEntry.author))
        .execution_options(populate_existing=True)
    )


def held_status(session: Session, component: Component) -> ComponentStatus:
    """The worst status an open public incident or a maintenance in progress still holds the
    component in: an incident holds it in the status its latest update asked for (kept in the
    update's parts, even when the component was in that status already), a maintenance under
    maintenance. Operational when nothing holds it."""
    holders = session.execute(
        select(PublicIncident.id, PublicIncident.kind, PublicIncident.status)
        .join(
            public_incident_components,
            public_incident_components.c.public_incident_id == PublicIncident.id,
        )
        .where(
            public_incident_components.c.component_id == component.id,
            PublicIncident.status.not_in([s.value for s in ENDED_STATUSES]),
        )
    ).all()
    held = [ComponentStatus.OPERATIONAL]
    for holder_id, kind, status in holders:
        if kind == PublicKind.MAINTENANCE.value:
            if status in _MAINTENANCE_HOLDS:
                held.append(ComponentStatus.UNDER_MAINTENANCE)
            continue
        asked = session.scalars(
            select(PublicUpdate.parts)
            .where(PublicUpdate.public_incident_id == holder_id)
            .order_by(PublicUpdate.display_at.desc(), PublicUpdate.id.desc())
        )
        last = next(
            (
                p["components"][component.code]
                for p in asked
                if component.code in p.get("components", {})
            ),
            ComponentStatus.OPERATIONAL.value,
        )
        held.append(ComponentStatus(last))
    return ComponentStatus(worst_status(held))
