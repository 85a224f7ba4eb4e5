"""Settings: the index of what a person may configure, and what every settings page shares.

Each domain keeps its settings pages beside its service (incidents/severity_views.py,
notify/views.py, ...). They all read a posted form the same way, make the change in a savepoint
so a refused one leaves nothing half-done, answer a refusal by showing the form again with the
reason beside the field, and answer success with a redirect that says what happened."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fireline.accounts.permissions import Permission
from fireline.accounts.principal import Principal
from fireline.accounts.service import MAX_ID
from fireline.errors import AppError, Conflict, InvalidInput
from fireline.web.deps import WebUser
from fireline.web.templating import page

router = APIRouter(include_in_schema=False)

# A row id in a settings path: anything larger cannot exist, and would overflow the database.
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


@dataclass(frozen=True)
class Section:
    """One area of settings, offered to those holding `permission` (anyone signed in if None)."""

    title: str
    href: str
    summary: str
    permission: Permission | None


SECTIONS = (
    Section(
        "Severities",
        "/settings/severities",
        "What SEV1 to SEV4 mean and the clocks each one sets.",
        Permission.INCIDENTS_READ,
    ),
    Section(
        "Playbooks",
        "/settings/playbooks",
        "Checklists attached to incidents that meet their conditions.",
        Permission.INCIDENTS_READ,
    ),
    Section(
        "Automation rules",
        "/settings/rules",
        "What Fireline does on its own when something happens to an incident.",
        Permission.INCIDENTS_READ,
    ),
    Section(
        "Holidays",
        "/settings/holidays",
        "Days the business-day clocks skip.",
        Permission.INCIDENTS_READ,
    ),
    Section(
        "Channels",
        "/settings/channels",
        "Shared destinations that rules notify: mailing lists, chat, webhooks.",
        Permission.NOTIFICATIONS_ADMIN,
    ),
    Section(
        "My contact methods",
        "/settings/contact",
        "How Fireline reaches you, and for which notices.",
        None,
    ),
    Section(
        "Delivery log",
        "/settings/deliveries",
        "Every notice sent, where it went and each attempt.",
        Permission.INCIDENTS_READ,
    ),
    Section(
        "Jobs",
        "/settings/jobs",
        "Background work waiting to run, and jobs that gave up.",
        Permission.JOBS_ADMIN,
    ),
    Section(
        "Integrations",
        "/settings/integrations",
        "The doors monitoring tools send alerts through, with their URLs and keys.",
        Permission.INTEGRATIONS_ADMIN,
    ),
    Section(
        "Routing rules",
        "/settings/routing",
        "Where alerts go, and which alerts declare an incident.",
        Permission.INTEGRATIONS_ADMIN,
    ),
    Section(
        "Status pages",
        "/settings/status-pages",
        "The public pages customers read: components, their status, maintenance, subscribers.",
        Permission.STATUSPAGE_WRITE,
    ),
    Section(
        "Update templates",
        "/settings/update-templates",
        "The starting words of public and stakeholder updates.",
        Permission.STATUSPAGE_ADMIN,
    ),
    Section(
        "Audiences",
        "/settings/audiences",
        "The internal groups stakeholder updates go to.",
        Permission.STATUSPAGE_ADMIN,
    ),
    Section("Users", "/settings/users", "Who may sign in, and their role.", Permission.USERS_ADMIN),
    Section("Teams", "/settings/teams", "Who owns services, together.", Permission.USERS_READ),
    Section("My API tokens", "/settings/tokens", "Tokens for scripts and integrations.", None),
)

UNSTORABLE = "A value cannot be stored: too long, out of range, or containing a NUL character."
# What a redirect after a successful change says, by its `done` query parameter: fixed texts,
# so a crafted link cannot put words in Fireline's mouth.
NOTICES = {
    "saved": "Saved.",
    "created": "Created.",
    "deleted": "Deleted.",
    "retried": "The job is pending again and will run shortly.",
    "tested": "A test notice is on its way; follow it in the delivery log.",
    "revoked": "The token is revoked; it stops working at once.",
}

# What each incident event is called on a page: the triggers of rules, the notices a contact
# method carries.
EVENT_NAMES = {
    "incident.declared": "An incident is declared",
    "incident.severity_changed": "Its severity changes",
    "incident.status_changed": "Its status changes",
    "incident.role_assigned": "Someone takes a role",
    "obligation.due_soon": "An obligation is due soon",
    "obligation.missed": "An obligation is missed",
    "task.overdue": "A playbook task is overdue",
}


def sections_for(principal: Principal | None) -> list[Section]:
    """The sections this person may open, in the order the index lists them."""
    if principal is None:
        return []
    return [s for s in SECTIONS if s.permission is None or principal.can(s.permission)]


@dataclass(frozen=True)
class Refusal:
    """Why a form was refused: a status for the page, a sentence for the top of the form, and a
    message per field (dotted names, as the domain errors give them: `actions.0.to.channel`)."""

    status: int
    summary: str
    fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, error: AppError | ValidationError) -> Refusal:
        if isinstance(error, AppError):
            fields = {problem.field: problem.message for problem in error.errors}
            return cls(status=error.status, summary=error.detail, fields=fields)
        fields = {}
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]) or "form"
            fields.setdefault(name, problem["msg"])
        if len(fields) == 1:
            ((name, message),) = fields.items()
            return cls(status=422, summary=f"{name}: {message}", fields=fields)
        return cls(status=422, summary="Some fields need attention.", fields=fields)

    def at(self, name: str) -> str | None:
        """The message for field `name`, or for anything inside it (`tasks.2` covers
        `tasks.2.title`): what a form shows beside that field or row."""
        for problem_field, message in self.fields.items():
            if problem_field == name or problem_field.startswith(f"{name}."):
                return message
        return None


@contextmanager
def all_or_nothing(db: Session) -> Iterator[None]:
    """Run a change in a savepoint: refused, it leaves nothing half-applied, while the request
    (which re-renders the form and commits) keeps the rest of its work. A value the database
    cannot hold, or a clash with a change made at the same moment, is refused like any other
    input, so the form says so instead of the page failing."""
    try:
        with db.begin_nested():
            yield
    except DataError as error:
        raise InvalidInput(detail=UNSTORABLE) from error
    except IntegrityError as error:
        raise Conflict(
            detail="This clashes with a change made just now; reload and try again."
        ) from error


async def _posted(request: Request) -> FormData:
    # Starlette caches the parsed form on the request, so the CSRF check read it already.
    return await request.form()


PostedForm = Annotated[FormData, Depends(_posted)]


def text_of(form: FormData, name: str) -> str:
    """A text field, stripped; empty when it was not sent."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional_text(form: FormData, name: str) -> str | None:
    """A text field, or None when left blank: the form's way of saying "not set"."""
    return text_of(form, name) or None


