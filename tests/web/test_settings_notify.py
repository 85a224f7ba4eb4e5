"""Channels, contact methods and the delivery log on the settings pages."""

from __future__ import annotations

import re

import pytest

from fireline.jobs.handlers import default_handlers
from fireline.jobs.worker import Worker
from fireline.notify.notice import Notice
from fireline.notify.service import Occasion, notify_user

HOOK = "https://hooks.example.com/services/T000/B000/very-secret-path"


def secret_on(html: str) -> str:
    match = re.search(r'<code class="secret-value">([^<]+)</code>', html)
    assert match, "the page shows no secret"
    return match.group(1)


def test_a_webhook_channel_shows_its_signing_secret_once_and_rotating_shows_a_new_one(
    browser_admin, as_admin
):
    created = browser_admin.post(
        "/settings/channels",
        {"name": "Ops-Hook", "transport": "webhook", "target": HOOK, "enabled": "on"},
    )
    assert created.status_code == 201, created.text
    secret = secret_on(created.text)
    assert "shown only this once" in created.text

    channel = as_admin.get("/api/v1/channels/ops-hook").json()
    assert (channel["transport"], channel["signs_requests"]) == ("webhook", True)
    again = browser_admin.get("/settings/channels/ops-hook")
    assert again.status_code == 200
    assert secret not in again.text
    assert "very-secret-path" not in again.text  # the URL is a credential too
    assert "very-secret-path" not in browser_admin.get("/settings/channels").text

    rotated = browser_admin.post("/settings/channels/ops-hook/rotate")
    assert rotated.status_code == 200
    assert secret_on(rotated.text) != secret


