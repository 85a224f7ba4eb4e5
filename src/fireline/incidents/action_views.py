"""The incident page's forms: each one locks the incident, calls the same service the JSON API
calls, then what follows a change (after_change), exactly as the API route does.

A refused change is rolled back and its form shown again with the reason beside it and what the
person typed still in it (422 for bad input, 409 when the incident's state does not allow it).
A change made answers 303 back to the page, or the refreshed section when htmx sent the form."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.api.deps import AppClock, DbSession
from fireline.clock import Clock
from fireline.errors import AppError, FieldProblem, InvalidInput
from fireline.incidents import service
from fireline.incidents.schemas import (
    IncidentRole,
    ResolveRequest,
    RoleAssign,
    SeverityAssessment,
    SeverityChange,
    StatusChange,
)
from fireline.incidents.severity_assistant import SeverityAnswers, propose_severity
from fireline.incidents.views import (
    INCIDENT,
    FormState,
    IncidentPage,
    is_htmx,
    render_page,
    render_section,
)
from fireline.models import Incident
from fireline.response import service as response
from fireline.response.clocks import ObligationKind
from fireline.response.playbooks import checklist
from fireline.response.reactions import after_change, after_status_change
from fireline.response.schemas import WaiverCreate
from fireline.response.triggers import Trigger
from fireline.web.deps import WebUser, require
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
Model = TypeVar("Model", bound=BaseModel)
Change = Callable[[Incident, datetime], None]


def validated(model: type[Model], values: Mapping[str, Any]) -> Model:
    """The form read through the API's own schema, so both refuse the same input in the same
    words; a refusal is an InvalidInput naming each field."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        problems = [
            FieldProblem(str(item["loc"][0]) if item["loc"] else "form", _in_words(item))
            for item in error.errors()
        ]
        detail = "; ".join(f"{problem.field}: {problem.message}" for problem in problems)
        raise InvalidInput(detail=detail, errors=problems) from None


def _in_words(item: Any) -> str:
    kind, context = item["type"], item.get("ctx", {})
    if kind == "missing" or (kind == "string_too_short" and context.get("min_length") == 1):
        return "is required"
    if kind == "string_too_long":
        return f"is too long (at most {context.get('max_length')} characters)"
    return str(item["msg"])


def instant_field(text: str, name: str) -> datetime | None:
    """A date and time typed in a form; without a zone it is UTC, as the form's label says."""
    if not text.strip():
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput.on(name, "is not a date and time, e.g. 2026-01-05T10:30") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _refuse_nul(values: Mapping[str, str]) -> None:
    # PostgreSQL cannot store a NUL character; refuse it as the typist's, not the server's, fault.
    for name, value in values.items():
        if "\x00" in value:
            raise InvalidInput.on(name, "must not contain a NUL character")


@dataclass(frozen=True)
class FormPost:
    """A form posted from the incident page by a signed-in person whose CSRF token matched,
    with what answering it needs."""

    request: Request
    db: Session
    me: Principal
    clock: Clock

    def act(
        self,
        ref: str,
        *,
        section: str,
        form: str,
        values: Mapping[str, str],
        change: Change,
        aliases: Mapping[str, str] | None = None,
    ) -> Response:
        """Run `change` on the locked incident and answer the way every form on the page does."""
        require(self.me, Permission.INCIDENTS_WRITE)
        incident = service.get_incident(self.db, ref, for_update=True)
        now = self.clock.now()
        try:
            _refuse_nul(values)
            change(incident, now)
        except AppError as error:
            # A service may have changed rows before refusing (resolve records the gate's fields
            # first); none of that may be committed with the page that explains the refusal.
            self.db.rollback()
            refused = {form: FormState.refused(values, error, aliases or {})}
            status = 422 if error.status == 422 else 409
            return self.show(ref, section, now, forms=refused, status_code=status)
        if not is_htmx(self.request):
            return RedirectResponse(f"/incidents/{incident.reference}#{section}", status_code=303)
        answer = self.show(ref, section, now)
        # The other sections listening for this re-fetch themselves (the live stream would, later).
        answer.headers["HX-Trigger"] = "incident-changed"
        return answer

    def show(
        self,
        ref: str,
        section: str,
        now: datetime,
        *,
        forms: Mapping[str, FormState] | None = None,
        status_code: int = 200,
        **shown: Any,
    ) -> HTMLResponse:
        """The section for htmx, else the whole page, as the incident now stands."""
        incident = service.get_incident(self.db, ref)
        view = IncidentPage(self.db, incident=incident, me=self.me, now=now, forms=forms, **shown)
        if is_htmx(self.request):
            return render_section(self.request, view, section, status_code)
        return render_page(self.request, view, status_code)


