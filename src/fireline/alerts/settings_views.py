"""Settings pages for integrations, for integrations admins: each one with the URLs and key to
configure its tool with (read-only inputs, a Copy button with script), a test alert, enabling
and disabling, a new key, and removal after a confirmation. A generic webhook's mapping is a
JSON textarea, checked when saved, its problems shown beside it."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fireline.accounts.permissions import Permission
from fireline.alerts import integrations
from fireline.alerts.admin_schemas import IntegrationCreate, IntegrationUpdate, WebhookMapping
from fireline.alerts.rule_views import refusal_of
from fireline.api.deps import AppClock, AppSettings, DbSession
from fireline.catalog import service as catalog
from fireline.config import Settings
from fireline.errors import AppError, FieldProblem, InvalidInput
from fireline.models import Alert, Integration, IntegrationType
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    NOTICES,
    PostedForm,
    Refusal,
    RowId,
    all_or_nothing,
    confirm_page,
    is_ticked,
    see_other,
    settings_page,
    text_of,
)

router = APIRouter(include_in_schema=False)
INTEGRATIONS = "/settings/integrations"
EVERY = 500  # integrations shown on one page
TYPES = [
    ("pagerduty", "PagerDuty Events API v2 (anything that speaks it)"),
    ("alertmanager", "Prometheus Alertmanager"),
    ("grafana", "Grafana alerting"),
    ("webhook", "Generic JSON webhook"),
]
TYPE_NAMES = dict(TYPES)
PURPOSES = {"events": "Events URL", "change events": "Change events URL", "webhook": "Webhook URL"}
FRIENDLY = {
    "name": "Give the integration a name.",
    "type": "Choose a type from the list.",
    "service": "Choose the service its alerts go to.",
}
# Notices for this page's own changes; the rest are the settings pages' shared ones.
OWN_NOTICES = {
    "rotated": "The key is new: the old one has stopped working; update the tool's configuration.",
    "enabled": "Enabled: its events are accepted again.",
    "disabled": "Disabled: its events are refused until it is enabled again.",
}
MAPPING_EXAMPLE = json.dumps(
    {"summary": "$.title", "severity": "$.severity", "dedup_key": "$.id", "status": "$.status"}
)
NEW = {"service": "", "type": "pagerduty", "name": "", "mapping": "", "enabled": True}


def _mapping(text: str) -> dict[str, Any] | None:
    """The mapping typed as JSON, read through the API's own schema; None when left blank."""
    if not text:
        return None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise InvalidInput.on("mapping", f"is not valid JSON ({error.msg} at {where})") from None
    if not isinstance(raw, dict):
        raise InvalidInput.on("mapping", "must be a JSON object, e.g. " + MAPPING_EXAMPLE)
    try:
        return WebhookMapping.model_validate(raw).model_dump(exclude_none=True)
    except ValidationError as error:
        reasons = [
            f"{'.'.join(str(part) for part in item['loc']) or 'mapping'}: {item['msg']}"
            for item in error.errors()
        ]
        message = "; ".join(reasons)
        raise InvalidInput(
            detail=f"The mapping cannot be used: {message}",
            errors=[FieldProblem("mapping", message)],
        ) from None


def _shown(settings: Settings, integration: Integration) -> dict[str, Any]:
    endpoints = integrations.integration_urls(settings, integration)
    return {
        "integration": integration,
        "type_name": TYPE_NAMES.get(integration.type, integration.type),
        "endpoints": [
            {
                "label": PURPOSES.get(e.purpose, e.purpose),
                "url": e.url,
                "routing_key": e.routing_key,
            }
            for e in endpoints
        ],
        "mapping": json.dumps(integration.mapping, indent=2) if integration.mapping else "",
    }


def _tested(db: Session, text: str) -> dict[str, Any] | None:
    """The test alert a redirect names, described from what is stored: never from the link."""
    if not text.isdigit() or len(text) > 18:
        return None
    alert = db.get(Alert, int(text))
    if alert is None:
        return None
    service = catalog.get_service(db, str(alert.service_id))
    return {"alert": alert, "service": service}


def _list_page(
    request: Request,
    db: Session,
    settings: Settings,
    values: dict[str, Any],
    refusal: Refusal | None = None,
) -> Response:
    items = integrations.list_integrations(db, limit=EVERY)
    done = request.query_params.get("done", "")
    context = {
        "current": INTEGRATIONS,
        "items": [_shown(settings, item) for item in items],
        "values": values,
        "types": TYPES,
        "services": [(s.slug, s.name) for s in catalog.list_services(db)],
        "tested": _tested(db, request.query_params.get("tested", "")),
        "notice": OWN_NOTICES.get(done) or NOTICES.get(done),
        "mapping_example": MAPPING_EXAMPLE,
    }
    return settings_page(request, "settings/integrations.html", context, refusal=refusal)


def _edit_page(
    request: Request,
    db: Session,
    settings: Settings,
    integration: Integration,
    values: dict[str, Any],
    refusal: Refusal | None = None,
) -> Response:
    context = {
        "current": INTEGRATIONS,
        **_shown(settings, integration),
        "values": values,
        "services": [(s.slug, s.name) for s in catalog.list_services(db)],
        "mapping_example": MAPPING_EXAMPLE,
    }
    return settings_page(request, "settings/integrations_edit.html", context, refusal=refusal)


@router.get(INTEGRATIONS)
def integration_list(
    request: Request, me: WebUser, db: DbSession, settings: AppSettings
) -> Response:
    """Every integration with what its tool needs, and the form to add one."""
    require(me, Permission.INTEGRATIONS_ADMIN)
    return _list_page(request, db, settings, NEW)


