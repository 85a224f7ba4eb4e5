"""What the playbook API takes and returns: playbooks, their attachments and an incident's tasks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from fireline.incidents.schemas import Instant, UserSummary
from fireline.models import IncidentPlaybook, IncidentTask, Playbook
from fireline.response.conditions import Conditions

MAX_TASKS = 200  # per playbook: the default has 18; more is a runbook, not a checklist
MAX_DUE_MINUTES = 10_080  # a week after declaration


def _no_nul(value: str) -> str:
    # PostgreSQL stores no NUL character in text or JSON; refuse it as the field's fault.
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9-]{1,100}$"),
    Field(description="Lowercase letters, digits and hyphens, e.g. major-incident."),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_nul),
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=5_000), AfterValidator(_no_nul)
]
TaskTitle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(_no_nul),
]
Phase = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(_no_nul)
]
Note = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2_000), AfterValidator(_no_nul)
]
# The single-holder incident roles (fireline.models.SINGLE_HOLDER_ROLES): one person owns a task.
OwnerRole = Literal["commander", "tech_lead", "comms_lead", "scribe"]
DueMinutes = Annotated[int, Field(ge=0, le=MAX_DUE_MINUTES)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskTemplate(Strict):
    """One item of a playbook's checklist, copied onto each incident it is attached to."""

    title: TaskTitle
    phase: Phase = Field(default="", description="e.g. '0-5 min: declare and mobilise'.")
    owner_role: OwnerRole | None = Field(default=None, description="Who does it.")
    due_minutes: DueMinutes | None = Field(
        default=None, description="Due this many minutes after the incident was declared."
    )


Tasks = Annotated[list[TaskTemplate], Field(min_length=1, max_length=MAX_TASKS)]


class PlaybookCreate(Strict):
    slug: Slug
    name: Name
    description: Description = ""
    conditions: Conditions = Field(
        default_factory=Conditions,
        description="Which declared incidents get it; none given means every one.",
    )
    tasks: Tasks
    enabled: bool = Field(default=True, description="Attached by its conditions when enabled.")


class PlaybookUpdate(Strict):
    """What to change; fields left out (or null) stay as they are. New tasks apply to incidents
    the playbook is attached to from now on: attached checklists are copies."""

    name: Name | None = None
    description: Description | None = None
    conditions: Conditions | None = None
    tasks: Tasks | None = None
    enabled: bool | None = None


class PlaybookOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    conditions: dict[str, Any]
    tasks: list[TaskTemplate]
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, playbook: Playbook) -> PlaybookOut:
        return cls(
            id=playbook.id,
            slug=playbook.slug,
            name=playbook.name,
            description=playbook.description,
            conditions=playbook.conditions,
            tasks=[TaskTemplate.model_validate(task) for task in playbook.tasks],
            enabled=playbook.enabled,
            created_at=playbook.created_at,
            updated_at=playbook.updated_at,
        )


class PlaybookAttach(Strict):
    playbook: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    reason: Note = ""


class AttachedPlaybookOut(BaseModel):
    """A playbook attached to an incident, with how far its checklist has got."""

    playbook: str
    name: str
    reason: str
    attached_at: datetime
    tasks: int
    done: int

    @classmethod
    def of(cls, attachment: IncidentPlaybook, *, tasks: int, done: int) -> AttachedPlaybookOut:
        return cls(
            playbook=attachment.playbook.slug,
            name=attachment.playbook.name,
            reason=attachment.reason,
            attached_at=attachment.attached_at,
            tasks=tasks,
            done=done,
        )


class TaskState(StrEnum):
    OPEN = "open"
    OVERDUE = "overdue"  # not done, and its due time has come
    DONE = "done"


class TaskCreate(Strict):
    title: TaskTitle
    phase: Phase = ""
    owner_role: OwnerRole | None = None
    due_at: Instant | None = Field(default=None, description="Must be in the future.")


class TaskNote(Strict):
    note: Note = Field(default="", description="Shown on the timeline.")


class TaskOut(BaseModel):
    id: int
    position: int
    title: str
    phase: str
    owner_role: str | None
    playbook: str | None = Field(description="The playbook it came from; null if added by hand.")
    due_at: datetime | None
    state: TaskState = Field(description="open, overdue or done, now.")
    late: bool = Field(description="Done after it was due.")
    done_at: datetime | None
    done_by: UserSummary | None
    note: str
    created_at: datetime

    @classmethod
    def of(
        cls, task: IncidentTask, *, state: TaskState, late: bool, playbook: str | None
    ) -> TaskOut:
        """The task as the API shows it; its done_by must be loaded."""
        return cls(
            id=task.id,
            position=task.position,
            title=task.title,
            phase=task.phase,
            owner_role=task.owner_role,
            playbook=playbook,
            due_at=task.due_at,
            state=state,
            late=late,
            done_at=task.done_at,
            done_by=UserSummary.of(task.done_by),
            note=task.note,
            created_at=task.created_at,
        )
