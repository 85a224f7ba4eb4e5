"""What the accounts API takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from fireline.models import Role

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
    password: Password


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(
        description="Send as X-CSRF-Token on writes made with the session cookie."
    )
    expires_at: datetime


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime


class MeOut(UserOut):
    permissions: list[str]


class UserCreate(Strict):
    email: EmailStr
    name: Name
    role: Role = Role.RESPONDER
    password: Password | None = Field(default=None, description="At least 10 characters.")


class UserUpdate(Strict):
    name: Name | None = None
    role: Role | None = None
    is_active: bool | None = None
    password: Password | None = None


class TeamCreate(Strict):
    name: Name
    description: Annotated[str, StringConstraints(max_length=2000)] = ""


class TeamMembers(Strict):
    user_ids: list[int] = Field(max_length=1000)


class TeamOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    members: list[UserOut]


class TokenCreate(Strict):
    name: Name
    scopes: list[str] | None = Field(
        default=None, description="Permissions to grant; all of yours when omitted."
    )
    expires_at: datetime | None = None
    user: str | None = Field(default=None, description="Admins may create tokens for another user.")


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    user_email: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class IssuedTokenOut(TokenOut):
    token: str = Field(description="The secret. Shown once; store it now.")
