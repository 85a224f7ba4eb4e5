"""Use cases for people, teams, tokens and sessions. Services flush; the caller commits."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from fireline.accounts.permissions import Permission, permissions_for
from fireline.accounts.principal import Actor, Principal
from fireline.accounts.secrets import (
    digest,
    hash_password,
    new_password,
    new_token,
    verify_password,
)
from fireline.audit.service import record
from fireline.clock import as_utc
from fireline.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from fireline.models import ApiToken, Role, Team, TeamMember, User, WebSession

MIN_PASSWORD_LENGTH = 10
MAX_ID = 2**31 - 1  # the largest id an INTEGER primary key holds (PostgreSQL's limit)


def parse_id(ref: str) -> int | None:
    """The row id `ref` names when it is a plain number a table can hold, else None."""
    if ref.isascii() and ref.isdigit() and 0 < int(ref) <= MAX_ID:
        return int(ref)
    return None


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "is_active": user.is_active,
    }


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.on("password", f"must be at least {MIN_PASSWORD_LENGTH} characters long")


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        raise NotFound(detail=f"No user with id {user_id}.")
    return user


def find_user(session: Session, ref: str) -> User:
    """A user by id or email (case-insensitive)."""
    ref = ref.strip()
    if ref.isascii() and ref.isdigit():
        return get_user(session, int(ref))
    user = session.scalar(select(User).where(func.lower(User.email) == ref.strip().lower()))
    if user is None:
        raise NotFound(detail=f"No user with email {ref}.")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name, User.id)))


def create_user(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    email: str,
    name: str,
    role: Role,
    password: str | None,
) -> User:
    email = _valid_email(email)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise Conflict(
            detail=f"A user with email {email} already exists.",
            errors=[],
            extra={"field": "email"},
        )
    if password is not None:
        _check_password(password)
    user = User(
        email=email,
        name=name.strip(),
        role=role.value,
        password_hash=hash_password(password) if password else None,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        at=now,
        after=user_snapshot(user),
    )
    return user


def _valid_email(email: str) -> str:
    """The address normalised to lower case, or a clear error naming the field."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput.on("email", str(error)) from None
    return checked.normalized.lower()


def update_user(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    user: User,
    name: str | None = None,
    role: Role | None = None,
    is_active: bool | None = None,
    password: str | None = None,
) -> User:
    before = user_snapshot(user)
    is_active_admin = user.role == Role.ADMIN.value and user.is_active
    demotes_admin = (role is not None and role != Role.ADMIN) or is_active is False
    if is_active_admin and demotes_admin and _active_admins(session) <= 1:
        raise Conflict(detail="This is the last active admin; make someone else admin first.")
    if name is not None:
        user.name = name.strip()
    if role is not None:
        user.role = role.value
    if is_active is not None:
        user.is_active = is_active
    if password is not None:
        _check_password(password)
        user.password_hash = hash_password(password)
        # Whoever knew the old password is signed out everywhere.
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    user.updated_at = now
    after = user_snapshot(user)
    if password is not None:
        after["password"] = "changed"  # noqa: S105 - records that it changed, not the value
    record(
        session,
        actor=actor,
        action="user.update",
        entity_type="user",
        entity_id=user.id,
        at=now,
        before=before,
        after=after,
    )
    return user


def _active_admins(session: Session) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
    )
    return int(count or 0)


BOOTSTRAP_ADMIN_EMAIL = "admin@example.com"


def bootstrap_admin(
    session: Session, *, now: datetime, email: str = BOOTSTRAP_ADMIN_EMAIL
) -> tuple[str, str] | None:
    """On an empty database, create the first admin; returns (email, password) once, else None."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    password = new_password()
    create_user(
        session,
        actor=Actor.system("bootstrap"),
        now=now,
        email=email,
        name="Administrator",
        role=Role.ADMIN,
        password=password,
    )
    return email, password


# --- teams -----------------------------------------------------------------------------------


SLUG_MAX_LENGTH = 100  # the slug columns' width


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:SLUG_MAX_LENGTH].rstrip("-") or "untitled"


def list_teams(session: Session) -> list[Team]:
    query = select(Team).options(selectinload(Team.members).selectinload(TeamMember.user))
    return list(session.scalars(query.order_by(Team.name)))


def get_team(session: Session, ref: str) -> Team:
    query = (
        select(Team)
        .options(selectinload(Team.members).selectinload(TeamMember.user))
        .execution_options(populate_existing=True)
    )
    team_id = parse_id(ref)
    team = session.scalar(query.where(Team.id == team_id)) if team_id is not None else None
    if team is None:  # a slug, which may itself be all digits (a team named "911")
        team = session.scalar(query.where(Team.slug == ref))
    if team is None:
        raise NotFound(detail=f"No team '{ref}'.")
    return team


def create_team(
    session: Session, *, actor: Actor, now: datetime, name: str, description: str = ""
) -> Team:
    slug = slugify(name)
    taken = select(Team.id).where((func.lower(Team.name) == name.lower()) | (Team.slug == slug))
    if session.scalar(taken) is not None:
        raise Conflict(detail=f"A team named '{name}' already exists.")
    team = Team(
        name=name.strip(), slug=slug, description=description, created_at=now, updated_at=now
    )
    session.add(team)
    session.flush()
    record(
        session,
        actor=actor,
        action="team.create",
        entity_type="team",
        entity_id=team.id,
        at=now,
        after={"name": team.name, "slug": slug, "description": description},
    )
    return get_team(session, str(team.id))


def set_team_members(
    session: Session, *, actor: Actor, now: datetime, team: Team, user_ids: list[int]
) -> Team:
    """Make the team's membership exactly `user_ids`."""
    before = sorted(member.user_id for member in team.members)
    wanted = set(user_ids)
    for user_id in wanted:
        get_user(session, user_id)
    for member in list(team.members):
        if member.user_id not in wanted:
            team.members.remove(member)
    for user_id in wanted - set(before):
        team.members.append(TeamMember(user_id=user_id, created_at=now))
    team.updated_at = now
    session.flush()
    record(
        session,
        actor=actor,
        action="team.members",
        entity_type="team",
        entity_id=team.id,
        at=now,
        before={"members": before},
        after={"members": sorted(wanted)},
    )
    session.expire(team)
    return get_team(session, str(team.id))


