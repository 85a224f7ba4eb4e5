"""Keeping the playbook library: everyone signed in reads it, admins write it, and bad input is a
422 naming the field."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fireline.models import AuditRecord

from .helpers import MAJOR, PLAYBOOKS, at, declare, fields_named, tasks

ROLLBACK = {
    "slug": "checkout-rollback",
    "name": "Checkout rollback",
    "description": "When checkout breaks after a deploy.",
    "conditions": {"severity_at_least": "sev3", "services": ["checkout"]},
    "tasks": [
        {
            "title": "Freeze deploys",
            "phase": "0-5 min",
            "owner_role": "tech_lead",
            "due_minutes": 5,
        },
        {"title": "Roll back", "owner_role": "tech_lead", "due_minutes": 15},
        {"title": "Write the customer note"},
    ],
}


def test_everyone_reads_the_seeded_major_incident_playbook(as_viewer):
    listed = as_viewer.get(PLAYBOOKS)
    one = as_viewer.get(f"{PLAYBOOKS}/{MAJOR}")

    assert listed.status_code == 200, listed.text
    assert [playbook["slug"] for playbook in listed.json()] == [MAJOR]
    assert one.status_code == 200, one.text
    playbook = one.json()
    assert playbook == listed.json()[0]
    assert (playbook["name"], playbook["enabled"]) == ("Major incident: the first 60 minutes", True)
    assert playbook["conditions"] == {"severity_at_least": "SEV2"}
    assert len(playbook["tasks"]) == 18
    assert playbook["tasks"][-1] == {
        "title": "Set the time of the final update",
        "phase": "45-60 min: monitoring and closure plan",
        "owner_role": "comms_lead",
        "due_minutes": 60,
    }
    assert as_viewer.get(f"{PLAYBOOKS}/nope").status_code == 404


def test_an_admin_adds_a_playbook_and_the_audit_log_has_it(as_admin, db):
    created = as_admin.post(PLAYBOOKS, json=ROLLBACK)

    assert created.status_code == 201, created.text
    playbook = created.json()
    assert playbook["conditions"] == {"severity_at_least": "SEV3", "services": ["checkout"]}
    assert playbook["tasks"][2] == {
        "title": "Write the customer note",
        "phase": "",
        "owner_role": None,
        "due_minutes": None,
    }
    assert playbook["enabled"] is True
    assert playbook["created_at"] == at("10:00")
    (record,) = db.scalars(select(AuditRecord).where(AuditRecord.action == "playbook.create"))
    assert (record.entity_type, record.entity_id) == ("playbook", "checkout-rollback")
    assert record.after["conditions"] == playbook["conditions"]

    duplicate = as_admin.post(PLAYBOOKS, json=ROLLBACK)
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"] == "A playbook with slug 'checkout-rollback' already exists."


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "Checkout Rollback"}, "slug"),
        ({"slug": ""}, "slug"),
        ({"name": " "}, "name"),
        ({"conditions": {"severity_at_least": "SEV9"}}, "conditions.severity_at_least"),
        ({"conditions": {"severity_at_least": "urgent"}}, "conditions.severity_at_least"),
        (
            {"conditions": {"severity_at_least": "SEV2", "severity_at_most": "SEV3"}},
            "conditions.severity_at_most",
        ),
        ({"conditions": {"obligation_kinds": ["acknowledge"]}}, "conditions.obligation_kinds"),
        ({"conditions": {"colour": "red"}}, "conditions.colour"),
        ({"tasks": []}, "tasks"),
        ({"tasks": [{"title": ""}]}, "tasks.0.title"),
        ({"tasks": [{"title": "x", "phase": "p" * 101}]}, "tasks.0.phase"),
        ({"tasks": [{"title": "x", "owner_role": "sme"}]}, "tasks.0.owner_role"),
        ({"tasks": [{"title": "x", "due_minutes": 10_081}]}, "tasks.0.due_minutes"),
        ({"tasks": [{"title": "x", "due_minutes": -1}]}, "tasks.0.due_minutes"),
        ({"tasks": [{"title": "x\u0000y"}]}, "tasks.0.title"),
    ],
)
def test_bad_playbooks_are_refused_naming_the_field(as_admin, change, field):
    response = as_admin.post(PLAYBOOKS, json={**ROLLBACK, **change})

    assert response.status_code == 422, response.text
    assert fields_named(response) == [field]


def test_an_admin_changes_a_playbook_without_touching_the_checklists_already_attached(
    as_admin, as_responder, db
):
    before = declare(as_responder)
    new_tasks = [{"title": "Declare", "owner_role": "commander", "due_minutes": 0}]

    changed = as_admin.patch(
        f"{PLAYBOOKS}/{MAJOR}",
        json={"name": "Major incident", "tasks": new_tasks, "description": "Short version."},
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Major incident"
    assert changed.json()["tasks"] == [{**new_tasks[0], "phase": ""}]
    assert changed.json()["conditions"] == {"severity_at_least": "SEV2"}
    assert len(tasks(as_responder, before)) == 18
    after = declare(as_responder)
    assert [(t["title"], t["due_at"]) for t in tasks(as_responder, after)] == [
        ("Declare", at("10:00"))
    ]
    (record,) = db.scalars(select(AuditRecord).where(AuditRecord.action == "playbook.update"))
    assert (record.before["name"], record.after["name"]) == (
        "Major incident: the first 60 minutes",
        "Major incident",
    )


def test_a_disabled_playbook_attaches_to_nothing_until_enabled_again(as_admin, as_responder):
    off = as_admin.patch(f"{PLAYBOOKS}/{MAJOR}", json={"enabled": False})
    assert (off.status_code, off.json()["enabled"]) == (200, False)
    ref = declare(as_responder)
    assert tasks(as_responder, ref) == []

    on = as_admin.patch(f"{PLAYBOOKS}/{MAJOR}", json={"enabled": True})
    assert on.status_code == 200, on.text
    note = as_responder.patch(f"/api/v1/incidents/{ref}", json={"summary": "Still down"})
    assert note.status_code == 200, note.text

    assert len(tasks(as_responder, ref)) == 18  # at its next change


def test_bad_changes_are_refused_and_unknown_playbooks_are_not_found(as_admin):
    bad = as_admin.patch(f"{PLAYBOOKS}/{MAJOR}", json={"conditions": {"severity_at_most": "SEV7"}})
    slug = as_admin.patch(f"{PLAYBOOKS}/{MAJOR}", json={"slug": "renamed"})
    missing = as_admin.patch(f"{PLAYBOOKS}/nope", json={"enabled": False})

    assert (bad.status_code, fields_named(bad)) == (422, ["conditions.severity_at_most"])
    assert (slug.status_code, fields_named(slug)) == (422, ["slug"])
    assert missing.status_code == 404


def test_only_admins_write_playbooks(as_responder, as_viewer):
    for api in (as_responder, as_viewer):
        created = api.post(PLAYBOOKS, json=ROLLBACK)
        changed = api.patch(f"{PLAYBOOKS}/{MAJOR}", json={"enabled": False})
        assert (created.status_code, changed.status_code) == (403, 403)
        assert "playbooks:admin" in created.json()["detail"]
    assert as_responder.get(PLAYBOOKS).status_code == 200
