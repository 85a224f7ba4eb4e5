"""Conditions on an incident, shared by playbooks (when to attach) and automation rules (when to
act). A condition left out matches everything; the ones given must all hold."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.errors import InvalidInput
from fireline.incidents.lifecycle import Status
from fireline.models import Incident, Severity
from fireline.response.clocks import ObligationKind

_SEVERITY_KEY = re.compile(r"^SEV[0-9]$")
Name = Annotated[str, Field(min_length=1, max_length=100)]


class Conditions(BaseModel):
    """What an incident must be like. Severities compare by urgency: SEV1 is the most severe,
    so "at least SEV2" means SEV1 or SEV2."""

    model_config = ConfigDict(extra="forbid")

    severity_at_least: str | None = Field(
        default=None, description="SEV1..SEV4: this severity or a more severe one."
    )
    severity_at_most: str | None = Field(
        default=None, description="SEV1..SEV4: this severity or a less severe one."
    )
    services: list[Name] = Field(
        default_factory=list, description="Service slugs; the incident affects at least one."
    )
    types: list[Name] = Field(default_factory=list, description="Incident types, any of them.")
    statuses: list[Status] = Field(default_factory=list, description="Statuses, any of them.")
    obligation_kinds: list[ObligationKind] = Field(
        default_factory=list,
        description="For obligation triggers: which obligations (any of them).",
    )

    @field_validator("severity_at_least", "severity_at_most")
    @classmethod
    def _severity_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        key = value.strip().upper()
        if not _SEVERITY_KEY.match(key):
            raise ValueError("must be a severity key such as SEV2")
        return key

    def stored(self) -> dict[str, Any]:
        """The JSON kept in the database: only what was set."""
        return self.model_dump(mode="json", exclude_defaults=True)


@dataclass(frozen=True)
class Subject:
    """What conditions are judged against: an incident, and the obligation an event is about."""

    severity_level: int
    services: frozenset[str]
    type: str
    status: str
    obligation_kind: str | None = None


def severity_levels(session: Session) -> dict[str, int]:
    """Severity key → level (1 is the most severe)."""
    return {row.key: row.level for row in session.execute(select(Severity.key, Severity.level))}


def check_severities(session: Session, conditions: Conditions, *, field: str) -> None:
    """InvalidInput naming `field` when the conditions name a severity that does not exist, or
    ask for a range that no severity can be in."""
    levels = severity_levels(session)
    for name in ("severity_at_least", "severity_at_most"):
        key = getattr(conditions, name)
        if key is not None and key not in levels:
            known = ", ".join(sorted(levels))
            raise InvalidInput.on(f"{field}.{name}", f"{key} is not a severity (known: {known})")
    least, most = conditions.severity_at_least, conditions.severity_at_most
    if least and most and levels[least] < levels[most]:
        raise InvalidInput.on(
            f"{field}.severity_at_most", f"no severity is at least {least} and at most {most}"
        )


def subject_of(incident: Incident, obligation_kind: str | None = None) -> Subject:
    """The incident as conditions see it; its severity and services must be loaded."""
    return Subject(
        severity_level=incident.severity.level,
        services=frozenset(service.slug for service in incident.services),
        type=incident.type,
        status=incident.status,
        obligation_kind=obligation_kind,
    )


def matches(
    conditions: Mapping[str, Any] | Conditions, subject: Subject, levels: Mapping[str, int]
) -> bool:
    """Whether `subject` meets every condition given. A stored condition naming a severity that
    no longer exists matches nothing, rather than everything."""
    wanted = conditions if isinstance(conditions, Conditions) else Conditions(**conditions)
    if wanted.severity_at_least is not None:
        level = levels.get(wanted.severity_at_least)
        if level is None or subject.severity_level > level:
            return False
    if wanted.severity_at_most is not None:
        level = levels.get(wanted.severity_at_most)
        if level is None or subject.severity_level < level:
            return False
    checks: Sequence[tuple[Sequence[Any], bool]] = (
        (wanted.services, bool(subject.services & set(wanted.services))),
        (wanted.types, subject.type in wanted.types),
        (wanted.statuses, subject.status in {status.value for status in wanted.statuses}),
        (
            wanted.obligation_kinds,
            subject.obligation_kind in {kind.value for kind in wanted.obligation_kinds},
        ),
    )
    return all(matched for given, matched in checks if given)
