"""Settings pages for the response library: automation rules, the holiday calendar and
playbooks. Anyone who reads incidents may see what Fireline will do on its own and which
checklists incidents get; admins change them here, through the same services as the API."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.api.deps import AppClock, DbSession
from fireline.clock import Clock
from fireline.errors import AppError
from fireline.incidents.lifecycle import Status
from fireline.models import AutomationRule, Playbook
from fireline.response import holidays, rules
from fireline.response.clocks import ObligationKind
from fireline.response.playbooks import service as playbooks
from fireline.response.playbooks.schemas import MAX_TASKS, PlaybookCreate, PlaybookUpdate
from fireline.response.rules_schemas import RuleCreate
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    EVENT_NAMES,
    PostedForm,
    Refusal,
    RowId,
    all_or_nothing,
    all_ticked,
    confirm_page,
    is_ticked,
    listed,
    optional_text,
    see_other,
    settings_page,
    text_of,
)
from fireline.web.templating import role_name

router = APIRouter(include_in_schema=False)
RULES = "/settings/rules"
HOLIDAYS = "/settings/holidays"
PLAYBOOKS = "/settings/playbooks"
ACTION_KINDS = [
    ("notify_role", "Notify an incident role"),
    ("notify_user", "Notify a person"),
    ("notify_team", "Notify a team"),
    ("notify_channel", "Notify a channel"),
    ("notify_service_owners", "Notify the teams owning the affected services"),
    ("attach_playbook", "Attach a playbook"),
    ("webhook", "Send the event to a webhook channel"),
    ("note", "Add a note to the timeline"),
]
OWNER_ROLES = [
    (role, role_name(role)) for role in ("commander", "tech_lead", "comms_lead", "scribe")
]
RECIPIENT_WORDS = {"owner": "the obligation's owner", "escalate_to": "the escalation role"}
CHOICES = {
    "severities": [(f"SEV{level}", f"SEV{level}") for level in range(1, 5)],
    "statuses": [(status.value, status.value.capitalize()) for status in Status],
    "obligations": [(kind.value, kind.value.replace("_", " ")) for kind in ObligationKind],
    "triggers": list(EVENT_NAMES.items()),
    "action_kinds": ACTION_KINDS,
    "owner_roles": OWNER_ROLES,
}


# --- conditions, shared by rules and playbooks ---------------------------------------------------


def _posted_conditions(form: FormData) -> dict[str, Any]:
    return {
        "severity_at_least": optional_text(form, "conditions.severity_at_least"),
        "severity_at_most": optional_text(form, "conditions.severity_at_most"),
        "services": listed(text_of(form, "conditions.services")),
        "types": listed(text_of(form, "conditions.types")),
        "statuses": all_ticked(form, "conditions.statuses"),
        "obligation_kinds": all_ticked(form, "conditions.obligation_kinds"),
    }


def conditions_in_words(conditions: dict[str, Any]) -> str:
    """`SEV2 or more severe, affecting checkout`: what an incident must be like."""
    words = []
    if least := conditions.get("severity_at_least"):
        words.append(f"{least} or more severe")
    if most := conditions.get("severity_at_most"):
        words.append(f"{most} or less severe")
    for name, lead in (("services", "affecting"), ("types", "of type"), ("statuses", "while")):
        if conditions.get(name):
            words.append(f"{lead} {' or '.join(conditions[name])}")
    if conditions.get("obligation_kinds"):
        kinds = (kind.replace("_", " ") for kind in conditions["obligation_kinds"])
        words.append(f"for a {' or '.join(kinds)}")
    return ", ".join(words) or "any incident"


# --- automation rules ----------------------------------------------------------------------------


def action_in_words(action: dict[str, Any]) -> str:
    if action.get("type") == "notify":
        to = action.get("to", {})
        if to.get("role"):
            who = RECIPIENT_WORDS.get(to["role"], f"the {role_name(to['role']).lower()}")
        elif to.get("service_owners"):
            who = "the teams owning the affected services"
        else:
            who = " ".join(f"{kind} {value}" for kind, value in to.items())
        return f"notify {who}" + (" (the exec notice)" if action.get("exec_notice") else "")
    if action.get("type") == "attach_playbook":
        return f"attach playbook {action.get('playbook')}"
    if action.get("type") == "webhook":
        return f"send the event to webhook channel {action.get('channel')}"
    return f"add the note \u201c{action.get('body', '')}\u201d"


def rule_in_words(rule: AutomationRule) -> dict[str, Any]:
    """The rule as a sentence in parts: when, for which incidents, what it does and how often."""
    when = " or ".join(EVENT_NAMES.get(t, t).lower() for t in rule.triggers)
    timing = [f"after {rule.delay_seconds} s"] if rule.delay_seconds else []
    timing += ["once per incident"] if rule.once_per_incident else []
    return {
        "when": f"When {when}",
        "conditions": conditions_in_words(rule.conditions),
        "actions": [action_in_words(action) for action in rule.actions],
        "timing": ", ".join(timing),
    }


def _action_row(action: dict[str, Any]) -> dict[str, Any]:
    """A stored action as the form's row: a kind, one value, and the exec-notice box."""
    kind: str = action.get("type", "")
    value: Any = ""
    if kind == "notify":
        who, value = next(iter(action.get("to", {}).items()), ("", ""))
        kind, value = f"notify_{who}", "" if who == "service_owners" else value
    elif kind in ("attach_playbook", "webhook", "note"):
        value = action.get({"attach_playbook": "playbook", "webhook": "channel"}.get(kind, "body"))
    return {"kind": kind, "value": value, "exec_notice": bool(action.get("exec_notice"))}