def test_an_email_channel_is_created_edited_tested_and_deleted_after_confirmation(
    browser_admin, as_admin
):
    created = browser_admin.post(
        "/settings/channels",
        {"name": "executives", "transport": "email", "target": "execs@example.com"},
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/settings/channels/executives?done=created"
    assert as_admin.get("/api/v1/channels/executives").json()["enabled"] is False

    saved = browser_admin.post(
        "/settings/channels/executives",
        {"target": "leadership@example.com", "description": "The exec list", "enabled": "on"},
    )
    assert saved.status_code == 303
    channel = as_admin.get("/api/v1/channels/executives").json()
    assert (channel["target"], channel["enabled"]) == ("leadership@example.com", True)

    tested = browser_admin.post("/settings/channels/executives/test")
    assert tested.headers["location"] == "/settings/channels/executives?done=tested"
    log = as_admin.get("/api/v1/deliveries", params={"event": "notify.test"}).json()["items"]
    assert [d["target"] for d in log] == ["leadership@example.com"]

    asked = browser_admin.post("/settings/channels/executives/delete")
    assert asked.status_code == 200
    assert "Delete channel executives?" in asked.text
    assert as_admin.get("/api/v1/channels/executives").status_code == 200
    deleted = browser_admin.post("/settings/channels/executives/delete", {"confirmed": "yes"})
    assert deleted.headers["location"] == "/settings/channels?done=deleted"
    assert as_admin.get("/api/v1/channels/executives").status_code == 404


def test_a_channel_pointing_at_loopback_is_refused_beside_the_url(browser_admin, as_admin):
    refused = browser_admin.post(
        "/settings/channels",
        {"name": "intranet", "transport": "webhook", "target": "http://127.0.0.1:9/hook"},
    )
    assert refused.status_code == 422
    assert 'id="f-target-error"' in refused.text
    assert 'value="intranet"' in refused.text
    assert as_admin.get("/api/v1/channels/intranet").status_code == 404

    taken = browser_admin.post(
        "/settings/channels", {"name": "dup", "transport": "email", "target": "a@example.com"}
    )
    assert taken.status_code == 303
    again = browser_admin.post(
        "/settings/channels", {"name": "dup", "transport": "email", "target": "b@example.com"}
    )
    assert again.status_code == 409
    assert "exists already" in again.text


@pytest.fixture
def worker_for(session_factory, clock):
    def make(settings) -> Worker:
        return Worker(
            session_factory, clock=clock, handlers=default_handlers(settings), worker_id="w"
        )

    return make


def test_a_responder_adds_an_email_method_tests_it_and_sees_only_their_own_deliveries(
    browser_responder, browser_admin, as_responder, admin, db, clock, worker_for, smtp_server
):
    added = browser_responder.post(
        "/settings/contact",
        {
            "transport": "email",
            "target": "rita.pager@example.com",
            "label": "pager",
            "events": ["incident.declared", "obligation.missed"],
            "min_severity": "SEV2",
            "enabled": "on",
        },
    )
    assert added.status_code == 303, added.text
    (method,) = as_responder.get("/api/v1/users/me/contact-methods").json()
    assert method["events"] == ["incident.declared", "obligation.missed"]
    assert (method["min_severity_level"], method["label"]) == (2, "pager")
    page = browser_responder.get("/settings/contact")
    assert "rita.pager@example.com" in page.text
    assert "SEV2 or more severe" in page.text

    tested = browser_responder.post(f"/settings/contact/{method['id']}/test")
    assert tested.headers["location"] == "/settings/contact?done=tested"
    notify_user(  # a notice to someone else, which Rita must not see
        db,
        user=admin.user,
        notice=Notice(event="obligation.missed", headline="For Ada only"),
        occasion=Occasion(reason="r", key="ada"),
        now=clock.now(),
    )
    db.commit()
    worker = worker_for(smtp_server.settings())
    while worker.run_once():
        pass

    mine = browser_responder.get("/settings/deliveries")
    assert mine.status_code == 200
    assert "Test notice from Fireline to pager" in mine.text
    assert "Delivered" in mine.text  # the attempt, with its outcome
    assert "For Ada only" not in mine.text
    everyone = browser_admin.get("/settings/deliveries")
    assert "For Ada only" in everyone.text
    assert "Test notice from Fireline to pager" in everyone.text

    failed_only = browser_responder.get("/settings/deliveries", params={"state": "failed"})
    assert "Test notice" not in failed_only.text
    bad = browser_responder.get("/settings/deliveries", params={"incident": "nope"})
    assert bad.status_code == 422
    assert 'id="f-incident-error"' in bad.text


def test_a_viewer_edits_and_removes_their_own_contact_method(sign_in, viewer, make_person):
    browser = sign_in(viewer)
    assert (
        browser.post(
            "/settings/contact",
            {"transport": "email", "target": "vic@example.org", "enabled": "on"},
        ).status_code
        == 303
    )
    listed = browser.get("/settings/contact").text
    method_id = re.search(r'href="/settings/contact/(\d+)"', listed).group(1)

    refused = browser.post(f"/settings/contact/{method_id}", {"target": "not-an-address"})
    assert refused.status_code == 422
    assert 'id="f-target-error"' in refused.text
    saved = browser.post(
        f"/settings/contact/{method_id}", {"target": "vic@example.net", "min_severity": "SEV1"}
    )
    assert saved.status_code == 303
    page = browser.get("/settings/contact").text
    assert "vic@example.net" in page
    assert "Disabled" in page  # the box was left unticked

    someone_else = sign_in(make_person("responder"))
    assert someone_else.get(f"/settings/contact/{method_id}").status_code == 404
    assert (
        browser.post(f"/settings/contact/{method_id}/delete", {"confirmed": "yes"}).status_code
        == 303
    )
    assert "You have no contact methods" in browser.get("/settings/contact").text


def test_a_webhook_contact_method_shows_its_secret_once(browser_responder):
    added = browser_responder.post(
        "/settings/contact", {"transport": "webhook", "target": HOOK, "enabled": "on"}
    )
    assert added.status_code == 201
    secret = secret_on(added.text)
    assert secret not in browser_responder.get("/settings/contact").text


def test_a_responder_gets_a_friendly_page_on_the_channel_settings(browser_responder):
    for path in ("/settings/channels", "/settings/channels/executives"):
        refused = browser_responder.get(path)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/html")
        assert "Your role does not allow this; ask an admin." in refused.text
    posted = browser_responder.post(
        "/settings/channels", {"name": "x", "transport": "email", "target": "x@example.com"}
    )
    assert posted.status_code == 403


def test_a_nul_character_is_refused_on_the_form_where_the_database_cannot_store_it(
    browser_admin, database
):
    answer = browser_admin.post(
        "/settings/channels",
        {"name": "nul", "transport": "email", "target": "a@example.com", "description": "a\x00b"},
    )
    if database.dialect == "postgresql":
        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("text/html")
        assert "A value cannot be stored" in answer.text
        assert 'value="nul"' in answer.text
    else:  # SQLite stores it
        assert answer.status_code == 303
