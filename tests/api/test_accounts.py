"""People and teams: admins add, change and deactivate people, and say who is in which team."""

from __future__ import annotations

import pytest

USERS = "/api/v1/users"
TEAMS = "/api/v1/teams"


def fields(problem) -> list[str]:
    return [error["field"] for error in problem.json()["errors"]]


def new_user(api, **overrides):
    body = {
        "email": "ana@example.com",
        "name": "Ana Lyst",
        "role": "responder",
        "password": "a long enough password",
        **overrides,
    }
    return api.post(USERS, json=body)


# --- people -------------------------------------------------------------------------------------


def test_an_admin_adds_a_person_who_can_then_sign_in(client, as_admin):
    created = new_user(as_admin, email="Ana@Example.com ")

    assert created.status_code == 201, created.text
    person = created.json()
    assert person["email"] == "ana@example.com"
    assert person["name"] == "Ana Lyst"
    assert person["role"] == "responder"
    assert person["is_active"] is True
    assert person["created_at"].startswith("2026-01-05T10:00:00")
    assert "password" not in created.text
    assert as_admin.get(f"{USERS}/ana@example.com").json()["id"] == person["id"]
    assert as_admin.get(f"{USERS}/{person['id']}").json()["email"] == "ana@example.com"

    signed_in = client.post(
        "/api/v1/auth/login",
        json={"email": "ana@example.com", "password": "a long enough password"},
    )
    assert signed_in.status_code == 200


def test_a_new_person_is_a_responder_unless_told_otherwise(as_admin):
    created = as_admin.post(USERS, json={"email": "new@example.com", "name": "New Person"})
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "responder"


@pytest.mark.parametrize("email", ["ana@example.com", "ANA@example.com", "Ana@Example.Com"])
def test_an_email_is_taken_whatever_its_case(as_admin, email):
    assert new_user(as_admin).status_code == 201

    duplicate = new_user(as_admin, email=email, name="Another Ana")

    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"].startswith("application/problem+json")
    assert "ana@example.com" in duplicate.json()["detail"]
    assert [user["name"] for user in as_admin.get(USERS).json()].count("Another Ana") == 0


def test_a_short_password_is_refused_by_name(as_admin):
    response = new_user(as_admin, password="too short")

    assert response.status_code == 422
    assert fields(response) == ["password"]
    assert "10 characters" in response.json()["detail"]
    assert as_admin.get(f"{USERS}/ana@example.com").status_code == 404


@pytest.mark.parametrize("email", ["not-an-email", "ana@", "@example.com", ""])
def test_an_invalid_email_is_refused_by_name(as_admin, email):
    response = new_user(as_admin, email=email)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fields(response) == ["email"]


def test_an_unknown_role_is_refused_by_name(as_admin):
    response = new_user(as_admin, role="superuser")
    assert response.status_code == 422
    assert fields(response) == ["role"]


def test_an_unexpected_field_is_refused_rather_than_ignored(as_admin):
    response = new_user(as_admin, is_admin=True)
    assert response.status_code == 422
    assert fields(response) == ["is_admin"]


@pytest.mark.parametrize("caller", ["as_responder", "as_viewer"])
def test_only_admins_add_people(request, caller):
    api = request.getfixturevalue(caller)

    response = new_user(api)

    assert response.status_code == 403
    assert "users:admin" in response.json()["detail"]


def test_everyone_signed_in_may_look_people_up(as_viewer, admin):
    listing = as_viewer.get(USERS)
    assert listing.status_code == 200
    assert {"ada@example.com", "vic@example.com"} <= {user["email"] for user in listing.json()}
    assert as_viewer.get(f"{USERS}/ADA@example.com").json()["name"] == "Ada Admin"
    missing = as_viewer.get(f"{USERS}/nobody@example.com")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert as_viewer.get(f"{USERS}/999999").status_code == 404


