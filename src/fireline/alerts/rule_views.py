"""Settings pages for routing rules (where an alert goes) and declare rules (which alerts become
incidents), for integrations admins: each list in the order rules are tried, a form with a
conditions editor, moves up and down, and removal after a confirmation.

The conditions editor is a repeated row of field, operator and value; `ConditionRows` reads it
from a posted form and fills it again, and silences (maintenance_views) use it too."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.alerts import integrations, rules
from fireline.alerts.admin_schemas import DeclareRuleCreate, RoutingRuleCreate
from fireline.alerts.conditions import LISTED, NUMERIC, PLAIN_FIELDS, VALUELESS
from fireline.alerts.events import ALERT_SEVERITIES
from fireline.api.deps import AppClock, DbSession
from fireline.catalog import service as catalog
from fireline.clock import Clock
from fireline.errors import AppError, FieldProblem, InvalidInput
from fireline.incidents import severities
from fireline.models import DeclareRule, EscalationPolicy, RoutingRule
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    PostedForm,
    Refusal,
    RowId,
    all_or_nothing,
    confirm_page,
    is_ticked,
    listed,
    see_other,
    settings_page,
    text_of,
)

router = APIRouter(include_in_schema=False)
ROUTING = "/settings/routing"
DECLARE = "/settings/declare-rules"
MAX_CONDITIONS = 50  # as the API
EVERY_RULE = 1000  # as the API's reorder: more rules than this cannot be ordered at once
OPERATORS = [
    ("equals", "equals"),
    ("not_equals", "does not equal"),
    ("contains", "contains"),
    ("matches", "matches the regular expression"),
    ("in", "is one of (separate with commas)"),
    ("not_in", "is none of (separate with commas)"),
    ("exists", "is present"),
    ("not_exists", "is absent"),
    ("severity_at_least", "is a severity at least"),
    ("at_least", "is a number at least"),
    ("at_most", "is a number at most"),
]
OPERATOR_WORDS = dict(OPERATORS)
FIELDS = [*sorted(PLAIN_FIELDS), "labels.", "annotations."]
ALERT_SEVERITY_CHOICES = [(severity, severity.capitalize()) for severity in ALERT_SEVERITIES]


# --- the conditions editor -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionRows:
    """The conditions as the form's rows (field, op, value as typed) and as stored."""

    rows: list[dict[str, str]]
    conditions: list[dict[str, Any]]

    @classmethod
    def posted(cls, form: FormData) -> ConditionRows:
        """The rows of a posted form; a row without a field is blank and dropped, so the n-th
        condition is the n-th row when the form is shown again."""
        rows = []
        for index in range(MAX_CONDITIONS):
            name = text_of(form, f"conditions.{index}.field")
            if name:
                op = text_of(form, f"conditions.{index}.op") or "equals"
                rows.append(
                    {"field": name, "op": op, "value": text_of(form, f"conditions.{index}.value")}
                )
        return cls(rows=rows, conditions=[_condition(row) for row in rows])

    @classmethod
    def stored(cls, conditions: list[dict[str, Any]]) -> ConditionRows:
        rows = [
            {
                "field": str(c.get("field", "")),
                "op": str(c.get("op", "equals")),
                "value": _typed(c.get("value")),
            }
            for c in conditions
        ]
        return cls(rows=rows, conditions=conditions)

    @property
    def padded(self) -> list[dict[str, str]]:
        """The rows and blank ones after them: at least three, one spare."""
        blank = {"field": "", "op": "equals", "value": ""}
        return self.rows + [blank] * max(3 - len(self.rows), 1)


def _condition(row: dict[str, str]) -> dict[str, Any]:
    op, value = row["op"], row["value"]
    if op in VALUELESS:
        return {"field": row["field"], "op": op}
    if op in LISTED:
        return {"field": row["field"], "op": op, "value": listed(value)}
    if op in NUMERIC and re.fullmatch(r"-?\d{1,9}", value):
        return {"field": row["field"], "op": op, "value": int(value)}
    return {"field": row["field"], "op": op, "value": value}


