"""`fireline incidents macro INC-12`: a support agent copies the reply from the terminal."""

from __future__ import annotations

import json

from sqlalchemy import select

from fireline.comms.codes import new_code
from fireline.models import PublicIncident, PublicUpdate, StatusPage


def _publish(db, clock, ref: str) -> PublicIncident:
    page = db.scalars(select(StatusPage).where(StatusPage.is_default)).one()
    public = PublicIncident(
        code=new_code(),
        page_id=page.id,
        incident_id=int(ref.removeprefix("INC-")),
        kind="incident",
        name="Payments failing",
        status="investigating",
        impact="critical",
        started_at=clock.now(),
        report={},
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    db.add(public)
    db.flush()
    db.add(
        PublicUpdate(
            code=new_code(),
            public_incident_id=public.id,
            status="investigating",
            body="…",
            parts={"current_impact": "Card payments fail.", "users_should": "Retry later."},
            affected_components=[],
            display_at=clock.now(),
            created_at=clock.now(),
        )
    )
    db.commit()
    return public


def test_an_agent_prints_the_macro_of_a_published_incident(
    remote_cli, responder, client, db, clock, settings
):
    declared = client.post(
        "/api/v1/incidents",
        json={"title": "Checkout down", "severity": "SEV1"},
        headers=responder.headers,
    )
    assert declared.status_code == 201, declared.text
    ref = declared.json()["reference"]
    cli = remote_cli(responder)

    unpublished = cli("incidents", "macro", ref)
    assert unpublished.exit_code == 1
    assert "publish it first" in unpublished.stderr

    public = _publish(db, clock, ref)
    url = f"{settings.base_url}/status/incidents/{public.code}"
    printed = cli("incidents", "macro", ref)
    assert printed.exit_code == 0, printed.output
    assert printed.stdout.startswith("Hi,\n\nThank you for getting in touch")
    assert "Impact: Card payments fail.\nWhat you can do: Retry later." in printed.stdout
    assert printed.stdout.endswith("thank you for your patience.\n")
    assert f"You can follow our updates here: {url}" in printed.stdout
    assert printed.stderr == f"Link: {url}\n"

    as_json = cli("incidents", "macro", ref, "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["url"] == url
