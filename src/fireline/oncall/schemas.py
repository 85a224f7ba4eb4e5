"""What the on-call API takes and returns: schedules, layers, shifts, overrides, policies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from fireline.accounts.service import MAX_ID
from fireline.models import Team, User
from fireline.oncall.rotation import Shift


def _in_utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=100)]
Description = Annotated[str, StringConstraints(max_length=5000)]
TimeZone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
# A user by id, or by email (case-insensitive).
UserRef = Annotated[int | str, Field(description="A user id or email.")]
ShiftUnit = Literal["hours", "days", "weeks"]
Priority = Annotated[int, Field(ge=1, le=1000)]
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]  # a path id a table can hold


class RestrictionIn(BaseModel):
    """A window of local time the layer is on call in; outside every window it covers nobody."""

    model_config = ConfigDict(extra="forbid")

    weekday: Annotated[int, Field(ge=0, le=6)] | None = Field(
        default=None, description="0 is Monday; null repeats the window every day."
    )
    start_time: Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = (
        Field(description="Local wall-clock time the window opens, HH:MM.")
    )
    minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = Field(
        description="How long the window lasts (a daily window: at most 1440)."
    )


class LayerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    members: list[UserRef] = Field(description="Who takes turns, in order: user ids or emails.")
    shift_length: Annotated[int, Field(ge=1)] = 1
    shift_unit: ShiftUnit = "weeks"
    rotation_start: Instant = Field(
        description="The first hand-off; its local time in `timezone` is every hand-off's time."
    )
    timezone: TimeZone = Field(description="IANA time zone of the hand-offs, e.g. Europe/Berlin.")
    restrictions: list[RestrictionIn] = Field(default_factory=list)
    ends_at: Instant | None = None
    priority: Priority | None = Field(
        default=None, description="Higher wins where layers overlap; default: above the others."
    )


class LayerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    members: list[UserRef] | None = None
    shift_length: Annotated[int, Field(ge=1)] | None = None
    shift_unit: ShiftUnit | None = None
    rotation_start: Instant | None = None
    timezone: TimeZone | None = None
    restrictions: list[RestrictionIn] | None = None
    ends_at: Instant | None = None
    priority: Priority | None = None


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    slug: Slug | None = Field(default=None, description="Derived from the name when omitted.")
    description: Description = ""
    timezone: TimeZone = Field(default="UTC", description="The time zone people read it in.")
    team: str | None = Field(default=None, description="Team slug or id.")
    layers: list[LayerCreate] = Field(default_factory=list)


class ScheduleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    timezone: TimeZone | None = None
    team: str | None = None


class OverrideCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: UserRef
    start: Instant
    end: Instant
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""


class UserSummary(BaseModel):
    id: int
    name: str
    email: str
    active: bool

    @classmethod
    def of(cls, user: User) -> UserSummary:
        return cls(id=user.id, name=user.name, email=user.email, active=user.is_active)


class TeamSummary(BaseModel):
    id: int
    slug: str
    name: str

    @classmethod
    def of(cls, team: Team | None) -> TeamSummary | None:
        return None if team is None else cls(id=team.id, slug=team.slug, name=team.name)


class ScheduleSummary(BaseModel):
    id: int
    slug: str
    name: str


class ShiftOut(BaseModel):
    """A stretch of time one person is on call."""

    user: UserSummary
    start: datetime
    end: datetime
    source: Literal["layer", "override"]
    layer_id: int | None
    override_id: int | None

    @classmethod
    def of(cls, shift: Shift, user: User) -> ShiftOut:
        return cls(
            user=UserSummary.of(user),
            start=shift.start,
            end=shift.end,
            source="override" if shift.layer_id is None else "layer",
            layer_id=shift.layer_id,
            override_id=shift.override_id,
        )


class Gap(BaseModel):
    start: datetime
    end: datetime


class ShiftsOut(BaseModel):
    start: datetime
    end: datetime
    shifts: list[ShiftOut]
    gaps: list[Gap] = Field(description="Stretches of the range nobody covers.")


class RestrictionOut(BaseModel):
    weekday: int | None
    start_time: str
    minutes: int


class LayerOut(BaseModel):
    id: int
    name: str
    priority: int
    members: list[UserSummary]
    shift_length: int
    shift_unit: str
    rotation_start: datetime
    timezone: str
    restrictions: list[RestrictionOut]
    ends_at: datetime | None


class ScheduleOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    timezone: str
    team: TeamSummary | None
    layers: list[LayerOut] = Field(description="Highest priority first.")
    on_call_now: ShiftOut | None
    created_at: datetime
    updated_at: datetime


class OverrideOut(BaseModel):
    id: int
    schedule_id: int
    user: UserSummary
    start: datetime
    end: datetime
    reason: str
    created_by_id: int | None
    created_at: datetime


class ScheduleOnCallOut(ScheduleSummary):
    on_call: ShiftOut | None


class PolicyOnCallOut(BaseModel):
    id: int
    name: str
    level_1: list[UserSummary] = Field(description="Who the first level pages at that instant.")


class OnCallOut(BaseModel):
    at: datetime
    schedules: list[ScheduleOnCallOut]
    escalation_policies: list[PolicyOnCallOut]


class RoleScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: int | str = Field(description="Schedule id or slug.")


class RoleScheduleOut(BaseModel):
    role: str
    schedule: ScheduleSummary
    on_call_now: UserSummary | None
    updated_at: datetime


class CalendarLink(BaseModel):
    url: str | None = Field(
        description="A secret iCalendar URL; anyone holding it can read the shifts."
    )


class TargetIn(BaseModel):
    """Someone a level pages: a user (by id or email) or a schedule's on-call (by id or slug)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["user", "schedule"]
    id: int | None = None
    email: str | None = Field(default=None, description="For a user.")
    slug: str | None = Field(default=None, description="For a schedule.")


class LevelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay_minutes: Annotated[int, Field(ge=1, le=1440)] = Field(
        description="Minutes without acknowledgement before the next level is paged."
    )
    targets: list[TargetIn]


class PolicyIn(BaseModel):
    """A whole policy; PUT replaces every field and every level with these."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description = ""
    team: str | None = Field(default=None, description="Team slug or id.")
    repeat: Annotated[int, Field(ge=0, le=9)] = Field(
        default=0, description="How many more times the policy runs after its last level."
    )
    levels: list[LevelIn]


class PolicyPatch(BaseModel):
    """Only the fields given change; `levels`, when given, replaces every level."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    team: str | None = None
    repeat: Annotated[int, Field(ge=0, le=9)] | None = None
    levels: list[LevelIn] | None = None


class PolicyServicesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    services: list[str] = Field(
        description="Slugs or ids of every service this policy pages for; others are unset."
    )


class TargetOut(BaseModel):
    type: Literal["user", "schedule"]
    id: int
    name: str
    email: str | None = None
    slug: str | None = None


class LevelOut(BaseModel):
    position: int
    delay_minutes: int
    targets: list[TargetOut]


class ServiceSummary(BaseModel):
    id: int
    slug: str
    name: str


class PolicyOut(BaseModel):
    id: int
    name: str
    description: str
    team: TeamSummary | None
    repeat: int
    levels: list[LevelOut]
    services: list[ServiceSummary]
    created_at: datetime
    updated_at: datetime


class LevelOnCallOut(BaseModel):
    position: int
    delay_minutes: int
    users: list[UserSummary] = Field(description="Who this level pages at that instant.")


class PolicyOnCallAt(BaseModel):
    id: int
    name: str
    at: datetime
    levels: list[LevelOnCallOut]
