"""JSON routes for signing in, people, teams and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from fireline.accounts import service
from fireline.accounts.permissions import Permission
from fireline.accounts.schemas import (
    IssuedTokenOut,
    LoginOut,
    LoginRequest,
    MeOut,
    TeamCreate,
    TeamMembers,
    TeamOut,
    TokenCreate,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from fireline.api.deps import (
    SESSION_COOKIE,
    AppClock,
    AppSettings,
    CurrentPrincipal,
    DbSession,
    UserAdmin,
    UserReader,
    session_ttl,
)
from fireline.errors import NotFound
from fireline.models import ApiToken, Team

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/login", response_model=LoginOut)
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
) -> LoginOut:
    """Sign in with email and password; sets the session cookie."""
    signed_in = service.sign_in(
        db,
        now=clock.now(),
        email=body.email,
        password=body.password,
        ttl=session_ttl(settings),
        user_agent=request.headers.get("user-agent", ""),
    )
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.secret,
        max_age=int(session_ttl(settings).total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    user = service.get_user(db, signed_in.session.user_id)
    return LoginOut(
        user=UserOut.model_validate(user),
        csrf_token=signed_in.session.csrf_token,
        expires_at=signed_in.session.expires_at,
    )


@router.post("/auth/logout", status_code=204)
def logout(principal: CurrentPrincipal, response: Response, db: DbSession, clock: AppClock) -> None:
    """End the web session (tokens are revoked under /tokens)."""
    if principal.session_id is not None:
        service.sign_out(
            db, actor=principal.actor, now=clock.now(), web_session_id=principal.session_id
        )
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal, db: DbSession) -> MeOut:
    """Who you are and what you may do."""
    user = service.get_user(db, principal.user_id)
    return MeOut(
        **UserOut.model_validate(user).model_dump(), permissions=sorted(principal.permissions)
    )


@router.get("/users", response_model=list[UserOut])
def list_users(principal: UserReader, db: DbSession) -> list[UserOut]:
    return [UserOut.model_validate(user) for user in service.list_users(db)]


@router.post("/users", status_code=201, response_model=UserOut)
def create_user(body: UserCreate, principal: UserAdmin, db: DbSession, clock: AppClock) -> UserOut:
    user = service.create_user(
        db,
        actor=principal.actor,
        now=clock.now(),
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
    )
    return UserOut.model_validate(user)


@router.get("/users/{ref}", response_model=UserOut)
def get_user(ref: str, principal: UserReader, db: DbSession) -> UserOut:
    """A user by id or email."""
    return UserOut.model_validate(service.find_user(db, ref))


@router.patch("/users/{ref}", response_model=UserOut)
def update_user(
    ref: str, body: UserUpdate, principal: UserAdmin, db: DbSession, clock: AppClock
) -> UserOut:
    user = service.find_user(db, ref)
    updated = service.update_user(
        db,
        actor=principal.actor,
        now=clock.now(),
        user=user,
        name=body.name,
        role=body.role,
        is_active=body.is_active,
        password=body.password,
    )
    return UserOut.model_validate(updated)


def _team_out(team: Team) -> TeamOut:
    return TeamOut(
        id=team.id,
        slug=team.slug,
        name=team.name,
        description=team.description,
        members=[UserOut.model_validate(member.user) for member in team.members],
    )


@router.get("/teams", response_model=list[TeamOut])
def list_teams(principal: UserReader, db: DbSession) -> list[TeamOut]:
    return [_team_out(team) for team in service.list_teams(db)]


@router.post("/teams", status_code=201, response_model=TeamOut)
def create_team(body: TeamCreate, principal: UserAdmin, db: DbSession, clock: AppClock) -> TeamOut:
    team = service.create_team(
        db, actor=principal.actor, now=clock.now(), name=body.name, description=body.description
    )
    return _team_out(team)


@router.get("/teams/{ref}", response_model=TeamOut)
def get_team(ref: str, principal: UserReader, db: DbSession) -> TeamOut:
    return _team_out(service.get_team(db, ref))


@router.put("/teams/{ref}/members", response_model=TeamOut)
def set_team_members(
    ref: str, body: TeamMembers, principal: UserAdmin, db: DbSession, clock: AppClock
) -> TeamOut:
    """Replace the team's members with exactly these users."""
    team = service.get_team(db, ref)
    updated = service.set_team_members(
        db, actor=principal.actor, now=clock.now(), team=team, user_ids=body.user_ids
    )
    return _team_out(updated)


def _token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        user_email=token.user.email,
        scopes=token.scopes,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(principal: CurrentPrincipal, db: DbSession) -> list[TokenOut]:
    """Your tokens; admins see everyone's."""
    owner = None if principal.can(Permission.USERS_ADMIN) else principal.user_id
    return [_token_out(token) for token in service.list_tokens(db, user_id=owner)]


@router.post("/tokens", status_code=201, response_model=IssuedTokenOut)
def create_token(
    body: TokenCreate, principal: CurrentPrincipal, db: DbSession, clock: AppClock
) -> IssuedTokenOut:
    """Create an API token. The secret is in this response only."""
    user = service.get_user(db, principal.user_id)
    if body.user is not None and body.user.lower() not in {str(user.id), user.email}:
        principal.require(Permission.USERS_ADMIN)
        user = service.find_user(db, body.user)
    issued = service.create_token(
        db,
        actor=principal.actor,
        now=clock.now(),
        user=user,
        name=body.name,
        scopes=body.scopes,
        expires_at=body.expires_at,
    )
    token = service.get_token(db, issued.token.id)
    return IssuedTokenOut(**_token_out(token).model_dump(), token=issued.secret)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(
    token_id: int, principal: CurrentPrincipal, db: DbSession, clock: AppClock
) -> None:
    """Revoke a token at once. Yours, or anyone's for admins."""
    token = db.get(ApiToken, token_id) if 0 < token_id <= service.MAX_ID else None
    if token is None or (
        token.user_id != principal.user_id and not principal.can(Permission.USERS_ADMIN)
    ):
        raise NotFound(detail=f"No API token {token_id}.")
    service.revoke_token(db, actor=principal.actor, now=clock.now(), token=token)
