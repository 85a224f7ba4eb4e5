"""Automation rules as the API takes and returns them, and their actions as stored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, model_validator

from fireline.models import AutomationRule
from fireline.response.conditions import Conditions
from fireline.response.triggers import Trigger

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
RoleName = Literal["commander", "tech_lead", "comms_lead", "scribe", "owner", "escalate_to"]
MAX_DELAY_SECONDS = 7 * 24 * 3600


class Recipient(BaseModel):
    """Exactly one of: a user (id or email), an incident role (`owner` and `escalate_to` mean
    the obligation's owner and escalation role on obligation triggers), a team (slug), a
    channel (name), or the teams owning the incident's services."""

    model_config = ConfigDict(extra="forbid")

    user: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None
    role: RoleName | None = None
    team: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None
    channel: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True)] | None = None
    service_owners: bool | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Recipient:
        given = [name for name, value in self if value not in (None, False)]
        if len(given) != 1:
            raise ValueError("give exactly one of user, role, team, channel or service_owners")
        return self


class NotifyAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["notify"]
    to: Recipient
    exec_notice: bool = Field(
        default=False,
        description="This notice is the exec notice a major incident owes: sending it meets "
        "that obligation.",
    )


class AttachPlaybookAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["attach_playbook"]
    playbook: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class WebhookAction(BaseModel):
    """POST the event as signed JSON to a webhook channel."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["webhook"]
    channel: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True)]


class NoteAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["note"]
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


Action = Annotated[
    NotifyAction | AttachPlaybookAction | WebhookAction | NoteAction, Field(discriminator="type")
]
ACTIONS: TypeAdapter[list[Action]] = TypeAdapter(list[Action])


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    triggers: list[Trigger] = Field(min_length=1)
    conditions: Conditions = Field(default_factory=Conditions)
    actions: list[Action] = Field(min_length=1, max_length=20)
    delay_seconds: int = Field(default=0, ge=0, le=MAX_DELAY_SECONDS)
    once_per_incident: bool = False
    enabled: bool = True


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    triggers: list[Trigger] | None = Field(default=None, min_length=1)
    conditions: Conditions | None = None
    actions: list[Action] | None = Field(default=None, min_length=1, max_length=20)
    delay_seconds: int | None = Field(default=None, ge=0, le=MAX_DELAY_SECONDS)
    once_per_incident: bool | None = None
    enabled: bool | None = None


class RuleOut(BaseModel):
    id: int
    name: str
    description: str
    triggers: list[str]
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    delay_seconds: int
    once_per_incident: bool
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rule: AutomationRule) -> RuleOut:
        return cls(
            id=rule.id,
            name=rule.name,
            description=rule.description,
            triggers=list(rule.triggers),
            conditions=dict(rule.conditions),
            actions=[dict(action) for action in rule.actions],
            delay_seconds=rule.delay_seconds,
            once_per_incident=rule.once_per_incident,
            enabled=rule.enabled,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
        )


class RunOut(BaseModel):
    id: int
    rule_id: int
    incident: str | None
    trigger: str
    ran_at: datetime
    outcome: dict[str, Any]
