"""Option values checked before any database or network work, so mistakes are usage errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum

import typer


class RoleChoice(StrEnum):
    """Account roles (mirrors fireline.models.Role without importing the models)."""

    ADMIN = "admin"
    RESPONDER = "responder"
    VIEWER = "viewer"


SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def email(value: str) -> str:
    """An email address as the API accepts it."""
    from pydantic import EmailStr, TypeAdapter, ValidationError

    try:
        TypeAdapter(EmailStr).validate_python(value.strip())
    except ValidationError as error:
        raise typer.BadParameter(error.errors()[0]["msg"]) from None
    return value.strip()


def slug(value: str | None) -> str | None:
    if value is not None and not SLUG.match(value):
        raise typer.BadParameter(
            "use lowercase letters, digits and single hyphens, e.g. checkout-api"
        )
    return value


def http_url(value: str | None) -> str | None:
    if value is None:
        return None
    from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

    try:
        return str(TypeAdapter(AnyHttpUrl).validate_python(value))
    except ValidationError as error:
        raise typer.BadParameter(error.errors()[0]["msg"]) from None


def instant(value: str | None) -> str | None:
    """An ISO 8601 date or date-time; one without a timezone is taken as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 date, e.g. 2026-02-01 or 2026-02-01T17:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


def severity(value: str) -> str:
    key = value.strip().upper()
    if key not in {"SEV1", "SEV2", "SEV3", "SEV4"}:
        raise typer.BadParameter("use SEV1 (critical), SEV2, SEV3 or SEV4 (low)")
    return key


def severities(values: list[str] | None) -> list[str] | None:
    return None if values is None else [severity(value) for value in values]


class IncidentRoleChoice(StrEnum):
    """Roles someone can hold on an incident."""

    COMMANDER = "commander"
    TECH_LEAD = "tech_lead"
    COMMS_LEAD = "comms_lead"
    SCRIBE = "scribe"
    SME = "sme"


class JobStateChoice(StrEnum):
    """Job states (mirrors fireline.models.JobState)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    DEAD = "dead"
