"""Use cases for escalation policies: levels of targets paged in turn until someone acknowledges.

A policy's levels are always given whole: saving a policy with `levels` replaces every level and
target it had, so a client never has to diff them. A target is a user, or a schedule, which pages
whoever it has on call at the moment the level fires (`targets_at`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from fireline.accounts.principal import Actor
from fireline.accounts.service import get_team, parse_id
from fireline.audit.service import record
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    RoutingRule,
    Schedule,
    Service,
    Team,
    User,
)
from fireline.oncall.people import resolve_user, users_by_id
from fireline.oncall.schedules import find_schedule, on_call
from fireline.oncall.schemas import LevelIn, TargetIn


def _query() -> Select[EscalationPolicy]:
    return (
        select(EscalationPolicy)
        .options(selectinload(EscalationPolicy.levels).selectinload(EscalationLevel.targets))
        .execution_options(populate_existing=True)
    )


def list_policies(
    session: Session, *, after_id: int | None = None, limit: int | None = None
) -> list[EscalationPolicy]:
    """Policies in the order they were made, with their levels and targets loaded."""
    query = _query().order_by(EscalationPolicy.id).limit(limit)
    if after_id is not None:
        query = query.where(EscalationPolicy.id > after_id)
    return list(session.scalars(query))


def get_policy(session: Session, policy_id: int) -> EscalationPolicy:
    policy = session.scalar(_query().where(EscalationPolicy.id == policy_id))
    if policy is None:
        raise NotFound(detail=f"No escalation policy {policy_id}.")
    return policy


def services_of(session: Session, policy_ids: Iterable[int]) -> dict[int, list[Service]]:
    """The services each policy pages for, by name."""
    found: dict[int, list[Service]] = {policy_id: [] for policy_id in policy_ids}
    query = (
        select(Service).where(Service.escalation_policy_id.in_(list(found))).order_by(Service.name)
    )
    for service in session.scalars(query):
        found[service.escalation_policy_id or 0].append(service)
    return found


def teams_of(session: Session, policies: Iterable[EscalationPolicy]) -> dict[int, Team]:
    ids = {policy.team_id for policy in policies if policy.team_id is not None}
    return {team.id: team for team in session.scalars(select(Team).where(Team.id.in_(ids)))}


def target_names(
    session: Session, policies: Iterable[EscalationPolicy]
) -> tuple[dict[int, User], dict[int, Schedule]]:
    """The users and schedules the policies' targets name, keyed by id, to show them."""
    targets = [target for policy in policies for level in policy.levels for target in level.targets]
    users = users_by_id(session, (t.user_id for t in targets if t.user_id is not None))
    schedule_ids = {t.schedule_id for t in targets if t.schedule_id is not None}
    schedules = (
        {s.id: s for s in session.scalars(select(Schedule).where(Schedule.id.in_(schedule_ids)))}
        if schedule_ids
        else {}
    )
    return users, schedules


def _snapshot(policy: EscalationPolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "description": policy.description,
        "team_id": policy.team_id,
        "repeat": policy.repeat,
        "levels": [
            {
                "delay_minutes": level.delay_minutes,
                "targets": [
                    {"user_id": t.user_id} if t.user_id else {"schedule_id": t.schedule_id}
                    for t in level.targets
                ],
            }
            for level in policy.levels
        ],
    }


def _target(session: Session, target: TargetIn, field: str) -> EscalationTarget:
    if target.type == "user":
        refs = {"id": target.id, "email": target.email}
        if target.slug is not None:
            raise InvalidInput.on(f"{field}.slug", "a user target is named by id or email")
    else:
        refs = {"id": target.id, "slug": target.slug}
        if target.email is not None:
            raise InvalidInput.on(f"{field}.email", "a schedule target is named by id or slug")
    given = {name: ref for name, ref in refs.items() if ref is not None}
    if len(given) != 1:
        raise InvalidInput.on(
            field, f"name the {target.type} by exactly one of {' or '.join(refs)}"
        )
    ((name, ref),) = given.items()
    if target.type == "user":
        return EscalationTarget(user_id=resolve_user(session, ref, field=f"{field}.{name}").id)
    schedule = find_schedule(session, ref)
    if schedule is None:
        raise InvalidInput.on(f"{field}.{name}", f"no schedule '{ref}'")
    return EscalationTarget(schedule_id=schedule.id)


def _levels(session: Session, levels: Sequence[LevelIn]) -> list[EscalationLevel]:
    """The levels as rows to save, or InvalidInput naming the first field at fault."""
    if not levels:
        raise InvalidInput.on("levels", "a policy needs at least one level")
    rows = []
    for n, level in enumerate(levels, start=1):
        field = f"levels.{n - 1}.targets"
        if not level.targets:
            raise InvalidInput.on(field, "a level needs at least one target")
        targets: list[EscalationTarget] = []
        for m, spec in enumerate(level.targets):
            target = _target(session, spec, f"{field}.{m}")
            if any(
                (t.user_id, t.schedule_id) == (target.user_id, target.schedule_id) for t in targets
            ):
                raise InvalidInput.on(f"{field}.{m}", "repeats a target of this level")
            targets.append(target)
        rows.append(EscalationLevel(position=n, delay_minutes=level.delay_minutes, targets=targets))
    return rows


