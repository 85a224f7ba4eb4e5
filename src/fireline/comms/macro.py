"""The support macro: a ready reply for support agents answering customers during an incident.

It says sorry plainly, gives the public status and the latest public update's impact and what
customers can do, and links to the public incident's permalink, so customers are pointed at
the one place that stays current. It is built only from what is already public: an incident
that has not been published has no macro (Conflict), because a reply that links to a page
saying "all systems operational" would contradict the agent sending it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.comms.templates import next_update_text
from fireline.errors import Conflict
from fireline.models import (
    Incident,
    PublicIncident,
    PublicKind,
    PublicStatus,
    PublicUpdate,
    StatusPage,
)

# What each public status tells a customer, as the second sentence of the reply.
_STATUS_LINES = {
    PublicStatus.INVESTIGATING: "Our team is investigating it now.",
    PublicStatus.IDENTIFIED: "We have found the cause and are working on a fix.",
    PublicStatus.MONITORING: "A fix is in place and we are watching to make sure it holds.",
    PublicStatus.RESOLVED: "The issue is now resolved.",
    PublicStatus.POSTMORTEM: "The issue is resolved, and we have published a report on it.",
}


@dataclass(frozen=True)
class Macro:
    """The reply's text, and the permalink it ends with."""

    text: str
    url: str


def permalink(page: StatusPage, code: str, *, base_url: str) -> str:
    """The public incident's page: under /status for the default page, /status/{slug} else."""
    root = base_url.rstrip("/")
    where = "/status" if page.is_default else f"/status/{page.slug}"
    return f"{root}{where}/incidents/{code}"


def published(session: Session, incident: Incident) -> PublicIncident | None:
    """The incident's latest public incident, if it was published."""
    return session.scalars(
        select(PublicIncident)
        .where(
            PublicIncident.incident_id == incident.id,
            PublicIncident.kind == PublicKind.INCIDENT.value,
        )
        .order_by(PublicIncident.created_at.desc(), PublicIncident.id.desc())
    ).first()


def support_macro(session: Session, incident: Incident, *, base_url: str) -> Macro:
    """The macro for the incident's public incident; Conflict when it has not been published."""
    public = published(session, incident)
    if public is None:
        raise Conflict(
            detail=f"{incident.reference} is not on a status page yet; publish it first, so "
            "the support macro has a public incident to link to."
        )
    page = session.get_one(StatusPage, public.page_id)
    latest = session.scalars(
        select(PublicUpdate)
        .where(PublicUpdate.public_incident_id == public.id)
        .order_by(PublicUpdate.display_at.desc(), PublicUpdate.id.desc())
    ).first()
    url = permalink(page, public.code, base_url=base_url)
    return Macro(text=_text(public, latest, url), url=url)


def _text(public: PublicIncident, latest: PublicUpdate | None, url: str) -> str:
    status = PublicStatus(public.status)
    ended = status in (PublicStatus.RESOLVED, PublicStatus.POSTMORTEM)
    was = "was" if ended else "is"
    opening = (
        "Thank you for getting in touch, and I'm sorry for the trouble. This "
        f"{was} a problem on our side, not yours: {public.name}. {_STATUS_LINES[status]}"
    )
    paragraphs = ["Hi,", opening]
    parts = latest.parts if latest is not None else {}
    details = [f"Current status: {status.value.capitalize()}"]
    impact = str(parts.get("current_impact") or "").strip()
    if impact:
        details.append(f"Impact: {impact}")
    users_should = str(parts.get("users_should") or "").strip()
    if users_should:
        details.append(f"What you can do: {users_should}")
    if not ended and parts.get("next_update_at"):
        details.append(f"Next update: {_when(str(parts['next_update_at']))}")
    paragraphs.append("\n".join(details))
    follow = "You can read what happened here" if ended else "You can follow our updates here"
    paragraphs.append(f"{follow}: {url}")
    paragraphs.append("Sorry again for the inconvenience, and thank you for your patience.")
    return "\n\n".join(paragraphs)


def _when(value: str) -> str:
    """A stored next_update_at in words; left as stored if it is not an ISO time."""
    try:
        return next_update_text(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return value
