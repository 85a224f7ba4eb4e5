"""Responders plan quiet times on the maintenance page: a window over services during planned
work, a silence over alerts that match, each ended early when the work is done."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest

MAINTENANCE = "/maintenance"


@pytest.fixture
def services(as_admin) -> None:
    for slug in ("checkout", "payments"):
        made = as_admin.post("/api/v1/services", json={"name": slug.title(), "slug": slug})
        assert made.status_code == 201, made.text


def windows(api, state: str) -> list[dict]:
    return api.get("/api/v1/maintenance-windows", params={"state": state}).json()["items"]


def silences(api, state: str) -> list[dict]:
    return api.get("/api/v1/silences", params={"state": state}).json()["items"]


def test_a_window_typed_in_new_york_time_is_stored_in_utc(
    browser_responder, as_responder, services, clock
):
    # The fake clock reads 2026-01-05 (winter: New York is UTC-5).
    day = clock.now().date() + timedelta(days=1)
    page = browser_responder.get(MAINTENANCE)
    assert page.status_code == 200
    assert 'aria-current="page">Maintenance</a>' in page.text
    assert '<option value="America/New_York">America/New York</option>' in page.text

    made = browser_responder.post(
        f"{MAINTENANCE}/windows",
        {
            "window.description": "Database upgrade",
            "window.services": ["checkout", "payments"],
            "window.starts_at": f"{day}T22:00",
            "window.ends_at": f"{day}T23:30",
            "window.time_zone": "America/New_York",
        },
    )

    assert made.status_code == 303
    assert made.headers["location"] == f"{MAINTENANCE}?done=window#windows"
    [window] = windows(as_responder, "upcoming")
    assert window["starts_at"].startswith(f"{day + timedelta(days=1)}T03:00")
    assert window["ends_at"].startswith(f"{day + timedelta(days=1)}T04:30")
    assert [s["slug"] for s in window["services"]] == ["checkout", "payments"]
    listed = browser_responder.get(made.headers["location"])
    assert "The maintenance window is set" in listed.text
    upcoming = listed.text[listed.text.index("<h3>Upcoming</h3>") :]
    assert "Database upgrade" in upcoming
    assert "Checkout, Payments" in upcoming
    assert "set by Rita Responder" in upcoming

    cancelled = browser_responder.post(f"{MAINTENANCE}/windows/{window['id']}/end")
    assert cancelled.headers["location"] == f"{MAINTENANCE}?done=cancelled#windows"
    assert windows(as_responder, "upcoming") == []


def test_an_active_window_ends_now_and_then_cannot_end_again(
    browser_responder, as_responder, services, clock
):
    ends = (clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    browser_responder.post(
        f"{MAINTENANCE}/windows",
        {
            "window.description": "Deploy",
            "window.services": "checkout",
            "window.ends_at": ends,
            "window.time_zone": "UTC",
        },
    )
    [window] = windows(as_responder, "active")

    clock.advance(timedelta(minutes=30))
    ended = browser_responder.post(f"{MAINTENANCE}/windows/{window['id']}/end")

    assert ended.headers["location"] == f"{MAINTENANCE}?done=ended#windows"
    assert windows(as_responder, "active") == []
    assert [w["id"] for w in windows(as_responder, "past")] == [window["id"]]
    again = browser_responder.post(f"{MAINTENANCE}/windows/{window['id']}/end")
    assert again.status_code == 409
    assert "already ended" in again.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"window.description": ""}, "window-description", "say what the work is"),
        ({"window.services": []}, "window-services", "choose at least one service"),
        ({"window.services": "nowhere"}, "window-services", "no service"),
        ({"window.ends_at": ""}, "window-ends_at", "say when the work ends"),
        ({"window.ends_at": "tomorrow"}, "window-ends_at", "is not a date and time"),
        ({"window.starts_at": "2026-01-06T12:00"}, "window-ends_at", "must be after starts_at"),
        ({"window.time_zone": "Mars/Olympus"}, "window-time_zone", "choose a time zone"),
    ],
)
def test_a_refused_window_says_why_beside_the_field_and_keeps_what_was_typed(
    browser_responder, services, fields, field, message
):
    form = {
        "window.description": "Typed description",
        "window.services": "checkout",
        "window.ends_at": "2026-01-06T10:00",
        "window.time_zone": "Europe/Paris",
    } | fields

    refused = browser_responder.post(f"{MAINTENANCE}/windows", form)

    assert refused.status_code == 422
    assert f'id="f-{field}-error"' in refused.text
    assert message in html.unescape(refused.text)
    if fields.get("window.description", "x"):
        assert 'value="Typed description"' in refused.text
    if "window.time_zone" not in fields:
        assert '<option value="Europe/Paris" selected>' in refused.text
        assert "data-local-zone" not in refused.text  # the choice typed is kept, not replaced


def test_a_silence_over_matching_alerts_is_set_shown_and_ended(
    browser_responder, as_responder, clock
):
    ends = (clock.now() + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")

    made = browser_responder.post(
        f"{MAINTENANCE}/silences",
        {
            "silence.comment": "Noisy disk check on db-3",
            "conditions.0.field": "labels.host",
            "conditions.0.op": "equals",
            "conditions.0.value": "db-3",
            "silence.ends_at": ends,
            "silence.time_zone": "UTC",
        },
    )

    assert made.status_code == 303
    [silence] = silences(as_responder, "active")
    assert silence["conditions"] == [{"field": "labels.host", "op": "equals", "value": "db-3"}]
    page = browser_responder.get(made.headers["location"])
    assert "Noisy disk check on db-3" in page.text
    assert "alerts where labels.host equals db-3" in page.text

    ended = browser_responder.post(f"{MAINTENANCE}/silences/{silence['id']}/end")
    assert ended.headers["location"] == f"{MAINTENANCE}?done=ended#silences"
    assert silences(as_responder, "active") == []
    assert (
        "Ended: alerts page again from now."
        in browser_responder.get(ended.headers["location"]).text
    )


def test_an_upcoming_silence_is_cancelled(browser_responder, as_responder, clock):
    starts = clock.now() + timedelta(days=1)
    browser_responder.post(
        f"{MAINTENANCE}/silences",
        {
            "silence.comment": "Load test",
            "conditions.0.field": "source",
            "conditions.0.op": "equals",
            "conditions.0.value": "loadgen",
            "silence.starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "silence.ends_at": (starts + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "silence.time_zone": "UTC",
        },
    )
    [silence] = silences(as_responder, "upcoming")

    cancelled = browser_responder.post(f"{MAINTENANCE}/silences/{silence['id']}/end")

    assert cancelled.headers["location"] == f"{MAINTENANCE}?done=cancelled#silences"
    assert silences(as_responder, "upcoming") == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"conditions.0.field": ""}, "conditions-0-error", "give at least one condition"),
        ({"conditions.0.op": "severity_at_least"}, "f-conditions-0-value-error", "must be one of"),
        ({"silence.comment": ""}, "f-silence-comment-error", "say why"),
        ({"silence.ends_at": "2026-13-01T10:00"}, "f-silence-ends_at-error", "not a date and time"),
    ],
)
def test_a_refused_silence_keeps_its_rows_and_says_why(browser_responder, fields, field, message):
    form = {
        "silence.comment": "Typed comment",
        "conditions.0.field": "labels.host",
        "conditions.0.op": "equals",
        "conditions.0.value": "db-3",
        "silence.ends_at": "2026-01-06T10:00",
        "silence.time_zone": "UTC",
    } | fields

    refused = browser_responder.post(f"{MAINTENANCE}/silences", form)

    assert refused.status_code == 422
    assert f'id="{field}"' in refused.text
    assert message in html.unescape(refused.text)
    if form["conditions.0.field"]:
        assert 'value="labels.host"' in refused.text


def test_a_viewer_reads_the_page_without_forms_and_cannot_post(sign_in, viewer):
    browser = sign_in(viewer)

    page = browser.get(MAINTENANCE)

    assert page.status_code == 200
    assert "Plan a maintenance window" not in page.text
    assert "Silence alerts" not in page.text
    refused = browser.post(f"{MAINTENANCE}/silences", {"silence.comment": "x"})
    assert refused.status_code == 403
