"""JSON routes for the service catalog."""

from __future__ import annotations

from fastapi import APIRouter

from fireline.api.deps import AppClock, CatalogReader, CatalogWriter, DbSession
from fireline.catalog import service
from fireline.catalog.schemas import ServiceCreate, ServiceOut, ServiceUpdate

router = APIRouter(prefix="/api/v1", tags=["services"])


@router.get("/services", response_model=list[ServiceOut])
def list_services(principal: CatalogReader, db: DbSession) -> list[ServiceOut]:
    return [ServiceOut.of(item) for item in service.list_services(db)]


@router.post("/services", status_code=201, response_model=ServiceOut)
def create_service(
    body: ServiceCreate, principal: CatalogWriter, db: DbSession, clock: AppClock
) -> ServiceOut:
    created = service.create_service(
        db,
        actor=principal.actor,
        now=clock.now(),
        name=body.name,
        slug=body.slug,
        description=body.description,
        owner_team=body.owner_team,
        tier=body.tier,
        runbook_url=str(body.runbook_url) if body.runbook_url else None,
    )
    return ServiceOut.of(created)


@router.get("/services/{ref}", response_model=ServiceOut)
def get_service(ref: str, principal: CatalogReader, db: DbSession) -> ServiceOut:
    """A service by slug or id."""
    return ServiceOut.of(service.get_service(db, ref))


@router.patch("/services/{ref}", response_model=ServiceOut)
def update_service(
    ref: str, body: ServiceUpdate, principal: CatalogWriter, db: DbSession, clock: AppClock
) -> ServiceOut:
    item = service.get_service(db, ref)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("runbook_url") is not None:
        changes["runbook_url"] = str(changes["runbook_url"])
    return ServiceOut.of(
        service.update_service(
            db, actor=principal.actor, now=clock.now(), service=item, changes=changes
        )
    )
