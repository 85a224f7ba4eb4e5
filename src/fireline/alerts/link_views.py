"""The pages behind a page's signed Acknowledge and Resolve links (see fireline.alerts.links).

Opening the link shows the alert and one button; only pressing it acts, so link scanners that
fetch every URL in an email do not acknowledge pages nobody has read. No sign-in is needed: the
signature names the person paged, who is recorded as the one who acted.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from fireline.accounts.principal import Actor
from fireline.alerts import links, service
from fireline.api.deps import AppClock, AppSettings, DbSession
from fireline.models import AlertStatus, User
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)

VERBS = {"acknowledge": "Acknowledge", "resolve": "Resolve"}


def _context(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    clock: AppClock,
    *,
    alert_id: int,
    action: str,
    user: int,
    expires: int,
    signature: str,
) -> tuple[dict[str, object], User | None]:
    alert = service.get_alert(db, alert_id, for_update=request.method == "POST")
    context: dict[str, object] = {
        "alert": alert,
        "verb": VERBS.get(action, action),
        "can_act": False,
    }
    try:
        links.verify(
            settings,
            alert_id=alert_id,
            user_id=user,
            action=action,
            expires=expires,
            signature=signature,
            now=clock.now(),
        )
    except links.BadLink as bad:
        context["problem"] = str(bad)
        return context, None
    person = db.get(User, user)
    if person is None or not person.is_active:
        context["problem"] = "The person this link was sent to can no longer act on alerts."
        return context, None
    context["person"] = person
    if alert.status == AlertStatus.RESOLVED:
        context["done"] = "This alert is already resolved."
    elif action == "acknowledge" and alert.status == AlertStatus.ACKNOWLEDGED:
        context["done"] = "This alert is already acknowledged."
    else:
        context["can_act"] = True
    return context, person


@router.get("/alerts/{alert_id}/{action}", response_class=HTMLResponse)
def confirm_page(
    request: Request,
    alert_id: int,
    action: str,
    db: DbSession,
    settings: AppSettings,
    clock: AppClock,
    user: Annotated[int, Query()],
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(max_length=128)],
) -> HTMLResponse:
    context, _ = _context(
        request,
        db,
        settings,
        clock,
        alert_id=alert_id,
        action=action,
        user=user,
        expires=expires,
        signature=signature,
    )
    return page(request, "alerts/page_action.html", context, status_code=_status(context))


@router.post("/alerts/{alert_id}/{action}", response_class=HTMLResponse)
def act(
    request: Request,
    alert_id: int,
    action: str,
    db: DbSession,
    settings: AppSettings,
    clock: AppClock,
    user: Annotated[int, Query()],
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(max_length=128)],
) -> HTMLResponse:
    context, person = _context(
        request,
        db,
        settings,
        clock,
        alert_id=alert_id,
        action=action,
        user=user,
        expires=expires,
        signature=signature,
    )
    if person is not None and context["can_act"]:
        alert = service.get_alert(db, alert_id)
        actor = Actor(user_id=person.id, label=f"{person.name} <{person.email}>", via="page link")
        if action == "acknowledge":
            service.acknowledge(db, actor=actor, alert=alert, now=clock.now())
            context["done"] = "Acknowledged: paging has stopped."
        else:
            service.resolve(db, actor=actor, alert=alert, now=clock.now())
            context["done"] = "Resolved."
        context["can_act"] = False
    return page(request, "alerts/page_action.html", context, status_code=_status(context))


def _status(context: dict[str, object]) -> int:
    return 403 if "problem" in context else 200
