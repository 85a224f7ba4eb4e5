"""The incident page's communications sections: the status page (publish the incident, post
its next public update, the closing update when it is resolved, then the public report), the
stakeholder update composer, and the support macro.

What the sections read is here; the forms that change something post to
incident_action_views.py, which re-renders a section from here with what the person typed when
a change is refused. The incident page includes the sections (detail.html), asking
`incident_comms(view, request)` for what they show."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.permissions import Permission
from fireline.api.deps import AppClock, DbSession
from fireline.comms import public_incidents, publishing
from fireline.comms.audiences import list_audiences
from fireline.comms.components import components_for_services, list_components
from fireline.comms.macro import Macro, permalink, support_macro
from fireline.comms.pages import default_page, list_pages
from fireline.comms.public_views import STATUS_WORDS
from fireline.comms.stakeholders import DEFAULT_DOING_NOW, SEEDED_TEMPLATE
from fireline.comms.templates import fill, list_templates
from fireline.errors import Conflict, InvalidInput, NotFound
from fireline.incidents import service
from fireline.incidents.action_views import instant_field
from fireline.incidents.views import INCIDENT, FormState, IncidentPage, UpdatePreview, local_input
from fireline.models import (
    Audience,
    Component,
    ComponentStatus,
    PublicIncident,
    PublicStatus,
    PublicUpdate,
    StatusPage,
    TimelineEntry,
    UpdateTemplate,
)
from fireline.models.comms import ENDED_STATUSES
from fireline.response.service import INTERNAL, PUBLIC, UPDATE_KINDS
from fireline.web.deps import WebUser, require
from fireline.web.templating import page, templates

router = APIRouter(include_in_schema=False)

COMMS = INCIDENT + "/comms"
# The sections, each re-rendered on its own by htmx; the name is also the element's id.
SECTIONS: Mapping[str, str] = {
    "status-page": "incidents/comms/_status_page.html",
    "stakeholders": "incidents/comms/_stakeholders.html",
    "macro": "incidents/comms/_macro.html",
}
PART_NAMES = ("current_impact", "doing_now", "users_should")
REPORT_PARTS = (
    ("apology", "Apology", "Say sorry plainly, for what customers went through."),
    ("summary", "Summary", "What happened, in a few sentences."),
    ("impact", "Impact", "Who was affected, how, and for how long."),
    ("root_cause", "Root cause", "In plain words: no jargon, no blame."),
    ("what_was_done", "What was done", "How service was restored."),
    ("prevention", "Prevention", "What will keep it from happening again."),
)
OPEN_STATUS_CHOICES = [(s.value, STATUS_WORDS[s.value]) for s in publishing.OPEN_STATUSES]
# The statuses an incident may put a component in (maintenance sets under_maintenance).
COMPONENT_STATUSES = [
    (s.value, STATUS_WORDS[s.value]) for s in ComponentStatus if s != "under_maintenance"
]
# Where a component linked to one of the incident's services starts in the publish form.
LINKED_STATUS = ComponentStatus.PARTIAL_OUTAGE.value
RECENT_STAKEHOLDER_UPDATES = 20  # internal updates searched for the last one sent to audiences


def component_field(component: Component) -> str:
    """The form field of a component's status; a refusal names it the same way."""
    return f"components.{component.code}"