async def _form_post(request: Request, me: WebUser, db: DbSession, clock: AppClock) -> FormPost:
    return FormPost(request=request, db=db, me=me, clock=clock)


IncidentForm = Annotated[FormPost, Depends(_form_post)]


@router.post(INCIDENT + "/status")
def change_status(
    ref: str, post: IncidentForm, status: FormText = "", note: FormText = ""
) -> Response:
    values = {"status": status, "note": note}

    def change(incident: Incident, now: datetime) -> None:
        body = validated(StatusChange, values)
        before = incident.status
        changed = service.change_status(
            post.db,
            actor=post.me.actor,
            now=now,
            incident=incident,
            status=body.status,
            note=body.note,
        )
        after_status_change(post.db, incident=changed, now=now, before=before)

    # A decline's reason is what the form calls its note.
    return post.act(
        ref,
        section="controls",
        form="status",
        values=values,
        change=change,
        aliases={"reason": "note"},
    )


@router.post(INCIDENT + "/severity")
def change_severity(
    ref: str, post: IncidentForm, severity: FormText = "", reason: FormText = ""
) -> Response:
    values = {"severity": severity, "reason": reason}

    def change(incident: Incident, now: datetime) -> None:
        body = validated(SeverityChange, values)
        before = incident.severity.key
        changed = service.change_severity(
            post.db,
            actor=post.me.actor,
            now=now,
            incident=incident,
            severity=body.severity,
            reason=body.reason,
        )
        if changed.severity.key != before:
            details = {"from": before, "to": changed.severity.key}
            after_change(
                post.db,
                incident=changed,
                now=now,
                trigger=Trigger.SEVERITY_CHANGED,
                details=details,
            )

    return post.act(ref, section="controls", form="severity", values=values, change=change)


@router.post(INCIDENT + "/severity/assess")
def assess_severity(
    ref: str,
    post: IncidentForm,
    customer_impact: FormText = "",
    core_functionality_unavailable: FormText = "",
    revenue_impact: FormText = "",
    security_or_data_loss: FormText = "",
    workaround_available: FormText = "",
) -> Response:
    """The severity assistant's proposal for the answers given; nothing is changed."""
    require(post.me, Permission.INCIDENTS_WRITE)
    flags = {
        "core_functionality_unavailable": core_functionality_unavailable,
        "revenue_impact": revenue_impact,
        "security_or_data_loss": security_or_data_loss,
        "workaround_available": workaround_available,
    }
    values = {"customer_impact": customer_impact, **flags}
    answers = {"customer_impact": customer_impact} | {k: v == "true" for k, v in flags.items()}
    refused = None
    try:
        assessment = validated(SeverityAssessment, answers)
        proposal = propose_severity(SeverityAnswers(**assessment.model_dump()))
    except InvalidInput as error:
        proposal, refused = None, FormState.refused(values, error, {})
    status = 422 if refused else 200
    if is_htmx(post.request):
        context = {"proposal": proposal, "refused": refused}
        return page(post.request, "incidents/_proposal.html", context, status_code=status)
    forms = {"assess": refused or FormState(values=values)}
    return post.show(
        ref, "controls", post.clock.now(), forms=forms, status_code=status, proposal=proposal
    )


@router.post(INCIDENT + "/roles")
def assign_role(ref: str, post: IncidentForm, role: FormText = "", user: FormText = "") -> Response:
    values = {"role": role, "user": user.strip()}

    def change(incident: Incident, now: datetime) -> None:
        body = validated(RoleAssign, values)
        changed = service.assign_role(
            post.db,
            actor=post.me.actor,
            now=now,
            incident=incident,
            role=body.role,
            user_ref=body.user,
        )
        details = {"role": body.role, "user": body.user}
        after_change(
            post.db, incident=changed, now=now, trigger=Trigger.ROLE_ASSIGNED, details=details
        )

    return post.act(ref, section="roles", form=f"assign:{role}", values=values, change=change)


