"""Audiences, stakeholder updates and the support macro as the API takes and returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fireline.comms.macro import Macro
from fireline.comms.stakeholders import StakeholderUpdateResult
from fireline.models import Audience, AudienceKind

AudienceName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class RecipientIn(BaseModel):
    """An email address, or a webhook or Slack incoming-webhook URL."""

    model_config = ConfigDict(extra="forbid")

    transport: Literal["email", "webhook", "slack"]
    target: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class AudienceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AudienceName
    kind: AudienceKind = Field(
        description="Executives audiences also receive the exec notice of a severity that "
        "requires one, automatically at declaration."
    )
    description: Text = ""
    recipients: list[RecipientIn] = Field(default_factory=list, max_length=200)


class AudienceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AudienceName | None = None
    kind: AudienceKind | None = None
    description: Text | None = None
    recipients: list[RecipientIn] | None = Field(default=None, max_length=200)


class RecipientOut(BaseModel):
    transport: str
    target: str


class AudienceOut(BaseModel):
    id: int
    name: str
    kind: str
    description: str
    recipients: list[RecipientOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, audience: Audience) -> AudienceOut:
        return cls(
            id=audience.id,
            name=audience.name,
            kind=audience.kind,
            description=audience.description,
            recipients=[RecipientOut(**recipient) for recipient in audience.recipients],
            created_at=audience.created_at,
            updated_at=audience.updated_at,
        )


class AudienceCreated(AudienceOut):
    signing_secret: str = Field(
        description="Signs this audience's webhook deliveries (X-Fireline-Signature); shown "
        "only in this answer."
    )


class StakeholderUpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audiences: list[int | AudienceName] = Field(min_length=1, description="Ids or names.")
    current_status: Required
    impact: Required = Field(description="Scope, and the users affected.")
    doing_now: Text | None = None
    next_update_at: datetime | None = None


class AudienceRef(BaseModel):
    id: int
    name: str
    kind: str


class DeliveryRef(BaseModel):
    id: int
    audience: str
    transport: str | None
    target: str
    state: str


class StakeholderUpdateOut(BaseModel):
    incident: str
    entry_id: int
    body: str
    audiences: list[AudienceRef]
    deliveries: list[DeliveryRef]
    exec_notice: bool

    @classmethod
    def of(cls, reference: str, result: StakeholderUpdateResult) -> StakeholderUpdateOut:
        return cls(
            incident=reference,
            entry_id=result.entry.id,
            body=result.entry.body,
            audiences=[AudienceRef(id=a.id, name=a.name, kind=a.kind) for a in result.audiences],
            deliveries=[
                DeliveryRef(
                    id=each.delivery.id,
                    audience=each.audience.name,
                    transport=each.delivery.transport,
                    target=each.delivery.target,
                    state=each.delivery.state,
                )
                for each in result.sent
            ],
            exec_notice=result.exec_notice is not None,
        )


class MacroOut(BaseModel):
    text: str
    url: str

    @classmethod
    def of(cls, macro: Macro) -> MacroOut:
        return cls(text=macro.text, url=macro.url)
