"""The support macro: what a support agent pastes to a customer who writes in during an outage.

Public incidents are made here as rows, the way publishing stores them, so these tests depend
only on what the macro reads. The clock stands at Monday 2026-01-05 10:00 UTC."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fireline.comms.codes import new_code
from fireline.comms.macro import support_macro
from fireline.errors import Conflict
from fireline.incidents.queries import get_incident
from fireline.models import PublicIncident, PublicUpdate, StatusPage

INCIDENTS = "/api/v1/incidents"


def declare(api, severity="SEV1"):
    response = api.post(INCIDENTS, json={"title": "Checkout down", "severity": severity})
    assert response.status_code == 201, response.text
    return response.json()["reference"]


def page(db, clock, *, default=True) -> StatusPage:
    if default:
        return db.scalars(select(StatusPage).where(StatusPage.is_default)).one()
    other = StatusPage(
        code=new_code(),
        slug="eu",
        name="Example EU",
        is_default=False,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    db.add(other)
    db.flush()
    return other


def publish(db, clock, ref, *, on: StatusPage, status="identified", parts=None, **fields):
    public = PublicIncident(
        code=new_code(),
        page_id=on.id,
        incident_id=int(ref.removeprefix("INC-")),
        kind="incident",
        name="Payments failing",
        status=status,
        impact="critical",
        started_at=clock.now(),
        report={},
        created_at=clock.now(),
        updated_at=clock.now(),
        **fields,
    )
    db.add(public)
    db.flush()
    if parts is not None:
        db.add(
            PublicUpdate(
                code=new_code(),
                public_incident_id=public.id,
                status=status,
                body="…",
                parts=parts,
                affected_components=[],
                display_at=clock.now(),
                created_at=clock.now(),
            )
        )
    db.commit()
    return public


PARTS = {
    "current_impact": "Card payments fail for most customers.",
    "doing_now": "Rolling back the 09:40 deploy.",
    "users_should": "Retry in a few minutes; you were not charged.",
    "next_update_at": "2026-01-05T10:30:00Z",
}


def test_the_macro_apologises_and_links_to_the_public_incident(
    as_responder, as_viewer, db, clock, settings
):
    ref = declare(as_responder)
    older = publish(db, clock, ref, on=page(db, clock), parts={"current_impact": "Old news"})
    clock.advance(minutes=5)
    public = publish(db, clock, ref, on=page(db, clock), parts=PARTS)
    assert public.code != older.code

    response = as_viewer.get(f"{INCIDENTS}/{ref}/macro")
    assert response.status_code == 200, response.text
    macro = response.json()
    assert macro["url"] == f"{settings.base_url}/status/incidents/{public.code}"
    assert macro["text"] == (
        "Hi,\n\n"
        "Thank you for getting in touch, and I'm sorry for the trouble. This is a problem on "
        "our side, not yours: Payments failing. We have found the cause and are working on a "
        "fix.\n\n"
        "Current status: Identified\n"
        "Impact: Card payments fail for most customers.\n"
        "What you can do: Retry in a few minutes; you were not charged.\n"
        "Next update: 10:30 UTC on 2026-01-05\n\n"
        f"You can follow our updates here: {macro['url']}\n\n"
        "Sorry again for the inconvenience, and thank you for your patience."
    )


def test_the_latest_update_is_the_one_quoted(as_responder, db, clock, settings):
    ref = declare(as_responder)
    public = publish(db, clock, ref, on=page(db, clock), parts={"current_impact": "First"})
    clock.advance(minutes=5)
    db.add(
        PublicUpdate(
            code=new_code(),
            public_incident_id=public.id,
            status="monitoring",
            body="…",
            parts={"current_impact": "Second", "next_update_at": "soon"},
            affected_components=[],
            display_at=clock.now(),
            created_at=clock.now(),
        )
    )
    db.flush()
    incident = get_incident(db, ref)
    text = support_macro(db, incident, base_url="https://status.example.com/").text
    assert "Impact: Second" in text
    assert "First" not in text
    assert "Next update: soon" in text  # not a time: shown as stored


def test_a_page_other_than_the_default_links_under_its_slug(as_responder, db, clock):
    ref = declare(as_responder)
    public = publish(db, clock, ref, on=page(db, clock, default=False))
    macro = support_macro(db, get_incident(db, ref), base_url="https://example.com")
    assert macro.url == f"https://example.com/status/eu/incidents/{public.code}"
    assert "Current status: Identified\n\nYou can follow" in macro.text  # no update yet


def test_after_resolution_the_macro_speaks_in_the_past(as_responder, db, clock):
    ref = declare(as_responder)
    publish(
        db,
        clock,
        ref,
        on=page(db, clock),
        status="resolved",
        parts=PARTS,
        resolved_at=clock.now() + timedelta(minutes=1),
    )
    text = support_macro(db, get_incident(db, ref), base_url="https://example.com").text
    assert "This was a problem on our side" in text
    assert "The issue is now resolved." in text
    assert "Next update" not in text
    assert "You can read what happened here: https://example.com/status/incidents/" in text


def test_an_incident_not_yet_published_has_no_macro(as_responder, db, clock):
    ref = declare(as_responder)
    response = as_responder.get(f"{INCIDENTS}/{ref}/macro")
    assert response.status_code == 409, response.text
    assert "publish it first" in response.json()["detail"]
    with pytest.raises(Conflict):
        support_macro(db, get_incident(db, ref), base_url="https://example.com")


def test_a_maintenance_is_not_the_incident_s_public_incident(as_responder, db, clock):
    ref = declare(as_responder)
    maintenance = PublicIncident(
        code=new_code(),
        page_id=page(db, clock).id,
        incident_id=int(ref.removeprefix("INC-")),
        kind="maintenance",
        name="Planned work",
        status="scheduled",
        impact="maintenance",
        started_at=clock.now(),
        report={},
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    db.add(maintenance)
    db.commit()
    assert as_responder.get(f"{INCIDENTS}/{ref}/macro").status_code == 409


def test_the_macro_needs_a_signed_in_reader(client, as_responder):
    ref = declare(as_responder)
    assert client.get(f"{INCIDENTS}/{ref}/macro").status_code == 401
    assert as_responder.get(f"{INCIDENTS}/INC-999999/macro").status_code == 404
