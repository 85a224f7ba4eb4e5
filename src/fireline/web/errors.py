"""Errors on web pages: a sign-in redirect, or a page that says what went wrong, never JSON."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from fireline.errors import AppError
from fireline.web.deps import SignInRequired
from fireline.web.templating import page

# Paths that are the JSON API or machine endpoints: their errors stay problem+json.
MACHINE_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/v2/", "/integrations/")


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(MACHINE_PREFIXES)


def error_page(request: Request, error: AppError) -> Response:
    if isinstance(error, SignInRequired):
        if request.headers.get("hx-request"):  # htmx follows HX-Redirect, not a 303
            return Response(status_code=204, headers={"HX-Redirect": error.location})
        return RedirectResponse(error.location, status_code=303)
    return render_error(request, title=error.title, detail=error.detail, status=error.status)


def render_error(request: Request, *, title: str, detail: str, status: int) -> Response:
    context = {"title": title, "detail": detail, "status": status}
    return page(request, "error.html", context, status_code=status)
