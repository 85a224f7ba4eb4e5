"""Rotation layers on a schedule's page, for on-call admins: add one, change one (deleting one
asks first: delete_views.py).

A refused layer comes back on the schedule's page with its form open, filled in as typed and
each reason beside its field (layer_forms.py reads and fills the form).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.api.deps import AppClock, AppSettings, DbSession
from fireline.config import Settings
from fireline.errors import AppError
from fireline.models import Schedule
from fireline.oncall import layers, schedules
from fireline.oncall.layer_forms import layer_values, posted
from fireline.oncall.schedule_views import done, schedule_page
from fireline.oncall.views import SCHEDULES, prefixed
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import PostedForm, RowId, all_or_nothing

router = APIRouter(include_in_schema=False)


def _refused(
    request: Request,
    db: Session,
    me: Principal,
    settings: Settings,
    now: Any,
    schedule: Schedule,
    typed: dict[str, Any],
    error: AppError,
) -> Response:
    fresh = schedules.get_schedule(db, schedule.id)  # as stored, not as refused
    refusal = prefixed(error, typed["prefix"])
    return schedule_page(request, db, me, now, settings, fresh, layer_form=typed, refusal=refusal)


@router.post(SCHEDULES + "/{ref}/layers")
def layer_add(
    ref: str,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """A new rotation layer, on top of the others."""
    require(me, Permission.ONCALL_ADMIN)
    schedule = schedules.get_schedule(db, ref)
    typed = posted(form, None)
    now = clock.now()
    try:
        with all_or_nothing(db):
            layers.add_layer(
                db, actor=me.actor, now=now, schedule=schedule, values=layer_values(typed)
            )
    except AppError as error:
        return _refused(request, db, me, settings, now, schedule, typed, error)
    return done(schedule, "layer-added", "layers")


@router.post(SCHEDULES + "/{ref}/layers/{layer_id}")
def layer_edit(
    ref: str,
    layer_id: RowId,
    request: Request,
    me: WebUser,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    require(me, Permission.ONCALL_ADMIN)
    schedule = schedules.get_schedule(db, ref)
    layer = layers.get_layer(db, schedule=schedule, layer_id=layer_id)
    typed = posted(form, layer.id)
    now = clock.now()
    try:
        with all_or_nothing(db):
            layers.update_layer(
                db,
                actor=me.actor,
                now=now,
                schedule=schedule,
                layer=layer,
                changes=layer_values(typed),
            )
    except AppError as error:
        return _refused(request, db, me, settings, now, schedule, typed, error)
    return done(schedule, "layer-saved", "layers")