def test_an_admin_changes_a_persons_name_and_role(as_admin, responder, client):
    response = as_admin.patch(
        f"{USERS}/{responder.user.id}", json={"name": "Rita Lead", "role": "admin"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Rita Lead"
    assert response.json()["role"] == "admin"
    client.post(
        "/api/v1/auth/login",
        json={"email": "rita@example.com", "password": "correct horse battery"},
    )
    assert "users:admin" in client.get("/api/v1/me").json()["permissions"]


def test_a_promotion_does_not_widen_old_tokens_but_a_demotion_narrows_them(
    as_admin, responder, client
):
    as_admin.patch(f"{USERS}/{responder.user.id}", json={"role": "admin"})
    promoted = client.get("/api/v1/me", headers=responder.headers).json()
    assert promoted["role"] == "admin"
    assert "users:admin" not in promoted["permissions"]  # the token was made for a responder

    as_admin.patch(f"{USERS}/{responder.user.id}", json={"role": "viewer"})
    demoted = client.get("/api/v1/me", headers=responder.headers).json()
    assert demoted["permissions"] == [
        "alerts:read",
        "catalog:read",
        "incidents:read",
        "oncall:read",
        "users:read",
    ]


def test_a_patch_changes_only_what_it_names(as_admin, responder):
    as_admin.patch(f"{USERS}/rita@example.com", json={"name": "Rita R."})

    person = as_admin.get(f"{USERS}/rita@example.com").json()
    assert person["name"] == "Rita R."
    assert person["role"] == "responder"
    assert person["is_active"] is True


def test_a_deactivated_person_stays_on_record_but_is_locked_out(as_admin, responder, client):
    response = as_admin.patch(f"{USERS}/rita@example.com", json={"is_active": False})

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert as_admin.get(f"{USERS}/rita@example.com").json()["is_active"] is False
    assert client.get("/api/v1/me", headers=responder.headers).status_code == 401


def test_an_admin_resets_a_password(as_admin, responder, client):
    short = as_admin.patch(f"{USERS}/rita@example.com", json={"password": "short"})
    assert short.status_code == 422
    assert fields(short) == ["password"]

    changed = as_admin.patch(f"{USERS}/rita@example.com", json={"password": "a brand new secret"})
    assert changed.status_code == 200

    login = "/api/v1/auth/login"
    old = client.post(
        login, json={"email": "rita@example.com", "password": "correct horse battery"}
    )
    new = client.post(login, json={"email": "rita@example.com", "password": "a brand new secret"})
    assert old.status_code == 401
    assert new.status_code == 200
    audit = as_admin.get("/api/v1/audit", params={"action": "user.update"})
    assert audit.json()["items"][0]["after"]["password"] == "changed"
    assert "a brand new secret" not in audit.text
    assert "argon2" not in audit.text


def test_a_responder_cannot_change_people(as_responder, viewer):
    response = as_responder.patch(f"{USERS}/{viewer.user.id}", json={"role": "admin"})
    assert response.status_code == 403


def test_changing_an_unknown_person_is_not_found(as_admin):
    assert as_admin.patch(f"{USERS}/ghost@example.com", json={"name": "x"}).status_code == 404


@pytest.mark.parametrize(
    "change", [{"role": "responder"}, {"role": "viewer"}, {"is_active": False}]
)
def test_the_last_active_admin_cannot_be_demoted_or_deactivated(as_admin, admin, change):
    response = as_admin.patch(f"{USERS}/{admin.user.id}", json=change)

    assert response.status_code == 409
    assert "last active admin" in response.json()["detail"]
    me = as_admin.get("/api/v1/me").json()
    assert me["role"] == "admin"
    assert me["is_active"] is True


def test_an_admin_steps_down_once_someone_else_is_admin(as_admin, admin, responder):
    as_admin.patch(f"{USERS}/{responder.user.id}", json={"role": "admin"})

    stepped_down = as_admin.patch(f"{USERS}/{admin.user.id}", json={"role": "responder"})

    assert stepped_down.status_code == 200
    assert stepped_down.json()["role"] == "responder"


def test_a_deactivated_admin_does_not_count_as_the_last_one(as_admin, make_person):
    """Only active admins keep the lights on; demoting one who is already off changes nothing."""
    former = make_person("admin", name="Former Admin", email="former@example.com")
    assert as_admin.patch(f"{USERS}/{former.user.id}", json={"is_active": False}).status_code == 200

    demoted = as_admin.patch(f"{USERS}/{former.user.id}", json={"role": "viewer"})

    assert demoted.status_code == 200, demoted.text
    assert demoted.json()["role"] == "viewer"


def test_the_last_admin_may_still_change_their_own_name(as_admin, admin):
    response = as_admin.patch(f"{USERS}/{admin.user.id}", json={"name": "Ada L.", "role": "admin"})
    assert response.status_code == 200
    assert response.json()["name"] == "Ada L."


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (
            "as_viewer",
            ["alerts:read", "catalog:read", "incidents:read", "oncall:read", "users:read"],
        ),
        (
            "as_responder",
            [
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
            ],
        ),
        (
            "as_admin",
            [
                "alerts:read",
                "alerts:write",
                "audit:read",
                "automation:admin",
                "catalog:read",
                "catalog:write",
                "incidents:read",
                "incidents:write",
                "integrations:admin",
                "jobs:admin",
                "notifications:admin",
                "oncall:admin",
                "oncall:read",
                "oncall:write",
                "playbooks:admin",
                "severities:write",
                "statuspage:admin",
                "statuspage:write",
                "users:admin",
                "users:read",
            ],
        ),
    ],
)
def test_me_says_who_you_are_and_what_your_role_lets_you_do(request, caller, expected):
    api = request.getfixturevalue(caller)

    me = api.get("/api/v1/me")

    assert me.status_code == 200
    assert me.json()["email"] == api.person.user.email
    assert me.json()["role"] == caller.removeprefix("as_")
    assert me.json()["permissions"] == expected


