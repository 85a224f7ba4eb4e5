"""Use cases for the service catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from fireline.accounts.principal import Actor
from fireline.accounts.service import get_team, parse_id, slugify
from fireline.audit.service import record
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.models import Service, Team


def _snapshot(service: Service) -> dict[str, Any]:
    return {
        "name": service.name,
        "slug": service.slug,
        "description": service.description,
        "owner_team_id": service.owner_team_id,
        "tier": service.tier,
        "runbook_url": service.runbook_url,
    }


def list_services(session: Session) -> list[Service]:
    query = select(Service).options(selectinload(Service.owner_team)).order_by(Service.name)
    return list(session.scalars(query))


def get_service(session: Session, ref: str) -> Service:
    query = (
        select(Service)
        .options(selectinload(Service.owner_team))
        .execution_options(populate_existing=True)
    )
    service_id = parse_id(ref)
    service = session.scalar(query.where(Service.id == service_id)) if service_id else None
    if service is None:  # a slug, which may itself be all digits (a service named "911")
        service = session.scalar(query.where(Service.slug == ref))
    if service is None:
        raise NotFound(detail=f"No service '{ref}'.")
    return service


def _team(session: Session, ref: str) -> Team:
    try:
        return get_team(session, ref)
    except NotFound:
        raise InvalidInput.on("owner_team", f"no team '{ref}'") from None


def create_service(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    name: str,
    slug: str | None = None,
    description: str = "",
    owner_team: str | None = None,
    tier: int = 2,
    runbook_url: str | None = None,
) -> Service:
    slug = slug or slugify(name)
    clash = select(Service.id).where(
        (func.lower(Service.name) == name.lower()) | (Service.slug == slug)
    )
    if session.scalar(clash) is not None:
        raise Conflict(detail=f"A service named '{name}' or with slug '{slug}' already exists.")
    service = Service(
        name=name,
        slug=slug,
        description=description,
        owner_team_id=_team(session, owner_team).id if owner_team else None,
        tier=tier,
        runbook_url=runbook_url,
        created_at=now,
        updated_at=now,
    )
    session.add(service)
    session.flush()
    record(
        session,
        actor=actor,
        action="service.create",
        entity_type="service",
        entity_id=service.id,
        at=now,
        after=_snapshot(service),
    )
    return get_service(session, str(service.id))


def update_service(
    session: Session, *, actor: Actor, now: datetime, service: Service, changes: dict[str, Any]
) -> Service:
    before = _snapshot(service)
    if "name" in changes and changes["name"] is not None:
        clash = select(Service.id).where(
            func.lower(Service.name) == changes["name"].lower(), Service.id != service.id
        )
        if session.scalar(clash) is not None:
            raise Conflict(detail=f"A service named '{changes['name']}' already exists.")
        service.name = changes["name"]
    for name in ("description", "tier"):
        if changes.get(name) is not None:
            setattr(service, name, changes[name])
    if "runbook_url" in changes:
        service.runbook_url = changes["runbook_url"]
    if "owner_team" in changes:
        ref = changes["owner_team"]
        service.owner_team_id = _team(session, ref).id if ref else None
    service.updated_at = now
    record(
        session,
        actor=actor,
        action="service.update",
        entity_type="service",
        entity_id=service.id,
        at=now,
        before=before,
        after=_snapshot(service),
    )
    session.flush()
    return get_service(session, str(service.id))