@router.post(INCIDENT + "/roles/{role}/release")
def release_role(ref: str, role: IncidentRole, post: IncidentForm, user: FormText = "") -> Response:
    """Release a role's holder (for SMEs, the one named); as through the API, nothing else
    follows."""

    def change(incident: Incident, now: datetime) -> None:
        service.unassign_role(
            post.db,
            actor=post.me.actor,
            now=now,
            incident=incident,
            role=role,
            user_ref=user or None,
        )

    form = f"release:{role}:{user}" if user else f"release:{role}"
    return post.act(ref, section="roles", form=form, values={"user": user}, change=change)


@router.post(INCIDENT + "/obligations/{kind}/{sequence}/waive")
def waive_obligation(
    ref: str,
    kind: ObligationKind,
    sequence: Annotated[int, Path(ge=0, le=10_000)],
    post: IncidentForm,
    reason: FormText = "",
) -> Response:
    values = {"reason": reason}

    def change(incident: Incident, now: datetime) -> None:
        body = validated(WaiverCreate, values)
        response.waive(
            post.db,
            actor=post.me.actor,
            now=now,
            incident=incident,
            kind=kind,
            sequence=sequence,
            reason=body.reason,
        )
        after_change(post.db, incident=incident, now=now)

    form = f"waive:{kind.value}:{sequence}"
    return post.act(ref, section="obligations", form=form, values=values, change=change)


@router.post(INCIDENT + "/tasks/{task_id}/complete")
def complete_task(ref: str, task_id: int, post: IncidentForm) -> Response:
    """Tick a task off as done by you, now; as through the API, nothing else follows."""

    def change(incident: Incident, now: datetime) -> None:
        checklist.complete_task(
            post.db, actor=post.me.actor, now=now, incident=incident, task_id=task_id, note=""
        )

    return post.act(ref, section="tasks", form=f"task:{task_id}", values={}, change=change)


@router.post(INCIDENT + "/tasks/{task_id}/reopen")
def reopen_task(ref: str, task_id: int, post: IncidentForm) -> Response:
    """Mark a done task as not done again."""

    def change(incident: Incident, now: datetime) -> None:
        checklist.reopen_task(
            post.db, actor=post.me.actor, now=now, incident=incident, task_id=task_id, note=""
        )

    return post.act(ref, section="tasks", form=f"task:{task_id}", values={}, change=change)


@router.post(INCIDENT + "/resolve")
def resolve(
    ref: str,
    post: IncidentForm,
    resolution_criteria: FormText = "",
    criteria_met: FormText = "",
    customer_impact_ended: FormText = "",
    postmortem_owner: FormText = "",
    postmortem_due_at: FormText = "",
    monitoring_waiver_reason: FormText = "",
    note: FormText = "",
) -> Response:
    """Record what the resolution gate asks for and resolve; a box left unticked is a no."""
    values = {
        "resolution_criteria": resolution_criteria,
        "criteria_met": criteria_met,
        "customer_impact_ended": customer_impact_ended,
        "postmortem_owner": postmortem_owner.strip(),
        "postmortem_due_at": postmortem_due_at,
        "monitoring_waiver_reason": monitoring_waiver_reason,
        "note": note,
    }

    def change(incident: Incident, now: datetime) -> None:
        body = validated(
            ResolveRequest,
            {
                **values,
                "criteria_met": criteria_met in {"true", "on"},
                "customer_impact_ended": customer_impact_ended in {"true", "on"},
                "postmortem_owner": values["postmortem_owner"] or None,
                "postmortem_due_at": instant_field(postmortem_due_at, "postmortem_due_at"),
            },
        )
        before = incident.status
        resolved = service.resolve(
            post.db,
            actor=post.me.actor,
            now=now,
            incident=incident,
            resolution_criteria=body.resolution_criteria,
            criteria_met=body.criteria_met,
            customer_impact_ended=body.customer_impact_ended,
            postmortem_owner=body.postmortem_owner,
            postmortem_due_at=body.postmortem_due_at,
            monitoring_waiver_reason=body.monitoring_waiver_reason,
            note=body.note,
        )
        after_status_change(post.db, incident=resolved, now=now, before=before)

    # The gate calls a skipped monitoring period's problem by the period's name.
    return post.act(
        ref,
        section="resolve",
        form="resolve",
        values=values,
        change=change,
        aliases={"monitoring_period": "monitoring_waiver_reason"},
    )
