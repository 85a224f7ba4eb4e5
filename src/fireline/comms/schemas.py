"""What the status page admin API takes and returns: pages, component groups, components and
update templates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fireline.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    PublicStatus,
    StatusPage,
    UpdateTemplate,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=5000)]
Slug = Annotated[
    str,
    Field(
        min_length=1,
        max_length=60,
        description="Lowercase letters, digits and hyphens; the page is at /status/{slug}. "
        "Words the status site uses itself (api, history, incidents, subscribe, …) are refused.",
    ),
]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2000), Field(description="http(s)")
]
TimeZone = Annotated[str, Field(min_length=1, max_length=60, description="IANA, e.g. Europe/Paris")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=16)]
Position = Annotated[int, Field(ge=0, le=1_000_000, description="Lower shows first.")]
ServiceId = Annotated[int, Field(description="A catalog service's id.")]
Audience = Literal["public", "internal"]


# --- Pages -----------------------------------------------------------------------------------


class StatusPageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Slug
    name: Name
    description: Text = ""
    homepage_url: Url = ""
    support_url: Url = ""
    time_zone: TimeZone = "Etc/UTC"
    is_default: bool = Field(default=False, description="Serve this page at /status instead.")


class StatusPageUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Text | None = None
    homepage_url: Url | None = None
    support_url: Url | None = None
    time_zone: TimeZone | None = None
    is_default: bool | None = Field(
        default=None, description="true moves the default flag here from the current default."
    )


class StatusPageOut(BaseModel):
    code: str
    slug: str
    name: str
    description: str
    homepage_url: str
    support_url: str
    time_zone: str
    is_default: bool
    version: int = Field(description="Raised by every change readers of the page can see.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, page: StatusPage) -> StatusPageOut:
        return cls(
            code=page.code,
            slug=page.slug,
            name=page.name,
            description=page.description,
            homepage_url=page.homepage_url,
            support_url=page.support_url,
            time_zone=page.time_zone,
            is_default=page.is_default,
            version=page.version,
            created_at=page.created_at,
            updated_at=page.updated_at,
        )


# --- Component groups ------------------------------------------------------------------------


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Text = ""
    position: Position | None = Field(default=None, description="Last when omitted.")


class GroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Text | None = None
    position: Position | None = None


class GroupOut(BaseModel):
    code: str
    name: str
    description: str
    position: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, group: ComponentGroup) -> GroupOut:
        return cls(
            code=group.code,
            name=group.name,
            description=group.description,
            position=group.position,
            created_at=group.created_at,
            updated_at=group.updated_at,
        )


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codes: list[Code] = Field(max_length=1000, description="Every item's code, in page order.")


# --- Components ------------------------------------------------------------------------------


class ComponentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Text = ""
    group: Code | None = Field(default=None, description="A group of the same page, by code.")
    service_id: ServiceId | None = Field(default=None, description="The service it stands for.")
    position: Position | None = Field(default=None, description="Last when omitted.")
    showcase: bool = Field(default=True, description="Show its uptime bars.")
    only_show_if_degraded: bool = False
    status: ComponentStatus = ComponentStatus.OPERATIONAL


class ComponentUpdate(BaseModel):
    """Changes to a component. Its status changes through PUT …/status instead."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Text | None = None
    group: Code | None = Field(default=None, description="null takes it out of its group.")
    service_id: ServiceId | None = Field(default=None, description="null unlinks the service.")
    position: Position | None = None
    showcase: bool | None = None
    only_show_if_degraded: bool | None = None


class ComponentStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ComponentStatus


class GroupRef(BaseModel):
    code: str
    name: str


class ServiceRef(BaseModel):
    id: int
    slug: str
    name: str


class ComponentOut(BaseModel):
    code: str
    name: str
    description: str
    status: ComponentStatus
    group: GroupRef | None
    service: ServiceRef | None
    position: int
    showcase: bool
    only_show_if_degraded: bool
    started_at: datetime = Field(description="Uptime is counted from here.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, component: Component) -> ComponentOut:
        """The component as the API shows it (its group and service must be loaded)."""
        group, service = component.group, component.service
        return cls(
            code=component.code,
            name=component.name,
            description=component.description,
            status=ComponentStatus(component.status),
            group=GroupRef(code=group.code, name=group.name) if group is not None else None,
            service=(
                ServiceRef(id=service.id, slug=service.slug, name=service.name)
                if service is not None
                else None
            ),
            position=component.position,
            showcase=component.showcase,
            only_show_if_degraded=component.only_show_if_degraded,
            started_at=component.started_at,
            created_at=component.created_at,
            updated_at=component.updated_at,
        )


# --- Update templates ------------------------------------------------------------------------

TemplatePart = Annotated[
    str,
    StringConstraints(max_length=5000),
    Field(description="May use {components} and {next_update}."),
]


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    audience: Audience
    status: PublicStatus | None = Field(default=None, description="The status it suits; any.")
    current_impact: TemplatePart = ""
    doing_now: TemplatePart = ""
    users_should: TemplatePart = ""


class TemplateUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    audience: Audience | None = None
    status: PublicStatus | None = Field(default=None, description="null: suits any status.")
    current_impact: TemplatePart | None = None
    doing_now: TemplatePart | None = None
    users_should: TemplatePart | None = None


class TemplateOut(BaseModel):
    id: int
    name: str
    audience: Audience
    status: PublicStatus | None
    current_impact: str
    doing_now: str
    users_should: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, template: UpdateTemplate) -> TemplateOut:
        return cls(
            id=template.id,
            name=template.name,
            audience="internal" if template.audience == "internal" else "public",
            status=PublicStatus(template.status) if template.status else None,
            current_impact=template.current_impact,
            doing_now=template.doing_now,
            users_should=template.users_should,
            created_at=template.created_at,
            updated_at=template.updated_at,
        )
