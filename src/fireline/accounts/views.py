"""Settings pages for people: users and their roles (admins), teams and who is in them, and each
person's own API tokens, whose secrets are shown once, when they are made."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fireline.accounts import service
from fireline.accounts.permissions import Permission, permissions_for
from fireline.accounts.principal import Principal
from fireline.accounts.schemas import TeamCreate, UserCreate
from fireline.api.deps import AppClock, DbSession
from fireline.errors import AppError, InvalidInput, NotFound
from fireline.models import ApiToken, Role
from fireline.web.deps import WebUser, require
from fireline.web.settings_views import (
    PostedForm,
    Refusal,
    RowId,
    all_or_nothing,
    all_ticked,
    optional_text,
    see_other,
    settings_page,
    text_of,
)

router = APIRouter(include_in_schema=False)
USERS = "/settings/users"
TEAMS = "/settings/teams"
TOKENS = "/settings/tokens"
ROLES = [(role.value, role.value.capitalize()) for role in Role]


# --- users ---------------------------------------------------------------------------------------


def _users_page(
    request: Request, db: Session, values: dict[str, Any], refusal: Refusal | None = None
) -> Response:
    context = {
        "current": USERS,
        "users": service.list_users(db),
        "values": values,
        "roles": ROLES,
    }
    return settings_page(request, "settings/users.html", context, refusal=refusal)


def _row_refusal(error: AppError) -> Refusal:
    # A refused change to one row of the list is said at the top of the page, not beside the
    # form for a new user that shares its field names.
    return Refusal(status=error.status, summary=error.detail)


@router.get(USERS)
def user_list(request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.USERS_ADMIN)
    return _users_page(request, db, {"email": "", "name": "", "role": Role.RESPONDER.value})


@router.post(USERS)
def user_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Add a person. Without a password they cannot sign in until an admin sets one."""
    require(me, Permission.USERS_ADMIN)
    values = {name: text_of(form, name) for name in ("email", "name", "role")}
    try:
        with all_or_nothing(db):
            body = UserCreate.model_validate(
                {**values, "password": optional_text(form, "password")}
            )
            service.create_user(
                db,
                actor=me.actor,
                now=clock.now(),
                email=body.email,
                name=body.name,
                role=body.role,
                password=body.password,
            )
    except (AppError, ValidationError) as error:
        refusal = Refusal.of(error)
        if isinstance(error, AppError) and error.extra.get("field") == "email":
            refusal = Refusal(error.status, error.detail, {"email": error.detail})
        return _users_page(request, db, values, refusal)
    return see_other(USERS, "created")


