"""Escalation policies through the JSON API: who a page reaches, level by level.

The fake clock starts on Monday 5 January 2026 at 10:00 UTC; the payments schedule hands off
every Monday at 08:00 UTC, Ana then Ben. Dana is the engineering manager behind them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fireline.accounts import service as accounts
from fireline.accounts.principal import Actor
from fireline.models import AuditRecord
from fireline.oncall.policies import get_policy, targets_at

POLICIES = "/api/v1/escalation-policies"


@pytest.fixture
def people(make_person):
    return {
        name: make_person("responder", name=name, email=f"{name.lower()}@example.com")
        for name in ("Ana", "Ben", "Dana")
    }


@pytest.fixture
def payments(as_admin, people):
    created = as_admin.post(
        "/api/v1/schedules",
        json={
            "name": "Payments",
            "layers": [
                {
                    "name": "Weekly",
                    "members": ["ana@example.com", "ben@example.com"],
                    "rotation_start": "2026-01-05T08:00:00Z",
                    "timezone": "UTC",
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


def levels(*targets_per_level, delay=15):
    return [{"delay_minutes": delay, "targets": list(targets)} for targets in targets_per_level]


@pytest.fixture
def policy(as_admin, payments):
    created = as_admin.post(
        POLICIES,
        json={
            "name": "Payments outage",
            "repeat": 2,
            "levels": levels(
                [{"type": "schedule", "slug": "payments"}],
                [{"type": "user", "email": "dana@example.com"}],
            ),
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


def names(users):
    return [user["name"] for user in users]


def fields_named(response):
    return [error["field"] for error in response.json().get("errors", [])]


def test_a_schedule_target_pages_whoever_is_on_call_at_that_instant(
    as_viewer, admin, db, policy, payments
):
    assert [[(t["type"], t["name"]) for t in level["targets"]] for level in policy["levels"]] == [
        [("schedule", "Payments")],
        [("user", "Dana")],
    ]
    path = f"{POLICIES}/{policy['id']}/on-call"

    now = as_viewer.get(path).json()
    next_week = as_viewer.get(path, params={"at": "2026-01-12T09:00:00Z"}).json()

    assert [names(level["users"]) for level in now["levels"]] == [["Ana"], ["Dana"]]
    assert [names(level["users"]) for level in next_week["levels"]] == [["Ben"], ["Dana"]]
    first_level = get_policy(db, policy["id"]).levels[0]
    at = datetime(2026, 1, 12, 9, tzinfo=UTC)
    assert [user.name for user in targets_at(db, level=first_level, at=at)] == ["Ben"]
    before_the_rotation = datetime(2026, 1, 1, tzinfo=UTC)
    assert targets_at(db, level=first_level, at=before_the_rotation) == []
    on_call = as_viewer.get("/api/v1/oncall", params={"at": "2026-01-12T09:00:00Z"}).json()
    assert [(p["name"], names(p["level_1"])) for p in on_call["escalation_policies"]] == [
        ("Payments outage", ["Ben"])
    ]
    other = as_viewer.client.post(
        "/api/v1/schedules", json={"name": "Other"}, headers=admin.headers
    )
    assert other.status_code == 201, other.text
    only_other = as_viewer.get("/api/v1/oncall", params={"schedule": "other"}).json()
    assert [s["slug"] for s in only_other["schedules"]] == ["other"]
    assert only_other["escalation_policies"] == []  # its first level pages payments only
    unknown = as_viewer.get("/api/v1/oncall", params={"schedule": ["payments", "nope"]})
    assert (unknown.status_code, fields_named(unknown)) == (422, ["schedule.1"])


def test_someone_named_twice_in_a_level_is_paged_once_and_nobody_deactivated_is_paged(
    as_admin, db, clock, policy, people
):
    replaced = as_admin.put(
        f"{POLICIES}/{policy['id']}",
        json={
            "name": "Payments outage",
            "levels": levels(
                [
                    {"type": "user", "id": people["Ana"].user.id},
                    {"type": "schedule", "slug": "payments"},
                    {"type": "user", "email": "dana@example.com"},
                ]
            ),
        },
    )
    assert replaced.status_code == 200, replaced.text

    paged = as_admin.get(f"{POLICIES}/{policy['id']}/on-call").json()

    assert [names(level["users"]) for level in paged["levels"]] == [["Ana", "Dana"]]
    accounts.update_user(
        db, actor=Actor.system("test"), now=clock.now(), user=people["Dana"].user, is_active=False
    )
    db.commit()
    after_dana_left = as_admin.get(f"{POLICIES}/{policy['id']}/on-call").json()
    assert [names(level["users"]) for level in after_dana_left["levels"]] == [["Ana"]]


def test_put_replaces_every_level_and_patch_changes_only_what_it_names(as_admin, policy):
    path = f"{POLICIES}/{policy['id']}"

    renamed = as_admin.patch(path, json={"name": "Payments down", "description": "Checkout"})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["repeat"], len(renamed.json()["levels"])) == (
        "Payments down",
        2,
        2,
    )

    replaced = as_admin.put(
        path,
        json={
            "name": "Payments down",
            "levels": levels([{"type": "user", "email": "dana@example.com"}], delay=5),
        },
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert (body["repeat"], body["description"]) == (0, "")  # PUT resets what it does not give
    assert [(lvl["position"], lvl["delay_minutes"]) for lvl in body["levels"]] == [(1, 5)]

    patched = as_admin.patch(
        path,
        json={
            "levels": levels(
                [{"type": "schedule", "slug": "payments"}],
                [{"type": "user", "email": "dana@example.com"}],
                [{"type": "user", "email": "ana@example.com"}],
            )
        },
    )
    assert [level["position"] for level in patched.json()["levels"]] == [1, 2, 3]
    assert as_admin.get(path).json()["levels"] == patched.json()["levels"]
    assert as_admin.patch(path, json={"levels": None}).status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"levels": []}, "levels"),
        ({"levels": levels([])}, "levels.0.targets"),
        (
            {"levels": levels([{"type": "user", "email": "eve@example.com"}])},
            "levels.0.targets.0.email",
        ),
        ({"levels": levels([{"type": "user", "id": 99999}])}, "levels.0.targets.0.id"),
        (
            {
                "levels": levels(
                    [{"type": "user", "email": "dana@example.com"}],
                    [{"type": "schedule", "slug": "nope"}],
                )
            },
            "levels.1.targets.0.slug",
        ),
        (
            {"levels": levels([{"type": "user", "id": 1, "email": "dana@example.com"}])},
            "levels.0.targets.0",
        ),
        ({"levels": levels([{"type": "schedule"}])}, "levels.0.targets.0"),
        ({"levels": levels([{"type": "user", "slug": "payments"}])}, "levels.0.targets.0.slug"),
        (
            {"levels": levels([{"type": "schedule", "email": "dana@example.com"}])},
            "levels.0.targets.0.email",
        ),
        ({"levels": levels([{"type": "team", "id": 1}])}, "levels.0.targets.0.type"),
        (
            {
                "levels": levels(
                    [
                        {"type": "user", "email": "dana@example.com"},
                        {"type": "user", "email": "DANA@example.com"},
                    ]
                )
            },
            "levels.0.targets.1",
        ),
        (
            {"levels": levels([{"type": "user", "email": "dana@example.com"}], delay=0)},
            "levels.0.delay_minutes",
        ),
        (
            {"levels": levels([{"type": "user", "email": "dana@example.com"}], delay=1441)},
            "levels.0.delay_minutes",
        ),
        (
            {"repeat": 10, "levels": levels([{"type": "user", "email": "dana@example.com"}])},
            "repeat",
        ),
        (
            {"team": "ghosts", "levels": levels([{"type": "user", "email": "dana@example.com"}])},
            "team",
        ),
    ],
)
def test_a_policy_that_would_page_nobody_or_nonsense_is_refused_naming_the_field(
    as_admin, payments, people, body, field
):
    refused = as_admin.post(POLICIES, json={"name": "Broken", **body})

    assert refused.status_code == 422, refused.text
    assert fields_named(refused) == [field]
    assert as_admin.get(POLICIES).json()["items"] == []


def test_only_admins_change_policies(client, as_responder, as_viewer, policy):
    body = {"name": "Mine", "levels": levels([{"type": "user", "email": "dana@example.com"}])}
    assert client.get(POLICIES).status_code == 401
    assert as_viewer.get(POLICIES).status_code == 200
    assert as_viewer.post(POLICIES, json=body).status_code == 403
    assert as_responder.post(POLICIES, json=body).status_code == 403
    assert as_responder.patch(f"{POLICIES}/{policy['id']}", json={"name": "X"}).status_code == 403
    assert as_responder.delete(f"{POLICIES}/{policy['id']}").status_code == 403
    assert (
        as_responder.put(f"{POLICIES}/{policy['id']}/services", json={"services": []}).status_code
        == 403
    )


def test_a_policy_paging_for_a_service_cannot_be_deleted_until_the_service_moves_on(
    as_admin, db, policy
):
    for name in ("Checkout", "Ledger"):
        assert as_admin.post("/api/v1/services", json={"name": name}).status_code == 201
    path = f"{POLICIES}/{policy['id']}"

    assigned = as_admin.put(f"{path}/services", json={"services": ["checkout", "ledger"]})
    assert assigned.status_code == 200, assigned.text
    assert [s["slug"] for s in assigned.json()["services"]] == ["checkout", "ledger"]
    unknown = as_admin.put(f"{path}/services", json={"services": ["checkout", "nope"]})
    assert (unknown.status_code, fields_named(unknown)) == (422, ["services.1"])

    refused = as_admin.delete(path)
    assert refused.status_code == 409
    assert refused.json()["services"] == ["checkout", "ledger"]
    assert "checkout" in refused.json()["detail"]

    narrowed = as_admin.put(f"{path}/services", json={"services": ["ledger"]})
    assert [s["slug"] for s in narrowed.json()["services"]] == ["ledger"]
    assert as_admin.put(f"{path}/services", json={"services": []}).json()["services"] == []
    assert as_admin.delete(path).status_code == 204
    assert as_admin.get(path).status_code == 404
    moves = db.scalars(
        select(AuditRecord.after).where(AuditRecord.action == "service.escalation_policy")
    ).all()
    assert moves.count({"escalation_policy_id": None}) == 2
    assert moves.count({"escalation_policy_id": policy["id"]}) == 2


def test_a_schedule_a_policy_pages_through_cannot_be_deleted(as_admin, policy):
    refused = as_admin.delete("/api/v1/schedules/payments")

    assert refused.status_code == 409
    assert refused.json()["escalation_policies"] == ["Payments outage"]
    assert as_admin.get("/api/v1/schedules/payments").status_code == 200


def test_policy_names_are_unique_and_lists_come_page_by_page(as_admin, policy):
    body = {"levels": levels([{"type": "user", "email": "dana@example.com"}])}
    assert as_admin.post(POLICIES, json={"name": "payments OUTAGE", **body}).status_code == 409
    second = as_admin.post(POLICIES, json={"name": "Ledger", **body})
    assert second.status_code == 201
    taken = as_admin.patch(f"{POLICIES}/{second.json()['id']}", json={"name": "Payments outage"})
    assert taken.status_code == 409

    first = as_admin.get(POLICIES, params={"limit": 1}).json()
    rest = as_admin.get(POLICIES, params={"limit": 1, "cursor": first["next_cursor"]}).json()

    assert [p["name"] for p in first["items"] + rest["items"]] == ["Payments outage", "Ledger"]
    assert as_admin.get(f"{POLICIES}/424242").status_code == 404