class IncidentComms:
    """What the communications sections show for one incident. Each part is read the first time
    a template asks for it, so a section re-fetched alone costs only its own queries."""

    def __init__(
        self,
        view: IncidentPage,
        *,
        base_url: str,
        forms: Mapping[str, FormState] | None = None,
        previews: Mapping[str, UpdatePreview] | None = None,
    ) -> None:
        self.view = view
        self.db: Session = view.db
        self.incident = view.incident
        self.base_url = base_url
        self.forms = forms or {}
        self.previews = previews or {}

    @property
    def can_publish(self) -> bool:
        return self.view.me.can(Permission.STATUSPAGE_WRITE)

    def form(self, name: str) -> FormState:
        return self.forms.get(name) or FormState()

    def preview(self, name: str) -> UpdatePreview | None:
        return self.previews.get(name)

    # --- the public incident -------------------------------------------------------------------

    @cached_property
    def public(self) -> PublicIncident | None:
        return public_incidents.public_incident_for(self.db, self.incident)

    @property
    def is_open(self) -> bool:
        """Published, and not resolved on the status page yet."""
        return self.public is not None and self.public.status not in ENDED_STATUSES

    @property
    def can_be_published(self) -> bool:
        return publishing.allows_updates(self.incident)

    @cached_property
    def public_page(self) -> StatusPage | None:
        if self.public is None:
            return None
        return self.db.get_one(StatusPage, self.public.page_id)

    @property
    def permalink(self) -> str:
        if self.public is None or self.public_page is None:
            return ""
        return permalink(self.public_page, self.public.code, base_url="")

    @cached_property
    def updates(self) -> list[PublicUpdate]:
        return [] if self.public is None else public_incidents.updates_of(self.db, self.public)

    @cached_property
    def affected(self) -> list[Component]:
        return [] if self.public is None else public_incidents.components_of(self.db, self.public)

    @cached_property
    def needs_closing_update(self) -> bool:
        return publishing.needs_closing_update(self.db, self.incident)

    @property
    def shown_form(self) -> str:
        """The status page form the section shows now, if any."""
        if not self.can_publish:
            return ""
        if self.public is None:
            return "publish" if self.can_be_published and self.pages else ""
        if self.needs_closing_update:
            return "closing"
        return "update" if self.is_open else "report"

    @property
    def stale_refusals(self) -> list[str]:
        """Why a status page form was refused that the section no longer shows (it was sent
        from a page older than the public incident's state)."""
        names = ("publish", "update", "closing", "report")
        return [
            self.form(name).detail
            for name in names
            if name != self.shown_form and self.form(name).failed
        ]

    @staticmethod
    def status_words(status: str) -> str:
        return STATUS_WORDS.get(status, status)

    @property
    def status_choices(self) -> list[tuple[str, str]]:
        return OPEN_STATUS_CHOICES

    @property
    def component_fields(self) -> tuple[str, ...]:
        """The publish and update forms' component fields, where a refusal may point."""
        return tuple(component_field(c) for c in self.components)

    @property
    def component_statuses(self) -> list[tuple[str, str]]:
        return COMPONENT_STATUSES

    # --- the forms' starting values ------------------------------------------------------------

    @cached_property
    def pages(self) -> list[StatusPage]:
        return list_pages(self.db)

    @property
    def page_choices(self) -> list[tuple[str, str]]:
        return [(p.slug, p.name) for p in self.pages]

    @cached_property
    def form_page(self) -> StatusPage | None:
        """The page whose components the publish form offers: the one chosen, else the default."""
        if self.public_page is not None:
            return self.public_page
        chosen = self.form("publish").value("page")
        named = [p for p in self.pages if p.slug == chosen]
        return named[0] if named else default_page(self.db) or next(iter(self.pages), None)

    @cached_property
    def components(self) -> list[Component]:
        return [] if self.form_page is None else list_components(self.db, self.form_page)

    @cached_property
    def linked(self) -> list[Component]:
        if self.form_page is None:
            return []
        services = [each.id for each in self.incident.services]
        return components_for_services(self.db, self.form_page, services)

    @cached_property
    def public_templates(self) -> list[UpdateTemplate]:
        return list_templates(self.db, audience=PUBLIC)

    @property
    def template_choices(self) -> list[tuple[str, str]]:
        return [("", "None"), *((str(t.id), t.name) for t in self.public_templates)]

    def template_for(self, status: str) -> UpdateTemplate | None:
        suited = [t for t in self.public_templates if t.status == status]
        return suited[0] if suited else None

    def filled(
        self, template: UpdateTemplate | None, names: list[str], next_update: str
    ) -> dict[str, str]:
        """The three written parts from `template`, or the page's usual draft without one."""
        if template is None:
            draft = self.view.update_draft(PUBLIC)
            return {name: getattr(draft, name) for name in PART_NAMES}
        try:
            when = instant_field(next_update, "next_update_at")
        except InvalidInput:
            when = None
        return fill(template, components=names, next_update=when)

    def publish_defaults(self) -> dict[str, str]:
        """The publish form as it starts: the incident's title, investigating, the components of
        its services in partial outage, the parts from the investigating template."""
        status = PublicStatus.INVESTIGATING.value
        template = self.template_for(status)
        next_update = self.view.next_update_default
        linked = self.linked
        values = {
            "page": self.form_page.slug if self.form_page is not None else "",
            "name": self.incident.title,
            "status": status,
            "template": str(template.id) if template is not None else "",
            "next_update_at": next_update,
            **{component_field(c): LINKED_STATUS for c in linked},
        }
        return values | self.filled(template, [c.name for c in linked], next_update)

    def update_defaults(self) -> dict[str, str]:
        """The next update as it starts: the current status and component statuses, the parts
        from the template for that status."""
        status = self.public.status if self.public is not None else ""
        template = self.template_for(status)
        next_update = self.view.next_update_default
        values = {
            "status": status,
            "template": str(template.id) if template is not None else "",
            "next_update_at": next_update,
            **{component_field(c): c.status for c in self.affected},
        }
        return values | self.filled(template, [c.name for c in self.affected], next_update)

    def defaults(self, form: str) -> dict[str, str]:
        return self.publish_defaults() if form == "publish" else self.update_defaults()

    def closing_defaults(self) -> dict[str, str]:
        public = self.public
        started = public.started_at if public is not None else None
        ended = self.incident.resolved_at or self.view.now
        return {"started_at": local_input(started), "ended_at": local_input(ended)}

    def report_value(self, name: str) -> str:
        report = self.public.report if self.public is not None else {}
        return str((report or {}).get(name, ""))

    @property
    def report_parts(self) -> tuple[tuple[str, str, str], ...]:
        return REPORT_PARTS

    # --- stakeholders --------------------------------------------------------------------------

    @cached_property
    def audiences(self) -> list[Audience]:
        return list_audiences(self.db)

    def stakeholder_defaults(self) -> dict[str, str]:
        """The internal template's words with the incident's facts, as the exec notice uses."""
        incident = self.incident
        template = self._internal_template()
        names = [each.name for each in incident.services]
        parts = fill(template, components=names, next_update=None) if template else {}
        impact = incident.customer_impact.strip() or parts.get("current_impact") or incident.title
        return {
            "current_status": f"{incident.severity.key} {incident.status}: {incident.title}",
            "impact": impact,
            "doing_now": parts.get("doing_now") or DEFAULT_DOING_NOW,
            "next_update_at": self.view.next_update_default,
        }

    def _internal_template(self) -> UpdateTemplate | None:
        found = list_templates(self.db, audience=INTERNAL)
        named = [t for t in found if t.name == SEEDED_TEMPLATE]
        return next(iter(named or found), None)

    def chosen_audiences(self) -> set[str]:
        return set(self.form("stakeholder").value("audiences").split(","))

    @cached_property
    def last_stakeholder_update(self) -> TimelineEntry | None:
        """The latest internal update that was sent to audiences, if one was."""
        recent = self.db.scalars(
            select(TimelineEntry)
            .where(
                TimelineEntry.incident_id == self.incident.id,
                TimelineEntry.kind == UPDATE_KINDS[INTERNAL],
            )
            .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
            .limit(RECENT_STAKEHOLDER_UPDATES)
        )
        return next((entry for entry in recent if entry.details.get("audiences")), None)

    @staticmethod
    def sent_to(entry: TimelineEntry) -> str:
        return ", ".join(str(each["name"]) for each in entry.details.get("audiences", []))

    @staticmethod
    def delivery_count(entry: TimelineEntry) -> int:
        return len(entry.details.get("deliveries", []))

    # --- the support macro ---------------------------------------------------------------------

    @cached_property
    def macro(self) -> Macro | None:
        try:
            return support_macro(self.db, self.incident, base_url=self.base_url)
        except Conflict:
            return None

    @staticmethod
    def when(instant: datetime | None) -> str:
        return local_input(instant)


