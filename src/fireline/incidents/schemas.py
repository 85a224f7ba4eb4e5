"""What the incident API takes and returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from fireline.incidents.lifecycle import Milestone, Status
from fireline.incidents.severity_assistant import CustomerImpact
from fireline.models import Incident, RoleAssignment, Severity, TimelineEntry, User

SeverityKey = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Text = Annotated[str, StringConstraints(max_length=20_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000)]
IncidentRole = Literal["commander", "tech_lead", "comms_lead", "scribe", "sme"]
ThreadName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
UserRef = Annotated[str | int, Field(description="A user's id or email.")]


def _in_utc(value: datetime) -> datetime:
    # 0001-01-01T00:00+01:00 is a valid timestamp that has no UTC equivalent; refuse it here
    # rather than fail with a 500 when it is compared or stored.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the range of instants that can be stored") from None


# An instant sent by a client: its time zone is required (never guessed) and it is kept in UTC.
Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncidentCreate(Strict):
    title: Title
    severity: SeverityKey = Field(description="SEV1 (critical) to SEV4 (low).")
    summary: Text = ""
    services: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list, max_length=50, description="Service slugs."
    )
    type: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] = (
        "default"
    )
    customer_impact: Text = ""
    resolution_criteria: Text = ""
    status: Literal["triage", "investigating", "identified", "monitoring"] = Field(
        default="investigating",
        description="'triage' reports a suspected incident without declaring it yet.",
    )
    impact_started_at: Instant | None = None
    detected_at: Instant | None = None
    commander: UserRef | None = None


class IncidentUpdate(Strict):
    title: Title | None = None
    summary: Text | None = None
    type: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None
    ) = None
    customer_impact: Text | None = None
    resolution_criteria: Text | None = None
    services: list[Annotated[str, StringConstraints(max_length=100)]] | None = Field(
        default=None, max_length=50
    )
    criteria_met: bool | None = None
    customer_impact_ended: bool | None = None
    postmortem_owner: UserRef | None = None
    postmortem_due_at: Instant | None = None


class StatusChange(Strict):
    status: Status
    note: ShortText = ""


class SeverityChange(Strict):
    severity: SeverityKey
    reason: ShortText = ""


class RoleAssign(Strict):
    role: IncidentRole
    user: UserRef


class ResolveRequest(Strict):
    resolution_criteria: Text | None = None
    criteria_met: bool | None = None
    customer_impact_ended: bool | None = None
    postmortem_owner: UserRef | None = None
    postmortem_due_at: Instant | None = None
    monitoring_waiver_reason: ShortText | None = None
    note: ShortText = ""


class ReasonRequest(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class TimestampsUpdate(Strict):
    """Correct when things happened. Send null to clear a milestone that status does not own."""

    impact_started_at: Instant | None = None
    detected_at: Instant | None = None
    reported_at: Instant | None = None
    acknowledged_at: Instant | None = None


class TimelineEntryCreate(Strict):
    kind: Literal["note", "decision"] = "note"
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
    thread: ThreadName | None = Field(
        default=None, description="Thread name; the command thread by default."
    )
    occurred_at: Instant | None = Field(
        default=None, description="When it happened; now by default."
    )
    pinned: bool = False


class ThreadCreate(Strict):
    name: ThreadName


class PinChange(Strict):
    pinned: bool


class UserSummary(BaseModel):
    id: int
    name: str
    email: str

    @classmethod
    def of(cls, user: User | None) -> UserSummary | None:
        return None if user is None else cls(id=user.id, name=user.name, email=user.email)


class ServiceSummary(BaseModel):
    id: int
    slug: str
    name: str


class RolesOut(BaseModel):
    commander: UserSummary | None = None
    tech_lead: UserSummary | None = None
    comms_lead: UserSummary | None = None
    scribe: UserSummary | None = None
    sme: list[UserSummary] = Field(default_factory=list)


class IncidentOut(BaseModel):
    id: int
    reference: str
    title: str
    summary: str
    severity: str
    is_major: bool
    type: str
    status: Status
    customer_impact: str
    resolution_criteria: str
    criteria_met: bool
    customer_impact_ended: bool
    war_room: str | None
    services: list[ServiceSummary]
    roles: RolesOut
    postmortem_owner: UserSummary | None
    postmortem_due_at: datetime | None
    monitoring_waiver_reason: str | None
    decline_reason: str | None
    impact_started_at: datetime | None
    detected_at: datetime | None
    reported_at: datetime | None
    declared_at: datetime | None
    acknowledged_at: datetime | None
    identified_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, incident: Incident) -> IncidentOut:
        roles = RolesOut()
        for assignment in incident.roles:
            if assignment.ended_at is not None:
                continue
            holder = UserSummary.of(assignment.user)
            if assignment.role == "sme":
                roles.sme.append(holder)  # type: ignore[arg-type]
            else:
                setattr(roles, assignment.role, holder)
        timestamps = {
            milestone.value: getattr(incident, milestone.value) for milestone in Milestone
        }
        return cls(
            id=incident.id,
            reference=incident.reference,
            title=incident.title,
            summary=incident.summary,
            severity=incident.severity.key,
            is_major=incident.severity.is_major,
            type=incident.type,
            status=Status(incident.status),
            customer_impact=incident.customer_impact,
            resolution_criteria=incident.resolution_criteria,
            criteria_met=incident.criteria_met,
            customer_impact_ended=incident.customer_impact_ended,
            war_room=incident.war_room or None,
            services=[
                ServiceSummary(id=service.id, slug=service.slug, name=service.name)
                for service in incident.services
            ],
            roles=roles,
            postmortem_owner=UserSummary.of(incident.postmortem_owner),
            postmortem_due_at=incident.postmortem_due_at,
            monitoring_waiver_reason=incident.monitoring_waiver_reason,
            decline_reason=incident.decline_reason,
            created_at=incident.created_at,
            updated_at=incident.updated_at,
            **timestamps,
        )


class RoleAssignmentOut(BaseModel):
    id: int
    role: str
    user: UserSummary
    assigned_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, assignment: RoleAssignment) -> RoleAssignmentOut:
        user = UserSummary.of(assignment.user)
        assert user is not None  # noqa: S101 - a role is always held by someone
        return cls(
            id=assignment.id,
            role=assignment.role,
            user=user,
            assigned_at=assignment.assigned_at,
            ended_at=assignment.ended_at,
        )


class ThreadOut(BaseModel):
    id: int
    name: str
    is_command: bool
    created_at: datetime


class TimelineEntryOut(BaseModel):
    id: int
    kind: str
    body: str
    details: dict[str, Any]
    thread: str
    author: UserSummary | None
    occurred_at: datetime
    created_at: datetime
    pinned: bool

    @classmethod
    def of(cls, entry: TimelineEntry) -> TimelineEntryOut:
        return cls(
            id=entry.id,
            kind=entry.kind,
            body=entry.body,
            details=entry.details,
            thread=entry.thread.name,
            author=UserSummary.of(entry.author),
            occurred_at=entry.occurred_at,
            created_at=entry.created_at,
            pinned=entry.pinned,
        )


class ResolutionCheck(BaseModel):
    resolvable: bool
    blockers: list[dict[str, str]]


class SeverityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    level: int
    name: str
    description: str
    is_major: bool
    paging: str
    first_update_minutes: int | None
    update_cadence_minutes: int | None
    exec_notice: bool
    postmortem: Literal["required", "optional", "none"]
    postmortem_meeting_business_days: int | None
    public_summary_hours: int | None
    monitoring_minutes: int

    @classmethod
    def of(cls, severity: Severity) -> SeverityOut:
        return cls.model_validate(severity)


PositiveMinutes = Annotated[int, Field(ge=1, le=10_080)]


class SeverityUpdate(Strict):
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    description: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
        | None
    ) = None
    is_major: bool | None = None
    paging: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    first_update_minutes: PositiveMinutes | None = None
    update_cadence_minutes: PositiveMinutes | None = None
    exec_notice: bool | None = None
    postmortem: Literal["required", "optional", "none"] | None = None
    postmortem_meeting_business_days: Annotated[int, Field(ge=1, le=60)] | None = None
    public_summary_hours: Annotated[int, Field(ge=1, le=720)] | None = None
    monitoring_minutes: Annotated[int, Field(ge=0, le=10_080)] | None = None


class SeverityAssessment(Strict):
    customer_impact: CustomerImpact = Field(description="all_or_most, subset, few or none.")
    core_functionality_unavailable: bool = False
    revenue_impact: bool = False
    security_or_data_loss: bool = False
    workaround_available: bool = False


class SeverityProposalOut(BaseModel):
    severity: str
    reasons: list[str]
    summary: str
