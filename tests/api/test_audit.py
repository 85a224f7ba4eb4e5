"""The audit log: every write, who made it and what changed; admins read it, nobody rewrites it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from fireline.models import AuditRecord

AUDIT = "/api/v1/audit"


def audit(api, **params) -> list[dict]:
    response = api.get(AUDIT, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def only(records: list[dict], action: str) -> dict:
    (record,) = [item for item in records if item["action"] == action]
    return record


def test_every_change_an_admin_makes_is_in_the_audit_log(as_admin, admin, clock):
    ana = as_admin.post(
        "/api/v1/users",
        json={"email": "ana@example.com", "name": "Ana", "password": "long enough password"},
    ).json()
    as_admin.patch(f"/api/v1/users/{ana['id']}", json={"role": "viewer", "name": "Ana L."})
    team = as_admin.post("/api/v1/teams", json={"name": "Payments"}).json()
    as_admin.put("/api/v1/teams/payments/members", json={"user_ids": [ana["id"]]})
    service = as_admin.post(
        "/api/v1/services", json={"name": "Checkout", "owner_team": "payments"}
    ).json()
    clock.advance(minutes=3)
    as_admin.patch("/api/v1/services/checkout", json={"tier": 1})
    token = as_admin.post("/api/v1/tokens", json={"name": "ci", "scopes": ["catalog:read"]}).json()
    as_admin.delete(f"/api/v1/tokens/{token['id']}")

    records = [item for item in audit(as_admin) if item["actor_id"] == admin.user.id]

    assert [item["action"] for item in records] == [
        "token.revoke",
        "token.create",
        "service.update",
        "service.create",
        "team.members",
        "team.create",
        "user.update",
        "user.create",
    ]
    for item in records:
        assert item["actor"] == "Ada Admin <ada@example.com>"
        assert item["via"].startswith("token:")

    created = only(records, "user.create")
    assert created["entity_type"] == "user"
    assert created["entity_id"] == str(ana["id"])
    assert created["before"] is None
    assert created["after"] == {
        "email": "ana@example.com",
        "name": "Ana",
        "role": "responder",
        "is_active": True,
    }
    updated = only(records, "user.update")
    assert updated["before"]["role"] == "responder"
    assert updated["after"]["role"] == "viewer"
    assert (updated["before"]["name"], updated["after"]["name"]) == ("Ana", "Ana L.")

    assert only(records, "team.create")["after"]["slug"] == "payments"
    members = only(records, "team.members")
    assert members["entity_id"] == str(team["id"])
    assert (members["before"], members["after"]) == ({"members": []}, {"members": [ana["id"]]})

    service_created = only(records, "service.create")
    assert service_created["entity_id"] == str(service["id"])
    assert service_created["after"]["owner_team_id"] == team["id"]
    service_updated = only(records, "service.update")
    assert (service_updated["before"]["tier"], service_updated["after"]["tier"]) == (2, 1)
    assert service_updated["occurred_at"].startswith("2026-01-05T10:03:00")

    token_created = only(records, "token.create")
    assert token_created["entity_type"] == "api_token"
    assert token_created["after"] == {
        "user": "ada@example.com",
        "name": "ci",
        "scopes": ["catalog:read"],
    }
    assert only(records, "token.revoke")["entity_id"] == str(token["id"])


def test_a_refused_change_leaves_no_audit_record(as_admin, as_responder):
    before = len(audit(as_admin))

    assert as_responder.post("/api/v1/services", json={"name": "X", "tier": 9}).status_code == 422
    assert as_responder.post("/api/v1/teams", json={"name": "Rogue"}).status_code == 403
    unknown_team = as_admin.post("/api/v1/services", json={"name": "Y", "owner_team": "none"})
    assert unknown_team.status_code == 422
    last_admin = as_admin.patch("/api/v1/users/ada@example.com", json={"role": "viewer"})
    assert last_admin.status_code == 409

    assert len(audit(as_admin)) == before


def test_an_audit_record_names_the_request_that_made_it(as_responder, as_admin):
    response = as_responder.post(
        "/api/v1/services", json={"name": "Checkout"}, headers={"X-Request-Id": "req-checkout-1"}
    )
    assert response.headers["x-request-id"] == "req-checkout-1"

    (record,) = audit(as_admin, action="service.create")
    assert record["request_id"] == "req-checkout-1"
    assert record["actor"] == "Rita Responder <rita@example.com>"


def test_the_log_filters_by_entity_type_action_and_actor(as_admin, as_responder, responder):
    as_admin.post("/api/v1/teams", json={"name": "Payments"})
    as_responder.post("/api/v1/services", json={"name": "Checkout"})
    as_admin.post("/api/v1/services", json={"name": "Search"})
    as_responder.patch("/api/v1/services/search", json={"tier": 3})

    services = audit(as_admin, entity_type="service")
    assert [item["action"] for item in services] == [
        "service.update",
        "service.create",
        "service.create",
    ]
    assert {item["entity_type"] for item in services} == {"service"}

    updates = audit(as_admin, action="service.update")
    assert len(updates) == 1
    assert updates[0]["after"]["tier"] == 3

    by_rita = audit(as_admin, actor_id=responder.user.id)
    assert [item["action"] for item in by_rita] == ["service.update", "service.create"]
    assert {item["actor_id"] for item in by_rita} == {responder.user.id}

    search = as_responder.get("/api/v1/services/search").json()
    about_search = audit(as_admin, entity_type="service", entity_id=str(search["id"]))
    assert [item["action"] for item in about_search] == ["service.update", "service.create"]

    both = audit(as_admin, action="service.create", actor_id=responder.user.id)
    assert [item["after"]["name"] for item in both] == ["Checkout"]
    assert audit(as_admin, action="no.such.action") == []


def test_the_log_is_read_newest_first_a_page_at_a_time(as_admin):
    for n in range(5):
        as_admin.post("/api/v1/services", json={"name": f"Service {n}"})

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"entity_type": "service", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = as_admin.get(AUDIT, params=params).json()
        pages += 1
        assert len(page["items"]) <= 2
        seen += [item["after"]["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "the cursor never ran out"

    assert seen == [f"Service {n}" for n in reversed(range(5))]


def test_a_short_last_page_has_no_next_cursor(as_admin):
    for n in range(3):
        as_admin.post("/api/v1/services", json={"name": f"Service {n}"})

    page = as_admin.get(AUDIT, params={"entity_type": "service", "limit": 5}).json()

    assert len(page["items"]) == 3
    assert page["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor!"}, "cursor"),
        ({"cursor": "YXQ6MjAyNnwx"}, "cursor"),  # a cursor of another listing
        ({"cursor": "aWQ6OTk5OTk5OTk5OTk5OTk5OTk5OTk5"}, "cursor"),  # id:999999999999999999999
        ({"limit": 0}, "query.limit"),
        ({"limit": 201}, "query.limit"),
        ({"actor_id": "ada"}, "query.actor_id"),
        ({"actor_id": 10**20}, "query.actor_id"),
    ],
)
def test_a_bad_cursor_or_filter_is_refused_by_name(as_admin, params, field):
    response = as_admin.get(AUDIT, params=params)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == [field]


@pytest.mark.parametrize("caller", ["as_responder", "as_viewer"])
def test_only_admins_read_the_audit_log(request, caller):
    response = request.getfixturevalue(caller).get(AUDIT)

    assert response.status_code == 403
    assert "audit:read" in response.json()["detail"]


def test_an_admin_token_without_the_audit_scope_cannot_read_it(client, as_admin):
    secret = as_admin.post(
        "/api/v1/tokens", json={"name": "ops", "scopes": ["users:admin"]}
    ).json()["token"]

    response = client.get(AUDIT, headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 403


def test_the_database_refuses_to_rewrite_or_erase_the_audit_log(as_admin, db):
    as_admin.post("/api/v1/services", json={"name": "Checkout"})
    (record,) = audit(as_admin, action="service.create")

    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("UPDATE audit_records SET actor = 'someone else'"))
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("DELETE FROM audit_records WHERE id = :id"), {"id": record["id"]})
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("DELETE FROM audit_records"))

    stored = db.scalar(select(AuditRecord).where(AuditRecord.id == record["id"]))
    assert stored is not None
    assert stored.actor == "Ada Admin <ada@example.com>"
    assert stored.action == "service.create"
    assert audit(as_admin, action="service.create") == [record]


def test_a_person_with_a_very_long_name_and_email_can_still_make_changes(
    client, as_admin, make_person
):
    domain = ".".join(["d" * 60] * 2) + ".example.com"  # the longest address email allows
    person = make_person("responder", name="N" * 200, email=f"{'e' * 64}@{domain}")

    created = client.post("/api/v1/services", json={"name": "Checkout"}, headers=person.headers)

    assert created.status_code == 201, created.text
    (record,) = audit(as_admin, action="service.create")
    assert record["actor_id"] == person.user.id
    assert record["actor"].startswith("N" * 200 + " <eeee")
