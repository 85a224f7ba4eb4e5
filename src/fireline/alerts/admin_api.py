"""JSON routes for setting alerts up: integrations, routing rules and declare rules.

`router` also carries the routes of maintenance_api (maintenance windows, silences, change
events) and heartbeats_api (heartbeats and their public ping URL), so the app mounts one router.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from fireline.alerts import heartbeats_api, maintenance_api, rules
from fireline.alerts import integrations as service
from fireline.alerts.admin_schemas import (
    DeclareRuleCreate,
    DeclareRuleOut,
    DeclareRuleUpdate,
    EndpointOut,
    IntegrationCreate,
    IntegrationOut,
    IntegrationUpdate,
    RoutingRuleCreate,
    RoutingRuleOut,
    RoutingRuleUpdate,
    RuleOrder,
    TestSent,
)
from fireline.api.deps import AppClock, AppSettings, DbSession, IntegrationsAdmin
from fireline.api.pagination import Page, decode_id_cursor, encode_id_cursor
from fireline.api.responses import json_response
from fireline.config import Settings
from fireline.errors import InvalidInput
from fireline.models import DeclareRule, Integration, RoutingRule, Service

api = APIRouter(prefix="/api/v1", tags=["alert setup"])
Limit = Annotated[int, Query(ge=1, le=200)]


def not_null(changes: dict[str, Any], *names: str) -> None:
    """Refuse null for fields that must keep a value (PATCH's null means "clear" elsewhere)."""
    for name in names:
        if name in changes and changes[name] is None:
            raise InvalidInput.on(name, "cannot be null")


def _out(settings: Settings, integration: Integration) -> IntegrationOut:
    urls = [
        EndpointOut(purpose=e.purpose, url=e.url, routing_key=e.routing_key)
        for e in service.integration_urls(settings, integration)
    ]
    return IntegrationOut.of(integration, urls)


# --- Integrations ----------------------------------------------------------------------------


@api.get("/integrations", response_model=Page[IntegrationOut])
def list_integrations(
    principal: IntegrationsAdmin,
    db: DbSession,
    settings: AppSettings,
    service_ref: Annotated[str | None, Query(alias="service", description="Id or slug.")] = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Response:
    """Integrations in the order they were made, each with its key and the URLs to use."""
    items = service.list_integrations(
        db,
        service=service.find_service(db, service_ref) if service_ref else None,
        after_id=decode_id_cursor(cursor),
        limit=limit,
    )
    more = len(items) == limit
    return json_response(
        Page(
            items=[_out(settings, item) for item in items],
            next_cursor=encode_id_cursor(items[-1].id) if more else None,
        )
    )


@api.post("/integrations", status_code=201, response_model=IntegrationOut)
def create_integration(
    body: IntegrationCreate,
    principal: IntegrationsAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """A new integration into a service; point the tool at one of its `urls`."""
    integration = service.create_integration(
        db,
        actor=principal.actor,
        now=clock.now(),
        service=service.find_service(db, body.service),
        kind=body.type,
        name=body.name,
        mapping=body.mapping.model_dump() if body.mapping is not None else None,
        rate_limit_per_minute=body.rate_limit_per_minute,
        enabled=body.enabled,
    )
    return json_response(_out(settings, integration), status_code=201)


@api.get("/integrations/{integration_id}", response_model=IntegrationOut)
def get_integration(
    integration_id: int, principal: IntegrationsAdmin, db: DbSession, settings: AppSettings
) -> Response:
    return json_response(_out(settings, service.get_integration(db, integration_id)))


@api.patch("/integrations/{integration_id}", response_model=IntegrationOut)
def update_integration(
    integration_id: int,
    body: IntegrationUpdate,
    principal: IntegrationsAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    integration = service.get_integration(db, integration_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    not_null(changes, "service", "name", "enabled")
    if "service" in changes:
        changes["service"] = service.find_service(db, changes["service"])
    integration = service.update_integration(
        db, actor=principal.actor, now=clock.now(), integration=integration, changes=changes
    )
    return json_response(_out(settings, integration))


@api.delete("/integrations/{integration_id}", status_code=204)
def delete_integration(
    integration_id: int, principal: IntegrationsAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Remove the integration: its key stops working; its alerts stay."""
    integration = service.get_integration(db, integration_id)
    service.delete_integration(db, actor=principal.actor, now=clock.now(), integration=integration)
    return Response(status_code=204)


@api.post("/integrations/{integration_id}/rotate-key", response_model=IntegrationOut)
def rotate_integration_key(
    integration_id: int,
    principal: IntegrationsAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """A new key: the old one stops working now, so update the tool's configuration."""
    integration = service.get_integration(db, integration_id)
    service.rotate_key(db, actor=principal.actor, now=clock.now(), integration=integration)
    return json_response(_out(settings, integration))


@api.post("/integrations/{integration_id}/test", status_code=202, response_model=TestSent)
def send_test_alert(
    integration_id: int, principal: IntegrationsAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Trigger an info-level test alert through the integration, routed (and paged) as a real
    one would be; resolve it from the alert list."""
    integration = service.get_integration(db, integration_id)
    alert = service.send_test(db, actor=principal.actor, now=clock.now(), integration=integration)
    landed = db.get(Service, alert.service_id)
    return json_response(
        TestSent(
            alert_id=alert.id,
            dedup_key=alert.dedup_key,
            status=alert.status,
            service=landed.slug if landed is not None else "",
        ),
        status_code=202,
    )


# --- Routing rules ---------------------------------------------------------------------------


def _routing_out(db: DbSession, items: list[RoutingRule]) -> list[RoutingRuleOut]:
    targets = rules.services_by_id(db, [rule.service_id for rule in items])
    return [
        RoutingRuleOut.of(rule, targets.get(rule.service_id) if rule.service_id else None)
        for rule in items
    ]


def _routing_changes(db: DbSession, changes: dict[str, Any]) -> dict[str, Any]:
    if changes.get("service") is not None:
        changes["service"] = service.find_service(db, changes["service"])
    return changes


@api.get("/routing-rules", response_model=Page[RoutingRuleOut])
def list_routing_rules(
    principal: IntegrationsAdmin, db: DbSession, cursor: str | None = None, limit: Limit = 50
) -> Response:
    """Routing rules in the order they are tried: the first enabled match decides."""
    items = rules.list_rules(db, RoutingRule, after_id=decode_id_cursor(cursor), limit=limit)
    more = len(items) == limit
    return json_response(
        Page(
            items=_routing_out(db, items),
            next_cursor=encode_id_cursor(items[-1].id) if more else None,
        )
    )


@api.post("/routing-rules", status_code=201, response_model=RoutingRuleOut)
def create_routing_rule(
    body: RoutingRuleCreate, principal: IntegrationsAdmin, db: DbSession, clock: AppClock
) -> Response:
    """A rule tried after the existing ones; what it leaves null keeps the integration's own."""
    fields = _routing_changes(db, body.model_dump())
    rule = rules.create_routing_rule(db, actor=principal.actor, now=clock.now(), fields=fields)
    return json_response(_routing_out(db, [rule])[0], status_code=201)


@api.put("/routing-rules/order", response_model=list[RoutingRuleOut])
def reorder_routing_rules(
    body: RuleOrder, principal: IntegrationsAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Set the order the rules are tried in: `ids` names every rule once."""
    ordered = rules.reorder(
        db, actor=principal.actor, now=clock.now(), model=RoutingRule, ids=body.ids
    )
    return json_response(_routing_out(db, ordered))


@api.get("/routing-rules/{rule_id}", response_model=RoutingRuleOut)
def get_routing_rule(rule_id: int, principal: IntegrationsAdmin, db: DbSession) -> Response:
    return json_response(_routing_out(db, [rules.get_rule(db, RoutingRule, rule_id)])[0])


@api.patch("/routing-rules/{rule_id}", response_model=RoutingRuleOut)
def update_routing_rule(
    rule_id: int,
    body: RoutingRuleUpdate,
    principal: IntegrationsAdmin,
    db: DbSession,
    clock: AppClock,
) -> Response:
    rule = rules.get_rule(db, RoutingRule, rule_id)
    changes = body.model_dump(exclude_unset=True)
    not_null(changes, "name", "conditions", "enabled")
    rule = rules.update_routing_rule(
        db, actor=principal.actor, now=clock.now(), rule=rule, changes=_routing_changes(db, changes)
    )
    return json_response(_routing_out(db, [rule])[0])


@api.delete("/routing-rules/{rule_id}", status_code=204)
def delete_routing_rule(
    rule_id: int, principal: IntegrationsAdmin, db: DbSession, clock: AppClock
) -> Response:
    rule = rules.get_rule(db, RoutingRule, rule_id)
    rules.delete_rule(db, actor=principal.actor, now=clock.now(), rule=rule)
    return Response(status_code=204)


# --- Declare rules ---------------------------------------------------------------------------


@api.get("/declare-rules", response_model=Page[DeclareRuleOut])
def list_declare_rules(
    principal: IntegrationsAdmin, db: DbSession, cursor: str | None = None, limit: Limit = 50
) -> Response:
    """Declare rules in the order they are tried: the first enabled match declares."""
    items = rules.list_rules(db, DeclareRule, after_id=decode_id_cursor(cursor), limit=limit)
    more = len(items) == limit
    return json_response(
        Page(
            items=[DeclareRuleOut.of(rule) for rule in items],
            next_cursor=encode_id_cursor(items[-1].id) if more else None,
        )
    )


@api.post("/declare-rules", status_code=201, response_model=DeclareRuleOut)
def create_declare_rule(
    body: DeclareRuleCreate, principal: IntegrationsAdmin, db: DbSession, clock: AppClock
) -> Response:
    """Declare an incident of `severity` for each new alert matching the conditions."""
    rule = rules.create_declare_rule(
        db, actor=principal.actor, now=clock.now(), fields=body.model_dump()
    )
    return json_response(DeclareRuleOut.of(rule), status_code=201)


@api.put("/declare-rules/order", response_model=list[DeclareRuleOut])
def reorder_declare_rules(
    body: RuleOrder, principal: IntegrationsAdmin, db: DbSession, clock: AppClock
) -> Response:
    ordered = rules.reorder(
        db, actor=principal.actor, now=clock.now(), model=DeclareRule, ids=body.ids
    )
    return json_response([DeclareRuleOut.of(rule) for rule in ordered])


@api.get("/declare-rules/{rule_id}", response_model=DeclareRuleOut)
def get_declare_rule(rule_id: int, principal: IntegrationsAdmin, db: DbSession) -> Response:
    return json_response(DeclareRuleOut.of(rules.get_rule(db, DeclareRule, rule_id)))


@api.patch("/declare-rules/{rule_id}", response_model=DeclareRuleOut)
def update_declare_rule(
    rule_id: int,
    body: DeclareRuleUpdate,
    principal: IntegrationsAdmin,
    db: DbSession,
    clock: AppClock,
) -> Response:
    rule = rules.get_rule(db, DeclareRule, rule_id)
    changes = body.model_dump(exclude_unset=True)
    not_null(changes, "name", "conditions", "severity", "enabled")
    rule = rules.update_declare_rule(
        db, actor=principal.actor, now=clock.now(), rule=rule, changes=changes
    )
    return json_response(DeclareRuleOut.of(rule))


@api.delete("/declare-rules/{rule_id}", status_code=204)
def delete_declare_rule(
    rule_id: int, principal: IntegrationsAdmin, db: DbSession, clock: AppClock
) -> Response:
    rule = rules.get_rule(db, DeclareRule, rule_id)
    rules.delete_rule(db, actor=principal.actor, now=clock.now(), rule=rule)
    return Response(status_code=204)


router = APIRouter()
router.include_router(api)
router.include_router(maintenance_api.router)
router.include_router(heartbeats_api.router)
router.include_router(heartbeats_api.ping_router)
