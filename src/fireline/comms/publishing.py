"""Public incidents: publishing one, its updates, the closing update and the post-incident report.

A public incident published from an internal incident keeps the internal clocks honest: each
public update (the first and the closing one too) also writes the internal timeline's
`public_update` entry, which meets the first or next public update the incident owes. Component
statuses change only through comms.status_changes, and every visible change tells the page's
readers (signals.page_changed) and its subscribers (notifications.incident_updated).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.audit.service import record
from fireline.clock import as_utc
from fireline.comms import notifications
from fireline.comms.codes import new_code
from fireline.comms.indicator import impact_of
from fireline.comms.public_incidents import (
    components_of,
    held_status,
    public_incident_for,
)
from fireline.comms.signals import page_changed
from fireline.comms.status_changes import set_component_status
from fireline.errors import Conflict, IllegalTransition, InvalidInput
from fireline.incidents.lifecycle import Status
from fireline.incidents.queries import get_incident
from fireline.models import (
    Component,
    ComponentStatus,
    Impact,
    Incident,
    PublicIncident,
    PublicKind,
    PublicStatus,
    PublicUpdate,
    StatusPage,
    TimelineEntry,
    public_incident_components,
)
from fireline.models.comms import ENDED_STATUSES
from fireline.response import service as response
from fireline.response.reactions import after_change

# The statuses an update may set while the incident is open; `resolved` comes only from
# resolve_public_incident(), which writes the closing update.
OPEN_STATUSES = (PublicStatus.INVESTIGATING, PublicStatus.IDENTIFIED, PublicStatus.MONITORING)
NO_ACTION = "No action is needed."


# The component statuses an incident may set; under_maintenance belongs to maintenance.
_INCIDENT_COMPONENT_STATUSES = frozenset(ComponentStatus) - {ComponentStatus.UNDER_MAINTENANCE}
_NO_UPDATES = frozenset({Status.TRIAGE.value, Status.DECLINED.value})
_REPORT_FIELDS = ("apology", "summary", "impact", "root_cause", "what_was_done", "prevention")


@dataclass(frozen=True)
class PublicParts:
    """The four parts of a public update (design.md §4)."""

    current_impact: str
    doing_now: str
    users_should: str
    next_update_at: datetime | None = None

    def as_document(self) -> dict[str, Any]:
        return {
            "current_impact": self.current_impact,
            "doing_now": self.doing_now,
            "users_should": self.users_should,
            "next_update_at": _iso(self.next_update_at),
        }


def utc_minute(instant: datetime) -> str:
    """`2026-01-05 10:42 UTC`: how published text writes an instant."""
    return as_utc(instant).strftime("%Y-%m-%d %H:%M UTC")


def render_body(parts: PublicParts) -> str:
    """The update as customers read it: impact, what we are doing, what you should do, and
    when the next update comes (UTC), a paragraph each."""
    if parts.next_update_at is None:
        next_update = "Next update: when we have more to share."
    else:
        next_update = f"Next update: by {utc_minute(parts.next_update_at)}."
    return "\n\n".join(
        (
            f"Current impact: {parts.current_impact}",
            f"What we are doing: {parts.doing_now}",
            f"What you should do: {parts.users_should}",
            next_update,
        )
    )


def derive_impact(statuses: Iterable[str]) -> Impact:
    """The impact the component statuses show, worst wins: degraded performance is minor, a
    partial outage major, a major outage critical; none without an outage (indicator.impact_of).
    """
    return impact_of(statuses)


def allows_updates(incident: Incident) -> bool:
    """Whether the internal incident takes status updates (not in triage, not declined)."""
    return incident.status not in _NO_UPDATES


def publish_incident(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    base_url: str,
    page: StatusPage,
    incident: Incident | None,
    name: str,
    status: PublicStatus,
    components: Mapping[str, ComponentStatus],
    parts: PublicParts,
    impact: Impact | None = None,
    started_at: datetime | None = None,
) -> PublicIncident:
    """A new public incident on `page` with its first update, the components put in the
    statuses given. Its impact is `impact`, or derived from those statuses; it started at
    `started_at`, or when the internal incident's impact started (or it was declared), or now.
    Raises Conflict when `incident` already has an unresolved public incident."""
    name = name.strip()
    if not name:
        raise InvalidInput.on("name", "is required")
    _check_open_status(status)
    check_parts(parts, now)
    changes = _components_on(session, page, components)
    if started_at is None and incident is not None:
        started_at = incident.impact_started_at or incident.declared_at
    started_at = as_utc(started_at or now)
    if started_at > now:
        raise InvalidInput.on("started_at", "must not be in the future")
    if incident is not None:
        held = public_incident_for(session, incident)
        if held is not None and held.status not in ENDED_STATUSES:
            raise Conflict(
                detail=f"{incident.reference} is published already, as public incident "
                f"{held.code}; post an update to it instead."
            )
    public_incident = PublicIncident(
        code=new_code(),
        page_id=page.id,
        incident_id=incident.id if incident is not None else None,
        kind=PublicKind.INCIDENT.value,
        name=name,
        status=status.value,
        impact=(impact or derive_impact(components.values())).value,
        started_at=started_at,
        monitoring_at=now if status is PublicStatus.MONITORING else None,
        auto_transition=False,
        report={},
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(public_incident)
    session.flush()
    record(
        session,
        actor=actor,
        action="public_incident.published",
        entity_type="public_incident",
        entity_id=public_incident.code,
        at=now,
        after={
            "page": page.slug,
            "incident": incident.reference if incident is not None else None,
            "name": name,
            "status": status.value,
            "impact": public_incident.impact,
        },
    )
    affected = change_components(
        session,
        actor=actor,
        now=now,
        base_url=base_url,
        public_incident=public_incident,
        changes=changes,
    )
    write_update(
        session,
        actor=actor,
        now=now,
        base_url=base_url,
        public_incident=public_incident,
        body=render_body(parts),
        parts=_with_components(parts, changes),
        affected=affected,
        timeline_parts=_timeline_parts(parts),
    )
    return public_incident


def post_public_update(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    base_url: str,
    public_incident: PublicIncident,
    status: PublicStatus,
    parts: PublicParts,
    components: Mapping[str, ComponentStatus] | None = None,
    impact: Impact | None = None,
) -> PublicUpdate:
    """An update to an open public incident: its status becomes `status` (investigating,
    identified and monitoring, in any order), the components change as given, and its impact
    becomes `impact`, or is derived again when components changed. A resolved one takes only
    a `postmortem` update. Raises IllegalTransition for a status it cannot move to."""
    _check_kind(public_incident, PublicKind.INCIDENT)
    ended = public_incident.status in ENDED_STATUSES
    if status is PublicStatus.POSTMORTEM:
        if not ended:
            raise IllegalTransition(
                detail=f"Public incident {public_incident.code} is {public_incident.status}; "
                "a postmortem update comes after it is resolved."
            )
        if components:
            raise InvalidInput.on("components", "cannot change in a postmortem update")
    elif ended:
        raise IllegalTransition(
            detail=f"Public incident {public_incident.code} is {public_incident.status}; only "
            "a postmortem update may follow."
        )
    else:
        _check_open_status(status)
    check_parts(parts, now)
    page = session.get_one(StatusPage, public_incident.page_id)
    changes = _components_on(session, page, components or {})
    if status is PublicStatus.MONITORING and public_incident.status != status.value:
        public_incident.monitoring_at = now
    before = {"status": public_incident.status, "impact": public_incident.impact}
    public_incident.status = status.value
    affected = change_components(
        session,
        actor=actor,
        now=now,
        base_url=base_url,
        public_incident=public_incident,
        changes=changes,
    )
    if impact is not None:
        public_incident.impact = impact.value
    elif changes:
        statuses = [component.status for component in components_of(session, public_incident)]
        public_incident.impact = derive_impact(statuses).value
    public_incident.updated_at = now
    record(
        session,
        actor=actor,
        action="public_incident.updated",
        entity_type="public_incident",
        entity_id=public_incident.code,
        at=now,
        before=before,
        after={"status": public_incident.status, "impact": public_incident.impact},
    )
    return write_update(
        session,
        actor=actor,
        now=now,
        base_url=base_url,
        public_incident=public_incident,
        body=render_body(parts),
        parts=_with_components(parts, changes),
        affected=affected,
        timeline_parts=_timeline_parts(parts),
    )


def resolve_public_incident(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    base_url: str,
    public_incident: PublicIncident,
    what_happened: str,
    what_was_done: str,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> PublicUpdate:
    """Resolve the public incident with its closing update: what happened, when it started
    and ended (UTC; by default its start and now) and what was done. Each affected component
    returns to operational, or to the worst state another open incident or maintenance
    still holds it in."""
    _check_kind(public_incident, PublicKind.INCIDENT)
    if public_incident.status in ENDED_STATUSES:
        raise IllegalTransition(
            detail=f"Public incident {public_incident.code} is {public_incident.status} already."
        )
    what_happened, what_was_done = what_happened.strip(), what_was_done.strip()
    if not what_happened:
        raise InvalidInput.on("what_happened", "is required")
    if not what_was_done:
        raise InvalidInput.on("what_was_done", "is required")
    ended_at = as_utc(ended_at or now)
    started_at = as_utc(started_at or public_incident.started_at)
    if ended_at > now:
        raise InvalidInput.on("ended_at", "must not be in the future")
    if started_at > ended_at:
        raise InvalidInput.on("started_at", "must not be after ended_at")
    before = {"status": public_incident.status, "started_at": _iso(public_incident.started_at)}
    public_incident.status = PublicStatus.RESOLVED.value
    public_incident.started_at = started_at
    public_incident.resolved_at = ended_at
    public_incident.updated_at = now
    restored = {
        component: held_status(session, component)
        for component in components_of(session, public_incident)
    }
    affected = change_components(
        session,
        actor=actor,
        now=now,
        base_url=base_url,
        public_incident=public_incident,
        changes=restored,
    )
    record(
        session,
        actor=actor,
        action="public_incident.resolved",
        entity_type="public_incident",
        entity_id=public_incident.code,
        at=now,
        before=before,
        after={"status": public_incident.status, "resolved_at": _iso(ended_at)},
    )
    window = f"It started at {utc_minute(started_at)} and ended at {utc_minute(ended_at)}."
    return write_update(
        session,
        actor=actor,
        now=now,
        base_url=base_url,
        public_incident=public_incident,
        body="\n\n".join((f"Resolved: {what_happened}", window, f"What we did: {what_was_done}")),
        parts={
            "what_happened": what_happened,
            "started_at": _iso(started_at),
            "ended_at": _iso(ended_at),
            "what_was_done": what_was_done,
        },
        affected=affected,
        closing=True,
        timeline_parts=response.UpdateParts(
            audience=response.PUBLIC,
            current_impact=f"Resolved: {what_happened} {window}",
            doing_now=what_was_done,
            users_should=NO_ACTION,
        ),
    )


def publish_report(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    public_incident: PublicIncident,
    apology: str,
    summary: str,
    impact: str,
    root_cause: str,
    what_was_done: str,
    prevention: str,
) -> PublicIncident:
    """Publish (or revise) the post-incident report of a resolved public incident; its status
    becomes postmortem. Every part is required."""
    _check_kind(public_incident, PublicKind.INCIDENT)
    if public_incident.status not in (PublicStatus.RESOLVED, PublicStatus.POSTMORTEM):
        raise IllegalTransition(
            detail=f"Public incident {public_incident.code} is {public_incident.status}; its "
            "report is published once it is resolved."
        )
    given = (apology, summary, impact, root_cause, what_was_done, prevention)
    report = {name: text.strip() for name, text in zip(_REPORT_FIELDS, given, strict=True)}
    for name, text in report.items():
        if not text:
            raise InvalidInput.on(name, "is required")
    before = {"status": public_incident.status, "report": public_incident.report}
    public_incident.report = report
    public_incident.status = PublicStatus.POSTMORTEM.value
    public_incident.report_published_at = public_incident.report_published_at or now
    public_incident.updated_at = now
    page_changed(session, public_incident.page_id)
    record(
        session,
        actor=actor,
        action="public_incident.report_published",
        entity_type="public_incident",
        entity_id=public_incident.code,
        at=now,
        before=before,
        after={"status": public_incident.status, "report": report},
    )
    return public_incident


def needs_closing_update(session: Session, incident: Incident) -> bool:
    """Whether the incident page should prompt for the closing update: the internal incident
    is resolved (or closed) and its public incident is not."""
    if incident.status not in (Status.RESOLVED.value, Status.CLOSED.value):
        return False
    public_incident = public_incident_for(session, incident)
    return public_incident is not None and public_incident.status not in ENDED_STATUSES


def change_components(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    base_url: str,
    public_incident: PublicIncident,
    changes: Mapping[Component, ComponentStatus],
) -> list[dict[str, Any]]:
    """Link the components to the public incident and put each in its status (the update
    tells subscribers, so the changes do not); returns what changed, as
    PublicUpdate.affected_components records it."""
    link_components(session, public_incident, changes)
    affected = []
    for component, status in changes.items():
        old = set_component_status(
            session,
            actor=actor,
            now=now,
            component=component,
            status=status,
            base_url=base_url,
            public_incident=public_incident,
            notify=False,
        )
        if old is not None:
            affected.append(
                {
                    "code": component.code,
                    "name": component.name,
                    "old_status": old,
                    "new_status": status.value,
                }
            )
    return affected


def link_components(
    session: Session, public_incident: PublicIncident, components: Iterable[Component]
) -> None:
    """Record that the public incident affects `components` (those not linked already)."""
    linked = set(
        session.scalars(
            select(public_incident_components.c.component_id).where(
                public_incident_components.c.public_incident_id == public_incident.id
            )
        )
    )
    new_links = [
        {"public_incident_id": public_incident.id, "component_id": component.id}
        for component in dict.fromkeys(components)
        if component.id not in linked
    ]
    if new_links:
        session.execute(insert(public_incident_components), new_links)


def write_update(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    base_url: str,
    public_incident: PublicIncident,
    body: str,
    parts: dict[str, Any],
    affected: list[dict[str, Any]],
    closing: bool = False,
    timeline_parts: response.UpdateParts | None = None,
) -> PublicUpdate:
    """Add an update in the public incident's current status; readers and subscribers hear of
    it, and with `timeline_parts` the internal incident (when it takes updates) gets the
    timeline entry that meets its update clock."""
    entry = None
    if timeline_parts is not None and public_incident.incident_id is not None:
        entry = _post_on_timeline(
            session,
            actor=actor,
            now=now,
            incident_id=public_incident.incident_id,
            parts=timeline_parts,
        )
    update = PublicUpdate(
        code=new_code(),
        public_incident_id=public_incident.id,
        status=public_incident.status,
        body=body,
        parts=parts,
        closing=closing,
        affected_components=affected,
        display_at=now,
        timeline_entry_id=entry.id if entry is not None else None,
        created_by_id=actor.user_id,
        created_at=now,
    )
    session.add(update)
    session.flush()
    page_changed(session, public_incident.page_id)
    record(
        session,
        actor=actor,
        action="public_update.posted",
        entity_type="public_incident",
        entity_id=public_incident.code,
        at=now,
        after={
            "update": update.code,
            "status": update.status,
            "closing": closing,
            "affected_components": affected,
            "timeline_entry_id": update.timeline_entry_id,
        },
    )
    notifications.incident_updated(
        session, public_incident=public_incident, update=update, now=now, base_url=base_url
    )
    return update


def _post_on_timeline(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    incident_id: int,
    parts: response.UpdateParts,
) -> TimelineEntry | None:
    # Deleting the internal incident sets incident_id to null, so it is there to lock.
    incident = get_incident(session, incident_id, for_update=True)
    if not allows_updates(incident):
        return None
    entry = response.post_update(session, actor=actor, now=now, incident=incident, parts=parts)
    after_change(session, incident=incident, now=now)
    return entry


def _with_components(
    parts: PublicParts, changes: Mapping[Component, ComponentStatus]
) -> dict[str, Any]:
    """The parts as stored, with the statuses the update asked its components to be in."""
    asked = {component.code: status.value for component, status in changes.items()}
    return parts.as_document() | ({"components": asked} if asked else {})


def _timeline_parts(parts: PublicParts) -> response.UpdateParts:
    return response.UpdateParts(
        audience=response.PUBLIC,
        current_impact=parts.current_impact,
        doing_now=parts.doing_now,
        users_should=parts.users_should,
        next_update_at=parts.next_update_at,
    )


def _check_kind(public_incident: PublicIncident, kind: PublicKind) -> None:
    if public_incident.kind != kind.value:
        raise Conflict(
            detail=f"{public_incident.code} is a {public_incident.kind}, not a {kind.value}."
        )


def _check_open_status(status: PublicStatus) -> None:
    if status not in OPEN_STATUSES:
        choices = ", ".join(each.value for each in OPEN_STATUSES)
        raise InvalidInput.on("status", f"must be one of {choices}; resolve to resolve")


def check_parts(parts: PublicParts, now: datetime) -> None:
    for name in ("current_impact", "doing_now", "users_should"):
        if not getattr(parts, name).strip():
            raise InvalidInput.on(name, "is required")
    if parts.next_update_at is not None and as_utc(parts.next_update_at) <= now:
        raise InvalidInput.on("next_update_at", "must be in the future")


def _components_on(
    session: Session, page: StatusPage, statuses: Mapping[str, ComponentStatus]
) -> dict[Component, ComponentStatus]:
    """The page's components named by code, each with its new status; InvalidInput naming
    `components.<code>` for a code not on the page or a status incidents cannot set."""
    found = {
        component.code: component
        for component in session.scalars(
            select(Component).where(Component.page_id == page.id, Component.code.in_(statuses))
        )
    }
    changes = {}
    for code, status in statuses.items():
        if code not in found:
            raise InvalidInput.on(f"components.{code}", "is not a component of this page")
        if status not in _INCIDENT_COMPONENT_STATUSES:
            raise InvalidInput.on(
                f"components.{code}", "under_maintenance is set by scheduled maintenance"
            )
        changes[found[code]] = status
    return changes


def components_named(
    session: Session, page: StatusPage, codes: Sequence[str], *, field: str = "components"
) -> list[Component]:
    """The page's components named by `codes`, in that order; InvalidInput naming
    `<field>[i]` for one not on the page."""
    found = {
        component.code: component
        for component in session.scalars(
            select(Component).where(Component.page_id == page.id, Component.code.in_(codes))
        )
    }
    for index, code in enumerate(codes):
        if code not in found:
            raise InvalidInput.on(f"{field}[{index}]", "is not a component of this page")
    return [found[code] for code in dict.fromkeys(codes)]


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else as_utc(instant).isoformat().replace("+00:00", "Z")
