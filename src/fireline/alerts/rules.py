"""Routing rules (where an alert goes) and declare rules (which alerts become incidents).

Both are tried in order of `position`, the first enabled match deciding; a new rule goes last,
and a reorder names every rule once, in the order wanted. Conditions are checked when saved
(see fireline.alerts.conditions), so a rule that is stored can always be evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.alerts.conditions import InvalidCondition, as_json, parse_conditions
from fireline.audit.service import record
from fireline.errors import InvalidInput, NotFound
from fireline.incidents.queries import get_severity
from fireline.models import DeclareRule, EscalationPolicy, Integration, RoutingRule, Service

Rule = TypeVar("Rule", RoutingRule, DeclareRule)


def checked_conditions(raw: Any) -> list[dict[str, Any]]:
    """Conditions fit to store, or InvalidInput naming the first problem (`conditions[0].op`)."""
    try:
        return as_json(parse_conditions(raw, where="conditions"))
    except InvalidCondition as invalid:
        raise InvalidInput.on(invalid.field, invalid.message) from None


def _entity(rule: RoutingRule | DeclareRule) -> str:
    return "routing_rule" if isinstance(rule, RoutingRule) else "declare_rule"


def _snapshot(rule: RoutingRule | DeclareRule) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": rule.name,
        "position": rule.position,
        "conditions": list(rule.conditions),
        "severity": rule.severity,
        "enabled": rule.enabled,
    }
    if isinstance(rule, RoutingRule):
        view |= {
            "integration_id": rule.integration_id,
            "service_id": rule.service_id,
            "escalation_policy_id": rule.escalation_policy_id,
        }
    return view


def _audit(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    verb: str,
    rule: RoutingRule | DeclareRule,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    entity = _entity(rule)
    record(
        session,
        actor=actor,
        action=f"{entity}.{verb}",
        entity_type=entity,
        entity_id=rule.id,
        at=now,
        before=before,
        after=after,
    )


def list_rules(
    session: Session, model: type[Rule], *, after_id: int | None = None, limit: int
) -> list[Rule]:
    """Rules in the order they are tried; `after_id` continues after that rule."""
    query = select(model).order_by(model.position, model.id).limit(limit)
    if after_id is not None:
        last = session.get(model, after_id)
        if last is None:  # deleted since the page was read: start over rather than skip
            raise InvalidInput.on("cursor", "the rule it continues after no longer exists")
        query = query.where(
            or_(
                model.position > last.position,
                and_(model.position == last.position, model.id > last.id),
            )
        )
    return list(session.scalars(query))


def get_rule(session: Session, model: type[Rule], rule_id: int) -> Rule:
    rule = session.get(model, rule_id)
    if rule is None:
        kind = "routing" if model is RoutingRule else "declare"
        raise NotFound(detail=f"No {kind} rule {rule_id}.")
    return rule


def _next_position(session: Session, model: type[Rule]) -> int:
    return (session.scalar(select(func.max(model.position))) or 0) + 1


def _routing_targets(session: Session, changes: dict[str, Any]) -> dict[str, Any]:
    """Check the routing rule's references; `service` becomes `service_id`."""
    checked = dict(changes)
    if "service" in checked:
        service = checked.pop("service")
        checked["service_id"] = service.id if isinstance(service, Service) else None
    integration_id = checked.get("integration_id")
    if integration_id is not None and session.get(Integration, integration_id) is None:
        raise InvalidInput.on("integration_id", f"no integration {integration_id}")
    policy_id = checked.get("escalation_policy_id")
    if policy_id is not None and session.get(EscalationPolicy, policy_id) is None:
        raise InvalidInput.on("escalation_policy_id", f"no escalation policy {policy_id}")
    if "conditions" in checked:
        checked["conditions"] = checked_conditions(checked["conditions"])
    return checked


def _require_an_effect(rule: RoutingRule) -> None:
    if rule.service_id is None and rule.severity is None and rule.escalation_policy_id is None:
        raise InvalidInput.on(
            "service", "a routing rule must set a service, a severity or an escalation policy"
        )


