"""The forms of the incident page's communications sections: publish the incident on a status
page, post its next public update, resolve it there with the closing update, publish the
report, send a stakeholder update. Each calls the same service the JSON API calls.

Every one needs statuspage:write. As on the rest of the incident page, a refused change is rolled
back and its form shown again with the reason beside the field and what was typed still in it
(422 for bad input, 409 when the state does not allow it); a change made answers 303 back to the
page, or the refreshed section when htmx sent the form."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.api.deps import AppClock, AppSettings, DbSession
from fireline.clock import Clock
from fireline.comms import audiences, public_incidents, publishing, stakeholders
from fireline.comms.incident_views import (
    COMMS,
    PART_NAMES,
    IncidentComms,
    render_comms,
)
from fireline.comms.pages import get_page
from fireline.comms.publishing_schemas import (
    PublicIncidentCreate,
    PublicUpdateCreate,
    ReportIn,
    ResolveCreate,
)
from fireline.comms.templates import get_template
from fireline.comms.wording import warnings_for
from fireline.config import Settings
from fireline.errors import AppError, Conflict, InvalidInput, NotFound
from fireline.incidents import service
from fireline.incidents.action_views import instant_field, validated
from fireline.incidents.views import FormState, IncidentPage, UpdatePreview, is_htmx
from fireline.models import ComponentStatus, Incident, PublicIncident, PublicKind, PublicStatus
from fireline.web.deps import WebUser, require

router = APIRouter(include_in_schema=False)

Change = Callable[[Incident, datetime], None]
STATUS_PAGE = "status-page"
UPDATE_FORMS = ("publish", "update")  # the two forms composing a public update


@dataclass(frozen=True)
class CommsPost:
    """A communications form posted by a signed-in person whose CSRF token matched: every
    field as typed (checkboxes joined with commas), and what answering it needs."""

    request: Request
    db: Session
    me: Principal
    clock: Clock
    settings: Settings
    values: Mapping[str, str]

    def act(self, ref: str, *, section: str, form: str, change: Change) -> Response:
        """Run `change` on the locked incident, as statuspage:write, and answer as every form on
        the incident page does."""
        require(self.me, Permission.STATUSPAGE_WRITE)
        incident = service.get_incident(self.db, ref, for_update=True)
        now = self.clock.now()
        try:
            _refuse_nul(self.values)
            change(incident, now)
        except AppError as error:
            self.db.rollback()
            refused = {form: FormState.refused(self.values, error, {})}
            status = 422 if error.status == 422 else 409
            return self.show(ref, section, now, forms=refused, status_code=status)
        if not is_htmx(self.request):
            return RedirectResponse(f"/incidents/{incident.reference}#{section}", status_code=303)
        answer = self.show(ref, section, now)
        answer.headers["HX-Trigger"] = "incident-changed"
        return answer

    def show(
        self,
        ref: str,
        section: str,
        now: datetime,
        *,
        forms: Mapping[str, FormState] | None = None,
        previews: Mapping[str, UpdatePreview] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        """The section for htmx, else the whole page, as the incident now stands."""
        incident = service.get_incident(self.db, ref)
        view = IncidentPage(self.db, incident=incident, me=self.me, now=now)
        comms = IncidentComms(view, base_url=self.settings.base_url, forms=forms, previews=previews)
        whole_page = not is_htmx(self.request)
        return render_comms(
            self.request, comms, section, whole_page=whole_page, status_code=status_code
        )


def _refuse_nul(values: Mapping[str, str]) -> None:
    # PostgreSQL cannot store a NUL character; refuse it as the typist's, not the server's, fault.
    for name, value in values.items():
        if "\x00" in value:
            raise InvalidInput.on(name, "must not contain a NUL character")


async def _comms_post(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, settings: AppSettings
) -> CommsPost:
    form = await request.form()
    values = {
        name: ",".join(str(value) for value in form.getlist(name))
        for name in form
        if name != "csrf_token"
    }
    return CommsPost(request=request, db=db, me=me, clock=clock, settings=settings, values=values)


CommsForm = Annotated[CommsPost, Depends(_comms_post)]


def _components(values: Mapping[str, str]) -> dict[str, str]:
    """Component code → the status chosen, for each component given one."""
    prefix = "components."
    return {
        name.removeprefix(prefix): value
        for name, value in values.items()
        if name.startswith(prefix) and value
    }


def _update_body(values: Mapping[str, str]) -> dict[str, Any]:
    """The parts, status and components as the API's schemas take them."""
    return {
        "status": values.get("status", ""),
        "components": _components(values),
        **{name: values.get(name, "") for name in PART_NAMES},
        "next_update_at": instant_field(values.get("next_update_at", ""), "next_update_at"),
    }