@router.post(USERS + "/{user_id}")
def user_change(
    user_id: RowId, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Change one person's role, or deactivate (or reactivate) them: one button each."""
    require(me, Permission.USERS_ADMIN)
    user = service.get_user(db, user_id)
    role, active = text_of(form, "role"), text_of(form, "active")
    try:
        with all_or_nothing(db):
            if role and role not in {known.value for known in Role}:
                raise InvalidInput.on("role", "choose a role from the list")
            service.update_user(
                db,
                actor=me.actor,
                now=clock.now(),
                user=user,
                role=Role(role) if role else None,
                is_active={"yes": True, "no": False}.get(active),
            )
    except AppError as error:
        blank = {"email": "", "name": "", "role": Role.RESPONDER.value}
        return _users_page(request, db, blank, _row_refusal(error))
    return see_other(USERS, "saved")


# --- teams ---------------------------------------------------------------------------------------


def _teams_page(
    request: Request, db: Session, me: Principal, values: dict[str, str], refusal: Refusal | None
) -> Response:
    context = {
        "current": TEAMS,
        "teams": service.list_teams(db),
        "can_edit": me.can(Permission.USERS_ADMIN),
        "values": values,
    }
    return settings_page(request, "settings/teams.html", context, refusal=refusal)


@router.get(TEAMS)
def team_list(request: Request, me: WebUser, db: DbSession) -> Response:
    require(me, Permission.USERS_READ)
    return _teams_page(request, db, me, {"name": "", "description": ""}, None)


@router.post(TEAMS)
def team_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    require(me, Permission.USERS_ADMIN)
    values = {"name": text_of(form, "name"), "description": text_of(form, "description")}
    try:
        with all_or_nothing(db):
            body = TeamCreate.model_validate(values)
            team = service.create_team(
                db, actor=me.actor, now=clock.now(), name=body.name, description=body.description
            )
    except (AppError, ValidationError) as error:
        refusal = Refusal.of(error)
        if isinstance(error, AppError) and not refusal.fields:
            refusal = Refusal(error.status, error.detail, {"name": error.detail})
        return _teams_page(request, db, me, values, refusal)
    return see_other(f"{TEAMS}/{team.slug}", "created")


def _team_page(
    request: Request, db: Session, me: Principal, slug: str, refusal: Refusal | None = None
) -> Response:
    team = service.get_team(db, slug)
    context = {
        "current": TEAMS,
        "team": team,
        "members": {member.user_id for member in team.members},
        "users": [user for user in service.list_users(db) if user.is_active],
        "can_edit": me.can(Permission.USERS_ADMIN),
    }
    return settings_page(request, "settings/team.html", context, refusal=refusal)


@router.get(TEAMS + "/{slug}")
def team_view(slug: str, request: Request, me: WebUser, db: DbSession) -> Response:
    """The team's members; for admins, a box per active person to set who is in it."""
    require(me, Permission.USERS_READ)
    return _team_page(request, db, me, slug)


@router.post(TEAMS + "/{slug}/members")
def team_members(
    slug: str, request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    require(me, Permission.USERS_ADMIN)
    team = service.get_team(db, slug)
    ticked = all_ticked(form, "members")
    try:
        with all_or_nothing(db):
            if not all(value.isdigit() and len(value) <= 18 for value in ticked):
                raise InvalidInput.on("members", "tick people from the list")
            user_ids = [int(value) for value in ticked]
            service.set_team_members(
                db, actor=me.actor, now=clock.now(), team=team, user_ids=user_ids
            )
    except AppError as error:
        return _team_page(request, db, me, slug, Refusal.of(error))
    return see_other(f"{TEAMS}/{team.slug}", "saved")


# --- my API tokens -------------------------------------------------------------------------------


def _tokens_page(
    request: Request,
    db: Session,
    me: Principal,
    values: dict[str, Any],
    *,
    refusal: Refusal | None = None,
    issued: str | None = None,
) -> Response:
    context = {
        "current": TOKENS,
        "tokens": service.list_tokens(db, user_id=me.user_id),
        "scopes": [(p.value, p.value) for p in sorted(permissions_for(me.role))],
        "values": values,
        "issued": issued,
    }
    status = 201 if issued else None
    return settings_page(
        request, "settings/tokens.html", context, refusal=refusal, status_code=status
    )


def _new_token(me: Principal) -> dict[str, Any]:
    return {"name": "", "scopes": sorted(permissions_for(me.role)), "expires_on": ""}


def _expiry(text: str) -> datetime | None:
    """Midnight UTC at the start of the day given, or None for a token that does not expire."""
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError:
        raise InvalidInput.on("expires_on", "enter a date such as 2027-01-31") from None


@router.get(TOKENS)
def token_list(request: Request, me: WebUser, db: DbSession) -> Response:
    """Your tokens, revoked ones included, and a form for a new one."""
    return _tokens_page(request, db, me, _new_token(me))


@router.post(TOKENS)
def token_create(
    request: Request, me: WebUser, db: DbSession, clock: AppClock, form: PostedForm
) -> Response:
    """Make a token with the permissions ticked; its secret is on this answer and nowhere
    else, ever."""
    name, scopes = text_of(form, "name"), all_ticked(form, "scopes")
    expires_on = text_of(form, "expires_on")
    values = {"name": name, "scopes": scopes, "expires_on": expires_on}
    try:
        with all_or_nothing(db):
            if not 0 < len(name) <= 200:
                raise InvalidInput.on(
                    "name", "name the token after what will use it (200 characters at most)"
                )
            if not scopes:
                raise InvalidInput.on("scopes", "tick at least one permission")
            issued = service.create_token(
                db,
                actor=me.actor,
                now=clock.now(),
                user=service.get_user(db, me.user_id),
                name=name,
                scopes=scopes,
                expires_at=_expiry(expires_on),
            )
    except AppError as error:
        return _tokens_page(request, db, me, values, refusal=Refusal.of(error))
    return _tokens_page(request, db, me, _new_token(me), issued=issued.secret)


@router.post(TOKENS + "/{token_id}/revoke")
def token_revoke(token_id: RowId, me: WebUser, db: DbSession, clock: AppClock) -> Response:
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != me.user_id:  # someone else's is as good as absent
        raise NotFound(detail=f"You have no API token {token_id}.")
    service.revoke_token(db, actor=me.actor, now=clock.now(), token=token)
    return see_other(TOKENS, "revoked")
