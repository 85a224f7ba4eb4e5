"""The rest of a status page's settings: a responder announces a maintenance (its words start
from the "Scheduled maintenance" template), moves it on, reschedules and cancels one; an admin
adds a webhook subscriber and removes one, keeps the update templates, and lists the audiences
stakeholder updates go to, whose signing secret is shown once."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from fireline.comms import subscribers
from fireline.models import Audience, PublicIncident, StatusPage, Subscriber, UpdateTemplate

PAGES = "/settings/status-pages"
DEFAULT = f"{PAGES}/status"
MAINTENANCE = f"{DEFAULT}/maintenance"


def maintenances(db) -> list[PublicIncident]:
    db.expire_all()
    return list(db.scalars(select(PublicIncident).order_by(PublicIncident.id)))


def schedule(browser, **fields):
    form = {
        "name": "Database upgrade",
        "scheduled_for": "2026-01-06T02:00",
        "scheduled_until": "2026-01-06T04:00",
        "current_impact": "{components} may be unavailable.",
        "doing_now": "We will upgrade the database.",
        "users_should": "Plan around the window.",
        "auto_transition": "on",
        "remind_minutes": "60",
    }
    return browser.post(MAINTENANCE, {**form, **fields})


@pytest.fixture
def card_api(browser_admin, db) -> str:
    added = browser_admin.post(f"{DEFAULT}/components", {"component.name": "Card API"})
    assert added.status_code == 303
    return re.search(r"#component-(\w+)", added.headers["location"]).group(1)


def test_the_schedule_form_starts_from_the_scheduled_maintenance_template(browser_responder):
    form = browser_responder.get(MAINTENANCE)

    assert form.status_code == 200
    assert "{components} may be unavailable during the maintenance window." in form.text
    assert "Starts (UTC)" in form.text
    assert 'type="datetime-local"' in form.text


def test_a_responder_schedules_maintenance_and_it_is_listed_as_upcoming(
    browser_responder, card_api, db
):
    scheduled = schedule(browser_responder, components=card_api)

    assert scheduled.status_code == 303
    (m,) = maintenances(db)
    assert scheduled.headers["location"] == f"{MAINTENANCE}/{m.code}?done=scheduled"
    assert (m.status, m.remind_minutes, m.auto_transition) == ("scheduled", 60, True)
    shown = browser_responder.get(scheduled.headers["location"])
    assert "Card API may be unavailable." in shown.text  # {components} filled in
    assert "announced on the page" in shown.text
    listing = browser_responder.get(MAINTENANCE)
    assert f'href="{MAINTENANCE}/{m.code}"' in listing.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "is required"),
        ({"scheduled_for": ""}, "scheduled_for", "is required"),
        ({"scheduled_for": "soon"}, "scheduled_for", "is not a date and time"),
        ({"scheduled_for": "2026-01-05T09:00"}, "scheduled_for", "must be in the future"),
        ({"scheduled_until": "2026-01-06T01:00"}, "scheduled_until", "must be after"),
        ({"current_impact": " "}, "current_impact", "is required"),
        ({"next_update_at": "2026-01-01T00:00"}, "next_update_at", "must be in the future"),
        ({"remind_minutes": "soon"}, "remind_minutes", "whole number of minutes"),
        ({"remind_minutes": "999999"}, "remind_minutes", "must be between"),
        ({"components": "nope"}, "components", "is not a component of this page"),
    ],
)
def test_a_refused_maintenance_says_why_beside_the_field(
    browser_responder, card_api, db, fields, field, message
):
    refused = schedule(browser_responder, **fields)

    assert refused.status_code == 422
    assert f'id="f-{field}-error"' in refused.text
    assert message in html.unescape(refused.text)
    assert maintenances(db) == []


def test_a_maintenance_is_moved_on_rescheduled_and_cancelled(browser_responder, card_api, db):
    schedule(browser_responder, components=card_api)
    (m,) = maintenances(db)
    one = f"{MAINTENANCE}/{m.code}"
    page = browser_responder.get(one)
    assert "Reschedule" in page.text
    assert 'value="2026-01-06T02:00"' in page.text

    moved = browser_responder.post(
        f"{one}/reschedule",
        {
            "reschedule.name": "Database upgrade, part 1",
            "reschedule.scheduled_for": "2026-01-07T02:00",
            "reschedule.scheduled_until": "2026-01-07T05:00",
            "reschedule.remind_minutes": "",
        },
    )
    assert moved.headers["location"] == f"{one}?done=rescheduled"
    (m,) = maintenances(db)
    assert (m.name, m.remind_minutes, m.auto_transition) == (
        "Database upgrade, part 1",
        None,
        False,
    )
    refused = browser_responder.post(
        f"{one}/reschedule",
        {"reschedule.name": "X", "reschedule.scheduled_for": "", "reschedule.scheduled_until": ""},
    )
    assert refused.status_code == 422
    assert 'id="f-reschedule-scheduled_for-error"' in refused.text

    blank = browser_responder.post(f"{one}/updates", {"update.status": "in_progress"})
    assert blank.status_code == 422
    assert 'id="f-update-current_impact-error"' in blank.text
    bad = browser_responder.post(f"{one}/updates", {"update.status": "on_fire"})
    assert 'id="f-update-status-error"' in bad.text
    started = browser_responder.post(
        f"{one}/updates",
        {
            "update.status": "in_progress",
            "update.current_impact": "{components} is read-only.",
            "update.doing_now": "Upgrading.",
            "update.users_should": "Retry writes later.",
        },
    )
    assert started.headers["location"] == f"{one}?done=posted"
    (m,) = maintenances(db)
    assert m.status == "in_progress"
    assert "Card API is read-only." in browser_responder.get(one).text
    assert "Reschedule" not in browser_responder.get(one).text
    back = browser_responder.post(
        f"{one}/updates",
        {
            "update.status": "scheduled",
            "update.current_impact": "a",
            "update.doing_now": "b",
            "update.users_should": "c",
        },
    )
    assert back.status_code == 409

    no_reason = browser_responder.post(f"{one}/cancel", {"cancel.note": ""})
    assert 'id="f-cancel-note-error"' in no_reason.text
    cancelled = browser_responder.post(f"{one}/cancel", {"cancel.note": "Not needed after all."})
    assert cancelled.headers["location"] == f"{one}?done=cancelled"
    (m,) = maintenances(db)
    assert m.status == "completed"
    done = browser_responder.get(f"{MAINTENANCE}")
    assert "Database upgrade, part 1" in done.text
    assert "Post an update" not in browser_responder.get(one).text


def test_a_maintenance_of_another_page_is_not_found_here(browser_admin, browser_responder, db):
    browser_admin.post(PAGES, {"name": "Payments", "slug": "payments", "time_zone": "Etc/UTC"})
    schedule(browser_responder)
    (m,) = maintenances(db)
    assert browser_responder.get(f"{PAGES}/payments/maintenance/{m.code}").status_code == 404


def test_an_admin_adds_a_webhook_subscriber_and_removes_one_after_a_confirmation(
    browser_admin, card_api, db, clock
):
    added = browser_admin.post(
        f"{DEFAULT}/subscribers",
        {"target": "https://hooks.example.com/status", "components": card_api},
    )
    assert added.status_code == 303
    page = db.scalars(select(StatusPage).where(StatusPage.is_default)).one()
    from fireline.accounts.principal import Actor

    subscribers.subscribe_email(
        db,
        actor=Actor.system("test"),
        page=page,
        email="pat@example.com",
        component_codes=[],
        now=clock.now(),
        base_url="http://x",
    )
    db.commit()
    listing = browser_admin.get(f"{DEFAULT}/subscribers")
    assert "https://hooks.example.com/status" in listing.text
    assert "Card API" in listing.text
    assert "pat@example.com" in listing.text
    assert "Pending confirmation" in listing.text
    assert "Confirmed" in listing.text
    assert "Every component" in listing.text

    again = browser_admin.post(
        f"{DEFAULT}/subscribers", {"target": "https://hooks.example.com/status"}
    )
    assert again.status_code == 409
    assert 'id="f-target-error"' in again.text
    bad = browser_admin.post(f"{DEFAULT}/subscribers", {"target": "http://127.0.0.1/x"})
    assert bad.status_code == 422
    assert 'id="f-target-error"' in bad.text

    hook = db.scalars(select(Subscriber).where(Subscriber.kind == "webhook")).one()
    asked = browser_admin.post(f"{DEFAULT}/subscribers/{hook.code}/delete")
    assert "Remove the subscriber https://hooks.example.com/status?" in asked.text
    removed = browser_admin.post(f"{DEFAULT}/subscribers/{hook.code}/delete", {"confirmed": "yes"})
    assert removed.headers["location"] == f"{DEFAULT}/subscribers?done=removed"
    db.expire_all()
    assert [s.target for s in db.scalars(select(Subscriber))] == ["pat@example.com"]


def test_subscribers_are_listed_a_page_at_a_time(browser_admin, db, clock, monkeypatch):
    from fireline.comms import subscriber_admin_views

    monkeypatch.setattr(subscriber_admin_views, "EVERY", 1)
    for n in (1, 2):
        browser_admin.post(f"{DEFAULT}/subscribers", {"target": f"https://hooks.example.com/{n}"})
    first = browser_admin.get(f"{DEFAULT}/subscribers")
    after = re.search(r"subscribers\?after=(\d+)", first.text).group(1)
    second = browser_admin.get(f"{DEFAULT}/subscribers?after={after}")
    assert "hooks.example.com/2" in second.text
    assert "hooks.example.com/1" not in second.text


def test_an_admin_keeps_the_update_templates(browser_admin, db):
    listing = browser_admin.get("/settings/update-templates")
    assert "Scheduled maintenance" in listing.text

    created = browser_admin.post(
        "/settings/update-templates",
        {
            "name": "Degraded",
            "audience": "public",
            "status": "investigating",
            "current_impact": "Slow.",
        },
    )
    assert created.status_code == 303
    made = db.scalars(select(UpdateTemplate).where(UpdateTemplate.name == "Degraded")).one()
    assert (
        created.headers["location"] == f"/settings/update-templates?done=created#template-{made.id}"
    )
    clash = browser_admin.post(
        "/settings/update-templates", {"name": "degraded", "audience": "public"}
    )
    assert clash.status_code == 409
    assert 'id="f-name-error"' in clash.text
    bad = browser_admin.post("/settings/update-templates", {"name": "X", "audience": "everyone"})
    assert 'id="f-audience-error"' in bad.text
    assert "Choose public or internal." in bad.text

    form = browser_admin.get(f"/settings/update-templates/{made.id}")
    assert 'value="Degraded"' in form.text
    saved = browser_admin.post(
        f"/settings/update-templates/{made.id}",
        {"name": "Slow", "audience": "internal", "status": "", "doing_now": "Looking."},
    )
    assert saved.status_code == 303
    db.expire_all()
    assert (made.name, made.audience, made.status, made.doing_now) == (
        "Slow",
        "internal",
        None,
        "Looking.",
    )
    refused = browser_admin.post(
        f"/settings/update-templates/{made.id}", {"name": "", "audience": "public"}
    )
    assert refused.status_code == 422
    assert 'id="f-name-error"' in refused.text

    asked = browser_admin.post(f"/settings/update-templates/{made.id}/delete")
    assert "Delete the template “Slow”?" in asked.text
    gone = browser_admin.post(f"/settings/update-templates/{made.id}/delete", {"confirmed": "yes"})
    assert gone.headers["location"] == "/settings/update-templates?done=deleted"
    assert browser_admin.get(f"/settings/update-templates/{made.id}").status_code == 404


def test_an_audience_is_created_with_its_secret_shown_once_then_edited_and_deleted(
    browser_admin, db
):
    created = browser_admin.post(
        "/settings/audiences",
        {
            "name": "Executives",
            "kind": "executives",
            "recipients": "email cto@example.com\n\nhttps://hooks.example.com/exec\n"
            "slack https://hooks.slack.com/x\nceo@example.com",
        },
    )

    assert created.status_code == 200
    audience = db.scalars(select(Audience)).one()
    assert audience.secret
    assert audience.secret in created.text
    assert "shown only this once" in created.text
    assert audience.recipients == [
        {"transport": "email", "target": "cto@example.com"},
        {"transport": "webhook", "target": "https://hooks.example.com/exec"},
        {"transport": "slack", "target": "https://hooks.slack.com/x"},
        {"transport": "email", "target": "ceo@example.com"},
    ]
    listing = browser_admin.get("/settings/audiences")
    assert audience.secret not in listing.text
    assert "cto@example.com" in listing.text

    form = browser_admin.get(f"/settings/audiences/{audience.id}")
    assert "email cto@example.com\nwebhook https://hooks.example.com/exec" in form.text
    saved = browser_admin.post(
        f"/settings/audiences/{audience.id}",
        {"name": "Execs", "kind": "executives", "recipients": "email cfo@example.com"},
    )
    assert saved.headers["location"] == f"/settings/audiences?done=saved#audience-{audience.id}"
    db.expire_all()
    assert audience.name == "Execs"
    assert audience.recipients == [{"transport": "email", "target": "cfo@example.com"}]
    refused = browser_admin.post(
        f"/settings/audiences/{audience.id}",
        {"name": "Execs", "kind": "executives", "recipients": "email cfo@example.com\nemail nope"},
    )
    assert refused.status_code == 422
    assert 'id="f-recipients-error"' in refused.text
    assert "line 2:" in refused.text

    no_kind = browser_admin.post(
        f"/settings/audiences/{audience.id}", {"name": "Execs", "kind": "board"}
    )
    assert no_kind.status_code == 422
    assert 'id="f-kind-error"' in no_kind.text

    asked = browser_admin.post(f"/settings/audiences/{audience.id}/delete")
    assert "Delete the audience “Execs”?" in asked.text
    gone = browser_admin.post(f"/settings/audiences/{audience.id}/delete", {"confirmed": "yes"})
    assert gone.headers["location"] == "/settings/audiences?done=deleted"
    db.expire_all()
    assert db.scalars(select(Audience)).all() == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Give the audience a name."),
        ({"kind": "board"}, "kind", "Choose a kind from the list."),
        ({"recipients": "pager 555"}, "recipients", "line 1: write"),
        ({"recipients": "a@example.com\na@example.com"}, "recipients", "line 2: is listed twice"),
        ({"name": "Support"}, "name", "exists already"),
    ],
)
def test_a_refused_audience_says_why_beside_the_field(browser_admin, fields, field, message):
    browser_admin.post("/settings/audiences", {"name": "Support", "kind": "support"})
    form = {"name": "Sales", "kind": "sales", "recipients": "", **fields}
    refused = browser_admin.post("/settings/audiences", form)

    assert refused.status_code in (409, 422)
    assert f'id="f-{field}-error"' in refused.text
    assert message in html.unescape(refused.text)
