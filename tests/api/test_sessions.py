"""Signing in with a password: the session cookie, CSRF protection, expiry and signing out."""

from __future__ import annotations

PASSWORD = "correct horse battery"  # what make_person gives everyone
LOGIN = "/api/v1/auth/login"


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, json={"email": email, "password": password})


def cookie_attributes(response) -> dict[str, str]:
    """The Set-Cookie header of the session cookie, as {attribute (lower case): value}."""
    (header,) = [
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith("fireline_session=")
    ]
    attributes = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def test_signing_in_sets_a_private_cookie_and_hands_out_a_csrf_token(client, responder, clock):
    response = sign_in(client, "rita@example.com")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["email"] == "rita@example.com"
    assert body["user"]["name"] == "Rita Responder"
    assert len(body["csrf_token"]) >= 20
    assert body["expires_at"].startswith("2026-01-05T22:00:00")  # 12 hours from now
    attributes = cookie_attributes(response)
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"
    assert attributes["path"] == "/"
    assert attributes["max-age"] == str(12 * 3600)
    assert "secure" not in attributes  # cookie_secure is off outside HTTPS deployments
    assert client.cookies.get("fireline_session")


def test_the_email_is_matched_whatever_its_case(client, responder):
    assert sign_in(client, "  Rita@Example.COM ").status_code == 200


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client, responder):
    wrong_password = sign_in(client, "rita@example.com", "not her password")
    unknown_email = sign_in(client, "nobody@example.com")

    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "set-cookie" not in response.headers
    assert wrong_password.json()["detail"] == unknown_email.json()["detail"]
    assert wrong_password.json()["detail"] == "Email or password is incorrect."


def test_a_person_without_a_password_cannot_sign_in(client, as_admin):
    created = as_admin.post(
        "/api/v1/users", json={"email": "sso@example.com", "name": "Token Only"}
    )
    assert created.status_code == 201, created.text

    assert sign_in(client, "sso@example.com", "anything at all").status_code == 401
    empty = sign_in(client, "sso@example.com", "")
    assert empty.status_code == 422
    assert [error["field"] for error in empty.json()["errors"]] == ["password"]


def test_a_deactivated_person_cannot_sign_in_and_their_open_session_ends(
    client, as_admin, responder
):
    signed_in = sign_in(client, "rita@example.com")
    csrf = signed_in.json()["csrf_token"]
    assert client.get("/api/v1/me").status_code == 200

    deactivated = as_admin.patch(f"/api/v1/users/{responder.user.id}", json={"is_active": False})
    assert deactivated.status_code == 200, deactivated.text

    refused = sign_in(client, "rita@example.com")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Email or password is incorrect."
    assert client.get("/api/v1/me").status_code == 401
    write = client.post(
        "/api/v1/services", json={"name": "Checkout"}, headers={"X-CSRF-Token": csrf}
    )
    assert write.status_code == 401


def test_the_cookie_alone_lets_a_person_read(client, responder):
    sign_in(client, "rita@example.com")

    me = client.get("/api/v1/me")
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "rita@example.com"
    assert "incidents:write" in me.json()["permissions"]
    assert client.get("/api/v1/services").status_code == 200


def test_a_write_with_the_cookie_needs_the_csrf_token(client, responder):
    csrf = sign_in(client, "rita@example.com").json()["csrf_token"]

    forged = client.post("/api/v1/services", json={"name": "Checkout"})
    assert forged.status_code == 403
    assert forged.headers["content-type"].startswith("application/problem+json")
    assert "X-CSRF-Token" in forged.json()["detail"]

    wrong = client.post(
        "/api/v1/services", json={"name": "Checkout"}, headers={"X-CSRF-Token": "guess"}
    )
    assert wrong.status_code == 403

    genuine = client.post(
        "/api/v1/services", json={"name": "Checkout"}, headers={"X-CSRF-Token": csrf}
    )
    assert genuine.status_code == 201, genuine.text
    assert client.get("/api/v1/services/checkout").status_code == 200


def test_each_sign_in_gets_its_own_csrf_token(client, responder):
    first = sign_in(client, "rita@example.com").json()["csrf_token"]
    second = sign_in(client, "rita@example.com").json()["csrf_token"]

    assert first != second
    # The client now holds the second session's cookie; the first session's token does not fit it.
    response = client.post(
        "/api/v1/services", json={"name": "Checkout"}, headers={"X-CSRF-Token": first}
    )
    assert response.status_code == 403


def test_a_session_ends_after_session_ttl_hours(client, responder, clock, settings):
    sign_in(client, "rita@example.com")

    clock.advance(hours=settings.session_ttl_hours, minutes=-1)
    assert client.get("/api/v1/me").status_code == 200

    clock.advance(minutes=1)
    expired = client.get("/api/v1/me")
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"].startswith("Bearer")
    assert "sign in again" in expired.json()["detail"]


def test_signing_out_ends_the_session_for_good(client, responder):
    csrf = sign_in(client, "rita@example.com").json()["csrf_token"]
    cookie = client.cookies.get("fireline_session")

    assert client.post("/api/v1/auth/logout").status_code == 403  # needs the CSRF token too
    out = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})

    assert out.status_code == 204
    assert client.cookies.get("fireline_session") is None
    assert client.get("/api/v1/me").status_code == 401
    # Someone who copied the cookie before sign-out cannot use it either.
    replayed = client.get("/api/v1/me", headers={"Cookie": f"fireline_session={cookie}"})
    assert replayed.status_code == 401


def test_a_bearer_token_takes_precedence_over_a_cookie(client, responder, viewer):
    sign_in(client, "rita@example.com")

    me = client.get("/api/v1/me", headers=viewer.headers)
    assert me.json()["email"] == "vic@example.com"
    # Writes with a token need no CSRF token: browsers never attach it on their own.
    created = client.post("/api/v1/tokens", json={"name": "laptop"}, headers=viewer.headers)
    assert created.status_code == 201, created.text


def test_signing_in_and_out_is_in_the_audit_log(client, as_admin, responder):
    csrf = sign_in(client, "rita@example.com").json()["csrf_token"]
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    sign_in(client, "rita@example.com", "wrong password")

    records = as_admin.get(
        "/api/v1/audit", params={"entity_type": "user", "entity_id": str(responder.user.id)}
    ).json()["items"]
    actions = [item["action"] for item in records]
    assert actions[:2] == ["session.sign_out", "session.sign_in"]
    sign_in_record = records[1]
    assert sign_in_record["actor_id"] == responder.user.id
    assert sign_in_record["actor"] == "Rita Responder <rita@example.com>"
    assert sign_in_record["via"] == "session"
    assert sign_in_record["occurred_at"].startswith("2026-01-05T10:00:00")


def test_a_nul_character_in_the_email_is_refused_not_a_server_error(client, responder):
    response = client.post(LOGIN, json={"email": "rita\u0000@example.com", "password": PASSWORD})

    # SQLite compares the odd string and finds nobody; PostgreSQL cannot hold it at all.
    assert response.status_code in {401, 422}
    assert response.headers["content-type"].startswith("application/problem+json")
