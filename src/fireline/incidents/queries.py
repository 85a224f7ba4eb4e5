"""Finding incidents and what they refer to: by reference or filter; severities, services, users."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from fireline.accounts.service import find_user
from fireline.errors import InvalidInput, NotFound
from fireline.incidents.lifecycle import Status
from fireline.models import (
    Incident,
    RoleAssignment,
    Service,
    Severity,
    User,
)

# Ids are 32-bit integer columns; a larger number names no row (and PostgreSQL refuses to compare).
LARGEST_ID = 2**31 - 1


def with_details(query: Select[Incident]) -> Select[Incident]:
    # Many-to-one rows ride along in the same query; collections come in one query each.
    return query.options(
        joinedload(Incident.severity),
        joinedload(Incident.postmortem_owner),
        selectinload(Incident.services),
        selectinload(Incident.roles).joinedload(RoleAssignment.user),
    )


def parse_reference(ref: str | int) -> int:
    text = str(ref).strip()
    match = re.fullmatch(r"(?i)(?:INC-)?(\d{1,18})", text)
    if match is None:
        raise NotFound(detail=f"No incident '{text}': use its number or reference, e.g. INC-42.")
    incident_id = int(match.group(1))
    if incident_id > LARGEST_ID:
        raise NotFound(detail=f"No incident INC-{incident_id}.")
    return incident_id


def get_incident(session: Session, ref: str | int, *, for_update: bool = False) -> Incident:
    """The incident by id or INC reference, with what its JSON needs loaded.

    With `for_update`, the row is locked until the transaction ends, so concurrent changes to one
    incident are applied one after the other instead of overwriting each other."""
    incident_id = parse_reference(ref)
    if for_update:
        locked = session.scalar(
            select(Incident.id).where(Incident.id == incident_id).with_for_update()
        )
        if locked is None:
            raise NotFound(detail=f"No incident INC-{incident_id}.")
    query = with_details(select(Incident).where(Incident.id == incident_id))
    incident = session.scalar(query.execution_options(populate_existing=True))
    if incident is None:
        raise NotFound(detail=f"No incident INC-{incident_id}.")
    return incident


@dataclass(frozen=True)
class IncidentFilter:
    statuses: Sequence[Status] = ()
    severities: Sequence[str] = ()
    service: str | None = None
    declared_after: datetime | None = None
    declared_before: datetime | None = None
    search: str | None = None


def list_incidents(
    session: Session, *, where: IncidentFilter, after_id: int | None, limit: int
) -> list[Incident]:
    """Newest first; `after_id` continues from the last incident of the previous page."""
    query = with_details(select(Incident)).order_by(Incident.id.desc()).limit(limit)
    if after_id is not None:
        query = query.where(Incident.id < after_id)
    if where.statuses:
        query = query.where(Incident.status.in_([status.value for status in where.statuses]))
    if where.severities:
        query = query.join(Severity, Severity.id == Incident.severity_id).where(
            Severity.key.in_(list(where.severities))
        )
    if where.service:
        # Slugs are matched as declare matches them, so "Checkout" finds what it declared.
        slug = where.service.strip().lower()
        query = query.where(Incident.services.any(Service.slug == slug))
    if where.declared_after:
        query = query.where(
            func.coalesce(Incident.declared_at, Incident.reported_at) >= where.declared_after
        )
    if where.declared_before:
        query = query.where(
            func.coalesce(Incident.declared_at, Incident.reported_at) < where.declared_before
        )
    if where.search:
        # The words are matched literally: % and _ typed by a person are not wildcards.
        words = re.sub(r"([\\%_])", r"\\\1", where.search.lower())
        pattern = f"%{words}%"
        query = query.where(
            func.lower(Incident.title).like(pattern, escape="\\")
            | func.lower(Incident.summary).like(pattern, escape="\\")
        )
    return list(session.scalars(query))


def get_severity(session: Session, key: str, *, field: str = "severity") -> Severity:
    severity = session.scalar(select(Severity).where(Severity.key == key.upper()))
    if severity is None:
        raise InvalidInput.on(field, f"'{key}' is not a severity; use SEV1, SEV2, SEV3 or SEV4")
    return severity


def find_services(session: Session, slugs: Sequence[str]) -> list[Service]:
    wanted = list(dict.fromkeys(slug.strip().lower() for slug in slugs))
    if not wanted:
        return []
    found = {
        service.slug: service
        for service in session.scalars(select(Service).where(Service.slug.in_(wanted)))
    }
    missing = [slug for slug in wanted if slug not in found]
    if missing:
        raise InvalidInput.on("services", f"unknown service(s): {', '.join(missing)}")
    return [found[slug] for slug in wanted]


def find_active_user(session: Session, ref: str | int, field: str) -> User:
    try:
        user = find_user(session, str(ref))
    except NotFound:
        raise InvalidInput.on(field, f"no user '{ref}'") from None
    if not user.is_active:
        raise InvalidInput.on(field, f"{user.email} is deactivated")
    return user
