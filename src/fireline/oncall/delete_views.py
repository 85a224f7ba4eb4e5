"""Removals on the on-call pages, each asking first: a schedule, an escalation policy, a
rotation layer and an override. The button on the page posts to `.../delete`, which answers
with a confirmation page; that page posts again with `confirmed`, and only then is anything
removed. A schedule or policy still in use is refused by its service (409): the confirmation
page comes back saying in words what uses it, with nothing removed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fireline.accounts.permissions import Permission
from fireline.api.deps import AppClock, DbSession
from fireline.errors import AppError
from fireline.oncall import layers, overrides, policies, schedules
from fireline.oncall.policy_views import POLICIES
from fireline.oncall.schedule_views import done, schedule_path
from fireline.oncall.views import SCHEDULES
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import PostedForm, Refusal, RowId, all_or_nothing, is_ticked
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Asked:
    """What a confirmation page asks: its heading and question, where its button posts (with
    `confirmed`), the button's words, where Cancel leads, and the on-call section it is in."""

    heading: str
    question: str
    action: str
    button: str
    back: str
    section: str = "schedules"


def confirm(request: Request, asked: Asked, refusal: Refusal | None = None) -> Response:
    """Ask before removing for good; refused, say why instead of offering the button again."""
    context = {"nav": "oncall", **asdict(asked), "problems": refusal}
    status = refusal.status if refusal else 200
    return page(request, "oncall/confirm.html", context, status_code=status)


@router.post(SCHEDULES + "/{ref}/delete")
def schedule_delete(
    ref: str,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Asks first; refused while an escalation policy or an incident role pages through it."""
    require(me, Permission.ONCALL_ADMIN)
    schedule = schedules.get_schedule(db, ref)
    asked = Asked(
        heading=f"Delete the schedule “{schedule.name}”?",
        question="Its layers, overrides and calendar link go with it. This cannot be undone.",
        action=f"{schedule_path(schedule)}/delete",
        button="Delete schedule",
        back=schedule_path(schedule),
    )
    if not is_ticked(form, "confirmed"):
        return confirm(request, asked)
    try:
        with all_or_nothing(db):
            schedules.delete_schedule(db, actor=me.actor, now=clock.now(), schedule=schedule)
    except AppError as error:
        return confirm(request, asked, Refusal.of(error))
    return RedirectResponse(f"{SCHEDULES}?done=deleted", status_code=303)


@router.post(POLICIES + "/{policy_id}/delete")
def policy_delete(
    policy_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    """Asks first; refused while a service or a routing rule pages through it."""
    require(me, Permission.ONCALL_ADMIN)
    policy = policies.get_policy(db, policy_id)
    asked = Asked(
        heading=f"Delete the escalation policy “{policy.name}”?",
        question="Its levels go with it. This cannot be undone.",
        action=f"{POLICIES}/{policy.id}/delete",
        button="Delete policy",
        back=f"{POLICIES}/{policy.id}",
        section="policies",
    )
    if not is_ticked(form, "confirmed"):
        return confirm(request, asked)
    try:
        with all_or_nothing(db):
            policies.delete_policy(db, actor=me.actor, now=clock.now(), policy=policy)
    except AppError as error:
        return confirm(request, asked, Refusal.of(error))
    return RedirectResponse(f"{POLICIES}?done=deleted", status_code=303)


@router.post(SCHEDULES + "/{ref}/layers/{layer_id}/delete")
def layer_delete(
    ref: str,
    layer_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    require(me, Permission.ONCALL_ADMIN)
    schedule = schedules.get_schedule(db, ref)
    layer = layers.get_layer(db, schedule=schedule, layer_id=layer_id)
    if not is_ticked(form, "confirmed"):
        asked = Asked(
            heading=f"Delete the layer “{layer.name}” of {schedule.name}?",
            question="Its members stop taking turns on this schedule at once; where no other "
            "layer covers, nobody is on call. This cannot be undone.",
            action=f"{schedule_path(schedule)}/layers/{layer.id}/delete",
            button="Delete layer",
            back=f"{schedule_path(schedule)}#layers",
        )
        return confirm(request, asked)
    layers.delete_layer(db, actor=me.actor, now=clock.now(), schedule=schedule, layer=layer)
    return done(schedule, "layer-deleted", "layers")


@router.post(SCHEDULES + "/{ref}/overrides/{override_id}/delete")
def override_remove(
    ref: str,
    override_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    form: PostedForm,
) -> Response:
    require(me, Permission.ONCALL_WRITE)
    schedule = schedules.get_schedule(db, ref)
    found = overrides.get_override(db, schedule=schedule, override_id=override_id)
    if not is_ticked(form, "confirmed"):
        start = found.starts_at.strftime("%Y-%m-%d %H:%M")
        end = found.ends_at.strftime("%Y-%m-%d %H:%M")
        asked = Asked(
            heading=f"Remove the override of {found.user.name}?",
            question=f"{found.user.name} stops covering {schedule.name} from {start} to "
            f"{end} UTC; the layers decide who is on call then.",
            action=f"{schedule_path(schedule)}/overrides/{found.id}/delete",
            button="Remove override",
            back=f"{schedule_path(schedule)}#overrides",
        )
        return confirm(request, asked)
    overrides.remove_override(db, actor=me.actor, now=clock.now(), override=found)
    return done(schedule, "override-removed", "overrides")
