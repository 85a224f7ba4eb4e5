"""API tokens: shown once, narrowed by scopes, refused once revoked, expired or deactivated."""

from __future__ import annotations

import pytest

TOKENS = "/api/v1/tokens"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def fields(problem) -> list[str]:
    return [error["field"] for error in problem.json()["errors"]]


def test_a_new_token_is_shown_once_and_never_again(as_responder):
    created = as_responder.post(TOKENS, json={"name": "deploy bot"})

    assert created.status_code == 201, created.text
    token = created.json()
    secret = token["token"]
    assert secret.startswith("fl_")
    assert len(secret) > 40
    assert token["prefix"] == secret[:10]
    assert token["name"] == "deploy bot"
    assert token["user_email"] == "rita@example.com"
    assert token["created_at"].startswith("2026-01-05T10:00:00")
    assert token["revoked_at"] is None

    listing = as_responder.get(TOKENS)
    assert listing.status_code == 200
    assert secret not in listing.text
    listed = {item["id"]: item for item in listing.json()}
    assert "token" not in listed[token["id"]]
    assert listed[token["id"]]["prefix"] == token["prefix"]


def test_a_token_without_scopes_carries_everything_its_owner_may_do(client, as_responder):
    secret = as_responder.post(TOKENS, json={"name": "cli"}).json()["token"]

    me = client.get("/api/v1/me", headers=bearer(secret))
    assert me.status_code == 200
    assert me.json()["permissions"] == [
        "alerts:read",
        "alerts:write",
        "catalog:read",
        "catalog:write",
        "incidents:read",
        "incidents:write",
        "oncall:read",
        "oncall:write",
        "statuspage:write",
        "users:read",
    ]


def test_scopes_narrow_a_token_below_its_owners_role(client, as_responder):
    created = as_responder.post(TOKENS, json={"name": "dashboard", "scopes": ["catalog:read"]})
    assert created.status_code == 201, created.text
    assert created.json()["scopes"] == ["catalog:read"]
    headers = bearer(created.json()["token"])

    assert client.get("/api/v1/services", headers=headers).status_code == 200
    refused = client.post("/api/v1/services", json={"name": "Checkout"}, headers=headers)
    assert refused.status_code == 403
    assert "catalog:write" in refused.json()["detail"]
    assert "token" in refused.json()["detail"]
    # The same person, with their full token, may make the change.
    assert as_responder.post("/api/v1/services", json={"name": "Checkout"}).status_code == 201


def test_repeated_scopes_are_granted_once(as_responder):
    created = as_responder.post(
        TOKENS, json={"name": "x", "scopes": ["catalog:read", "incidents:read", "catalog:read"]}
    )
    assert created.json()["scopes"] == ["catalog:read", "incidents:read"]


def test_a_token_cannot_reach_beyond_its_owners_role(as_viewer):
    response = as_viewer.post(TOKENS, json={"name": "sneaky", "scopes": ["incidents:write"]})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fields(response) == ["scopes"]
    assert "incidents:write" in response.json()["detail"]
    assert "sneaky" not in {item["name"] for item in as_viewer.get(TOKENS).json()}


def test_an_unknown_scope_is_refused_by_name(as_responder):
    response = as_responder.post(TOKENS, json={"name": "typo", "scopes": ["incident:write"]})

    assert response.status_code == 422
    assert fields(response) == ["scopes"]
    assert "incident:write" in response.json()["detail"]


def test_a_revoked_token_stops_working_at_once(client, as_responder):
    created = as_responder.post(TOKENS, json={"name": "laptop"}).json()
    headers = bearer(created["token"])
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    revoked = as_responder.delete(f"{TOKENS}/{created['id']}")

    assert revoked.status_code == 204
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The API token has been revoked."
    listed = {item["id"]: item for item in as_responder.get(TOKENS).json()}
    assert listed[created["id"]]["revoked_at"].startswith("2026-01-05T10:00:00")
    # Revoking twice is harmless.
    assert as_responder.delete(f"{TOKENS}/{created['id']}").status_code == 204


