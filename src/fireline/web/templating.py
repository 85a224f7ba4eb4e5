"""Jinja2 for every page: one environment, the filters pages share, and `page()` to render."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from fireline.clock import as_utc

TEMPLATES = Path(__file__).parent / "templates"
ROLE_NAMES = {
    "commander": "Incident commander",
    "tech_lead": "Technical lead",
    "comms_lead": "Communications lead",
    "scribe": "Scribe",
    "sme": "Subject-matter expert",
    "postmortem_owner": "Postmortem owner",
}


def time_tag(instant: datetime | None, style: str = "datetime") -> Markup:
    """A <time> the browser shows in the viewer's time zone (app.js), UTC on hover; without
    script it reads as UTC."""
    if instant is None:
        return Markup('<span class="muted">—</span>')
    utc = as_utc(instant)
    iso = utc.isoformat().replace("+00:00", "Z")
    text = utc.strftime("%Y-%m-%d %H:%M UTC")
    # Safe: the instant's own ISO and strftime text, and the escaped style.
    return Markup(  # noqa: S704
        f'<time datetime="{iso}" data-style="{escape(style)}" title="{text}">{text}</time>'
    )


def countdown(instant: datetime | None) -> Markup:
    """A live countdown to `instant` (app.js ticks it), e.g. "in 4 min 10 s" or "3 min late"."""
    if instant is None:
        return Markup("")
    iso = as_utc(instant).isoformat().replace("+00:00", "Z")
    return Markup(f'<span class="countdown" data-due="{iso}" role="timer">{iso}</span>')  # noqa: S704


def role_name(role: str) -> str:
    return ROLE_NAMES.get(role, role.replace("_", " ").capitalize())


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters["time"] = time_tag
templates.env.filters["countdown"] = countdown
templates.env.filters["role_name"] = role_name
templates.env.globals["ROLE_NAMES"] = ROLE_NAMES


def page(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render `template` with the request's signed-in person and CSRF token available as
    `me` and `csrf_token` (set by the web dependencies)."""
    state = request.state
    values = {
        "me": getattr(state, "web_principal", None),
        "csrf_token": getattr(state, "csrf_token", ""),
        "server_now": as_utc(request.app.state.clock.now()).isoformat().replace("+00:00", "Z"),
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, values, status_code=status_code)