def _typed(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def conditions_in_words(conditions: list[dict[str, Any]]) -> str:
    """`labels.team equals payments and severity is a severity at least error`."""
    words = []
    for condition in conditions:
        op = OPERATOR_WORDS.get(condition.get("op", ""), condition.get("op", ""))
        value = _typed(condition.get("value"))
        words.append(f"{condition.get('field')} {op}" + (f" {value}" if value else ""))
    return " and ".join(words) or "every alert"


def in_rows(error: AppError) -> AppError:
    """A refusal naming `conditions[1].value` renamed to the form's `conditions.1.value`, with
    a summary a person reads as "Condition 2, value: …"."""
    if not isinstance(error, InvalidInput) or not error.errors:
        return error
    problems, sentences = [], []
    for problem in error.errors:
        match = re.fullmatch(r"conditions\[(\d+)\](?:\.(\w+))?", problem.field)
        if match is None:
            problems.append(problem)
            sentences.append(f"{problem.field}: {problem.message}")
            continue
        index, part = int(match.group(1)), match.group(2)
        name = f"conditions.{index}" + (f".{part}" if part else "")
        problems.append(FieldProblem(name, problem.message))
        sentences.append(f"Condition {index + 1}{', ' + part if part else ''}: {problem.message}")
    return InvalidInput(detail="; ".join(sentences), errors=problems)


def refusal_of(error: AppError | ValidationError, friendly: dict[str, str]) -> Refusal:
    """Refusal.of, in words fit for a form: a field's own sentence where there is one."""
    if isinstance(error, ValidationError):
        problems = []
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"]) or "form"
            problems.append(FieldProblem(name, friendly.get(name, item["msg"])))
        detail = "; ".join(problem.message for problem in problems)
        return Refusal.of(InvalidInput(detail=detail, errors=problems))
    return Refusal.of(in_rows(error))


# --- shared by both kinds of rule ----------------------------------------------------------------

FRIENDLY = {
    "name": "Give the rule a name.",
    "severity": "Choose a severity from the list.",
}


def _choices(db: Session) -> dict[str, Any]:
    return {
        "operators": OPERATORS,
        "fields": FIELDS,
        "alert_severities": ALERT_SEVERITY_CHOICES,
        "services": [(s.slug, s.name) for s in catalog.list_services(db)],
        "integrations": [
            (str(i.id), f"{i.name} ({i.service.name})")
            for i in integrations.list_integrations(db, limit=EVERY_RULE)
        ],
        "policies": [
            (str(p.id), p.name)
            for p in db.scalars(select(EscalationPolicy).order_by(EscalationPolicy.name))
        ],
        "incident_severities": [
            (s.key, f"{s.key} — {s.name}") for s in severities.list_severities(db)
        ],
    }


@router.get(ROUTING)
def rule_list(request: Request, me: WebUser, db: DbSession) -> Response:
    """Both kinds of rule, each in the order they are tried."""
    require(me, Permission.INTEGRATIONS_ADMIN)
    routing = rules.list_rules(db, RoutingRule, limit=EVERY_RULE)
    targets = rules.services_by_id(db, [rule.service_id for rule in routing])
    choices = _choices(db)
    names = dict(choices["integrations"]) | {"": "every integration"}
    policies = dict(choices["policies"])
    routing_rows = [
        {
            "rule": rule,
            "conditions": conditions_in_words(rule.conditions),
            "integration": names.get(str(rule.integration_id or ""), "—"),
            "service": targets[rule.service_id].name if rule.service_id in targets else None,
            "policy": policies.get(str(rule.escalation_policy_id))
            if rule.escalation_policy_id
            else None,
        }
        for rule in routing
    ]
    declare_rows = [
        {"rule": rule, "conditions": conditions_in_words(rule.conditions)}
        for rule in rules.list_rules(db, DeclareRule, limit=EVERY_RULE)
    ]
    context = {"current": ROUTING, "routing": routing_rows, "declare": declare_rows}
    return settings_page(request, "settings/routing.html", context)


def _move(
    db: Session, me: Principal, clock: Clock, model: type[Any], rule_id: int, form: FormData
) -> Response:
    require(me, Permission.INTEGRATIONS_ADMIN)
    rules.get_rule(db, model, rule_id)
    ids = [rule.id for rule in rules.list_rules(db, model, limit=EVERY_RULE)]
    at = ids.index(rule_id)
    to = at - 1 if text_of(form, "direction") == "up" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
        rules.reorder(db, actor=me.actor, now=clock.now(), model=model, ids=ids)
    return see_other(ROUTING, "saved")


def _delete(
    request: Request,
    db: Session,
    me: Principal,
    clock: Clock,
    model: type[Any],
    rule_id: int,
    form: FormData,
) -> Response:
    require(me, Permission.INTEGRATIONS_ADMIN)
    rule = rules.get_rule(db, model, rule_id)
    base = ROUTING if model is RoutingRule else DECLARE
    if not is_ticked(form, "confirmed"):
        kind = "routing" if model is RoutingRule else "declare"
        return confirm_page(
            request,
            heading=f"Delete the {kind} rule \u201c{rule.name}\u201d?",
            question="Alerts stop following it at once. This cannot be undone.",
            action=f"{base}/{rule.id}/delete",
            button="Delete rule",
            back=ROUTING,
        )
    rules.delete_rule(db, actor=me.actor, now=clock.now(), rule=rule)
    return see_other(ROUTING, "deleted")


# --- routing rules -------------------------------------------------------------------------------


def _routing_values(db: Session, rule: RoutingRule | None) -> dict[str, Any]:
    if rule is None:
        return {
            "name": "",
            "integration_id": "",
            "service": "",
            "severity": "",
            "escalation_policy_id": "",
            "enabled": True,
            "rows": ConditionRows.stored([]),
        }
    targets = rules.services_by_id(db, [rule.service_id])
    return {
        "name": rule.name,
        "integration_id": str(rule.integration_id or ""),
        "service": targets[rule.service_id].slug if rule.service_id in targets else "",
        "severity": rule.severity or "",
        "escalation_policy_id": str(rule.escalation_policy_id or ""),
        "enabled": rule.enabled,
        "rows": ConditionRows.stored(list(rule.conditions)),
    }


def _routing_form(
    request: Request,
    db: Session,
    rule: RoutingRule | None,
    values: dict[str, Any],
    refusal: Refusal | None = None,
) -> Response:
    context = {"current": ROUTING, "rule": rule, "values": values, **_choices(db)}
    return settings_page(request, "settings/routing_form.html", context, refusal=refusal)


@router.get(ROUTING + "/new")
def routing_new(request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.INTEGRATIONS_ADMIN)
    return _routing_form(request, db, None, _routing_values(db, None))


@router.get(ROUTING + "/{rule_id}")
def routing_edit(rule_id: RowId, request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.INTEGRATIONS_ADMIN)
    rule = rules.get_rule(db, RoutingRule, rule_id)
    return _routing_form(request, db, rule, _routing_values(db, rule))


def _optional_id(text: str) -> int | str | None:
    return int(text) if text.isdigit() and len(text) < 10 else (text or None)


def _save_routing(
    request: Request, me: Principal, db: Session, clock: Clock, form: FormData, rule_id: int | None
) -> Response:
    """Create (no `rule_id`) or replace a routing rule from the posted form."""
    require(me, Permission.INTEGRATIONS_ADMIN)
    rule = None if rule_id is None else rules.get_rule(db, RoutingRule, rule_id)
    rows = ConditionRows.posted(form)
    typed = {
        name: text_of(form, name)
        for name in ("name", "integration_id", "service", "severity", "escalation_policy_id")
    }
    values: dict[str, Any] = typed | {"enabled": is_ticked(form, "enabled"), "rows": rows}
    body = {
        "name": typed["name"],
        "conditions": rows.conditions,
        "integration_id": _optional_id(typed["integration_id"]),
        "service": typed["service"] or None,
        "severity": typed["severity"] or None,
        "escalation_policy_id": _optional_id(typed["escalation_policy_id"]),
        "enabled": values["enabled"],
    }
    try:
        with all_or_nothing(db):
            fields = RoutingRuleCreate.model_validate(body).model_dump()
            if fields["service"] is not None:
                fields["service"] = integrations.find_service(db, fields["service"])
            if rule is None:
                rules.create_routing_rule(db, actor=me.actor, now=clock.now(), fields=fields)
            else:
                rules.update_routing_rule(
                    db, actor=me.actor, now=clock.now(), rule=rule, changes=fields
                )
    except (AppError, ValidationError) as error:
        return _routing_form(request, db, rule, values, refusal_of(error, FRIENDLY))
    return see_other(ROUTING, "created" if rule is None else "saved")


@router.post(ROUTING)
def routing_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    return _save_routing(request, me, db, clock, form, None)


@router.post(ROUTING + "/{rule_id}")
def routing_save(
    rule_id: RowId, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    return _save_routing(request, me, db, clock, form, rule_id)


@router.post(ROUTING + "/{rule_id}/move")
def routing_move(
    rule_id: RowId, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """One place earlier (`direction=up`) or later in the order rules are tried."""
    return _move(db, me, clock, RoutingRule, rule_id, form)


@router.post(ROUTING + "/{rule_id}/delete")
def routing_delete(
    rule_id: RowId, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Asks first; deletes once the confirmation page is submitted."""
    return _delete(request, db, me, clock, RoutingRule, rule_id, form)


# --- declare rules -------------------------------------------------------------------------------


def _declare_values(rule: DeclareRule | None) -> dict[str, Any]:
    if rule is None:
        return {"name": "", "severity": "SEV2", "enabled": True, "rows": ConditionRows.stored([])}
    return {
        "name": rule.name,
        "severity": rule.severity,
        "enabled": rule.enabled,
        "rows": ConditionRows.stored(list(rule.conditions)),
    }


def _declare_form(
    request: Request,
    db: Session,
    rule: DeclareRule | None,
    values: dict[str, Any],
    refusal: Refusal | None = None,
) -> Response:
    context = {"current": ROUTING, "rule": rule, "values": values, **_choices(db)}
    return settings_page(request, "settings/routing_declare_form.html", context, refusal=refusal)


@router.get(DECLARE + "/new")
def declare_new(request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.INTEGRATIONS_ADMIN)
    return _declare_form(request, db, None, _declare_values(None))


@router.get(DECLARE + "/{rule_id}")
def declare_edit(rule_id: RowId, request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.INTEGRATIONS_ADMIN)
    rule = rules.get_rule(db, DeclareRule, rule_id)
    return _declare_form(request, db, rule, _declare_values(rule))


def _save_declare(
    request: Request, me: Principal, db: Session, clock: Clock, form: FormData, rule_id: int | None
) -> Response:
    require(me, Permission.INTEGRATIONS_ADMIN)
    rule = None if rule_id is None else rules.get_rule(db, DeclareRule, rule_id)
    rows = ConditionRows.posted(form)
    values = {
        "name": text_of(form, "name"),
        "severity": text_of(form, "severity"),
        "enabled": is_ticked(form, "enabled"),
        "rows": rows,
    }
    body = {
        "name": values["name"],
        "severity": values["severity"],
        "enabled": values["enabled"],
        "conditions": rows.conditions,
    }
    try:
        with all_or_nothing(db):
            fields = DeclareRuleCreate.model_validate(body).model_dump()
            if rule is None:
                rules.create_declare_rule(db, actor=me.actor, now=clock.now(), fields=fields)
            else:
                rules.update_declare_rule(
                    db, actor=me.actor, now=clock.now(), rule=rule, changes=fields
                )
    except (AppError, ValidationError) as error:
        return _declare_form(request, db, rule, values, refusal_of(error, FRIENDLY))
    return see_other(ROUTING, "created" if rule is None else "saved")


@router.post(DECLARE)
def declare_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    return _save_declare(request, me, db, clock, form, None)


@router.post(DECLARE + "/{rule_id}")
def declare_save(
    rule_id: RowId, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    return _save_declare(request, me, db, clock, form, rule_id)


@router.post(DECLARE + "/{rule_id}/move")
def declare_move(
    rule_id: RowId, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    return _move(db, me, clock, DeclareRule, rule_id, form)


@router.post(DECLARE + "/{rule_id}/delete")
def declare_delete(
    rule_id: RowId, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    return _delete(request, db, me, clock, DeclareRule, rule_id, form)