# --- tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def create_token(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    user: User,
    name: str,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> IssuedToken:
    """A new token for `user`; the secret is in the result and nowhere else, ever."""
    if not user.is_active:
        raise InvalidInput.on("user", f"{user.email} is deactivated; reactivate them first")
    allowed = permissions_for(user.role)
    if scopes is None:
        granted = sorted(allowed)
    else:
        known = {permission.value for permission in Permission}
        unknown = [scope for scope in scopes if scope not in known]
        if unknown:
            raise InvalidInput.on("scopes", f"unknown scope(s): {', '.join(unknown)}")
        beyond = [scope for scope in scopes if Permission(scope) not in allowed]
        if beyond:
            raise InvalidInput.on(
                "scopes", f"{', '.join(beyond)} exceed(s) what a {user.role} may do"
            )
        granted = sorted({Permission(scope) for scope in scopes})
    if expires_at is not None:
        expires_at = as_utc(expires_at)  # a time without a zone is UTC, as everywhere in Fireline
        if expires_at <= now:
            raise InvalidInput.on("expires_at", "must be in the future")
    secret = new_token()
    token = ApiToken(
        user_id=user.id,
        name=name.strip(),
        prefix=secret[:10],
        token_hash=digest(secret),
        scopes=[str(scope) for scope in granted],
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    record(
        session,
        actor=actor,
        action="token.create",
        entity_type="api_token",
        entity_id=token.id,
        at=now,
        after={"user": user.email, "name": token.name, "scopes": token.scopes},
    )
    return IssuedToken(token=token, secret=secret)


def list_tokens(session: Session, *, user_id: int | None = None) -> list[ApiToken]:
    query = select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))


def get_token(session: Session, token_id: int) -> ApiToken:
    token = session.scalar(
        select(ApiToken)
        .where(ApiToken.id == token_id)
        .options(selectinload(ApiToken.user))
        .execution_options(populate_existing=True)
    )
    if token is None:
        raise NotFound(detail=f"No API token {token_id}.")
    return token


def revoke_token(session: Session, *, actor: Actor, now: datetime, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = now
        record(
            session,
            actor=actor,
            action="token.revoke",
            entity_type="api_token",
            entity_id=token.id,
            at=now,
        )


def principal_from_token(
    session: Session, *, secret: str, now: datetime, request_id: str | None = None
) -> Principal:
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(secret))
    ).first()
    if row is None:
        raise NotAuthenticated(detail="The API token is not valid.")
    token, user = row
    if token.revoked_at is not None:
        raise NotAuthenticated(detail="The API token has been revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise NotAuthenticated(detail="The API token has expired.")
    if not user.is_active:
        raise NotAuthenticated(detail="The account behind this token is deactivated.")
    # Writing last_used_at on every request would turn each read into a write; a minute is enough.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return Principal(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        permissions=permissions_for(user.role, token.scopes),
        via=f"token:{token.id}",
        token_id=token.id,
        request_id=request_id,
    )


# --- web sessions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    session: WebSession
    secret: str


def sign_in(
    session: Session,
    *,
    now: datetime,
    email: str,
    password: str,
    ttl: timedelta,
    user_agent: str = "",
) -> SignIn:
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        # One message for every case, so sign-in does not reveal which emails exist.
        raise NotAuthenticated(detail="Email or password is incorrect.")
    secret = secrets.token_urlsafe(32)
    web_session = WebSession(
        user_id=user.id,
        token_hash=digest(secret),
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + ttl,
        user_agent=user_agent[:400],
    )
    session.add(web_session)
    session.flush()
    record(
        session,
        actor=Actor(user_id=user.id, label=f"{user.name} <{user.email}>", via="session"),
        action="session.sign_in",
        entity_type="user",
        entity_id=user.id,
        at=now,
    )
    return SignIn(session=web_session, secret=secret)


def principal_from_session(
    session: Session, *, secret: str, now: datetime, request_id: str | None = None
) -> tuple[Principal, WebSession]:
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == digest(secret))
    ).first()
    if row is None or row[0].expires_at <= now or not row[1].is_active:
        raise NotAuthenticated(detail="Your session has ended; please sign in again.")
    web_session, user = row
    principal = Principal(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        permissions=permissions_for(user.role),
        via="session",
        session_id=web_session.id,
        request_id=request_id,
    )
    return principal, web_session


def sign_out(session: Session, *, actor: Actor, now: datetime, web_session_id: int) -> None:
    web_session = session.get(WebSession, web_session_id)
    if web_session is not None:
        session.delete(web_session)
        record(
            session,
            actor=actor,
            action="session.sign_out",
            entity_type="user",
            entity_id=web_session.user_id,
            at=now,
        )
