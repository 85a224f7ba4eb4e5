"""Incident roles default from on-call: declaring without naming a commander gives the incident
to whoever the incident-commander schedule has on call, or else to the person the affected
service's escalation policy pages first."""

from __future__ import annotations

import pytest

SCHEDULES = "/api/v1/schedules"


@pytest.fixture
def people(make_person):
    return {
        name: make_person("responder", name=f"{name} Oncall", email=f"{name.lower()}@example.com")
        for name in ("Ines", "Omar", "Pia")
    }


def schedule(as_admin, name: str, members: list[int]) -> dict:
    created = as_admin.post(
        SCHEDULES,
        json={
            "name": name,
            "timezone": "UTC",
            "layers": [
                {
                    "name": "Daily",
                    "members": members,
                    "shift_length": 1,
                    "shift_unit": "days",
                    "rotation_start": "2026-01-01T09:00:00Z",
                    "timezone": "UTC",
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


def commander_of(api, ref: str):
    commander = api.get(f"/api/v1/incidents/{ref}").json()["roles"]["commander"]
    return commander["email"] if commander else None


def test_the_incident_commander_schedule_leads_an_incident_declared_without_one(
    as_admin, as_responder, people
):
    # 2026-01-05 10:00 is day 4 of a daily rotation that began 2026-01-01 09:00: Omar (4 % 3 = 1).
    commanders = schedule(
        as_admin, "Incident commanders", [people[n].user.id for n in ("Ines", "Omar", "Pia")]
    )
    assert (
        as_admin.put(
            "/api/v1/role-schedules/commander", json={"schedule": commanders["slug"]}
        ).status_code
        == 200
    )

    unnamed = as_responder.post(
        "/api/v1/incidents", json={"title": "Login errors", "severity": "SEV2"}
    )
    named = as_responder.post(
        "/api/v1/incidents",
        json={"title": "Slow search", "severity": "SEV3", "commander": "pia@example.com"},
    )

    assert commander_of(as_responder, unnamed.json()["reference"]) == "omar@example.com"
    assert commander_of(as_responder, named.json()["reference"]) == "pia@example.com"


def test_without_a_commander_schedule_the_services_escalation_policy_decides(
    as_admin, as_responder, people
):
    primary = schedule(as_admin, "Checkout primary", [people["Pia"].user.id])
    policy = as_admin.post(
        "/api/v1/escalation-policies",
        json={
            "name": "Checkout",
            "levels": [
                {"delay_minutes": 5, "targets": [{"type": "schedule", "slug": primary["slug"]}]}
            ],
        },
    )
    assert policy.status_code == 201, policy.text
    as_admin.post("/api/v1/services", json={"name": "Checkout"})
    assigned = as_admin.put(
        f"/api/v1/escalation-policies/{policy.json()['id']}/services",
        json={"services": ["checkout"]},
    )
    assert assigned.status_code == 200, assigned.text

    on_checkout = as_responder.post(
        "/api/v1/incidents",
        json={"title": "Checkout down", "severity": "SEV1", "services": ["checkout"]},
    )
    elsewhere = as_responder.post("/api/v1/incidents", json={"title": "Typo", "severity": "SEV4"})

    assert commander_of(as_responder, on_checkout.json()["reference"]) == "pia@example.com"
    assert commander_of(as_responder, elsewhere.json()["reference"]) is None
