"""The people a schedule or policy names: found by id or email, and only while active."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fireline.accounts.service import parse_id
from fireline.errors import InvalidInput
from fireline.models import User


def resolve_user(session: Session, ref: int | str, *, field: str) -> User:
    """An active user by id or email (case-insensitive); InvalidInput naming `field` otherwise."""
    text = str(ref).strip()
    user_id = parse_id(text)
    if user_id is not None:
        user = session.get(User, user_id)
    else:
        user = session.scalar(select(User).where(func.lower(User.email) == text.lower()))
    if user is None:
        raise InvalidInput.on(field, f"no user '{ref}'")
    if not user.is_active:
        raise InvalidInput.on(field, f"{user.email} is deactivated")
    return user


def users_by_id(session: Session, ids: Iterable[int]) -> dict[int, User]:
    """The users with those ids, keyed by id, in one query."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(wanted)))}