def _row_action(row: dict[str, Any]) -> dict[str, Any]:
    kind, value = row["kind"], row["value"]
    if kind.startswith("notify_"):
        who = kind.removeprefix("notify_")
        to = {who: True} if who == "service_owners" else {who: value}
        return {"type": "notify", "to": to, "exec_notice": row["exec_notice"]}
    field = {"attach_playbook": "playbook", "webhook": "channel", "note": "body"}.get(kind)
    return {"type": kind, field: value} if field else {"type": kind}


def _padded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows given and blank ones after them: at least three, one spare."""
    blank = {"kind": "", "value": "", "exec_notice": False}
    return rows + [blank] * max(3 - len(rows), 1)


def _rule_values(rule: AutomationRule | None) -> dict[str, Any]:
    if rule is None:
        return {"name": "", "description": "", "triggers": [], "conditions": {}, "enabled": True}
    return {
        **rules.view(rule),
        "description": rule.description,
        "actions": _padded([_action_row(action) for action in rule.actions]),
    }


def _posted_rule(form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    """The rule as typed (for the form) and as the API would take it (for validation). Blank
    action rows are dropped, so the n-th action is the n-th row when the form is shown again."""
    rows = []
    for index in range(20):
        kind = text_of(form, f"actions.{index}.kind")
        if kind:
            value = text_of(form, f"actions.{index}.value")
            rows.append(
                {
                    "kind": kind,
                    "value": value,
                    "exec_notice": is_ticked(form, f"actions.{index}.exec_notice"),
                }
            )
    values = {
        "name": text_of(form, "name"),
        "description": text_of(form, "description"),
        "triggers": all_ticked(form, "triggers"),
        "conditions": _posted_conditions(form),
        "delay_seconds": text_of(form, "delay_seconds") or "0",
        "once_per_incident": is_ticked(form, "once_per_incident"),
        "enabled": is_ticked(form, "enabled"),
    }
    body = {**values, "actions": [_row_action(row) for row in rows]}
    return {**values, "actions": _padded(rows)}, body


def _rule_form(
    request: Request, rule: AutomationRule | None, values: dict[str, Any], refusal: Refusal | None
) -> Response:
    context = {"current": RULES, "rule": rule, "values": values, **CHOICES}
    return settings_page(request, "settings/rule_form.html", context, refusal=refusal)


@router.get(RULES)
def rule_list(request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.INCIDENTS_READ)
    described = [(rule, rule_in_words(rule)) for rule in rules.list_rules(db)]
    context = {
        "current": RULES,
        "rules": described,
        "can_edit": me.can(Permission.AUTOMATION_ADMIN),
    }
    return settings_page(request, "settings/rules.html", context)


@router.get(RULES + "/new")
def rule_new(request: Request, me: WebUser) -> Response:
    require(me, Permission.AUTOMATION_ADMIN)
    return _rule_form(request, None, {**_rule_values(None), "actions": _padded([])}, None)


@router.get(RULES + "/{rule_id}")
def rule_edit(rule_id: RowId, request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.AUTOMATION_ADMIN)
    rule = rules.get_rule(db, rule_id)
    return _rule_form(request, rule, _rule_values(rule), None)


def _save_rule(
    request: Request,
    me: Principal,
    db: Session,
    clock: Clock,
    form: FormData,
    rule_id: int | None,
) -> Response:
    """Create (no `rule_id`) or replace a rule from the posted form: one path, so both are
    validated alike and refused with the same inline messages."""
    require(me, Permission.AUTOMATION_ADMIN)
    rule = None if rule_id is None else rules.get_rule(db, rule_id)
    values, body = _posted_rule(form)
    try:
        with all_or_nothing(db):
            valid = RuleCreate.model_validate(body)
            if rule is None:
                rules.create_rule(db, actor=me.actor, now=clock.now(), body=valid)
            else:
                changes = {name: getattr(valid, name) for name in RuleCreate.model_fields}
                rules.update_rule(db, actor=me.actor, now=clock.now(), rule=rule, changes=changes)
    except (AppError, ValidationError) as error:
        return _rule_form(request, rule, values, Refusal.of(error))
    return see_other(RULES, "created" if rule is None else "saved")


@router.post(RULES)
def rule_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    return _save_rule(request, me, db, clock, form, None)


@router.post(RULES + "/{rule_id}")
def rule_save(
    rule_id: RowId, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    return _save_rule(request, me, db, clock, form, rule_id)


@router.post(RULES + "/{rule_id}/delete")
def rule_delete(
    rule_id: RowId, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Asks first; deletes once the confirmation page is submitted."""
    require(me, Permission.AUTOMATION_ADMIN)
    rule = rules.get_rule(db, rule_id)
    if not is_ticked(form, "confirmed"):
        return confirm_page(
            request,
            heading=f"Delete the rule \u201c{rule.name}\u201d?",
            question="Fireline stops doing this at once. This cannot be undone.",
            action=f"{RULES}/{rule.id}/delete",
            button="Delete rule",
            back=RULES,
        )
    rules.delete_rule(db, actor=me.actor, now=clock.now(), rule=rule)
    return see_other(RULES, "deleted")


