"""Declaring an incident from the browser: the form, its severity assistant, and the POST that
declares through the same service and reactions as the JSON API, so an incident declared here
gets the same clocks, playbooks and automation as one declared by a script."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from fireline.accounts import service as accounts
from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.api.deps import AppClock, DbSession
from fireline.api.idempotency import run_idempotent
from fireline.catalog import service as catalog
from fireline.errors import AppError, FieldProblem, IdempotencyMismatch, InvalidInput
from fireline.incidents import service, severities
from fireline.incidents.lifecycle import Status
from fireline.incidents.schemas import IncidentCreate
from fireline.incidents.severity_assistant import (
    CustomerImpact,
    SeverityAnswers,
    SeverityProposal,
    propose_severity,
)
from fireline.oncall.schedules import default_holder
from fireline.response.reactions import after_change
from fireline.response.triggers import Trigger
from fireline.web.deps import WebUser, require
from fireline.web.templating import page, templates

router = APIRouter(include_in_schema=False)

NEW = "/incidents/new"
TEMPLATE = "incidents/new.html"
FormText = Annotated[str, Form()]  # as typed; checked by the view, never a bare 422

STATUS_CHOICES = (
    (Status.INVESTIGATING.value, "Declare now", "Start the response: clocks, roles, war room."),
    (
        Status.TRIAGE.value,
        "Report for triage",
        "Not confirmed yet: triage decides whether to declare.",
    ),
)
REACH_CHOICES = (
    (CustomerImpact.ALL_OR_MOST.value, "All or most customers"),
    (CustomerImpact.SUBSET.value, "A subset of customers"),
    (CustomerImpact.FEW.value, "A few customers"),
    (CustomerImpact.NONE.value, "No customers (internal only)"),
)
# "Can they still use core functionality?" sets two of the assistant's answers at once.
CORE_CHOICES = {
    "unavailable": ("No: core functionality is unavailable to them", True, False),
    "degraded": ("Yes, but degraded, and there is no workaround", False, False),
    "workaround": ("Yes: a workaround is available", False, True),
}
LABELS = {
    "title": "Title",
    "severity": "Severity",
    "summary": "Summary",
    "services": "Affected services",
    "type": "Type",
    "customer_impact": "Customer impact",
    "commander": "Incident commander",
    "status": "Declare or report",
    "assess_reach": "Customers affected",
}
FRIENDLY = {
    ("title", "string_too_short"): "Give the incident a title: what is broken, in a few words.",
    ("title", "missing"): "Give the incident a title: what is broken, in a few words.",
    ("severity", "literal_error"): "Choose a severity, SEV1 to SEV4.",
    ("severity", "missing"): "Choose a severity, SEV1 to SEV4.",
    ("type", "string_too_short"): "Give a type, or keep “default”.",
    ("status", "literal_error"): "Choose to declare now or to report for triage.",
}


@dataclass(frozen=True)
class DeclareForm:
    """What the person typed, kept as typed so a refused form comes back unchanged."""

    title: str = ""
    severity: str = ""
    summary: str = ""
    services: tuple[str, ...] = ()
    type: str = "default"
    customer_impact: str = ""
    commander: str = ""
    status: str = Status.INVESTIGATING.value
    token: str = ""

    def payload(self) -> dict[str, Any]:
        """The API's create body, so the web form obeys exactly the API's limits."""
        return {
            "title": self.title,
            "severity": self.severity.upper(),
            "summary": self.summary,
            "services": list(self.services),
            "type": self.type,
            "customer_impact": self.customer_impact,
            "status": self.status,
            "commander": self.commander.strip() or None,
        }


@dataclass(frozen=True)
class AssistantForm:
    """The severity assistant's four answers, as chosen on the form."""

    reach: str = ""
    core: str = "degraded"
    revenue: str = "no"
    security: str = "no"

    def answers(self) -> SeverityAnswers:
        try:
            reach = CustomerImpact(self.reach)
        except ValueError:
            raise InvalidInput.on(
                "assess_reach", "Choose how many customers are affected."
            ) from None
        _, core_unavailable, workaround = CORE_CHOICES.get(self.core, CORE_CHOICES["degraded"])
        return SeverityAnswers(
            customer_impact=reach,
            core_functionality_unavailable=core_unavailable,
            revenue_impact=self.revenue == "yes",
            security_or_data_loss=self.security == "yes",
            workaround_available=workaround,
        )