def _statuses(components: Mapping[str, ComponentStatus]) -> dict[str, ComponentStatus]:
    return {code.strip(): ComponentStatus(status) for code, status in components.items()}


@router.post(COMMS + "/publish")
def publish(ref: str, post: CommsForm) -> Response:
    """Publish the incident on the chosen status page with its first update."""
    values = post.values

    def change(incident: Incident, now: datetime) -> None:
        try:
            page = get_page(post.db, values.get("page", ""))
        except NotFound as error:
            raise InvalidInput.on("page", error.detail) from None
        body = validated(
            PublicIncidentCreate, {**_update_body(values), "name": values.get("name", "")}
        )
        publishing.publish_incident(
            post.db,
            actor=post.me.actor,
            now=now,
            base_url=post.settings.base_url,
            page=page,
            incident=incident,
            name=body.name,
            status=PublicStatus(body.status),
            components=_statuses(body.components),
            parts=body.parts(),
        )

    return post.act(ref, section=STATUS_PAGE, form="publish", change=change)


@router.post(COMMS + "/updates")
def post_update(ref: str, post: CommsForm) -> Response:
    """Post the next public update: its status, component statuses and the four parts."""

    def change(incident: Incident, now: datetime) -> None:
        public = _locked_public_incident(post.db, incident)
        body = validated(PublicUpdateCreate, _update_body(post.values))
        publishing.post_public_update(
            post.db,
            actor=post.me.actor,
            now=now,
            base_url=post.settings.base_url,
            public_incident=public,
            status=PublicStatus(body.status),
            parts=body.parts(),
            components=_statuses(body.components),
        )

    return post.act(ref, section=STATUS_PAGE, form="update", change=change)


def _locked_public_incident(db: Session, incident: Incident) -> PublicIncident:
    """The incident's public incident (the open one, else the latest), locked."""
    public = public_incidents.public_incident_for(db, incident)
    if public is None:
        raise Conflict(
            detail=f"{incident.reference} is not on a status page yet; publish it first."
        )
    return public_incidents.get_public_incident(
        db, public.code, for_update=True, kind=PublicKind.INCIDENT
    )


@router.post(COMMS + "/preview")
def preview(ref: str, post: CommsForm) -> Response:
    """How the public update would read, with warnings about guesses at the cause (they never
    block); nothing is saved."""
    require(post.me, Permission.STATUSPAGE_WRITE)
    form = _update_form(post.values)
    now = post.clock.now()
    values = post.values
    warnings = warnings_for(values.get("name", ""), *(values.get(n, "") for n in PART_NAMES))
    try:
        next_at = instant_field(values.get("next_update_at", ""), "next_update_at")
    except InvalidInput:
        next_at = None
        warnings.append("The next update time is not a date and time, so it is left out.")
    if next_at is not None and next_at <= now:
        warnings.append("The next update time has passed; choose a time in the future.")
    parts = publishing.PublicParts(
        **{name: values.get(name, "").strip() for name in PART_NAMES}, next_update_at=next_at
    )
    shown = UpdatePreview(text=publishing.render_body(parts), warnings=warnings)
    kept = {form: FormState(values=values)}
    return post.show(ref, STATUS_PAGE, now, forms=kept, previews={form: shown})


