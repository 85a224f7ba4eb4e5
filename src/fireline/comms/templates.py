"""Update templates: the starting texts of public updates (the three written parts, for the
public status they suit) and of internal stakeholder updates.

Placeholders {components} and {next_update} are filled when an update is composed (fill());
any other text in braces is left as typed, so a template can never break composing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.accounts.service import MAX_ID
from fireline.audit.service import record
from fireline.clock import as_utc
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.models import PublicStatus, UpdateTemplate

AUDIENCES = ("public", "internal")
PARTS = ("current_impact", "doing_now", "users_should")
# What {components} says when an update names no component.
NO_COMPONENTS = "our service"
_PLACEHOLDER = re.compile(r"\{(components|next_update)\}")


def join_names(names: Sequence[str]) -> str:
    """Names as a sentence says them: "A", "A and B", "A, B and C"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def next_update_text(instant: datetime) -> str:
    """How an update names the time of the next one, in UTC: "14:30 UTC on 2026-11-27"."""
    return as_utc(instant).strftime("%H:%M UTC on %Y-%m-%d")


def fill(
    template: UpdateTemplate, *, components: list[str], next_update: datetime | None
) -> dict[str, str]:
    """The template's parts (current_impact, doing_now, users_should) with {components} and
    {next_update} filled in. Without a next update time, {next_update} stays as typed for the
    writer to fill; other braces are left alone. Never raises."""
    values = {"components": join_names(components) or NO_COMPONENTS}
    if next_update is not None:
        values["next_update"] = next_update_text(next_update)

    def replace(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return {part: _PLACEHOLDER.sub(replace, getattr(template, part) or "") for part in PARTS}


def _check_audience(audience: str) -> str:
    if audience not in AUDIENCES:
        raise InvalidInput.on("audience", f"must be one of {', '.join(AUDIENCES)}")
    return audience


def _check_status(status: str | None) -> str | None:
    if status is None:
        return None
    try:
        return PublicStatus(status).value
    except ValueError:
        choices = ", ".join(value.value for value in PublicStatus)
        raise InvalidInput.on("status", f"must be one of {choices}") from None


def _view(template: UpdateTemplate) -> dict[str, Any]:
    return {
        "name": template.name,
        "audience": template.audience,
        "status": template.status,
        **{part: getattr(template, part) for part in PARTS},
    }


def _audit(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    verb: str,
    template: UpdateTemplate,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    record(
        session,
        actor=actor,
        action=f"update_template.{verb}",
        entity_type="update_template",
        entity_id=template.id,
        at=now,
        before=before,
        after=after,
    )


def _check_name_free(session: Session, name: str, *, other_than: int | None = None) -> None:
    clash = select(UpdateTemplate.id).where(func.lower(UpdateTemplate.name) == name.lower())
    if other_than is not None:
        clash = clash.where(UpdateTemplate.id != other_than)
    if session.scalar(clash) is not None:
        raise Conflict(detail=f"An update template named '{name}' already exists.")


def list_templates(
    session: Session, *, audience: str | None = None, status: str | None = None
) -> list[UpdateTemplate]:
    """Templates by name, only those for `audience` and suiting `status` when given."""
    query = select(UpdateTemplate).order_by(UpdateTemplate.name)
    if audience is not None:
        query = query.where(UpdateTemplate.audience == _check_audience(audience))
    if status is not None:
        query = query.where(UpdateTemplate.status == _check_status(status))
    return list(session.scalars(query))


def get_template(session: Session, template_id: int) -> UpdateTemplate:
    template = session.get(UpdateTemplate, template_id) if 0 < template_id <= MAX_ID else None
    if template is None:
        raise NotFound(detail=f"No update template {template_id}.")
    return template


def create_template(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    name: str,
    audience: str,
    status: str | None = None,
    current_impact: str = "",
    doing_now: str = "",
    users_should: str = "",
) -> UpdateTemplate:
    """A new template; `status` is the public status it suits (None: any)."""
    _check_name_free(session, name)
    template = UpdateTemplate(
        name=name,
        audience=_check_audience(audience),
        status=_check_status(status),
        current_impact=current_impact,
        doing_now=doing_now,
        users_should=users_should,
        created_at=now,
        updated_at=now,
    )
    session.add(template)
    session.flush()
    _audit(session, actor=actor, now=now, verb="create", template=template, after=_view(template))
    return template


def update_template(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    template: UpdateTemplate,
    changes: dict[str, Any],
) -> UpdateTemplate:
    """Change the name, audience, status (None: any) or the parts."""
    before = _view(template)
    if "name" in changes:
        _check_name_free(session, changes["name"], other_than=template.id)
        template.name = changes["name"]
    if "audience" in changes:
        template.audience = _check_audience(changes["audience"])
    if "status" in changes:
        template.status = _check_status(changes["status"])
    for part in PARTS:
        if part in changes:
            setattr(template, part, changes[part])
    after = _view(template)
    if after != before:
        template.updated_at = now
        session.flush()
        _audit(
            session,
            actor=actor,
            now=now,
            verb="update",
            template=template,
            before=before,
            after=after,
        )
    return template


def delete_template(
    session: Session, *, actor: Actor, now: datetime, template: UpdateTemplate
) -> None:
    _audit(session, actor=actor, now=now, verb="delete", template=template, before=_view(template))
    session.delete(template)
    session.flush()
