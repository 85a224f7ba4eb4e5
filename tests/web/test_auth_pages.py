"""Signing in and out of the web application, and what a page does for a stranger."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import PASSWORD


def test_a_stranger_is_sent_to_sign_in_and_back_to_where_they_were_going(app, responder):
    client = TestClient(app)
    asked = client.get("/?focus=INC-1", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login?next=/%3Ffocus%3DINC-1"

    form = client.get(asked.headers["location"])
    assert form.status_code == 200
    assert 'name="next" value="/?focus=INC-1"' in form.text
    signed = client.post(
        "/login",
        data={
            "email": "rita@example.com",
            "password": PASSWORD,
            "next": "/?focus=INC-1",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/?focus=INC-1"


def test_a_wrong_password_says_so_and_keeps_the_email(app, responder):
    client = TestClient(app)
    refused = client.post(
        "/login", data={"email": "rita@example.com", "password": "nope", "next": "/"}
    )
    assert refused.status_code == 401
    assert "Email or password is incorrect." in refused.text
    assert 'value="rita@example.com"' in refused.text
    assert "fireline_session" not in refused.cookies


def test_sign_in_never_redirects_off_the_site(app, responder):
    client = TestClient(app)
    signed = client.post(
        "/login",
        data={"email": "rita@example.com", "password": PASSWORD, "next": "//evil.example.com/"},
        follow_redirects=False,
    )
    assert signed.headers["location"] == "/"


def test_the_dashboard_lists_active_incidents_with_their_commander_and_next_deadline(
    browser_responder, as_responder
):
    declared = as_responder.post(
        "/api/v1/incidents",
        json={"title": "Checkout down", "severity": "SEV1", "commander": "rita@example.com"},
    )
    assert declared.status_code == 201, declared.text
    page = browser_responder.get("/")
    assert page.status_code == 200
    assert "Checkout down" in page.text
    assert "SEV1" in page.text
    assert "Rita Responder" in page.text
    # The commander acknowledged by taking command; the first public update is due next.
    assert 'data-due="2026-01-05T10:15:00Z"' in page.text


def test_signing_out_needs_the_pages_csrf_token_and_ends_the_session(browser_responder):
    forged = browser_responder.client.post(
        "/logout", data={"csrf_token": "forged"}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert "This form has expired" in forged.text
    assert browser_responder.get("/").status_code == 200

    out = browser_responder.post("/logout")
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert browser_responder.get("/").status_code == 303


def test_an_unknown_page_is_a_page_not_json(browser_responder):
    missing = browser_responder.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")


def test_every_page_names_the_site_icon_and_the_icon_is_served(client):
    sign_in = client.get("/login")
    icon = client.get("/static/favicon.svg")

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in sign_in.text
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert "<title>Fireline</title>" in icon.text