# --- teams --------------------------------------------------------------------------------------


def test_an_admin_creates_a_team_with_a_slug_from_its_name(as_admin):
    created = as_admin.post(
        TEAMS, json={"name": "Payments Platform", "description": "Cards and payouts"}
    )

    assert created.status_code == 201, created.text
    team = created.json()
    assert team["slug"] == "payments-platform"
    assert team["description"] == "Cards and payouts"
    assert team["members"] == []
    assert as_admin.get(f"{TEAMS}/payments-platform").json()["id"] == team["id"]
    assert as_admin.get(f"{TEAMS}/{team['id']}").json()["name"] == "Payments Platform"


@pytest.mark.parametrize("name", ["Payments", "payments", "  PAYMENTS "])
def test_a_team_name_is_taken_whatever_its_case(as_admin, name):
    assert as_admin.post(TEAMS, json={"name": "Payments"}).status_code == 201

    duplicate = as_admin.post(TEAMS, json={"name": name})

    assert duplicate.status_code == 409
    assert len(as_admin.get(TEAMS).json()) == 1


def test_a_team_needs_a_name(as_admin):
    response = as_admin.post(TEAMS, json={"name": "   "})
    assert response.status_code == 422
    assert fields(response) == ["name"]


def test_only_admins_create_teams(as_responder):
    assert as_responder.post(TEAMS, json={"name": "Rogue"}).status_code == 403


