"""The incident timeline: notes and decisions, threads, pinning, and reading it back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.incidents.queries import LARGEST_ID
from fireline.incidents.recording import add_entry
from fireline.models import Incident, TimelineEntry, TimelineThread


def list_threads(session: Session, incident: Incident) -> list[TimelineThread]:
    query = select(TimelineThread).where(TimelineThread.incident_id == incident.id)
    return list(session.scalars(query.order_by(TimelineThread.id)))


def find_thread(session: Session, incident: Incident, name: str) -> TimelineThread:
    thread = session.scalar(
        select(TimelineThread).where(
            TimelineThread.incident_id == incident.id, TimelineThread.name == name.strip()
        )
    )
    if thread is None:
        raise InvalidInput.on("thread", f"{incident.reference} has no thread named '{name}'")
    return thread


def create_thread(
    session: Session, *, actor: Actor, now: datetime, incident: Incident, name: str
) -> TimelineThread:
    """A named thread for one subsystem's investigation."""
    name = name.strip()
    existing = select(TimelineThread.id).where(
        TimelineThread.incident_id == incident.id, TimelineThread.name == name
    )
    if session.scalar(existing) is not None:
        raise Conflict(detail=f"{incident.reference} already has a thread named '{name}'.")
    thread = TimelineThread(
        incident_id=incident.id,
        name=name,
        is_command=False,
        created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(thread)
    session.flush()
    add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind="thread_opened",
        body=f"{actor.label} opened the thread “{name}”.",
        details={"thread": name},
    )
    record(
        session,
        actor=actor,
        action="incident.thread.create",
        entity_type="incident",
        entity_id=incident.reference,
        at=now,
        after={"thread": name},
    )
    return thread


def add_note(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    kind: str,
    body: str,
    thread_name: str | None = None,
    occurred_at: datetime | None = None,
    pinned: bool = False,
) -> TimelineEntry:
    """A note or decision written by a responder, in the command thread unless another is named."""
    if occurred_at is not None and occurred_at > now:
        raise InvalidInput.on("occurred_at", "cannot be in the future")
    thread = find_thread(session, incident, thread_name) if thread_name else None
    return write_entry(
        session,
        actor=actor,
        now=now,
        incident=incident,
        kind=kind,
        body=body.strip(),
        thread=thread,
        occurred_at=occurred_at,
        pinned=pinned,
        audited={"body": body.strip(), "thread": thread_name or "command"},
    )


def write_entry(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    kind: str,
    body: str,
    audited: dict[str, Any],
    details: dict[str, Any] | None = None,
    thread: TimelineThread | None = None,
    occurred_at: datetime | None = None,
    pinned: bool = False,
) -> TimelineEntry:
    """An entry a person wrote, with its audit record (`incident.<kind>`, the entry's id plus
    `audited`); returned loaded, as the API shows it."""
    entry = add_entry(
        session,
        incident=incident,
        actor=actor,
        now=now,
        kind=kind,
        body=body,
        details=details,
        thread=thread,
        occurred_at=occurred_at,
        pinned=pinned,
    )
    session.flush()
    record(
        session,
        actor=actor,
        action=f"incident.{kind}",
        entity_type="incident",
        entity_id=incident.reference,
        at=now,
        after={"entry_id": entry.id, **audited},
    )
    return load_entry(session, incident, entry.id)


def load_entry(session: Session, incident: Incident, entry_id: int) -> TimelineEntry:
    if not 0 < entry_id <= LARGEST_ID:
        raise NotFound(detail=f"{incident.reference} has no timeline entry {entry_id}.")
    entry = session.scalar(
        select(TimelineEntry)
        .where(TimelineEntry.id == entry_id, TimelineEntry.incident_id == incident.id)
        .options(selectinload(TimelineEntry.thread), selectinload(TimelineEntry.author))
        .execution_options(populate_existing=True)
    )
    if entry is None:
        raise NotFound(detail=f"{incident.reference} has no timeline entry {entry_id}.")
    return entry


def set_pinned(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident: Incident,
    entry_id: int,
    pinned: bool,
) -> TimelineEntry:
    entry = load_entry(session, incident, entry_id)
    if entry.pinned != pinned:
        entry.pinned = pinned
        record(
            session,
            actor=actor,
            action="incident.timeline.pin" if pinned else "incident.timeline.unpin",
            entity_type="incident",
            entity_id=incident.reference,
            at=now,
            before={"entry_id": entry.id, "pinned": not pinned},
            after={"entry_id": entry.id, "pinned": pinned},
        )
        session.flush()
    return entry


def read_timeline(
    session: Session,
    *,
    incident: Incident,
    thread_name: str | None = None,
    kinds: list[str] | None = None,
    pinned: bool | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = 100,
) -> list[TimelineEntry]:
    """Oldest first, as a story is read; `after` (occurred_at, id) continues a previous page."""
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id)
        .options(selectinload(TimelineEntry.thread), selectinload(TimelineEntry.author))
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
        .limit(limit)
    )
    if thread_name:
        query = query.where(
            TimelineEntry.thread_id == find_thread(session, incident, thread_name).id
        )
    if kinds:
        query = query.where(TimelineEntry.kind.in_(kinds))
    if pinned is not None:
        query = query.where(TimelineEntry.pinned.is_(pinned))
    if after is not None:
        instant, last_id = after
        query = query.where(
            (TimelineEntry.occurred_at > instant)
            | ((TimelineEntry.occurred_at == instant) & (TimelineEntry.id > last_id))
        )
    return list(session.scalars(query))
