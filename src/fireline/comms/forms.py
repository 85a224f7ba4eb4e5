"""What the status page settings pages share beyond the web layer's settings helpers: asking
before something is deleted, the same way on every page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from fireline.web.settings_views import confirm_page, is_ticked


def ask_to_delete(
    request: Request, form: FormData, *, kind: str, name: str, question: str, at: str, back: str
) -> Response | None:
    """The page asking "Delete the `kind` “`name`”?" unless the form says it was confirmed;
    None once it was. Confirming posts to `at`/delete; going back leads to `back`."""
    if is_ticked(form, "confirmed"):
        return None
    return confirm_page(
        request,
        heading=f"Delete the {kind} “{name}”?",
        question=question,
        action=f"{at}/delete",
        button=f"Delete {kind}",
        back=back,
    )
