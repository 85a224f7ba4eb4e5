"""On-call calendar feeds: secret iCalendar URLs a responder subscribes to in their calendar app.

The fake clock starts on Monday 5 January 2026 at 10:00 UTC. Payments hands off every Monday at
08:00 UTC, Ana then Ben; the database schedule hands off daily at 20:00 UTC, Ben then Ana.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar


def layer(members, unit, start):
    return {
        "name": "Rotation",
        "members": members,
        "shift_unit": unit,
        "rotation_start": start,
        "timezone": "UTC",
    }


@pytest.fixture
def schedules(as_admin, make_person):
    """Ana and Ben, each with an API token, and the two schedules they share."""
    people = {
        name: make_person("responder", name=name, email=f"{name.lower()}@example.com")
        for name in ("Ana", "Ben")
    }
    for name, members, unit, start in (
        ("Payments", ["ana@example.com", "ben@example.com"], "weeks", "2025-12-22T08:00:00Z"),
        ("Database", ["ben@example.com", "ana@example.com"], "days", "2026-01-05T20:00:00Z"),
    ):
        created = as_admin.post(
            "/api/v1/schedules", json={"name": name, "layers": [layer(members, unit, start)]}
        )
        assert created.status_code == 201, created.text
    return people


def feed_path(link_response) -> str:
    assert link_response.status_code == 200, link_response.text
    url = link_response.json()["url"]
    assert url.startswith("http://127.0.0.1:8000/oncall/calendars/")  # the configured base URL
    return urlsplit(url).path


def events(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    parsed = Calendar.from_ical(response.content)
    return parsed, [
        (str(event["SUMMARY"]), event.decoded("DTSTART"), event.decoded("DTEND"))
        for event in parsed.walk("VEVENT")
    ]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_schedule_feed_shows_everyones_shifts_two_weeks_back_to_thirteen_ahead(
    client, as_viewer, schedules
):
    path = feed_path(as_viewer.get("/api/v1/schedules/payments/calendar"))

    feed, shifts = events(client.get(path))  # no sign-in: the secret in the URL is enough

    assert str(feed["X-WR-CALNAME"]) == "Payments"
    assert shifts[:3] == [
        ("On call: Ana", at("2025-12-22T10:00:00"), at("2025-12-29T08:00:00")),
        ("On call: Ben", at("2025-12-29T08:00:00"), at("2026-01-05T08:00:00")),
        ("On call: Ana", at("2026-01-05T08:00:00"), at("2026-01-12T08:00:00")),
    ]
    assert shifts[-1] == ("On call: Ben", at("2026-04-06T08:00:00"), at("2026-04-06T10:00:00"))
    assert len(shifts) == 16


def test_rotating_a_schedule_feed_makes_the_old_url_a_404(
    client, as_admin, as_responder, schedules
):
    old = feed_path(as_admin.get("/api/v1/schedules/payments/calendar"))
    assert as_responder.post("/api/v1/schedules/payments/calendar/rotate").status_code == 403

    new = feed_path(as_admin.post("/api/v1/schedules/payments/calendar/rotate"))

    assert new != old
    assert client.get(old).status_code == 404
    assert events(client.get(new))[1]
    assert feed_path(as_admin.get("/api/v1/schedules/payments/calendar")) == new


def test_my_own_feed_has_my_shifts_on_every_schedule_and_only_mine(client, schedules):
    ana = schedules["Ana"].headers
    assert client.get("/api/v1/users/me/calendar", headers=ana).json() == {"url": None}

    path = feed_path(client.post("/api/v1/users/me/calendar/rotate", headers=ana))

    feed, shifts = events(client.get(path))
    assert str(feed["X-WR-CALNAME"]) == "On call: Ana"
    assert {summary for summary, _, _ in shifts} == {"On call: Ana"}
    descriptions = [str(event["DESCRIPTION"]) for event in feed.walk("VEVENT")]
    payments = [text for text in descriptions if "Payments" in text]
    database = [text for text in descriptions if "Database" in text]
    # Two weeks back to thirteen ahead: 8 of the 16 weekly payments shifts, and every other
    # evening of the daily database rotation, which began on 5 January with Ben.
    assert (len(payments), len(database)) == (8, 45)
    assert len(descriptions) == len(payments) + len(database)
    first_database = min(
        event.decoded("DTSTART")
        for event in feed.walk("VEVENT")
        if "Database" in str(event["DESCRIPTION"])
    )
    assert first_database == at("2026-01-06T20:00:00")
    assert feed_path(client.get("/api/v1/users/me/calendar", headers=ana)) == path


def test_rotating_my_feed_revokes_the_old_url_and_unknown_secrets_are_404(
    client, as_admin, schedules
):
    alone = layer(["ana@example.com"], "days", "2026-01-01T00:00:00Z")
    assert (
        as_admin.post(
            "/api/v1/schedules", json={"name": "Ana alone", "layers": [alone]}
        ).status_code
        == 201
    )
    ben = schedules["Ben"].headers
    old = feed_path(client.post("/api/v1/users/me/calendar/rotate", headers=ben))

    new = feed_path(client.post("/api/v1/users/me/calendar/rotate", headers=ben))

    gone = client.get(old)
    assert (gone.status_code, gone.headers["content-type"]) == (404, "application/problem+json")
    feed, shifts = events(client.get(new))
    assert {summary for summary, _, _ in shifts} == {"On call: Ben"}
    assert not [e for e in feed.walk("VEVENT") if "Ana alone" in str(e["DESCRIPTION"])]
    assert client.get("/oncall/calendars/users/not-a-secret.ics").status_code == 404
    assert client.get("/oncall/calendars/schedules/not-a-secret.ics").status_code == 404
    assert client.get("/oncall/calendars/schedules/" + "x" * 65 + ".ics").status_code == 404
    assert client.get("/oncall/calendars/users/" + "x" * 65 + ".ics").status_code == 404
    assert client.get("/api/v1/users/me/calendar").status_code == 401
