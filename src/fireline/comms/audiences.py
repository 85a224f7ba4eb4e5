"""Audiences: the internal groups stakeholder updates go to (executives, support, sales, custom).

Each recipient is checked when it is saved, by the rules notification targets follow
(notify/targets.py): an email address must be one, a webhook or Slack URL must be http(s),
without credentials, and public unless private targets are allowed. Every audience gets a
signing secret for its webhook deliveries, shown once, in the answer that creates it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.errors import Conflict, FieldProblem, InvalidInput, NotFound
from fireline.models import Audience, AudienceKind, Transport
from fireline.notify.destinations import check_target, new_secret

_FIELDS = ("name", "kind", "description", "recipients")


def _view(audience: Audience) -> dict[str, Any]:
    return {
        "name": audience.name,
        "kind": audience.kind,
        "description": audience.description,
        "recipients": [dict(recipient) for recipient in audience.recipients],
    }


def check_recipients(
    recipients: Sequence[dict[str, Any]], *, allow_private: bool
) -> list[dict[str, str]]:
    """The recipients normalised ({"transport", "target"} each), or InvalidInput naming the
    first one that cannot be used (`recipients.2.target`) or that repeats an earlier one."""
    checked: list[dict[str, str]] = []
    for index, recipient in enumerate(recipients):
        field = f"recipients.{index}"
        try:
            transport = Transport(str(recipient.get("transport")))
        except ValueError:
            raise InvalidInput.on(f"{field}.transport", "use email, webhook or slack") from None
        target = check_target(
            transport,
            str(recipient.get("target") or ""),
            allow_private=allow_private,
            field=f"{field}.target",
        )
        entry = {"transport": transport.value, "target": target}
        if entry in checked:
            raise InvalidInput.on(f"{field}.target", "is listed twice")
        checked.append(entry)
    return checked


def list_audiences(session: Session, *, kind: AudienceKind | None = None) -> list[Audience]:
    """Every audience by name, or those of one kind."""
    query = select(Audience).order_by(Audience.name)
    if kind is not None:
        query = query.where(Audience.kind == kind.value)
    return list(session.scalars(query))


def get_audience(session: Session, audience_id: int) -> Audience:
    audience = session.get(Audience, audience_id)
    if audience is None:
        raise NotFound(detail=f"No audience {audience_id}.")
    return audience


def find_audiences(
    session: Session, refs: Sequence[int | str], *, field: str = "audiences"
) -> list[Audience]:
    """The audiences named by id or name, in the order given and each once; InvalidInput
    naming `field` for one that does not exist."""
    found: list[Audience] = []
    for ref in refs:
        text = str(ref).strip()
        audience = session.get(Audience, int(text)) if text.isdigit() else None
        if audience is None:
            audience = session.scalars(select(Audience).where(Audience.name == text)).first()
        if audience is None:
            raise InvalidInput.on(field, f"there is no audience {text!r}")
        if audience not in found:
            found.append(audience)
    return found


def _unique_name(session: Session, name: str, audience: Audience | None = None) -> str:
    clash = session.scalars(select(Audience).where(Audience.name == name)).first()
    if clash is not None and clash is not audience:
        raise Conflict(
            detail=f"An audience named {name!r} exists already.",
            errors=[FieldProblem("name", "is taken")],
        )
    return name


def create_audience(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    name: str,
    kind: AudienceKind,
    description: str,
    recipients: Sequence[dict[str, Any]],
    allow_private: bool,
) -> Audience:
    """A new audience with its signing secret (read it from the result: it is not shown
    again)."""
    audience = Audience(
        name=_unique_name(session, name),
        kind=kind.value,
        description=description,
        recipients=check_recipients(recipients, allow_private=allow_private),
        secret=new_secret(),
        created_at=now,
        updated_at=now,
    )
    session.add(audience)
    session.flush()
    record(
        session,
        actor=actor,
        action="audience.create",
        entity_type="audience",
        entity_id=audience.id,
        at=now,
        after=_view(audience),
    )
    return audience


def update_audience(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    audience: Audience,
    changes: dict[str, Any],
    allow_private: bool,
) -> Audience:
    """Change the given fields (name, kind, description, recipients); the secret stays."""
    before = _view(audience)
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise InvalidInput.on(sorted(unknown)[0], "cannot be changed")
    if "name" in changes:
        audience.name = _unique_name(session, changes["name"], audience)
    if "kind" in changes:
        audience.kind = AudienceKind(changes["kind"]).value
    if "description" in changes:
        audience.description = changes["description"]
    if "recipients" in changes:
        audience.recipients = check_recipients(changes["recipients"], allow_private=allow_private)
    audience.updated_at = now
    session.flush()
    record(
        session,
        actor=actor,
        action="audience.update",
        entity_type="audience",
        entity_id=audience.id,
        at=now,
        before=before,
        after=_view(audience),
    )
    return audience


def delete_audience(session: Session, *, actor: Actor, now: datetime, audience: Audience) -> None:
    """Remove the audience; updates already sent to it stay in the delivery log."""
    record(
        session,
        actor=actor,
        action="audience.delete",
        entity_type="audience",
        entity_id=audience.id,
        at=now,
        before=_view(audience),
    )
    session.delete(audience)
    session.flush()
