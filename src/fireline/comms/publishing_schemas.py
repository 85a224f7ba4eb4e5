"""What the publishing API takes and returns: public incidents, their updates and report, and
scheduled maintenance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fireline.comms.publishing import PublicParts
from fireline.incidents.schemas import Instant
from fireline.models import ComponentStatus, PublicIncident, PublicUpdate, StatusPage
from fireline.response.schemas import StatusUpdateCreate, UpdateText

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ComponentCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16, pattern=r"^\w+$")
]
ReportText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
]
ComponentChanges = Annotated[
    dict[ComponentCode, ComponentStatus],
    Field(
        max_length=200,
        description='Component code → its new status: {"3f9a0c1d2e4b": "major_outage"}.',
    ),
]
OpenStatus = Literal["investigating", "identified", "monitoring"]
IncidentImpact = Literal["none", "minor", "major", "critical"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartsIn(Strict):
    """The four parts of a public update."""

    current_impact: UpdateText = Field(description="Who is affected, and how, right now.")
    doing_now: UpdateText = Field(description="What we are doing about it.")
    users_should: UpdateText = Field(description="What users should do meanwhile.")
    next_update_at: Instant | None = Field(
        default=None, description="When the next update will come; must be in the future."
    )

    def parts(self) -> PublicParts:
        return PublicParts(
            current_impact=self.current_impact,
            doing_now=self.doing_now,
            users_should=self.users_should,
            next_update_at=self.next_update_at,
        )


class PublicIncidentCreate(PartsIn):
    name: Name = Field(description="The public title, in customers' words.")
    incident: Annotated[str, StringConstraints(max_length=30)] | None = Field(
        default=None, description="The internal incident it is published from, e.g. INC-12."
    )
    status: OpenStatus = "investigating"
    components: ComponentChanges = {}
    impact: IncidentImpact | None = Field(
        default=None, description="Derived from the components' statuses when left out."
    )
    started_at: Instant | None = Field(
        default=None, description="When impact began; the internal incident's by default."
    )


class PublicUpdateCreate(PartsIn):
    status: OpenStatus | Literal["postmortem"]
    components: ComponentChanges = {}
    impact: IncidentImpact | None = None


class ResolveCreate(Strict):
    """The closing update: what happened, when it started and ended, what was done."""

    what_happened: UpdateText
    what_was_done: UpdateText
    started_at: Instant | None = Field(default=None, description="The incident's start by default.")
    ended_at: Instant | None = Field(default=None, description="Now by default.")


class ReportIn(Strict):
    """The public post-incident report; plain language, no jargon, no blame."""

    apology: ReportText
    summary: ReportText
    impact: ReportText
    root_cause: ReportText
    what_was_done: ReportText
    prevention: ReportText


class MaintenanceCreate(PartsIn):
    name: Name
    scheduled_for: Instant
    scheduled_until: Instant
    components: list[ComponentCode] = Field(default=[], max_length=200)
    auto_transition: bool = Field(
        default=True, description="Start and complete it at the window's edges."
    )
    remind_minutes: Annotated[int, Field(ge=1, le=10_080)] | None = Field(
        default=60, description="Remind subscribers this long before it starts; null: never."
    )


class MaintenanceChange(Strict):
    """Rename, reschedule, change the reminder or transitions; or cancel with a reason."""

    name: Name | None = None
    scheduled_for: Instant | None = None
    scheduled_until: Instant | None = None
    remind_minutes: Annotated[int, Field(ge=1, le=10_080)] | None = None
    auto_transition: bool | None = None
    cancel_reason: UpdateText | None = Field(
        default=None, description="Cancel the maintenance, telling readers why."
    )


class MaintenanceUpdateCreate(PartsIn):
    status: Literal["scheduled", "in_progress", "verifying", "completed"] | None = None


class PublicStatusUpdateCreate(StatusUpdateCreate):
    """A status update on an internal incident; a public one is also posted to its published
    public incident, moving it to `status` when given."""

    status: OpenStatus | None = Field(
        default=None, description="The public incident's new status (public updates only)."
    )


class AffectedComponentOut(BaseModel):
    code: str
    name: str
    old_status: str
    new_status: str


class PublicUpdateOut(BaseModel):
    code: str
    status: str
    body: str
    parts: dict[str, Any]
    closing: bool
    affected_components: list[AffectedComponentOut]
    display_at: datetime
    created_at: datetime
    timeline_entry_id: int | None

    @classmethod
    def of(cls, update: PublicUpdate) -> PublicUpdateOut:
        return cls(
            code=update.code,
            status=update.status,
            body=update.body,
            parts=update.parts,
            closing=update.closing,
            affected_components=[
                AffectedComponentOut.model_validate(each) for each in update.affected_components
            ],
            display_at=update.display_at,
            created_at=update.created_at,
            timeline_entry_id=update.timeline_entry_id,
        )


class ComponentRefOut(BaseModel):
    code: str
    name: str
    status: str


class PublicIncidentOut(BaseModel):
    code: str
    page: str
    kind: str
    name: str
    status: str
    impact: str
    incident: str | None
    started_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    scheduled_for: datetime | None
    scheduled_until: datetime | None
    auto_transition: bool
    remind_minutes: int | None
    reminded_at: datetime | None
    report: dict[str, Any] | None
    report_published_at: datetime | None
    components: list[ComponentRefOut]
    updates: list[PublicUpdateOut]
    created_at: datetime
    updated_at: datetime
    warnings: list[str] = Field(
        default=[], description="Wording to reconsider, e.g. guesses about the cause; never blocks."
    )

    @classmethod
    def of(
        cls,
        public_incident: PublicIncident,
        *,
        page: StatusPage,
        components: list[ComponentRefOut],
        updates: list[PublicUpdate],
        warnings: list[str] | None = None,
    ) -> PublicIncidentOut:
        incident_id = public_incident.incident_id
        return cls(
            code=public_incident.code,
            page=page.slug,
            kind=public_incident.kind,
            name=public_incident.name,
            status=public_incident.status,
            impact=public_incident.impact,
            incident=None if incident_id is None else f"INC-{incident_id}",
            started_at=public_incident.started_at,
            monitoring_at=public_incident.monitoring_at,
            resolved_at=public_incident.resolved_at,
            scheduled_for=public_incident.scheduled_for,
            scheduled_until=public_incident.scheduled_until,
            auto_transition=public_incident.auto_transition,
            remind_minutes=public_incident.remind_minutes,
            reminded_at=public_incident.reminded_at,
            report=public_incident.report or None,
            report_published_at=public_incident.report_published_at,
            components=components,
            updates=[PublicUpdateOut.of(update) for update in updates],
            created_at=public_incident.created_at,
            updated_at=public_incident.updated_at,
            warnings=warnings or [],
        )


class PublicUpdateCreated(BaseModel):
    """The update posted, its public incident as it now stands, and any wording warnings."""

    update: PublicUpdateOut
    public_incident: PublicIncidentOut
    warnings: list[str]