def _problems(error: ValidationError) -> list[FieldProblem]:
    problems = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "form"
        problems.append(FieldProblem(name, FRIENDLY.get((name, item["type"]), item["msg"])))
    return problems


def _messages(problems: Iterable[FieldProblem]) -> dict[str, str]:
    """One message per field (several joined), in the order the problems came."""
    joined: dict[str, list[str]] = {}
    for problem in problems:
        joined.setdefault(problem.field, []).append(problem.message)
    return {name: " ".join(texts) for name, texts in joined.items()}


def _context(
    db: Session,
    *,
    values: DeclareForm,
    assistant: AssistantForm,
    proposal: SeverityProposal | None = None,
    problems: Sequence[FieldProblem] = (),
) -> dict[str, Any]:
    levels = severities.list_severities(db)
    first = levels[0].key if levels else "SEV1"
    return {
        "nav": "incidents",
        "values": values,
        "assistant": assistant,
        "proposal": proposal,
        "errors": _messages(problems),
        "labels": LABELS,
        # Where each error summary link lands: the field, or a group's first choice.
        "anchors": {
            **{name: name for name in LABELS},
            "severity": f"severity-{first}",
            "status": f"status-{STATUS_CHOICES[0][0]}",
            "assess_reach": f"assess_reach-{REACH_CHOICES[0][0]}",
        },
        "severities": levels,
        "services": catalog.list_services(db),
        "users": [user for user in accounts.list_users(db) if user.is_active],
        "status_choices": STATUS_CHOICES,
        "reach_choices": REACH_CHOICES,
        "core_choices": CORE_CHOICES,
    }


def _fragment(request: Request, blocks: Sequence[str], context: dict[str, Any]) -> HTMLResponse:
    """Only some blocks of the declare page, for htmx to swap in, rendered from the same
    template as the full page so the two can never drift apart."""
    template = templates.get_template(TEMPLATE)
    state = request.state
    values = {
        "me": getattr(state, "web_principal", None),
        "csrf_token": getattr(state, "csrf_token", ""),
        **context,
    }
    html = "".join(
        chunk for name in blocks for chunk in template.blocks[name](template.new_context(values))
    )
    return HTMLResponse(html)


def _new_token() -> str:
    return f"web-{secrets.token_urlsafe(18)}"


@router.get(NEW)
def new_incident_form(request: Request, me: WebUser, db: DbSession, clock: AppClock) -> Response:
    """The empty form: whoever the incident-commander schedule has on call commands by default
    (else the signed-in person); the response starts now."""
    require(me, Permission.INCIDENTS_WRITE)
    on_call = default_holder(db, role="commander", at=clock.now())
    commander = on_call.id if on_call is not None else me.user_id
    values = DeclareForm(commander=str(commander), token=_new_token())
    return page(request, TEMPLATE, _context(db, values=values, assistant=AssistantForm()))


@router.post(NEW)
def declare_incident(
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    title: FormText = "",
    severity: FormText = "",
    summary: FormText = "",
    services: Annotated[list[str] | None, Form()] = None,
    incident_type: Annotated[str, Form(alias="type")] = "default",
    customer_impact: FormText = "",
    commander: FormText = "",
    status: FormText = Status.INVESTIGATING.value,
    idempotency_token: FormText = "",
    intent: FormText = "declare",
    assess_reach: FormText = "",
    assess_core: FormText = "degraded",
    assess_revenue: FormText = "no",
    assess_security: FormText = "no",
) -> Response:
    """Declare, then 303 to the incident; refused input comes back inline with status 422.

    The hidden one-time token is used as an Idempotency-Key: a double click or a resubmitted
    page lands on the incident the first submission declared instead of declaring it twice."""
    require(me, Permission.INCIDENTS_WRITE)
    values = DeclareForm(
        title=title,
        severity=severity,
        summary=summary,
        services=tuple(services or ()),
        type=incident_type,
        customer_impact=customer_impact,
        commander=commander,
        status=status,
        token=idempotency_token or _new_token(),
    )
    assistant = AssistantForm(assess_reach, assess_core, assess_revenue, assess_security)
    if intent == "assess":  # the assistant's button, when the browser runs no script
        return _assessed_page(request, db, values=values, assistant=assistant)
    try:
        reference = _declare_in_savepoint(db, me=me, now=clock.now(), values=values)
    except ValidationError as error:
        problems, code = _problems(error), 422
    except IdempotencyMismatch:
        values = replace(values, token=_new_token())
        message = (
            "This form already declared an incident. Check the incident list, and submit "
            "again only to declare another one."
        )
        problems, code = [FieldProblem("form", message)], 422
    except AppError as error:
        problems, code = error.errors or [FieldProblem("form", error.detail)], error.status
    except DataError:
        message = "A value cannot be stored: too long, or containing a NUL character."
        problems, code = [FieldProblem("form", message)], 422
    else:
        return RedirectResponse(f"/incidents/{reference}", status_code=303)
    context = _context(db, values=values, assistant=assistant, problems=problems)
    return page(request, TEMPLATE, context, status_code=code)


