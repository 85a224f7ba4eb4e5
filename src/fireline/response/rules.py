"""Managing automation rules: create, change, remove — each checked and audited.

What a rule names must exist when it is saved (a channel, user, team or playbook), so a typo is
a 422 naming the field rather than a notice silently skipped at three in the morning. Things
can still disappear later; the run then logs a skipped delivery that says why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.accounts.service import find_user
from fireline.audit.service import record
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.models import AutomationRule, AutomationRun, Playbook, Team, Transport
from fireline.notify.destinations import find_channel
from fireline.response.conditions import Conditions, check_severities
from fireline.response.rules_schemas import (
    AttachPlaybookAction,
    NotifyAction,
    RuleCreate,
    WebhookAction,
)


def view(rule: AutomationRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "triggers": list(rule.triggers),
        "conditions": dict(rule.conditions),
        "actions": list(rule.actions),
        "delay_seconds": rule.delay_seconds,
        "once_per_incident": rule.once_per_incident,
        "enabled": rule.enabled,
    }


def list_rules(session: Session) -> list[AutomationRule]:
    return list(session.scalars(select(AutomationRule).order_by(AutomationRule.id)))


def get_rule(session: Session, rule_id: int) -> AutomationRule:
    rule = session.get(AutomationRule, rule_id)
    if rule is None:
        raise NotFound(detail=f"No automation rule {rule_id}.")
    return rule


def _check_actions(session: Session, actions: list[Any]) -> None:
    for index, action in enumerate(actions):
        field = f"actions.{index}"
        if isinstance(action, NotifyAction):
            to = action.to
            if to.channel is not None and find_channel(session, to.channel) is None:
                raise InvalidInput.on(f"{field}.to.channel", f"there is no channel {to.channel}")
            if to.user is not None:
                try:
                    find_user(session, to.user)
                except NotFound as error:
                    raise InvalidInput.on(f"{field}.to.user", error.detail) from error
            if (
                to.team is not None
                and not session.scalars(select(Team.id).where(Team.slug == to.team)).first()
            ):
                raise InvalidInput.on(f"{field}.to.team", f"there is no team {to.team}")
        elif isinstance(action, WebhookAction):
            channel = find_channel(session, action.channel)
            if channel is None or channel.transport != Transport.WEBHOOK.value:
                raise InvalidInput.on(
                    f"{field}.channel", f"there is no webhook channel {action.channel}"
                )
        elif (
            isinstance(action, AttachPlaybookAction)
            and not session.scalars(
                select(Playbook.id).where(Playbook.slug == action.playbook)
            ).first()
        ):
            raise InvalidInput.on(f"{field}.playbook", f"there is no playbook {action.playbook}")


def _dump_actions(actions: list[Any]) -> list[dict[str, Any]]:
    return [action.model_dump(mode="json", exclude_none=True) for action in actions]


def _unique_name(session: Session, name: str, rule_id: int | None = None) -> None:
    existing = session.scalars(select(AutomationRule.id).where(AutomationRule.name == name)).first()
    if existing is not None and existing != rule_id:
        raise Conflict(detail=f"A rule named \u201c{name}\u201d exists already.")


def create_rule(
    session: Session, *, actor: Actor, now: datetime, body: RuleCreate
) -> AutomationRule:
    check_severities(session, body.conditions, field="conditions")
    _check_actions(session, body.actions)
    _unique_name(session, body.name)
    rule = AutomationRule(
        name=body.name,
        description=body.description,
        triggers=[trigger.value for trigger in body.triggers],
        conditions=body.conditions.stored(),
        actions=_dump_actions(body.actions),
        delay_seconds=body.delay_seconds,
        once_per_incident=body.once_per_incident,
        enabled=body.enabled,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(rule)
    except IntegrityError as error:
        raise Conflict(detail=f"A rule named \u201c{body.name}\u201d exists already.") from error
    record(
        session,
        actor=actor,
        action="automation_rule.create",
        entity_type="automation_rule",
        entity_id=rule.id,
        at=now,
        after=view(rule),
    )
    return rule


def update_rule(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    rule: AutomationRule,
    changes: dict[str, Any],
) -> AutomationRule:
    """Apply validated changes (pydantic objects for conditions and actions)."""
    before = view(rule)
    if "name" in changes:
        _unique_name(session, changes["name"], rule.id)
    if "conditions" in changes:
        conditions: Conditions = changes["conditions"]
        check_severities(session, conditions, field="conditions")
        changes["conditions"] = conditions.stored()
    if "actions" in changes:
        _check_actions(session, changes["actions"])
        changes["actions"] = _dump_actions(changes["actions"])
    if "triggers" in changes:
        changes["triggers"] = [trigger.value for trigger in changes["triggers"]]
    for name, value in changes.items():
        setattr(rule, name, value)
    rule.updated_at = now
    session.flush()
    record(
        session,
        actor=actor,
        action="automation_rule.update",
        entity_type="automation_rule",
        entity_id=rule.id,
        at=now,
        before=before,
        after=view(rule),
    )
    return rule


def delete_rule(session: Session, *, actor: Actor, now: datetime, rule: AutomationRule) -> None:
    record(
        session,
        actor=actor,
        action="automation_rule.delete",
        entity_type="automation_rule",
        entity_id=rule.id,
        at=now,
        before=view(rule),
    )
    session.delete(rule)
    session.flush()


def list_runs(
    session: Session, *, rule_id: int | None, incident_id: int | None, limit: int
) -> list[AutomationRun]:
    query = select(AutomationRun).order_by(AutomationRun.id.desc()).limit(limit)
    if rule_id is not None:
        query = query.where(AutomationRun.rule_id == rule_id)
    if incident_id is not None:
        query = query.where(AutomationRun.incident_id == incident_id)
    return list(session.scalars(query))