def test_a_token_expires_at_its_expiry_time(client, as_responder, clock):
    created = as_responder.post(
        TOKENS, json={"name": "temporary", "expires_at": "2026-01-05T11:00:00Z"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["expires_at"].startswith("2026-01-05T11:00:00")
    headers = bearer(created.json()["token"])
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    clock.advance(minutes=59)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(minutes=1)
    expired = client.get("/api/v1/me", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["detail"] == "The API token has expired."


def test_an_expiry_in_another_time_zone_means_the_same_instant(client, as_responder, clock):
    created = as_responder.post(
        TOKENS, json={"name": "berlin", "expires_at": "2026-01-05T12:00:00+01:00"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["expires_at"].startswith("2026-01-05T11:00:00")
    clock.advance(hours=1)
    assert client.get("/api/v1/me", headers=bearer(created.json()["token"])).status_code == 401


@pytest.mark.parametrize(
    "expires_at", ["2026-01-05T10:00:00Z", "2026-01-04T10:00:00Z"], ids=["now", "yesterday"]
)
def test_a_token_cannot_expire_in_the_past(as_responder, expires_at):
    response = as_responder.post(TOKENS, json={"name": "stale", "expires_at": expires_at})
    assert response.status_code == 422
    assert fields(response) == ["expires_at"]


def test_an_expiry_without_a_time_zone_is_read_as_utc(client, as_responder, clock):
    created = as_responder.post(
        TOKENS, json={"name": "no zone", "expires_at": "2026-01-05T11:00:00"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["expires_at"].startswith("2026-01-05T11:00:00")
    clock.advance(hours=1)
    assert client.get("/api/v1/me", headers=bearer(created.json()["token"])).status_code == 401


def test_a_deactivated_persons_tokens_stop_working(client, as_admin, responder):
    assert client.get("/api/v1/me", headers=responder.headers).status_code == 200

    as_admin.patch(f"/api/v1/users/{responder.user.id}", json={"is_active": False})

    refused = client.get("/api/v1/me", headers=responder.headers)
    assert refused.status_code == 401
    assert "deactivated" in refused.json()["detail"]

    as_admin.patch(f"/api/v1/users/{responder.user.id}", json={"is_active": True})
    assert client.get("/api/v1/me", headers=responder.headers).status_code == 200


def test_an_admin_creates_a_token_for_someone_else(client, as_admin, responder):
    created = as_admin.post(
        TOKENS, json={"name": "rita's bot", "user": "rita@example.com", "scopes": ["catalog:read"]}
    )

    assert created.status_code == 201, created.text
    assert created.json()["user_email"] == "rita@example.com"
    me = client.get("/api/v1/me", headers=bearer(created.json()["token"]))
    assert me.json()["email"] == "rita@example.com"
    assert me.json()["permissions"] == ["catalog:read"]


def test_an_admin_cannot_give_someone_a_token_beyond_their_role(as_admin, responder):
    response = as_admin.post(
        TOKENS, json={"name": "x", "user": str(responder.user.id), "scopes": ["users:admin"]}
    )
    assert response.status_code == 422
    assert fields(response) == ["scopes"]


def test_a_token_for_an_unknown_person_is_not_found(as_admin):
    response = as_admin.post(TOKENS, json={"name": "x", "user": "ghost@example.com"})
    assert response.status_code == 404


def test_a_responder_creates_tokens_only_for_themselves(as_responder, viewer):
    for other in ("vic@example.com", str(viewer.user.id)):
        refused = as_responder.post(TOKENS, json={"name": "for vic", "user": other})
        assert refused.status_code == 403
        assert "users:admin" in refused.json()["detail"]

    own = as_responder.post(TOKENS, json={"name": "mine", "user": "RITA@example.com"})
    assert own.status_code == 201, own.text
    assert own.json()["user_email"] == "rita@example.com"


def test_people_revoke_their_own_tokens_but_not_each_others(as_responder, as_viewer, client):
    vics = as_viewer.post(TOKENS, json={"name": "vic's"}).json()

    refused = as_responder.delete(f"{TOKENS}/{vics['id']}")

    assert refused.status_code == 404  # not 403: it does not reveal that the token exists
    assert refused.json()["detail"] == f"No API token {vics['id']}."
    assert as_responder.delete(f"{TOKENS}/999999").status_code == 404
    assert client.get("/api/v1/me", headers=bearer(vics["token"])).status_code == 200
    assert as_viewer.delete(f"{TOKENS}/{vics['id']}").status_code == 204


def test_an_admin_sees_and_revokes_everyones_tokens(client, as_admin, as_responder, as_viewer):
    ritas = as_responder.post(TOKENS, json={"name": "rita's"}).json()
    vics = as_viewer.post(TOKENS, json={"name": "vic's"}).json()

    everyone = {item["user_email"] for item in as_admin.get(TOKENS).json()}
    assert {"ada@example.com", "rita@example.com", "vic@example.com"} <= everyone
    assert {item["user_email"] for item in as_responder.get(TOKENS).json()} == {"rita@example.com"}
    assert as_admin.delete(f"{TOKENS}/{ritas['id']}").status_code == 204
    assert client.get("/api/v1/me", headers=bearer(ritas["token"])).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(vics["token"])).status_code == 200


def test_using_a_token_records_when_it_was_last_used(client, as_responder, clock):
    created = as_responder.post(TOKENS, json={"name": "cron"}).json()
    assert created["last_used_at"] is None

    clock.advance(minutes=5)
    client.get("/api/v1/me", headers=bearer(created["token"]))

    listed = {item["id"]: item for item in as_responder.get(TOKENS).json()}
    assert listed[created["id"]]["last_used_at"].startswith("2026-01-05T10:05:00")


def test_the_secret_never_reaches_the_audit_log(as_admin):
    secret = as_admin.post(TOKENS, json={"name": "audited"}).json()["token"]

    audit = as_admin.get("/api/v1/audit", params={"action": "token.create"})
    assert audit.status_code == 200
    assert secret not in audit.text
    assert audit.json()["items"][0]["after"]["name"] == "audited"


@pytest.mark.parametrize("token_id", [10**20, 2**31, 0])
def test_revoking_a_token_with_an_absurd_id_is_not_found(as_admin, token_id):
    assert as_admin.delete(f"{TOKENS}/{token_id}").status_code == 404


# --- what a refused caller sees -----------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    ["Basic cml0YTpwYXNzd29yZA==", "Bearer ", "Bearer", "Token fl_abc", "fl_abc", "Bearer fl_nope"],
)
def test_a_malformed_or_unknown_credential_is_refused(client, authorization):
    response = client.get("/api/v1/me", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    problem = response.json()
    assert problem["status"] == 401
    assert problem["title"] == "Authentication required"
    assert problem["instance"] == "/api/v1/me"


def test_no_credential_at_all_is_a_401_that_says_how_to_authenticate(client):
    response = client.get("/api/v1/tokens")

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Bearer" in response.json()["detail"]