def create_routing_rule(
    session: Session, *, actor: Actor, now: datetime, fields: dict[str, Any]
) -> RoutingRule:
    """A rule tried after the existing ones. `fields`: name, conditions, integration_id,
    service (a Service or None), severity, escalation_policy_id, enabled."""
    checked = _routing_targets(session, fields)
    rule = RoutingRule(
        position=_next_position(session, RoutingRule),
        created_at=now,
        updated_at=now,
        **{"conditions": [], "enabled": True} | checked,
    )
    _require_an_effect(rule)
    session.add(rule)
    session.flush()
    _audit(session, actor=actor, now=now, verb="create", rule=rule, after=_snapshot(rule))
    return rule


def update_routing_rule(
    session: Session, *, actor: Actor, now: datetime, rule: RoutingRule, changes: dict[str, Any]
) -> RoutingRule:
    before = _snapshot(rule)
    for name, value in _routing_targets(session, changes).items():
        setattr(rule, name, value)
    _require_an_effect(rule)
    rule.updated_at = now
    session.flush()
    _audit(
        session,
        actor=actor,
        now=now,
        verb="update",
        rule=rule,
        before=before,
        after=_snapshot(rule),
    )
    return rule


def _declare_fields(session: Session, changes: dict[str, Any]) -> dict[str, Any]:
    checked = dict(changes)
    if "severity" in checked:
        checked["severity"] = get_severity(session, checked["severity"]).key
    if "conditions" in checked:
        checked["conditions"] = checked_conditions(checked["conditions"])
    return checked


def create_declare_rule(
    session: Session, *, actor: Actor, now: datetime, fields: dict[str, Any]
) -> DeclareRule:
    """A rule tried after the existing ones. `fields`: name, conditions, severity (a severity
    key such as SEV2), enabled."""
    rule = DeclareRule(
        position=_next_position(session, DeclareRule),
        created_at=now,
        updated_at=now,
        **{"conditions": [], "enabled": True} | _declare_fields(session, fields),
    )
    session.add(rule)
    session.flush()
    _audit(session, actor=actor, now=now, verb="create", rule=rule, after=_snapshot(rule))
    return rule


def update_declare_rule(
    session: Session, *, actor: Actor, now: datetime, rule: DeclareRule, changes: dict[str, Any]
) -> DeclareRule:
    before = _snapshot(rule)
    for name, value in _declare_fields(session, changes).items():
        setattr(rule, name, value)
    rule.updated_at = now
    session.flush()
    _audit(
        session,
        actor=actor,
        now=now,
        verb="update",
        rule=rule,
        before=before,
        after=_snapshot(rule),
    )
    return rule


def delete_rule(
    session: Session, *, actor: Actor, now: datetime, rule: RoutingRule | DeclareRule
) -> None:
    _audit(session, actor=actor, now=now, verb="delete", rule=rule, before=_snapshot(rule))
    session.delete(rule)
    session.flush()


def reorder(
    session: Session, *, actor: Actor, now: datetime, model: type[Rule], ids: Sequence[int]
) -> list[Rule]:
    """Put the rules in the order of `ids`, which must name every rule exactly once."""
    rules = {rule.id: rule for rule in session.scalars(select(model).with_for_update())}
    if len(set(ids)) != len(ids):
        raise InvalidInput.on("ids", "names a rule more than once")
    unknown = [rule_id for rule_id in ids if rule_id not in rules]
    if unknown:
        raise InvalidInput.on("ids", f"no rule {unknown[0]}")
    missing = sorted(set(rules) - set(ids))
    if missing:
        raise InvalidInput.on("ids", f"must name every rule; rule {missing[0]} is missing")
    before = {str(rule.id): rule.position for rule in rules.values()}
    ordered = [rules[rule_id] for rule_id in ids]
    for position, rule in enumerate(ordered, start=1):
        if rule.position != position:
            rule.position = position
            rule.updated_at = now
    session.flush()
    entity = "routing_rule" if model is RoutingRule else "declare_rule"
    record(
        session,
        actor=actor,
        action=f"{entity}.reorder",
        entity_type=entity,
        entity_id="order",
        at=now,
        before=before,
        after={str(rule.id): rule.position for rule in ordered},
    )
    return ordered


def services_by_id(session: Session, ids: Sequence[int | None]) -> dict[int, Service]:
    """The services these rules send alerts to, by id, in one query."""
    wanted = {service_id for service_id in ids if service_id is not None}
    if not wanted:
        return {}
    return {s.id: s for s in session.scalars(select(Service).where(Service.id.in_(wanted)))}
