"""The incident page and API name the changes made to its services just before impact began: a
deploy at 09:40 is the first suspect for checkout failing from 09:52."""

from __future__ import annotations

from alerts.helpers import add_integration, add_service


def test_changes_in_the_hours_before_impact_are_listed_newest_first(
    client, db, clock, as_responder, browser_responder
):
    checkout = add_service(db, clock.now(), slug="checkout")
    search = add_service(db, clock.now(), slug="search")
    keys = {
        "checkout": add_integration(db, clock.now(), checkout).key,
        "search": add_integration(db, clock.now(), search).key,
    }
    db.commit()
    for service, at, summary in (
        ("checkout", "2026-01-05T02:30:00Z", "Deployed checkout 2.2 (too early to matter)"),
        ("checkout", "2026-01-05T06:10:00Z", "Feature flag fast-pay on"),
        ("checkout", "2026-01-05T09:40:00Z", "Deployed checkout 2.3.1"),
        ("search", "2026-01-05T09:45:00Z", "Reindexed search (another service)"),
        ("checkout", "2026-01-05T09:58:00Z", "Deployed checkout 2.3.2 (after detection)"),
    ):
        sent = client.post(
            "/v2/change/enqueue",
            json={
                "routing_key": keys[service],
                "payload": {"summary": summary, "timestamp": at, "source": "ci"},
                "links": [{"href": "https://ci.example.com/42", "text": "build"}],
            },
        )
        assert sent.status_code == 202, sent.text
    declared = as_responder.post(
        "/api/v1/incidents",
        json={
            "title": "Checkout failing",
            "severity": "SEV2",
            "services": ["checkout"],
            "impact_started_at": "2026-01-05T09:52:00Z",
            "detected_at": "2026-01-05T09:55:00Z",
        },
    )
    ref = declared.json()["reference"]

    changes = as_responder.get(f"/api/v1/incidents/{ref}/changes")
    page = browser_responder.get(f"/incidents/{ref}")

    assert [change["summary"] for change in changes.json()] == [
        "Deployed checkout 2.3.1",
        "Feature flag fast-pay on",
    ]
    assert "Changes before impact" in page.text
    assert "Deployed checkout 2.3.1" in page.text
    assert "too early to matter" not in page.text
    assert 'href="https://ci.example.com/42"' in page.text


def test_an_incident_without_changes_shows_no_changes_section(as_responder, browser_responder):
    ref = as_responder.post(
        "/api/v1/incidents", json={"title": "Slow search", "severity": "SEV3"}
    ).json()["reference"]

    assert as_responder.get(f"/api/v1/incidents/{ref}/changes").json() == []
    assert "Changes before impact" not in browser_responder.get(f"/incidents/{ref}").text