def is_ticked(form: FormData, name: str) -> bool:
    """A checkbox: a browser sends it ("on") only when it is ticked."""
    return name in form and text_of(form, name) not in ("", "false", "0", "off")


def all_ticked(form: FormData, name: str) -> list[str]:
    """Every value of a group of checkboxes sharing `name`."""
    return [value for value in form.getlist(name) if isinstance(value, str) and value]


def listed(text: str) -> list[str]:
    """A comma-separated field as its items, blanks dropped: `checkout, search`."""
    return [item.strip() for item in text.split(",") if item.strip()]


def see_other(path: str, done: str, anchor: str = "") -> Response:
    """Back to `path` after a change, saying what happened (a key of NOTICES), at the element
    `anchor` names when one is given."""
    where = f"{path}?done={done}" + (f"#{anchor}" if anchor else "")
    return RedirectResponse(where, status_code=303)


def settings_page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    refusal: Refusal | None = None,
    status_code: int | None = None,
) -> Response:
    """Render a settings page with the side navigation, the notice a redirect asked for, and
    a refusal's messages (its status too, unless `status_code` says otherwise)."""
    principal = getattr(request.state, "web_principal", None)
    values = {
        "nav": "settings",
        "sections": sections_for(principal),
        "notice": NOTICES.get(request.query_params.get("done", "")),
        "problems": refusal,
        **(context or {}),
    }
    status = status_code or (refusal.status if refusal else 200)
    return page(request, template, values, status_code=status)


@router.get("/settings")
def settings_index(request: Request, me: WebUser) -> Response:
    """The settings a person may use; sections their role does not allow are not offered."""
    return settings_page(request, "settings/index.html", {"current": "/settings"})


def confirm_page(
    request: Request, *, heading: str, question: str, action: str, button: str, back: str
) -> Response:
    """A page that asks before something is removed for good: the removal is its own POST."""
    context = {
        "heading": heading,
        "question": question,
        "action": action,
        "button": button,
        "back": back,
        "current": back,
    }
    return settings_page(request, "settings/confirm.html", context)