def _check_name(session: Session, name: str, policy_id: int | None = None) -> None:
    query = select(EscalationPolicy.id).where(func.lower(EscalationPolicy.name) == name.lower())
    if policy_id is not None:
        query = query.where(EscalationPolicy.id != policy_id)
    if session.scalar(query) is not None:
        raise Conflict(detail=f"An escalation policy named '{name}' already exists.")


def _team_id(session: Session, ref: str | None) -> int | None:
    if ref is None:
        return None
    try:
        return get_team(session, ref).id
    except NotFound:
        raise InvalidInput.on("team", f"no team '{ref}'") from None


def create_policy(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    name: str,
    levels: Sequence[LevelIn],
    description: str = "",
    team: str | None = None,
    repeat: int = 0,
) -> EscalationPolicy:
    _check_name(session, name)
    policy = EscalationPolicy(
        name=name,
        description=description,
        team_id=_team_id(session, team),
        repeat=repeat,
        levels=_levels(session, levels),
        created_at=now,
        updated_at=now,
    )
    session.add(policy)
    session.flush()
    record(
        session,
        actor=actor,
        action="escalation_policy.create",
        entity_type="escalation_policy",
        entity_id=policy.id,
        at=now,
        after=_snapshot(policy),
    )
    return get_policy(session, policy.id)


def update_policy(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    policy: EscalationPolicy,
    changes: dict[str, Any],
) -> EscalationPolicy:
    """Change the given fields (a null team clears it); `levels`, if given, replaces them all."""
    for name in ("name", "description", "repeat", "levels"):
        if name in changes and changes[name] is None:
            raise InvalidInput.on(name, "cannot be null")
    before = _snapshot(policy)
    if "name" in changes:
        _check_name(session, changes["name"], policy.id)
        policy.name = changes["name"]
    if "description" in changes:
        policy.description = changes["description"]
    if "repeat" in changes:
        policy.repeat = changes["repeat"]
    if "team" in changes:
        policy.team_id = _team_id(session, changes["team"])
    if "levels" in changes:
        levels = _levels(session, changes["levels"])
        # Old levels go first: the new ones reuse their positions, which must stay unique.
        policy.levels.clear()
        session.flush()
        policy.levels.extend(levels)
    policy.updated_at = now
    session.flush()
    record(
        session,
        actor=actor,
        action="escalation_policy.update",
        entity_type="escalation_policy",
        entity_id=policy.id,
        at=now,
        before=before,
        after=_snapshot(policy),
    )
    return get_policy(session, policy.id)


def delete_policy(
    session: Session, *, actor: Actor, now: datetime, policy: EscalationPolicy
) -> None:
    """Delete a policy nothing pages through; Conflict naming the services and routing rules
    that still use it (they would silently page nobody)."""
    services = [service.slug for service in services_of(session, [policy.id])[policy.id]]
    rules = list(
        session.scalars(
            select(RoutingRule.name)
            .where(RoutingRule.escalation_policy_id == policy.id)
            .order_by(RoutingRule.position)
        )
    )
    if services or rules:
        users = [f"service '{slug}'" for slug in services]
        users += [f"routing rule '{name}'" for name in rules]
        raise Conflict(
            detail=f"Escalation policy '{policy.name}' still pages for {', '.join(users)}; "
            "give them another policy first.",
            extra={"services": services, "routing_rules": rules},
        )
    record(
        session,
        actor=actor,
        action="escalation_policy.delete",
        entity_type="escalation_policy",
        entity_id=policy.id,
        at=now,
        before=_snapshot(policy),
    )
    session.delete(policy)
    session.flush()


def set_policy_services(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    policy: EscalationPolicy,
    services: Sequence[str],
) -> list[Service]:
    """Make `policy` page for exactly these services (slugs or ids): the ones listed take it,
    the ones that had it and are not listed are left without a policy."""
    chosen: dict[int, Service] = {}
    for n, ref in enumerate(services):
        service_id = parse_id(ref)
        service = session.get(Service, service_id) if service_id else None
        service = service or session.scalar(select(Service).where(Service.slug == ref))
        if service is None:
            raise InvalidInput.on(f"services.{n}", f"no service '{ref}'")
        chosen[service.id] = service
    current = {service.id: service for service in services_of(session, [policy.id])[policy.id]}
    for service in [*chosen.values(), *current.values()]:
        wanted = policy.id if service.id in chosen else None
        if service.escalation_policy_id == wanted:
            continue
        record(
            session,
            actor=actor,
            action="service.escalation_policy",
            entity_type="service",
            entity_id=service.id,
            at=now,
            before={"escalation_policy_id": service.escalation_policy_id},
            after={"escalation_policy_id": wanted},
        )
        service.escalation_policy_id = wanted
        service.updated_at = now
    session.flush()
    return services_of(session, [policy.id])[policy.id]


def targets_at(session: Session, *, level: EscalationLevel, at: datetime) -> list[User]:
    """Who paging `level` at `at` reaches: its users, and whoever its schedules have on call
    then, in the order the targets were given, each person once. Deactivated people and
    schedules with nobody on call at `at` add nobody."""
    targets = session.scalars(
        select(EscalationTarget)
        .where(EscalationTarget.level_id == level.id)
        .order_by(EscalationTarget.id)
    )
    reached: dict[int, User] = {}
    for target in targets:
        if target.user_id is not None:
            people = [session.get_one(User, target.user_id)]
        else:
            people = [
                person.user
                for person in on_call(session, schedule_id=target.schedule_id or 0, at=at)
            ]
        for user in people:
            if user.is_active:
                reached.setdefault(user.id, user)
    return list(reached.values())
