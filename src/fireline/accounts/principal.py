"""Who is acting: a signed-in person, a token, the CLI on the server, or Fireline itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from fireline.accounts.permissions import Permission
from fireline.errors import Forbidden


@dataclass(frozen=True)
class Actor:
    """What the audit log and timeline record as the author of a change."""

    user_id: int | None
    label: str
    via: str
    request_id: str | None = None

    @classmethod
    def system(cls, via: str = "system") -> Actor:
        return cls(user_id=None, label="Fireline", via=via)


@dataclass(frozen=True)
class Principal:
    user_id: int
    email: str
    name: str
    role: str
    permissions: frozenset[Permission]
    via: str
    token_id: int | None = None
    session_id: int | None = None
    request_id: str | None = field(default=None, compare=False)

    @property
    def actor(self) -> Actor:
        return Actor(
            user_id=self.user_id,
            label=f"{self.name} <{self.email}>",
            via=self.via,
            request_id=self.request_id,
        )

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise Forbidden(
                detail=f"This action needs the '{permission}' permission, which your "
                f"{'token' if self.token_id else 'role'} ({self.role}) does not grant."
            )