def incident_comms(view: IncidentPage, request: Request) -> IncidentComms:
    """The sections' read model for the whole page, as the incident page's template asks."""
    return IncidentComms(view, base_url=request.app.state.settings.base_url)


# The incident page (incidents/views.py renders it) includes these sections without knowing them.
templates.env.globals["incident_comms"] = incident_comms


def render_comms(
    request: Request,
    comms: IncidentComms,
    section: str,
    *,
    whole_page: bool,
    status_code: int = 200,
) -> HTMLResponse:
    """One section for htmx, else the whole incident page showing `comms`."""
    context: dict[str, Any] = {"view": comms.view, "comms": comms}
    if whole_page:
        return page(request, "incidents/detail.html", {**context, "nav": "incidents"}, status_code)
    return page(request, SECTIONS[section], context, status_code)


@router.get(COMMS + "/partials/{section}")
def comms_section(
    ref: str, section: str, request: Request, me: WebUser, db: DbSession, clock: AppClock
) -> HTMLResponse:
    """One communications section, fresh: what htmx swaps in when the incident changes."""
    require(me, Permission.INCIDENTS_READ)
    if section not in SECTIONS:
        raise NotFound(detail=f"The incident page has no section '{section}'.")
    incident = service.get_incident(db, ref)
    view = IncidentPage(db, incident=incident, me=me, now=clock.now())
    comms = IncidentComms(view, base_url=request.app.state.settings.base_url)
    return render_comms(request, comms, section, whole_page=False)
