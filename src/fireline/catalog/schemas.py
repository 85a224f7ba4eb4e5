"""What the services API takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, UrlConstraints

from fireline.models import Service

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=100)]
Tier = Annotated[int, Field(ge=1, le=3, description="1 is the most critical.")]
RunbookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)]  # the column's width


class ServiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    slug: Slug | None = Field(default=None, description="Derived from the name when omitted.")
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    owner_team: str | None = Field(default=None, description="Team slug or id.")
    tier: Tier = 2
    runbook_url: RunbookUrl | None = None


class ServiceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    owner_team: str | None = None
    tier: Tier | None = None
    runbook_url: RunbookUrl | None = None


class TeamSummary(BaseModel):
    id: int
    slug: str
    name: str


class ServiceOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    owner_team: TeamSummary | None
    tier: int
    runbook_url: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, service: Service) -> ServiceOut:
        """The service as the API shows it (its owner team must be loaded)."""
        team = service.owner_team
        return cls(
            id=service.id,
            slug=service.slug,
            name=service.name,
            description=service.description,
            owner_team=TeamSummary(id=team.id, slug=team.slug, name=team.name) if team else None,
            tier=service.tier,
            runbook_url=service.runbook_url,
            created_at=service.created_at,
            updated_at=service.updated_at,
        )