@router.post(COMMS + "/template")
def use_template(ref: str, post: CommsForm) -> Response:
    """The form again with its three written parts from the template chosen, filled with the
    components chosen and the next update time; nothing is saved."""
    require(post.me, Permission.STATUSPAGE_WRITE)
    form = _update_form(post.values)
    now = post.clock.now()
    values = dict(post.values)
    chosen = values.get("template", "")
    if chosen.isdigit():
        incident = service.get_incident(post.db, ref)
        view = IncidentPage(post.db, incident=incident, me=post.me, now=now)
        comms = IncidentComms(view, base_url=post.settings.base_url)
        template = get_template(post.db, int(chosen))
        named = _components(values)
        names = [c.name for c in comms.components + comms.affected if c.code in named]
        values |= comms.filled(
            template, list(dict.fromkeys(names)), values.get("next_update_at", "")
        )
    return post.show(ref, STATUS_PAGE, now, forms={form: FormState(values=values)})


def _update_form(values: Mapping[str, str]) -> str:
    form = values.get("form", "")
    if form not in UPDATE_FORMS:
        raise InvalidInput.on("form", f"must be one of {', '.join(UPDATE_FORMS)}")
    return form


@router.post(COMMS + "/resolve")
def resolve(ref: str, post: CommsForm) -> Response:
    """Resolve the public incident with the closing update."""
    values = post.values

    def change(incident: Incident, now: datetime) -> None:
        public = _locked_public_incident(post.db, incident)
        body = validated(
            ResolveCreate,
            {
                "what_happened": values.get("what_happened", ""),
                "what_was_done": values.get("what_was_done", ""),
                "started_at": instant_field(values.get("started_at", ""), "started_at"),
                "ended_at": instant_field(values.get("ended_at", ""), "ended_at"),
            },
        )
        publishing.resolve_public_incident(
            post.db,
            actor=post.me.actor,
            now=now,
            base_url=post.settings.base_url,
            public_incident=public,
            what_happened=body.what_happened,
            what_was_done=body.what_was_done,
            started_at=body.started_at,
            ended_at=body.ended_at,
        )

    return post.act(ref, section=STATUS_PAGE, form="closing", change=change)


@router.post(COMMS + "/report")
def report(ref: str, post: CommsForm) -> Response:
    """Publish (or revise) the public post-incident report."""
    values = post.values

    def change(incident: Incident, now: datetime) -> None:
        public = _locked_public_incident(post.db, incident)
        body = validated(ReportIn, {name: values.get(name, "") for name in ReportIn.model_fields})
        publishing.publish_report(
            post.db, actor=post.me.actor, now=now, public_incident=public, **body.model_dump()
        )

    return post.act(ref, section=STATUS_PAGE, form="report", change=change)


@router.post(COMMS + "/stakeholder-updates")
def send_stakeholder_update(ref: str, post: CommsForm) -> Response:
    """Send the stakeholder update to the audiences ticked."""
    values = post.values

    def change(incident: Incident, now: datetime) -> None:
        chosen = [ref for ref in values.get("audiences", "").split(",") if ref]
        if not chosen:
            raise InvalidInput.on("audiences", "tick at least one audience")
        stakeholders.send_stakeholder_update(
            post.db,
            actor=post.me.actor,
            now=now,
            settings=post.settings,
            incident=incident,
            audiences=audiences.find_audiences(post.db, chosen),
            current_status=values.get("current_status", ""),
            impact=values.get("impact", ""),
            doing_now=values.get("doing_now", ""),
            next_update_at=instant_field(values.get("next_update_at", ""), "next_update_at"),
        )

    return post.act(ref, section="stakeholders", form="stakeholder", change=change)