def test_an_admin_sets_a_teams_members(as_admin, responder, viewer):
    as_admin.post(TEAMS, json={"name": "Payments"})

    both = as_admin.put(
        f"{TEAMS}/payments/members", json={"user_ids": [responder.user.id, viewer.user.id]}
    )
    assert both.status_code == 200, both.text
    assert {member["email"] for member in both.json()["members"]} == {
        "rita@example.com",
        "vic@example.com",
    }

    only_vic = as_admin.put(f"{TEAMS}/payments/members", json={"user_ids": [viewer.user.id]})
    assert [member["email"] for member in only_vic.json()["members"]] == ["vic@example.com"]

    nobody = as_admin.put(f"{TEAMS}/payments/members", json={"user_ids": []})
    assert nobody.json()["members"] == []


def test_naming_someone_twice_makes_them_a_member_once(as_admin, responder):
    as_admin.post(TEAMS, json={"name": "Payments"})
    response = as_admin.put(
        f"{TEAMS}/payments/members", json={"user_ids": [responder.user.id, responder.user.id]}
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["members"]) == 1


def test_an_unknown_member_changes_nothing(as_admin, responder):
    as_admin.post(TEAMS, json={"name": "Payments"})
    as_admin.put(f"{TEAMS}/payments/members", json={"user_ids": [responder.user.id]})

    response = as_admin.put(f"{TEAMS}/payments/members", json={"user_ids": [999999]})

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    team = as_admin.get(f"{TEAMS}/payments").json()
    assert [member["email"] for member in team["members"]] == ["rita@example.com"]


def test_members_of_an_unknown_team_are_not_found(as_admin, responder):
    response = as_admin.put(f"{TEAMS}/ghosts/members", json={"user_ids": [responder.user.id]})
    assert response.status_code == 404


def test_only_admins_change_membership(as_admin, as_responder, responder):
    as_admin.post(TEAMS, json={"name": "Payments"})
    response = as_responder.put(f"{TEAMS}/payments/members", json={"user_ids": [responder.user.id]})
    assert response.status_code == 403


def test_teams_are_listed_with_their_members(as_admin, as_viewer, responder, viewer):
    as_admin.post(TEAMS, json={"name": "Search"})
    as_admin.post(TEAMS, json={"name": "Payments"})
    as_admin.put(f"{TEAMS}/payments/members", json={"user_ids": [responder.user.id]})
    as_admin.put(f"{TEAMS}/search/members", json={"user_ids": [viewer.user.id, responder.user.id]})

    listing = as_viewer.get(TEAMS)

    assert listing.status_code == 200
    teams = listing.json()
    assert [team["name"] for team in teams] == ["Payments", "Search"]
    members = {team["slug"]: sorted(m["email"] for m in team["members"]) for team in teams}
    assert members == {
        "payments": ["rita@example.com"],
        "search": ["rita@example.com", "vic@example.com"],
    }


# --- ids nobody could have ----------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["99999999999999999999", "2147483648", "0", "²"])
def test_absurd_ids_are_simply_not_found(as_admin, ref):
    assert as_admin.get(f"{USERS}/{ref}").status_code == 404
    assert as_admin.patch(f"{USERS}/{ref}", json={"name": "x"}).status_code == 404
    assert as_admin.get(f"{TEAMS}/{ref}").status_code == 404


def test_a_member_with_an_absurd_id_is_not_found(as_admin):
    as_admin.post(TEAMS, json={"name": "Payments"})
    response = as_admin.put(f"{TEAMS}/payments/members", json={"user_ids": [10**20]})
    assert response.status_code == 404


def test_a_team_named_with_digits_only_is_found_by_its_slug(as_admin):
    created = as_admin.post(TEAMS, json={"name": "911"})
    assert created.status_code == 201, created.text
    assert as_admin.get(f"{TEAMS}/911").json()["name"] == "911"


def test_a_long_team_name_gets_a_slug_that_fits(as_admin):
    name = "Team " + "alpha " * 30 + "bravo"

    created = as_admin.post(TEAMS, json={"name": name})

    assert created.status_code == 201, created.text
    assert len(created.json()["slug"]) <= 100
    assert as_admin.get(f"{TEAMS}/{created.json()['slug']}").json()["name"] == name
