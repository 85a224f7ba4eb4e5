"""Mobilising people: commander, technical lead, communications lead, scribe and SMEs.

The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

import pytest

INCIDENTS = "/api/v1/incidents"


def at(hhmm: str) -> str:
    return f"2026-01-05T{hhmm}:00Z"


def declare(api, title="Checkout down", severity="SEV1", **fields):
    response = api.post(INCIDENTS, json={"title": title, "severity": severity, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def assign(api, ref, role, user):
    return api.post(f"{INCIDENTS}/{ref}/roles", json={"role": role, "user": user})


def fields_named(response):
    return [problem["field"] for problem in response.json().get("errors", [])]


def role_entries(api, ref):
    response = api.get(f"{INCIDENTS}/{ref}/timeline", params={"kind": "role_change"})
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.fixture
def team(make_person):
    """Calls in the people on call this Monday: team("ines", "tom") → {"ines": Person, ...}."""

    def call_in(*names):
        return {
            name: make_person(
                "responder", name=f"{name.title()} Oncall", email=f"{name}@example.com"
            )
            for name in names
        }

    return call_in


def test_the_four_roles_and_an_sme_are_filled_and_shown_on_the_incident(
    as_responder, as_admin, team
):
    team("ines", "tom", "carla", "sam", "dev")
    ref = declare(as_responder)["reference"]

    for role, person in [
        ("commander", "ines@example.com"),
        ("tech_lead", "tom@example.com"),
        ("comms_lead", "carla@example.com"),
        ("scribe", "sam@example.com"),
        ("sme", "dev@example.com"),
    ]:
        response = assign(as_responder, ref, role, person)
        assert response.status_code == 200, response.text

    roles = as_responder.get(f"{INCIDENTS}/{ref}").json()["roles"]
    assert roles["commander"]["email"] == "ines@example.com"
    assert roles["tech_lead"]["email"] == "tom@example.com"
    assert roles["comms_lead"]["email"] == "carla@example.com"
    assert roles["scribe"]["email"] == "sam@example.com"
    assert [sme["email"] for sme in roles["sme"]] == ["dev@example.com"]
    bodies = [entry["body"] for entry in role_entries(as_responder, ref)]
    assert bodies[1].endswith("made Tom Oncall technical lead.")
    assert all(
        entry["author"]["email"] == "rita@example.com" for entry in role_entries(as_responder, ref)
    )
    audited = as_admin.get(
        "/api/v1/audit", params={"entity_id": ref, "action": "incident.role.assign"}
    ).json()["items"]
    assert len(audited) == 5


def test_a_person_can_be_named_by_id_as_well_as_by_email(as_responder, team):
    people = team("sam")
    ref = declare(as_responder)["reference"]

    response = assign(as_responder, ref, "scribe", people["sam"].user.id)

    assert response.status_code == 200, response.text
    assert response.json()["roles"]["scribe"]["id"] == people["sam"].user.id


def test_the_first_commander_acknowledges_the_incident(as_responder, team, clock):
    team("ines")
    ref = declare(as_responder)["reference"]

    clock.advance(minutes=4)
    acknowledged = assign(as_responder, ref, "commander", "ines@example.com").json()

    assert acknowledged["acknowledged_at"] == at("10:04")


def test_a_commander_first_named_after_the_cause_was_found_leaves_acknowledgement_unset(
    as_responder, team, clock
):
    team("ines")
    ref = declare(as_responder)["reference"]
    clock.advance(minutes=10)
    as_responder.post(f"{INCIDENTS}/{ref}/status", json={"status": "identified"})

    clock.advance(minutes=10)
    late = assign(as_responder, ref, "commander", "ines@example.com").json()

    assert late["roles"]["commander"]["email"] == "ines@example.com"
    assert late["identified_at"] == at("10:10")
    assert late["acknowledged_at"] is None


def test_handing_command_over_ends_the_first_commanders_watch(as_responder, team, clock):
    people = team("ines", "tom")
    ref = declare(as_responder)["reference"]
    clock.advance(minutes=2)
    assign(as_responder, ref, "commander", "ines@example.com")

    clock.advance(minutes=45)
    handed = assign(as_responder, ref, "commander", "tom@example.com")

    assert handed.status_code == 200, handed.text
    assert handed.json()["roles"]["commander"]["email"] == "tom@example.com"
    assert handed.json()["acknowledged_at"] == at("10:02")
    history = as_responder.get(f"{INCIDENTS}/{ref}/roles").json()
    assert [(item["role"], item["user"]["email"]) for item in history] == [
        ("commander", "ines@example.com"),
        ("commander", "tom@example.com"),
    ]
    assert history[0]["assigned_at"] == at("10:02")
    assert history[0]["ended_at"] == at("10:47")
    assert history[1]["assigned_at"] == at("10:47")
    assert history[1]["ended_at"] is None
    last = role_entries(as_responder, ref)[-1]
    assert last["body"].endswith("handed incident commander from Ines Oncall to Tom Oncall.")
    assert last["details"]["previous_user_id"] == people["ines"].user.id


def test_command_can_be_handed_back_and_forth(as_responder, team, clock):
    team("ines", "tom")
    ref = declare(as_responder)["reference"]
    assign(as_responder, ref, "commander", "ines@example.com")
    clock.advance(hours=4)
    assign(as_responder, ref, "commander", "tom@example.com")
    clock.advance(hours=4)

    back = assign(as_responder, ref, "commander", "ines@example.com")

    assert back.status_code == 200, back.text
    history = as_responder.get(f"{INCIDENTS}/{ref}/roles").json()
    assert [item["user"]["email"] for item in history] == [
        "ines@example.com",
        "tom@example.com",
        "ines@example.com",
    ]
    assert [item["ended_at"] is None for item in history] == [False, False, True]


def test_giving_someone_the_role_they_already_hold_is_a_conflict(as_responder, team):
    team("tom")
    ref = declare(as_responder)["reference"]
    assign(as_responder, ref, "tech_lead", "tom@example.com")

    again = assign(as_responder, ref, "tech_lead", "tom@example.com")

    assert again.status_code == 409
    assert "already the technical lead" in again.json()["detail"]
    assert len(as_responder.get(f"{INCIDENTS}/{ref}/roles").json()) == 1


def test_two_subject_matter_experts_work_side_by_side_but_not_twice(as_responder, team):
    team("dev", "maya")
    ref = declare(as_responder)["reference"]

    assert assign(as_responder, ref, "sme", "dev@example.com").status_code == 200
    both = assign(as_responder, ref, "sme", "maya@example.com")
    duplicate = assign(as_responder, ref, "sme", "dev@example.com")

    assert [sme["email"] for sme in both.json()["roles"]["sme"]] == [
        "dev@example.com",
        "maya@example.com",
    ]
    assert duplicate.status_code == 409
    assert "already a subject-matter expert" in duplicate.json()["detail"]
    current = as_responder.get(f"{INCIDENTS}/{ref}").json()["roles"]["sme"]
    assert len(current) == 2


def test_releasing_one_sme_keeps_the_other(as_responder, team, clock):
    team("dev", "maya")
    ref = declare(as_responder)["reference"]
    assign(as_responder, ref, "sme", "dev@example.com")
    assign(as_responder, ref, "sme", "maya@example.com")

    clock.advance(minutes=30)
    released = as_responder.delete(
        f"{INCIDENTS}/{ref}/roles/sme", params={"user": "dev@example.com"}
    )

    assert released.status_code == 200, released.text
    assert [sme["email"] for sme in released.json()["roles"]["sme"]] == ["maya@example.com"]
    history = {
        item["user"]["email"]: item for item in as_responder.get(f"{INCIDENTS}/{ref}/roles").json()
    }
    assert history["dev@example.com"]["ended_at"] == at("10:30")
    assert history["maya@example.com"]["ended_at"] is None


def test_the_commander_cannot_be_released_only_handed_over(as_responder, team):
    team("ines")
    ref = declare(as_responder)["reference"]
    assign(as_responder, ref, "commander", "ines@example.com")

    refused = as_responder.delete(f"{INCIDENTS}/{ref}/roles/commander")

    assert refused.status_code == 409
    assert "hand the role" in refused.json()["detail"]
    assert as_responder.get(f"{INCIDENTS}/{ref}").json()["roles"]["commander"] is not None


def test_releasing_the_technical_lead_is_recorded(as_responder, as_admin, team, clock):
    people = team("tom")
    ref = declare(as_responder)["reference"]
    assign(as_responder, ref, "tech_lead", "tom@example.com")

    clock.advance(minutes=20)
    released = as_responder.delete(f"{INCIDENTS}/{ref}/roles/tech_lead")

    assert released.status_code == 200, released.text
    assert released.json()["roles"]["tech_lead"] is None
    (item,) = as_responder.get(f"{INCIDENTS}/{ref}/roles").json()
    assert item["ended_at"] == at("10:20")
    last = role_entries(as_responder, ref)[-1]
    assert last["body"].endswith("released Tom Oncall from technical lead.")
    audited = as_admin.get(
        "/api/v1/audit", params={"entity_id": ref, "action": "incident.role.release"}
    ).json()["items"]
    assert [record["before"]["user_id"] for record in audited] == [people["tom"].user.id]


def test_releasing_a_role_nobody_holds_is_not_found(as_responder):
    ref = declare(as_responder)["reference"]

    assert as_responder.delete(f"{INCIDENTS}/{ref}/roles/scribe").status_code == 404
    assert as_responder.delete(f"{INCIDENTS}/{ref}/roles/observer").status_code == 422


@pytest.mark.parametrize("user", ["ghost@example.com", 987654])
def test_a_role_cannot_go_to_someone_who_is_not_a_user(as_responder, user):
    ref = declare(as_responder)["reference"]

    refused = assign(as_responder, ref, "commander", user)

    assert refused.status_code == 422
    assert fields_named(refused) == ["user"]
    assert as_responder.get(f"{INCIDENTS}/{ref}/roles").json() == []


def test_a_role_cannot_go_to_someone_who_has_left(as_responder, as_admin, team):
    team("maya")
    ref = declare(as_responder)["reference"]
    left = as_admin.patch("/api/v1/users/maya@example.com", json={"is_active": False})
    assert left.status_code == 200, left.text

    refused = assign(as_responder, ref, "sme", "maya@example.com")

    assert refused.status_code == 422
    assert fields_named(refused) == ["user"]
    assert "deactivated" in refused.json()["errors"][0]["message"]


def test_someone_who_left_can_still_be_released_from_their_role(as_responder, as_admin, team):
    team("dev", "maya")
    ref = declare(as_responder)["reference"]
    assign(as_responder, ref, "sme", "maya@example.com")
    assign(as_responder, ref, "sme", "dev@example.com")
    as_admin.patch("/api/v1/users/maya@example.com", json={"is_active": False})

    released = as_responder.delete(
        f"{INCIDENTS}/{ref}/roles/sme", params={"user": "maya@example.com"}
    )

    assert released.status_code == 200, released.text
    assert [sme["email"] for sme in released.json()["roles"]["sme"]] == ["dev@example.com"]


def test_an_unknown_role_is_refused_and_named(as_responder, team):
    team("ines")
    ref = declare(as_responder)["reference"]

    refused = assign(as_responder, ref, "hero", "ines@example.com")

    assert refused.status_code == 422
    assert fields_named(refused) == ["role"]


def test_roles_of_an_unknown_incident_are_not_found(as_responder, team):
    team("sam")
    assert assign(as_responder, "INC-424242", "scribe", "sam@example.com").status_code == 404
    assert as_responder.get(f"{INCIDENTS}/INC-424242/roles").status_code == 404
