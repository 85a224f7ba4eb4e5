"""Settings pages for the severity policy: everyone who reads incidents sees what SEV1 to SEV4
mean and the clocks they set; admins tune them here instead of through the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from fireline.accounts.permissions import Permission
from fireline.api.deps import AppClock, DbSession
from fireline.errors import AppError
from fireline.incidents import severities
from fireline.incidents.schemas import SeverityUpdate
from fireline.models import Severity
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    PostedForm,
    Refusal,
    all_or_nothing,
    is_ticked,
    optional_text,
    see_other,
    settings_page,
    text_of,
)

router = APIRouter(include_in_schema=False)
HOME = "/settings/severities"
# Clocks an admin may switch off by leaving the field blank.
OPTIONAL_NUMBERS = (
    "first_update_minutes",
    "update_cadence_minutes",
    "postmortem_meeting_business_days",
    "public_summary_hours",
)
POSTMORTEM_CHOICES = [("required", "Required"), ("optional", "Optional"), ("none", "None")]


def _current(severity: Severity) -> dict[str, Any]:
    return {name: getattr(severity, name) for name in severities.POLICY_FIELDS}


def _posted(form: FormData) -> dict[str, Any]:
    """The policy as typed, for validation and for showing again if it is refused."""
    values: dict[str, Any] = {
        name: text_of(form, name)
        for name in ("name", "description", "paging", "postmortem", "monitoring_minutes")
    }
    values |= {name: optional_text(form, name) for name in OPTIONAL_NUMBERS}
    values |= {name: is_ticked(form, name) for name in ("is_major", "exec_notice")}
    return values


def _edit_page(
    request: Request, severity: Severity, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    context = {
        "current": HOME,
        "severity": severity,
        "values": values,
        "postmortem_choices": POSTMORTEM_CHOICES,
    }
    return settings_page(request, "settings/severity_edit.html", context, refusal=refusal)


@router.get(HOME)
def severity_list(request: Request, me: WebUser, db: DbSession) -> Response:
    """The policy table; an edit link on each severity for those who may change it."""
    require(me, Permission.INCIDENTS_READ)
    context = {
        "current": HOME,
        "severities": severities.list_severities(db),
        "can_edit": me.can(Permission.SEVERITIES_WRITE),
    }
    return settings_page(request, "settings/severities.html", context)


@router.get(HOME + "/{key}")
def severity_form(key: str, request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.SEVERITIES_WRITE)
    severity = severities.get_by_key(db, key)
    return _edit_page(request, severity, _current(severity))


@router.post(HOME + "/{key}")
def severity_save(
    key: str, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Save the edited policy (audited); a value out of range is shown beside its field."""
    require(me, Permission.SEVERITIES_WRITE)
    severity = severities.get_by_key(db, key)
    values = _posted(form)
    try:
        with all_or_nothing(db):
            changes = SeverityUpdate.model_validate(values).model_dump(exclude_unset=True)
            severities.update_severity(
                db, actor=me.actor, now=clock.now(), severity=severity, changes=changes
            )
    except (AppError, ValidationError) as error:
        return _edit_page(request, severity, values, Refusal.of(error))
    return see_other(HOME, "saved")