@router.post(INTEGRATIONS)
def integration_create(
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    require(me, Permission.INTEGRATIONS_ADMIN)
    values: dict[str, Any] = {name: text_of(form, name) for name in ("service", "type", "name")}
    values |= {"mapping": text_of(form, "mapping"), "enabled": is_ticked(form, "enabled")}
    try:
        with all_or_nothing(db):
            body = IntegrationCreate.model_validate(
                {name: values[name] for name in ("service", "type", "name", "enabled")}
            )
            integration = integrations.create_integration(
                db,
                actor=me.actor,
                now=clock.now(),
                service=integrations.find_service(db, body.service),
                kind=body.type,
                name=body.name,
                mapping=_mapping(values["mapping"]),
                enabled=body.enabled,
            )
    except (AppError, ValidationError) as error:
        return _list_page(request, db, settings, values, refusal_of(error, FRIENDLY))
    return _back(f"done=created#integration-{integration.id}")


def _back(query: str) -> Response:
    return RedirectResponse(f"{INTEGRATIONS}?{query}", status_code=303)


def _values(integration: Integration) -> dict[str, Any]:
    return {
        "service": integration.service.slug,
        "name": integration.name,
        "enabled": integration.enabled,
        "mapping": json.dumps(integration.mapping, indent=2) if integration.mapping else "",
    }


@router.get(INTEGRATIONS + "/{integration_id}")
def integration_form(
    integration_id: RowId, request: Request, me: WebUser, db: DbSession, settings: AppSettings
) -> Response:
    require(me, Permission.INTEGRATIONS_ADMIN)
    integration = integrations.get_integration(db, integration_id)
    return _edit_page(request, db, settings, integration, _values(integration))


@router.post(INTEGRATIONS + "/{integration_id}")
def integration_save(
    integration_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """Save the name, service, enabled and (for a webhook) the mapping; a blank mapping
    restores the default one."""
    require(me, Permission.INTEGRATIONS_ADMIN)
    integration = integrations.get_integration(db, integration_id)
    values: dict[str, Any] = {
        "service": text_of(form, "service"),
        "name": text_of(form, "name"),
        "enabled": is_ticked(form, "enabled"),
        "mapping": text_of(form, "mapping"),
    }
    try:
        with all_or_nothing(db):
            sent = {name: values[name] for name in ("service", "name", "enabled")}
            changes: dict[str, Any] = IntegrationUpdate.model_validate(sent).model_dump()
            changes["service"] = integrations.find_service(db, values["service"])
            if integration.type == IntegrationType.WEBHOOK:
                changes["mapping"] = _mapping(values["mapping"])
            integrations.update_integration(
                db, actor=me.actor, now=clock.now(), integration=integration, changes=changes
            )
    except (AppError, ValidationError) as error:
        integration = integrations.get_integration(db, integration_id)
        return _edit_page(request, db, settings, integration, values, refusal_of(error, FRIENDLY))
    return _back(f"done=saved#integration-{integration.id}")


@router.post(INTEGRATIONS + "/{integration_id}/enabled")
def integration_switch(
    integration_id: RowId, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Enable (`enabled=on`) or disable the integration: a disabled one refuses its events."""
    require(me, Permission.INTEGRATIONS_ADMIN)
    integration = integrations.get_integration(db, integration_id)
    enabled = is_ticked(form, "enabled")
    integrations.update_integration(
        db, actor=me.actor, now=clock.now(), integration=integration, changes={"enabled": enabled}
    )
    return _back(f"done={'enabled' if enabled else 'disabled'}#integration-{integration.id}")


@router.post(INTEGRATIONS + "/{integration_id}/test")
def integration_test(
    integration_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    """Trigger a test alert through the integration; the page then says where it landed."""
    require(me, Permission.INTEGRATIONS_ADMIN)
    integration = integrations.get_integration(db, integration_id)
    try:
        with all_or_nothing(db):
            alert = integrations.send_test(
                db, actor=me.actor, now=clock.now(), integration=integration
            )
    except AppError as error:
        return _list_page(request, db, settings, NEW, Refusal.of(error))
    return _back(f"tested={alert.id}#integration-{integration.id}")


@router.post(INTEGRATIONS + "/{integration_id}/rotate")
def integration_rotate(
    integration_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Asks first: the old key stops working at once."""
    require(me, Permission.INTEGRATIONS_ADMIN)
    integration = integrations.get_integration(db, integration_id)
    if not is_ticked(form, "confirmed"):
        return confirm_page(
            request,
            heading=f"Make a new key for “{integration.name}”?",
            question="The current key stops working at once: events sent with it are refused "
            "until the tool is configured with the new one.",
            action=f"{INTEGRATIONS}/{integration.id}/rotate",
            button="Make a new key",
            back=INTEGRATIONS,
        )
    integrations.rotate_key(db, actor=me.actor, now=clock.now(), integration=integration)
    return _back(f"done=rotated#integration-{integration.id}")


@router.post(INTEGRATIONS + "/{integration_id}/delete")
def integration_delete(
    integration_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Asks first; removes once the confirmation page is submitted. Its alerts stay."""
    require(me, Permission.INTEGRATIONS_ADMIN)
    integration = integrations.get_integration(db, integration_id)
    if not is_ticked(form, "confirmed"):
        return confirm_page(
            request,
            heading=f"Delete the integration “{integration.name}”?",
            question="Its key stops working at once; the alerts it brought stay. "
            "This cannot be undone.",
            action=f"{INTEGRATIONS}/{integration.id}/delete",
            button="Delete integration",
            back=INTEGRATIONS,
        )
    integrations.delete_integration(db, actor=me.actor, now=clock.now(), integration=integration)
    return see_other(INTEGRATIONS, "deleted")
