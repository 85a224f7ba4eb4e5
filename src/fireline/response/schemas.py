"""What the response API takes and returns: status updates and the obligations read back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from fireline.incidents.schemas import Instant
from fireline.response.clocks import Obligation, ObligationKind, ObligationState

MAX_UPDATE_TEXT = 5_000


def _no_nul(value: str) -> str:
    # A NUL character cannot be stored in PostgreSQL text; refuse it as the field's fault.
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


UpdateText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_UPDATE_TEXT),
    AfterValidator(_no_nul),
]


class StatusUpdateCreate(BaseModel):
    """A status update in four parts. `users_should` is required for a public update."""

    model_config = ConfigDict(extra="forbid")

    audience: Literal["public", "internal"]
    current_impact: UpdateText = Field(description="Who is affected, and how, right now.")
    doing_now: UpdateText = Field(description="What the responders are doing about it.")
    users_should: UpdateText | None = Field(
        default=None, description="What users should do meanwhile; required when public."
    )
    next_update_at: Instant | None = Field(
        default=None, description="When the next update will come; must be in the future."
    )


class WaiverCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: UpdateText = Field(description="Why this obligation need not be kept.")


class ObligationOut(BaseModel):
    """One thing the incident owes, with its state now."""

    kind: ObligationKind
    sequence: int
    state: ObligationState
    due_at: datetime
    remind_at: datetime
    owner_role: str
    escalate_to: str
    met_at: datetime | None
    late: bool
    waiver_reason: str | None

    @classmethod
    def of(cls, obligation: Obligation) -> ObligationOut:
        return cls(
            kind=obligation.kind,
            sequence=obligation.sequence,
            state=obligation.state,
            due_at=obligation.due_at,
            remind_at=obligation.remind_at,
            owner_role=obligation.owner_role,
            escalate_to=obligation.escalate_to,
            met_at=obligation.met_at,
            late=obligation.late,
            waiver_reason=obligation.waiver_reason,
        )
