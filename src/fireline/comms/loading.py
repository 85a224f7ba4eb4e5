"""Reading a status page from the database into a PageSnapshot, in a fixed number of queries
whatever the page holds (no query per component or per incident)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from fireline.comms import indicator
from fireline.comms.snapshot import (
    HISTORY_LIMIT,
    UPTIME_DAYS,
    AffectedComponent,
    ComponentRef,
    ComponentView,
    GroupView,
    IncidentView,
    PageInfo,
    PageSnapshot,
    UpdateView,
)
from fireline.comms.uptime import StatusChange, uptime_days, window_uptime
from fireline.models.comms import (
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    PublicIncident,
    PublicKind,
    PublicStatus,
    PublicUpdate,
    StatusPage,
)

# A maintenance in these statuses is under way (PageSnapshot.active_maintenances).
ACTIVE = frozenset({PublicStatus.IN_PROGRESS.value, PublicStatus.VERIFYING.value})
# The parts of a post-incident report the page publishes (comms/reports.py writes them).
REPORT_PARTS = ("apology", "summary", "impact", "root_cause", "what_was_done", "prevention")


def load_page(session: Session, slug: str | None) -> StatusPage | None:
    """The page with this slug, the default page when `slug` is None; None when there is none."""
    query = select(StatusPage)
    if slug is None:
        return session.scalars(query.where(StatusPage.is_default)).one_or_none()
    return session.scalars(query.where(StatusPage.slug == slug)).one_or_none()


def page_url(page: StatusPage, base_url: str) -> str:
    """Where the page lives: {base_url}/status for the default page, /status/{slug} otherwise."""
    root = base_url.rstrip("/") + "/status"
    return root if page.is_default else f"{root}/{page.slug}"


def load_snapshot(
    session: Session, page: StatusPage, *, now: datetime, base_url: str
) -> PageSnapshot:
    """The page as its readers see it at `now`: groups and components with their uptime over
    UPTIME_DAYS days, the newest HISTORY_LIMIT public incidents and maintenances with their
    updates, and the overall indicator; nine queries whatever the page holds."""
    url = page_url(page, base_url)
    groups = list(
        session.scalars(
            select(ComponentGroup)
            .where(ComponentGroup.page_id == page.id)
            .order_by(ComponentGroup.position, ComponentGroup.id)
        )
    )
    components = list(
        session.scalars(
            select(Component)
            .where(Component.page_id == page.id)
            .order_by(Component.position, Component.id)
        )
    )
    history = _status_history(session, page, now=now)
    incidents = _public(session, page, PublicKind.INCIDENT, url)
    maintenances = _public(session, page, PublicKind.MAINTENANCE, url)
    return PageSnapshot(
        page=PageInfo(
            code=page.code,
            slug=page.slug,
            name=page.name,
            description=page.description,
            homepage_url=page.homepage_url,
            support_url=page.support_url,
            time_zone=page.time_zone,
            is_default=page.is_default,
            version=page.version,
            updated_at=page.updated_at,
            url=url,
        ),
        built_at=now,
        indicator=indicator.overall(
            (component.status for component in components),
            (incident.impact for incident in incidents if incident.unresolved),
            maintenance_active=any(m.status in ACTIVE for m in maintenances),
        ),
        groups=_group_views(groups, components),
        components=_component_views(groups, components, history, now),
        incidents=incidents,
        maintenances=maintenances,
    )


def _status_history(
    session: Session, page: StatusPage, *, now: datetime
) -> dict[int, list[StatusChange]]:
    """Each component's status changes in the uptime window, after the last change before it
    (which tells the status at the window's start), oldest first."""
    first_day = now.astimezone(UTC).date() - timedelta(days=UPTIME_DAYS - 1)
    window_start = datetime.combine(first_day, time(), UTC)
    earlier = aliased(ComponentStatusChange)
    last_before = (
        select(func.max(earlier.at))
        .where(earlier.component_id == ComponentStatusChange.component_id)
        .where(earlier.at < window_start)
        .scalar_subquery()
    )
    rows = session.execute(
        select(ComponentStatusChange.component_id, ComponentStatusChange.status)
        .add_columns(ComponentStatusChange.at, PublicIncident.name)
        .join(Component, Component.id == ComponentStatusChange.component_id)
        .outerjoin(PublicIncident, PublicIncident.id == ComponentStatusChange.public_incident_id)
        .where(Component.page_id == page.id)
        .where(
            or_(ComponentStatusChange.at >= window_start, ComponentStatusChange.at == last_before)
        )
        .where(ComponentStatusChange.at <= now)
        .order_by(ComponentStatusChange.component_id, ComponentStatusChange.at)
        .order_by(ComponentStatusChange.id)
    )
    history: dict[int, list[StatusChange]] = defaultdict(list)
    for component_id, status, at, incident_name in rows:
        history[component_id].append(StatusChange(status, at, incident_name))
    return history


def _public(
    session: Session, page: StatusPage, kind: PublicKind, url: str
) -> tuple[IncidentView, ...]:
    newest = (
        PublicIncident.created_at.desc()
        if kind is PublicKind.INCIDENT
        else func.coalesce(PublicIncident.scheduled_for, PublicIncident.created_at).desc()
    )
    rows = session.scalars(
        select(PublicIncident)
        .where(and_(PublicIncident.page_id == page.id, PublicIncident.kind == kind.value))
        .order_by(newest, PublicIncident.id.desc())
        .limit(HISTORY_LIMIT)
        .options(selectinload(PublicIncident.updates), selectinload(PublicIncident.components))
        # Collections this session already holds (just edited, say) are read again, in order.
        .execution_options(populate_existing=True)
    )
    return tuple(_incident_view(incident, url) for incident in rows)


def _incident_view(incident: PublicIncident, url: str) -> IncidentView:
    published = incident.report_published_at is not None
    return IncidentView(
        code=incident.code,
        kind=incident.kind,
        name=incident.name,
        status=incident.status,
        impact=incident.impact,
        started_at=incident.started_at,
        monitoring_at=incident.monitoring_at,
        resolved_at=incident.resolved_at,
        scheduled_for=incident.scheduled_for,
        scheduled_until=incident.scheduled_until,
        created_at=incident.created_at,
        updated_at=incident.updated_at,
        shortlink=f"{url}/incidents/{incident.code}",
        components=tuple(
            ComponentRef(code=c.code, name=c.name, status=c.status) for c in incident.components
        ),
        updates=tuple(_update_view(update) for update in incident.updates),
        report=_report(incident.report) if published else {},
        report_published_at=incident.report_published_at,
    )


def _report(report: dict[str, Any]) -> dict[str, str]:
    return {part: report[part] for part in REPORT_PARTS if isinstance(report.get(part), str)}


def _update_view(update: PublicUpdate) -> UpdateView:
    return UpdateView(
        code=update.code,
        status=update.status,
        body=update.body,
        parts=dict(update.parts),
        closing=update.closing,
        affected_components=tuple(
            AffectedComponent(
                code=str(affected["code"]),
                name=str(affected["name"]),
                old_status=affected.get("old_status"),
                new_status=str(affected["new_status"]),
            )
            for affected in update.affected_components
        ),
        display_at=update.display_at,
        created_at=update.created_at,
    )


def _component_views(
    groups: Sequence[ComponentGroup],
    components: Sequence[Component],
    history: dict[int, list[StatusChange]],
    now: datetime,
) -> tuple[ComponentView, ...]:
    """Components in page order: top-level groups and ungrouped components interleaved by
    position (a group before a component at the same position), each group's components after
    it by position."""
    group_codes = {group.id: group.code for group in groups}
    members: dict[int, list[Component]] = defaultdict(list)
    top: list[tuple[int, int, int, ComponentGroup | Component]] = []
    for group in groups:
        top.append((group.position, 0, group.id, group))
    for component in components:
        if component.group_id in group_codes:
            members[component.group_id].append(component)
        else:
            top.append((component.position, 1, component.id, component))
    ordered: list[Component] = []
    for *_, item in sorted(top, key=lambda entry: entry[:3]):
        ordered.extend(members[item.id] if isinstance(item, ComponentGroup) else [item])
    return tuple(
        _component_view(c, group_codes.get(c.group_id or 0), history.get(c.id, []), now)
        for c in ordered
    )


def _component_view(
    component: Component, group_code: str | None, changes: list[StatusChange], now: datetime
) -> ComponentView:
    # With no recorded change at all, the component has been in its status since it was made.
    initial = ComponentStatus.OPERATIONAL.value if changes else component.status
    days = uptime_days(changes, started_at=component.started_at, now=now, initial=initial)
    return ComponentView(
        code=component.code,
        name=component.name,
        description=component.description,
        status=component.status,
        position=component.position,
        group_code=group_code,
        showcase=component.showcase,
        only_show_if_degraded=component.only_show_if_degraded,
        started_at=component.started_at,
        created_at=component.created_at,
        updated_at=component.updated_at,
        uptime_days=days,
        uptime_percent=window_uptime(days),
    )


def _group_views(
    groups: Sequence[ComponentGroup], components: Sequence[Component]
) -> tuple[GroupView, ...]:
    """Groups by position, each with its components (by position) and their worst status."""
    members: dict[int | None, list[Component]] = defaultdict(list)
    for component in components:
        members[component.group_id].append(component)
    return tuple(
        GroupView(
            code=group.code,
            name=group.name,
            description=group.description,
            position=group.position,
            status=indicator.worst_status(c.status for c in members[group.id]),
            component_codes=tuple(c.code for c in members[group.id]),
            created_at=group.created_at,
            updated_at=group.updated_at,
        )
        for group in groups
    )
