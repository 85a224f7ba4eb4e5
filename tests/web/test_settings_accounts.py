"""Users, teams and API tokens on the settings pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def secret_on(html: str) -> str:
    match = re.search(r'<code class="secret-value">([^<]+)</code>', html)
    assert match, "the page shows no secret"
    return match.group(1)


def test_a_token_made_on_the_page_shows_its_secret_once_works_and_revoking_stops_it(
    app, browser_responder
):
    page = browser_responder.get("/settings/tokens")
    assert page.status_code == 200
    assert 'value="incidents:write"' in page.text
    assert 'value="users:admin"' not in page.text  # beyond a responder's role

    made = browser_responder.post(
        "/settings/tokens", {"name": "deploy-bot", "scopes": ["incidents:read"]}
    )
    assert made.status_code == 201, made.text
    secret = secret_on(made.text)
    assert "shown only this once" in made.text
    assert secret not in browser_responder.get("/settings/tokens").text

    api = TestClient(app)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/incidents", headers=bearer).status_code == 200
    assert api.post("/api/v1/incidents", headers=bearer, json={}).status_code == 403  # read only

    (token,) = [
        t for t in api.get("/api/v1/tokens", headers=bearer).json() if t["name"] == "deploy-bot"
    ]
    assert token["scopes"] == ["incidents:read"]
    token_id = token["id"]
    assert f'action="/settings/tokens/{token_id}/revoke"' in made.text
    revoked = browser_responder.post(f"/settings/tokens/{token_id}/revoke")
    assert revoked.headers["location"] == "/settings/tokens?done=revoked"
    assert api.get("/api/v1/incidents", headers=bearer).status_code == 401
    assert "Revoked" in browser_responder.get("/settings/tokens").text


def test_a_token_needs_a_name_and_a_permission_and_is_only_yours_to_revoke(
    browser_responder, browser_admin, admin
):
    nameless = browser_responder.post(
        "/settings/tokens", {"name": "", "scopes": ["incidents:read"]}
    )
    assert nameless.status_code == 422
    assert 'id="f-name-error"' in nameless.text
    no_scope = browser_responder.post("/settings/tokens", {"name": "bot"})
    assert no_scope.status_code == 422
    assert 'id="f-scopes-error"' in no_scope.text
    too_much = browser_responder.post(
        "/settings/tokens", {"name": "bot", "scopes": ["users:admin"]}
    )
    assert too_much.status_code == 422
    assert "exceed" in too_much.text

    made = browser_admin.post("/settings/tokens", {"name": "ada-bot", "scopes": ["jobs:admin"]})
    token_id = re.findall(r'action="/settings/tokens/(\d+)/revoke"', made.text)[-1]
    assert browser_responder.post(f"/settings/tokens/{token_id}/revoke").status_code == 404


def test_an_admin_adds_a_person_changes_their_role_and_deactivates_them(browser_admin, as_admin):
    added = browser_admin.post(
        "/settings/users",
        {"email": "Sam@Example.com", "name": "Sam Support", "role": "viewer", "password": ""},
    )
    assert added.status_code == 303, added.text
    sam = as_admin.get("/api/v1/users/sam@example.com").json()
    assert (sam["role"], sam["is_active"]) == ("viewer", True)

    taken = browser_admin.post(
        "/settings/users", {"email": "sam@example.com", "name": "Sam Again", "role": "viewer"}
    )
    assert taken.status_code == 409
    assert 'id="f-email-error"' in taken.text
    assert 'value="Sam Again"' in taken.text

    assert (
        browser_admin.post(f"/settings/users/{sam['id']}", {"role": "responder"}).status_code == 303
    )
    assert as_admin.get(f"/api/v1/users/{sam['id']}").json()["role"] == "responder"
    assert browser_admin.post(f"/settings/users/{sam['id']}", {"active": "no"}).status_code == 303
    assert as_admin.get(f"/api/v1/users/{sam['id']}").json()["is_active"] is False
    assert "Reactivate" in browser_admin.get("/settings/users").text


def test_the_last_admin_cannot_demote_themselves(browser_admin, admin):
    refused = browser_admin.post(f"/settings/users/{admin.user.id}", {"role": "viewer"})
    assert refused.status_code == 409
    assert "last active admin" in refused.text


def test_an_admin_makes_a_team_and_sets_its_members(browser_admin, as_admin, responder, viewer):
    created = browser_admin.post(
        "/settings/teams", {"name": "Payments SRE", "description": "Cards"}
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/settings/teams/payments-sre?done=created"
    page = browser_admin.get("/settings/teams/payments-sre")
    assert f'value="{responder.user.id}"' in page.text

    saved = browser_admin.post(
        "/settings/teams/payments-sre/members",
        {"members": [str(responder.user.id), str(viewer.user.id)]},
    )
    assert saved.status_code == 303
    team = as_admin.get("/api/v1/teams/payments-sre").json()
    assert {m["email"] for m in team["members"]} == {"rita@example.com", "vic@example.com"}
    assert "Rita Responder" in browser_admin.get("/settings/teams").text

    again = browser_admin.post("/settings/teams", {"name": "Payments SRE"})
    assert again.status_code == 409
    assert 'id="f-name-error"' in again.text
    bogus = browser_admin.post("/settings/teams/payments-sre/members", {"members": ["999999"]})
    assert bogus.status_code == 404
    assert "No user with id 999999" in bogus.text


def test_a_responder_sees_teams_but_users_are_for_admins(browser_responder):
    refused = browser_responder.get("/settings/users")
    assert refused.status_code == 403
    assert "Your role does not allow this; ask an admin." in refused.text
    assert (
        browser_responder.post(
            "/settings/users", {"email": "x@example.com", "name": "X"}
        ).status_code
        == 403
    )
    teams = browser_responder.get("/settings/teams")
    assert teams.status_code == 200
    assert 'action="/settings/teams"' not in teams.text
    assert browser_responder.post("/settings/teams", {"name": "Mine"}).status_code == 403
