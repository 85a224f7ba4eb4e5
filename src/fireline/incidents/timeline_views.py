"""What responders write on the incident's timeline from the page: notes and decisions, pins,
and status updates, with a preview that shows how an update will read before it is posted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from fireline.accounts.permissions import Permission
from fireline.comms import public_incidents, publishing
from fireline.comms.wording import speculation_in, warning
from fireline.errors import InvalidInput
from fireline.incidents import service, timeline
from fireline.incidents.action_views import FormText, IncidentForm, instant_field, validated
from fireline.incidents.schemas import TimelineEntryCreate
from fireline.incidents.views import INCIDENT, FormState, IncidentPage, UpdatePreview, is_htmx
from fireline.models import Incident, PublicStatus
from fireline.models.comms import ENDED_STATUSES
from fireline.response import service as response
from fireline.response.reactions import after_change
from fireline.response.schemas import StatusUpdateCreate
from fireline.web.deps import require
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)


@router.post(INCIDENT + "/timeline")
def add_note(
    ref: str,
    post: IncidentForm,
    kind: FormText = "note",
    thread: FormText = "",
    body: FormText = "",
) -> Response:
    """A note or a decision, in the command thread or the one chosen; as through the API,
    nothing else follows."""
    values = {"kind": kind, "thread": thread, "body": body}

    def change(incident: Incident, now: datetime) -> None:
        note = validated(TimelineEntryCreate, {**values, "thread": thread.strip() or None})
        timeline.add_note(
            post.db,
            actor=post.me.actor,
            now=now,
            incident=incident,
            kind=note.kind,
            body=note.body,
            thread_name=note.thread,
        )

    return post.act(ref, section="composer", form="note", values=values, change=change)


@router.post(INCIDENT + "/timeline/{entry_id}/pin")
def pin_entry(ref: str, entry_id: int, post: IncidentForm, pin: FormText = "true") -> Response:
    """Pin or unpin one entry; htmx gets that entry back, a browser the page at the entry."""
    require(post.me, Permission.INCIDENTS_WRITE)
    incident = service.get_incident(post.db, ref, for_update=True)
    now = post.clock.now()
    entry = timeline.set_pinned(
        post.db,
        actor=post.me.actor,
        now=now,
        incident=incident,
        entry_id=entry_id,
        pinned=pin == "true",
    )
    if not is_htmx(post.request):
        return RedirectResponse(f"/incidents/{incident.reference}#entry-{entry.id}", 303)
    view = IncidentPage(post.db, incident=incident, me=post.me, now=now)
    return page(post.request, "incidents/_entry.html", {"view": view, "entry": entry})


async def _update_fields(
    audience: FormText = "public",
    current_impact: FormText = "",
    doing_now: FormText = "",
    users_should: FormText = "",
    next_update_at: FormText = "",
) -> dict[str, str]:
    return {
        "audience": response.INTERNAL if audience == response.INTERNAL else response.PUBLIC,
        "current_impact": current_impact,
        "doing_now": doing_now,
        "users_should": users_should,
        "next_update_at": next_update_at,
    }


# The update form's fields as typed; posting and previewing read the same ones.
UpdateFields = Annotated[dict[str, str], Depends(_update_fields)]


@router.post(INCIDENT + "/updates")
def post_update(ref: str, post: IncidentForm, values: UpdateFields) -> Response:
    """Post a public or internal update; it meets the update the incident owes. A public update
    of an incident published on a status page is posted there too (statuspage:write)."""

    def change(incident: Incident, now: datetime) -> None:
        body = validated(
            StatusUpdateCreate,
            {
                **values,
                "users_should": values["users_should"].strip() or None,
                "next_update_at": instant_field(values["next_update_at"], "next_update_at"),
            },
        )
        public = None
        if body.audience == response.PUBLIC and publishing.allows_updates(incident):
            public = public_incidents.public_incident_for(post.db, incident)
        if public is not None and public.status not in ENDED_STATUSES:
            # Published: the update goes on the status page too, as through the API.
            require(post.me, Permission.STATUSPAGE_WRITE)
            publishing.post_public_update(
                post.db,
                actor=post.me.actor,
                now=now,
                base_url=post.request.app.state.settings.base_url,
                public_incident=public,
                status=PublicStatus(public.status),
                parts=publishing.PublicParts(
                    current_impact=body.current_impact,
                    doing_now=body.doing_now,
                    users_should=body.users_should or "",
                    next_update_at=body.next_update_at,
                ),
            )
            return
        parts = response.UpdateParts(
            audience=body.audience,
            current_impact=body.current_impact,
            doing_now=body.doing_now,
            users_should=body.users_should,
            next_update_at=body.next_update_at,
        )
        response.post_update(post.db, actor=post.me.actor, now=now, incident=incident, parts=parts)
        after_change(post.db, incident=incident, now=now)

    form = f"update:{values['audience']}"
    return post.act(ref, section="updates", form=form, values=values, change=change)


def draft_preview(values: Mapping[str, str], now: datetime) -> UpdatePreview:
    """The update as it would be posted, and what would stop it or should make one think."""
    public = values["audience"] == response.PUBLIC
    labels = {"current_impact": "Current impact", "doing_now": "What we are doing"}
    if public:
        labels["users_should"] = "What users should do"
    warnings = [f"{label} is still empty." for name, label in labels.items() if not values[name]]
    try:
        next_at = instant_field(values["next_update_at"], "next_update_at")
    except InvalidInput:
        next_at = None
        warnings.append("The next update time is not a date and time, so it is left out.")
    if next_at is not None and next_at <= now:
        warnings.append("The next update time has passed; choose a time in the future.")
    if public and (found := speculation_in(*(values[name] for name in labels))):
        warnings.append(warning(found))
    parts = response.UpdateParts(
        audience=values["audience"],
        current_impact=values["current_impact"].strip(),
        doing_now=values["doing_now"].strip(),
        users_should=values["users_should"].strip() or None,
        next_update_at=next_at,
    )
    return UpdatePreview(text=response.render(parts), warnings=warnings)


@router.post(INCIDENT + "/updates/preview")
def preview_update(ref: str, post: IncidentForm, values: UpdateFields) -> Response:
    """How the update would read, with warnings; nothing is saved."""
    require(post.me, Permission.INCIDENTS_WRITE)
    now = post.clock.now()
    preview = draft_preview(values, now)
    if is_htmx(post.request):
        return page(post.request, "incidents/_preview.html", {"preview": preview})
    kept = {f"update:{values['audience']}": FormState(values=values)}
    return post.show(ref, "updates", now, forms=kept, previews={values["audience"]: preview})