def _declare_in_savepoint(db: Session, *, me: Principal, now: datetime, values: DeclareForm) -> str:
    """Declare inside a savepoint, so a refused declaration leaves nothing behind. A double
    click can send two submissions at once: the second then trips over the first's
    idempotency record (unique per person and token) and, tried again, replays its result."""
    try:
        with db.begin_nested():
            return _declare(db, me=me, now=now, values=values, path=NEW)
    except IntegrityError:
        with db.begin_nested():
            return _declare(db, me=me, now=now, values=values, path=NEW)


def _declare(db: Session, *, me: Principal, now: datetime, values: DeclareForm, path: str) -> str:
    """Declare as the API does (service, then the declared reactions); returns the reference."""
    body = IncidentCreate.model_validate(values.payload())

    def create() -> dict[str, object]:
        incident = service.declare(
            db,
            actor=me.actor,
            now=now,
            title=body.title,
            severity=body.severity,
            summary=body.summary,
            services=body.services,
            incident_type=body.type,
            customer_impact=body.customer_impact,
            status=Status(body.status),
            commander=body.commander,
        )
        after_change(
            db,
            incident=incident,
            now=now,
            trigger=Trigger.INCIDENT_DECLARED if incident.declared_at else None,
        )
        return {"reference": incident.reference}

    outcome = run_idempotent(
        db,
        principal=me,
        key=values.token,
        method="POST",
        path=path,
        payload=body.model_dump(mode="json"),
        now=now,
        create=create,
        status_code=303,
    )
    reference: str = json.loads(bytes(outcome.body))["reference"]
    return reference


def _assessed_page(
    request: Request, db: Session, *, values: DeclareForm, assistant: AssistantForm
) -> Response:
    """The whole form again with the assistant's proposal, its severity chosen."""
    try:
        proposal = propose_severity(assistant.answers())
    except InvalidInput as error:
        context = _context(db, values=values, assistant=assistant, problems=error.errors)
        context["summary_title"] = "The severity assistant needs one more answer"
        return page(request, TEMPLATE, context, status_code=422)
    chosen = replace(values, severity=proposal.severity)
    context = _context(db, values=chosen, assistant=assistant, proposal=proposal)
    return page(request, TEMPLATE, context)


@router.post(f"{NEW}/severity-assistant")
def assess_severity(
    request: Request,
    me: WebUser,
    db: DbSession,
    assess_reach: FormText = "",
    assess_core: FormText = "degraded",
    assess_revenue: FormText = "no",
    assess_security: FormText = "no",
) -> Response:
    """For htmx: the proposal with its reasons, and the severity choice with it selected
    (swapped out of band). Always 200, because htmx does not swap an error response."""
    require(me, Permission.INCIDENTS_READ)
    assistant = AssistantForm(assess_reach, assess_core, assess_revenue, assess_security)
    try:
        proposal = propose_severity(assistant.answers())
    except InvalidInput as error:
        context = _context(db, values=DeclareForm(), assistant=assistant, problems=error.errors)
        return _fragment(request, ["assistant_result"], context)
    context = _context(
        db, values=DeclareForm(severity=proposal.severity), assistant=assistant, proposal=proposal
    )
    return _fragment(request, ["assistant_result", "severity_choice"], {**context, "oob": True})
