"""Escalation policy pages: everyone sees whom each level would page now; admins edit the
levels, their delays and targets, and the services paged through the policy.

The fake clock reads Monday 5 January 2026, 10:00 UTC; the payments schedule has Ana on call
this week, and Dana, the engineering manager, is paged when nobody acknowledges.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from fireline.models import AuditRecord, Service

POLICIES = "/oncall/policies"
API = "/api/v1/escalation-policies"


@pytest.fixture
def people(make_person):
    return {
        name: make_person("responder", name=name, email=f"{name.lower()}@example.com").user.id
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


@pytest.fixture
def services(as_admin):
    for name in ("Checkout", "Ledger"):
        assert as_admin.post("/api/v1/services", json={"name": name}).status_code == 201


@pytest.fixture
def policy(as_admin, payments, services):
    created = as_admin.post(
        API,
        json={
            "name": "Payments outage",
            "description": "Card payments failing",
            "repeat": 1,
            "levels": [
                {"delay_minutes": 15, "targets": [{"type": "schedule", "slug": "payments"}]},
                {"delay_minutes": 30, "targets": [{"type": "user", "email": "dana@example.com"}]},
            ],
        },
    )
    assert created.status_code == 201, created.text
    path = f"{API}/{created.json()['id']}/services"
    assert as_admin.put(path, json={"services": ["checkout"]}).status_code == 200
    return created.json()


def text_of(response) -> str:
    body = re.sub(r"<[^>]+>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(body))


def level_targets(api, policy_id):
    levels = api.get(f"{API}/{policy_id}").json()["levels"]
    return [(level["delay_minutes"], [t["name"] for t in level["targets"]]) for level in levels]


def test_everyone_sees_whom_each_level_would_page_now(sign_in, viewer, policy):
    browser = sign_in(viewer)
    listed = browser.get(POLICIES)
    assert listed.status_code == 200
    words = text_of(listed)
    assert (
        "Pages Payments (schedule); after 15 min without acknowledgement, the next level." in words
    )
    assert "Pages Dana; after 30 min without acknowledgement, starts again." in words
    assert "First level now: Ana · services: Checkout · repeats 1 more time" in words
    assert "New escalation policy" not in words

    page = browser.get(f"{POLICIES}/{policy['id']}")
    words = text_of(page)
    assert "Level 1 : Ana — pages Payments (schedule); escalates after 15 min" in words
    assert "Level 2 : Dana — pages Dana; escalates after 30 min" in words
    assert "After the last level it starts again, 1 more time." in words
    assert "Services paged through it: Checkout." in words
    assert "Card payments failing" in words
    assert 'id="policy-form"' not in page.text
    assert browser.post(f"{POLICIES}/{policy['id']}", {"name": "Mine"}).status_code == 403
    assert browser.get(f"{POLICIES}/new").status_code == 403


def test_an_admin_makes_a_policy_with_a_level_and_a_service(
    browser_admin, as_admin, people, payments, services
):
    form = browser_admin.get(f"{POLICIES}/new")
    assert "Add a level (optional)" in form.text

    made = browser_admin.post(
        POLICIES,
        {
            "name": "Ledger down",
            "description": "",
            "repeat": "2",
            "levels.0.delay_minutes": "10",
            "levels.0.spare": "on",
            "levels.0.users": str(people["Dana"]),
            "levels.0.schedules": str(payments["id"]),
            "services": "ledger",
        },
    )

    assert made.status_code == 303
    policy_id = int(made.headers["location"].split("/")[-1].split("?")[0])
    assert made.headers["location"] == f"{POLICIES}/{policy_id}?done=created"
    stored = as_admin.get(f"{API}/{policy_id}").json()
    assert (stored["repeat"], [s["slug"] for s in stored["services"]]) == (2, ["ledger"])
    assert level_targets(as_admin, policy_id) == [(10, ["Dana", "Payments"])]
    page = browser_admin.get(made.headers["location"])
    assert "The escalation policy is made." in page.text
    assert "Level 1 : Dana, Ana" in text_of(page)


def test_an_admin_removes_a_level_adds_one_and_moves_the_services(
    browser_admin, as_admin, people, policy, db
):
    page = browser_admin.get(f"{POLICIES}/{policy['id']}")
    assert 'id="policy-form"' in page.text
    assert f'<option value="{people["Dana"]}" selected>' in page.text

    saved = browser_admin.post(
        f"{POLICIES}/{policy['id']}",
        {
            "name": "Payments outage",
            "description": "Card payments failing",
            "repeat": "0",
            "levels.0.delay_minutes": "15",
            "levels.0.schedules": str(policy["levels"][0]["targets"][0]["id"]),
            "levels.0.remove": "on",
            "levels.1.delay_minutes": "20",
            "levels.1.users": str(people["Dana"]),
            "levels.2.delay_minutes": "5",
            "levels.2.spare": "on",
            "levels.2.users": [str(people["Ana"]), str(people["Ben"])],
            "services": "ledger",
        },
    )

    assert saved.headers["location"] == f"{POLICIES}/{policy['id']}?done=saved"
    assert level_targets(as_admin, policy["id"]) == [(20, ["Dana"]), (5, ["Ana", "Ben"])]
    services = as_admin.get(f"{API}/{policy['id']}").json()["services"]
    assert [s["slug"] for s in services] == ["ledger"]
    checkout = db.scalar(select(Service).where(Service.slug == "checkout"))
    db.refresh(checkout)
    assert checkout.escalation_policy_id is None  # left without one, as the form says
    assert "Saved." in browser_admin.get(saved.headers["location"]).text


@pytest.mark.parametrize(
    ("fields", "field", "status", "message"),
    [
        ({"name": ""}, "f-name-error", 422, "give the policy a name"),
        ({"levels.0.delay_minutes": "0"}, "f-levels-0-delay_minutes-error", 422, "from 1 to 1440"),
        ({"levels.0.users": []}, "levels-0-error", 422, "a level needs at least one target"),
        ({"levels.0.users": "ana"}, "levels-0-error", 422, "choose from the list"),
        ({"levels.0.users": "99999"}, "levels-0-error", 422, "no user"),
        ({"levels.0.remove": "on"}, "levels-error", 422, "a policy needs at least one level"),
        ({"repeat": "10"}, "f-repeat-error", 422, "choose from the list"),
        ({"services": "nowhere"}, "f-services-error", 422, "no service"),
        ({"name": "Other"}, None, 409, "already exists"),
    ],
)
def test_a_refused_policy_says_why_and_keeps_what_was_typed(
    browser_admin, as_admin, people, policy, fields, field, status, message
):
    as_admin.post(
        API,
        json={
            "name": "Other",
            "levels": [{"delay_minutes": 5, "targets": [{"type": "user", "id": people["Ben"]}]}],
        },
    )
    form = {
        "name": "Payments outage",
        "description": "Typed description",
        "repeat": "1",
        "levels.0.delay_minutes": "15",
        "levels.0.users": str(people["Dana"]),
        "services": "checkout",
    } | fields

    refused = browser_admin.post(f"{POLICIES}/{policy['id']}", form)

    assert refused.status_code == status
    if field:
        assert f'id="{field}"' in refused.text
    assert message in html.unescape(refused.text)
    assert ">Typed description</textarea>" in refused.text
    assert level_targets(as_admin, policy["id"]) == [(15, ["Payments"]), (30, ["Dana"])]


def test_a_refused_new_policy_keeps_its_form(browser_admin, people):
    refused = browser_admin.post(
        POLICIES, {"name": "", "repeat": "0", "levels.0.delay_minutes": "15"}
    )
    assert refused.status_code == 422
    assert "New escalation policy" in refused.text
    assert "give the policy a name" in refused.text


def test_unknown_policies_are_a_page_not_an_error(browser_responder):
    missing = browser_responder.get(f"{POLICIES}/99999")
    assert missing.status_code == 404
    assert "No escalation policy" in missing.text
    assert browser_responder.get(POLICIES).status_code == 200
    assert "No escalation policies yet" in browser_responder.get(POLICIES).text


def test_an_admin_deletes_a_policy_nothing_pages_through_after_confirming(
    browser_admin, as_admin, policy, db
):
    path = f"{POLICIES}/{policy['id']}"
    assert f'action="{path}/delete"' in browser_admin.get(path).text
    assert as_admin.put(f"{API}/{policy['id']}/services", json={"services": []}).status_code == 200

    asked = browser_admin.post(f"{path}/delete")

    assert asked.status_code == 200
    assert "Delete the escalation policy “Payments outage”?" in text_of(asked)
    assert 'name="confirmed" value="yes"' in asked.text
    assert 'name="csrf_token"' in asked.text
    assert as_admin.get(f"{API}/{policy['id']}").status_code == 200  # nothing removed yet

    deleted = browser_admin.post(f"{path}/delete", {"confirmed": "yes"})

    assert deleted.status_code == 303
    assert deleted.headers["location"] == f"{POLICIES}?done=deleted"
    listed = browser_admin.get(deleted.headers["location"])
    assert "The escalation policy is deleted." in listed.text
    assert "Payments outage" not in listed.text
    assert as_admin.get(f"{API}/{policy['id']}").status_code == 404
    assert browser_admin.post(f"{path}/delete").status_code == 404
    actions = db.scalars(
        select(AuditRecord.action).where(AuditRecord.entity_type == "escalation_policy")
    )
    assert "escalation_policy.delete" in set(actions)


def test_a_policy_a_service_pages_through_is_not_deleted(browser_admin, as_admin, policy):
    refused = browser_admin.post(f"{POLICIES}/{policy['id']}/delete", {"confirmed": "yes"})

    assert refused.status_code == 409
    words = text_of(refused)
    assert "It cannot be deleted" in words
    assert "service 'checkout'" in words
    assert 'name="confirmed"' not in refused.text
    assert as_admin.get(f"{API}/{policy['id']}").status_code == 200


def test_a_policy_a_routing_rule_pages_through_is_not_deleted(browser_admin, as_admin, policy):
    assert as_admin.put(f"{API}/{policy['id']}/services", json={"services": []}).status_code == 200
    rule = as_admin.post(
        "/api/v1/routing-rules",
        json={"name": "Card declines", "escalation_policy_id": policy["id"]},
    )
    assert rule.status_code == 201, rule.text

    refused = browser_admin.post(f"{POLICIES}/{policy['id']}/delete", {"confirmed": "yes"})

    assert refused.status_code == 409
    assert "routing rule 'Card declines'" in text_of(refused)
    assert as_admin.get(f"{API}/{policy['id']}").status_code == 200


def test_only_admins_delete_policies(sign_in, responder, as_admin, policy):
    browser = sign_in(responder)
    path = f"{POLICIES}/{policy['id']}"
    assert f'action="{path}/delete"' not in browser.get(path).text
    for form in ({}, {"confirmed": "yes"}):
        assert browser.post(f"{path}/delete", form).status_code == 403
    assert as_admin.get(f"{API}/{policy['id']}").status_code == 200