# --- holidays ------------------------------------------------------------------------------------


def _holidays_page(
    request: Request,
    db: Session,
    values: dict[str, str],
    *,
    can_edit: bool = True,
    refusal: Refusal | None = None,
) -> Response:
    context = {
        "current": HOLIDAYS,
        "holidays": holidays.list_all(db),
        "can_edit": can_edit,
        "values": values,
    }
    return settings_page(request, "settings/holidays.html", context, refusal=refusal)


@router.get(HOLIDAYS)
def holiday_list(request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.INCIDENTS_READ)
    can_edit = me.can(Permission.AUTOMATION_ADMIN)
    return _holidays_page(request, db, {"day": "", "name": ""}, can_edit=can_edit)


@router.post(HOLIDAYS)
def holiday_add(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Add a holiday (or rename one): the business-day clocks skip it from their next reading."""
    require(me, Permission.AUTOMATION_ADMIN)
    values = {"day": text_of(form, "day"), "name": text_of(form, "name")}
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        refusal = Refusal(422, "Check the day.", {"day": "enter a date such as 2026-12-25"})
        return _holidays_page(request, db, values, refusal=refusal)
    if not 0 < len(values["name"]) <= 200:
        problem = "enter a name of up to 200 characters, e.g. Christmas Day"
        refusal = Refusal(422, "Name the holiday.", {"name": problem})
        return _holidays_page(request, db, values, refusal=refusal)
    holidays.put(db, actor=me.actor, now=clock.now(), day=day, name=values["name"])
    return see_other(HOLIDAYS, "saved")


@router.post(HOLIDAYS + "/{day}/delete")
def holiday_remove(day: date, me: WebUser, db: DbSession, clock: AppClock) -> Response:
    require(me, Permission.AUTOMATION_ADMIN)
    holidays.remove(db, actor=me.actor, now=clock.now(), day=day)
    return see_other(HOLIDAYS, "deleted")


# --- playbooks -----------------------------------------------------------------------------------

TASK_FIELDS = ("title", "phase", "owner_role", "due_minutes")
BLANK_TASK = dict.fromkeys(TASK_FIELDS, "")


def _playbook_values(playbook: Playbook | None) -> dict[str, Any]:
    if playbook is None:
        return {"slug": "", "name": "", "description": "", "enabled": True, "conditions": {}}
    return {
        "slug": playbook.slug,
        "name": playbook.name,
        "description": playbook.description,
        "enabled": playbook.enabled,
        "conditions": playbook.conditions,
        "tasks": [{**BLANK_TASK, **task} for task in playbook.tasks] + [BLANK_TASK],
    }


def _posted_playbook(form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    """The playbook as typed and as the API would take it. Rows ticked for removal, and blank
    ones, are dropped; the form shows the rest again with a blank row (two after "Add")."""
    rows = []
    for index in range(MAX_TASKS + 1):
        if f"tasks.{index}.title" not in form:
            break
        row = {name: text_of(form, f"tasks.{index}.{name}") for name in TASK_FIELDS}
        if any(row.values()) and not is_ticked(form, f"tasks.{index}.remove"):
            rows.append(row)
    values = {
        "name": text_of(form, "name"),
        "description": text_of(form, "description"),
        "enabled": is_ticked(form, "enabled"),
        "conditions": _posted_conditions(form),
    }
    tasks = [
        {**row, "owner_role": row["owner_role"] or None, "due_minutes": row["due_minutes"] or None}
        for row in rows
    ]
    body = {**values, "tasks": tasks}
    spare = [BLANK_TASK] * (2 if "add_row" in form else 1)
    return {**values, "slug": text_of(form, "slug"), "tasks": rows + spare}, body


def _playbook_page(
    request: Request,
    playbook: Playbook | None,
    values: dict[str, Any],
    *,
    can_edit: bool = True,
    refusal: Refusal | None = None,
) -> Response:
    context = {
        "current": PLAYBOOKS,
        "playbook": playbook,
        "values": values,
        "can_edit": can_edit,
        "in_words": conditions_in_words(values["conditions"]),
        **CHOICES,
    }
    return settings_page(request, "settings/playbook.html", context, refusal=refusal)


@router.get(PLAYBOOKS)
def playbook_list(request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.INCIDENTS_READ)
    context = {
        "current": PLAYBOOKS,
        "playbooks": [(p, conditions_in_words(p.conditions)) for p in playbooks.list_playbooks(db)],
        "can_edit": me.can(Permission.PLAYBOOKS_ADMIN),
    }
    return settings_page(request, "settings/playbooks.html", context)


@router.get(PLAYBOOKS + "/new")
def playbook_new(request: Request, me: WebUser) -> Response:
    require(me, Permission.PLAYBOOKS_ADMIN)
    return _playbook_page(request, None, {**_playbook_values(None), "tasks": [BLANK_TASK] * 3})


@router.get(PLAYBOOKS + "/{slug}")
def playbook_view(slug: str, request: Request, me: WebUser, db: DbSession) -> Response:
    """The playbook; a form to change it for those who may."""
    require(me, Permission.INCIDENTS_READ)
    playbook = playbooks.get_playbook(db, slug)
    can_edit = me.can(Permission.PLAYBOOKS_ADMIN)
    return _playbook_page(request, playbook, _playbook_values(playbook), can_edit=can_edit)


def _save_playbook(
    request: Request, me: Principal, db: Session, clock: Clock, form: FormData, slug: str | None
) -> Response:
    """Create (no `slug`) or change a playbook from the posted form, or only show it again
    with another blank task row when that is what the button asked for."""
    require(me, Permission.PLAYBOOKS_ADMIN)
    playbook = None if slug is None else playbooks.get_playbook(db, slug, for_update=True)
    values, body = _posted_playbook(form)
    if "add_row" in form:  # only another row asked for: nothing is saved yet
        return _playbook_page(request, playbook, values)
    try:
        with all_or_nothing(db):
            now = clock.now()
            if playbook is None:
                created = PlaybookCreate.model_validate({**body, "slug": values["slug"]})
                playbooks.create_playbook(db, actor=me.actor, now=now, playbook_in=created)
            else:
                changes = PlaybookUpdate.model_validate(body)
                playbooks.update_playbook(
                    db, actor=me.actor, now=now, playbook=playbook, changes=changes
                )
    except (AppError, ValidationError) as error:
        return _playbook_page(request, playbook, values, refusal=Refusal.of(error))
    return see_other(f"{PLAYBOOKS}/{values['slug'] or slug}", "saved")


@router.post(PLAYBOOKS)
def playbook_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    return _save_playbook(request, me, db, clock, form, None)


@router.post(PLAYBOOKS + "/{slug}")
def playbook_save(
    slug: str, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    return _save_playbook(request, me, db, clock, form, slug)
