"""Automation rules, holidays and playbooks on the settings pages."""

from __future__ import annotations

import re


def rule_form(**overrides):
    form = {
        "name": "SEV2: tell the data team",
        "description": "When a SEV1 or SEV2 hits checkout",
        "triggers": ["incident.declared", "incident.severity_changed"],
        "conditions.severity_at_least": "SEV2",
        "conditions.services": "checkout, search",
        "actions.0.kind": "notify_role",
        "actions.0.value": "commander",
        "actions.1.kind": "",
        "actions.1.value": "",
        "actions.2.kind": "note",
        "actions.2.value": "Data team paged",
        "delay_seconds": "120",
        "once_per_incident": "on",
        "enabled": "on",
    }
    return {**form, **overrides}


def test_a_rule_created_on_the_form_is_stored_as_the_api_would_store_it(browser_admin, as_admin):
    form = browser_admin.get("/settings/rules/new")
    assert form.status_code == 200
    assert 'name="actions.2.kind"' in form.text

    created = browser_admin.post("/settings/rules", rule_form())
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/settings/rules?done=created"

    stored = next(
        rule
        for rule in as_admin.get("/api/v1/automation-rules").json()
        if rule["name"] == "SEV2: tell the data team"
    )
    assert stored["triggers"] == ["incident.declared", "incident.severity_changed"]
    assert stored["conditions"] == {"severity_at_least": "SEV2", "services": ["checkout", "search"]}
    assert stored["actions"] == [
        {"type": "notify", "to": {"role": "commander"}, "exec_notice": False},
        {"type": "note", "body": "Data team paged"},
    ]
    assert (stored["delay_seconds"], stored["once_per_incident"], stored["enabled"]) == (
        120,
        True,
        True,
    )

    listed = browser_admin.get("/settings/rules").text
    assert "When an incident is declared or its severity changes" in listed
    assert "SEV2 or more severe, affecting checkout or search" in listed
    assert "notify the incident commander" in listed
    assert "add the note \u201cData team paged\u201d" in listed


def test_editing_a_rule_keeps_what_is_not_changed_and_a_bad_action_is_shown_on_its_row(
    browser_admin, as_admin
):
    browser_admin.post("/settings/rules", rule_form())
    rule = next(
        r for r in as_admin.get("/api/v1/automation-rules").json() if r["name"].startswith("SEV2:")
    )
    edit = browser_admin.get(f"/settings/rules/{rule['id']}")
    assert edit.status_code == 200
    assert 'value="commander"' in edit.text
    assert 'value="checkout, search"' in edit.text

    refused = browser_admin.post(
        f"/settings/rules/{rule['id']}",
        rule_form(**{"actions.0.kind": "notify_channel", "actions.0.value": "nowhere"}),
    )
    assert refused.status_code == 422
    assert 'id="actions-0-error"' in refused.text
    assert "there is no channel nowhere" in refused.text
    assert as_admin.get(f"/api/v1/automation-rules/{rule['id']}").json() == rule

    saved = browser_admin.post(
        f"/settings/rules/{rule['id']}",
        rule_form(
            **{"actions.0.kind": "notify_service_owners", "actions.0.value": "", "enabled": ""}
        ),
    )
    assert saved.status_code == 303
    after = as_admin.get(f"/api/v1/automation-rules/{rule['id']}").json()
    assert after["actions"][0] == {
        "type": "notify",
        "to": {"service_owners": True},
        "exec_notice": False,
    }
    assert after["enabled"] is False


def test_a_rule_without_triggers_or_with_a_taken_name_is_refused(browser_admin):
    no_trigger = browser_admin.post("/settings/rules", rule_form(triggers=[]))
    assert no_trigger.status_code == 422
    assert 'id="f-triggers-error"' in no_trigger.text
    assert 'value="SEV2: tell the data team"' in no_trigger.text

    taken = browser_admin.post("/settings/rules", rule_form(name="SEV1: notify executives"))
    assert taken.status_code == 409
    assert "exists already" in taken.text


def test_deleting_a_rule_asks_first(browser_admin, as_admin):
    rule = as_admin.get("/api/v1/automation-rules").json()[0]
    asked = browser_admin.post(f"/settings/rules/{rule['id']}/delete")
    assert asked.status_code == 200
    assert f"Delete the rule \u201c{rule['name']}\u201d?" in asked.text
    assert as_admin.get(f"/api/v1/automation-rules/{rule['id']}").status_code == 200
    deleted = browser_admin.post(f"/settings/rules/{rule['id']}/delete", {"confirmed": "yes"})
    assert deleted.headers["location"] == "/settings/rules?done=deleted"
    assert as_admin.get(f"/api/v1/automation-rules/{rule['id']}").status_code == 404


def test_a_responder_reads_the_rules_but_may_not_change_them(browser_responder, as_admin):
    listed = browser_responder.get("/settings/rules")
    assert listed.status_code == 200
    assert "SEV1: notify executives" in listed.text
    assert "/settings/rules/new" not in listed.text
    assert browser_responder.get("/settings/rules/new").status_code == 403
    assert browser_responder.post("/settings/rules", rule_form()).status_code == 403
    rule = as_admin.get("/api/v1/automation-rules").json()[0]
    assert browser_responder.post(f"/settings/rules/{rule['id']}/delete").status_code == 403


def test_holidays_are_added_and_removed(browser_admin, as_admin, browser_responder):
    added = browser_admin.post("/settings/holidays", {"day": "2026-12-25", "name": "Christmas Day"})
    assert added.status_code == 303
    assert as_admin.get("/api/v1/holidays").json() == [
        {"day": "2026-12-25", "name": "Christmas Day"}
    ]
    assert "Christmas Day" in browser_responder.get("/settings/holidays").text
    assert browser_responder.post("/settings/holidays/2026-12-25/delete").status_code == 403

    bad = browser_admin.post("/settings/holidays", {"day": "25/12/2026", "name": "Christmas"})
    assert bad.status_code == 422
    assert 'id="f-day-error"' in bad.text

    removed = browser_admin.post("/settings/holidays/2026-12-25/delete")
    assert removed.status_code == 303
    assert as_admin.get("/api/v1/holidays").json() == []
    assert browser_admin.post("/settings/holidays/2026-12-25/delete").status_code == 404


def playbook_form(html: str) -> dict:
    """The fields of the playbook form as a browser would send them back."""
    fields = {}
    for name, value in re.findall(
        r'<input id="[^"]+" name="([^"]+)" type="(?:text|number)" value="([^"]*)"', html
    ):
        fields[name] = value.replace("&amp;", "&").replace("&#39;", "'").replace("&#34;", '"')
    for name, options in re.findall(
        r'<select id="[^"]+" name="([^"]+)">((?:(?!</select>).)*)</select>', html, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        fields[name] = chosen.group(1) if chosen else ""
    fields["enabled"] = "on"
    return fields


def test_an_admin_adds_a_task_to_the_major_incident_playbook(browser_admin, as_admin):
    before = as_admin.get("/api/v1/playbooks/major-incident").json()
    page = browser_admin.get("/settings/playbooks/major-incident")
    assert page.status_code == 200
    count = len(before["tasks"])
    assert f'name="tasks.{count}.title"' in page.text  # a blank row to add one
    form = playbook_form(page.text)
    assert form["tasks.0.title"] == before["tasks"][0]["title"]

    more = browser_admin.post("/settings/playbooks/major-incident", {**form, "add_row": "1"})
    assert more.status_code == 200
    assert f'name="tasks.{count + 1}.title"' in more.text
    assert as_admin.get("/api/v1/playbooks/major-incident").json() == before  # not saved yet

    form |= {
        f"tasks.{count}.title": "Thank the responders",
        f"tasks.{count}.phase": "After",
        f"tasks.{count}.owner_role": "commander",
        f"tasks.{count}.due_minutes": "90",
        "tasks.0.remove": "on",
    }
    saved = browser_admin.post("/settings/playbooks/major-incident", form)
    assert saved.status_code == 303, saved.text
    after = as_admin.get("/api/v1/playbooks/major-incident").json()
    assert after["tasks"][-1] == {
        "title": "Thank the responders",
        "phase": "After",
        "owner_role": "commander",
        "due_minutes": 90,
    }
    assert after["tasks"][:-1] == before["tasks"][1:]  # the first one removed
    assert after["conditions"] == before["conditions"]


def test_a_new_playbook_with_a_bad_task_shows_the_error_on_that_row(browser_admin, as_admin):
    form = {
        "slug": "database-outage",
        "name": "Database outage",
        "enabled": "on",
        "conditions.types": "database",
        "tasks.0.title": "Fail over to the replica",
        "tasks.0.owner_role": "tech_lead",
        "tasks.0.due_minutes": "15",
        "tasks.1.title": "",
        "tasks.1.phase": "Later",
        "tasks.1.due_minutes": "-5",
    }
    refused = browser_admin.post("/settings/playbooks", form)
    assert refused.status_code == 422
    assert 'id="f-tasks-1-title-error"' in refused.text
    assert 'id="f-tasks-1-due_minutes-error"' in refused.text
    assert 'value="Fail over to the replica"' in refused.text
    assert as_admin.get("/api/v1/playbooks/database-outage").status_code == 404

    created = browser_admin.post("/settings/playbooks", {**form, "tasks.1.remove": "on"})
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/settings/playbooks/database-outage?done=saved"
    playbook = as_admin.get("/api/v1/playbooks/database-outage").json()
    assert playbook["conditions"] == {"types": ["database"]}
    assert [t["title"] for t in playbook["tasks"]] == ["Fail over to the replica"]

    again = browser_admin.post("/settings/playbooks", {**form, "tasks.1.remove": "on"})
    assert again.status_code == 409


def test_a_responder_reads_a_playbook_without_a_form(browser_responder):
    page = browser_responder.get("/settings/playbooks/major-incident")
    assert page.status_code == 200
    assert '<form method="post" action="/settings/playbooks' not in page.text
    assert "Name the postmortem owner and deadline" in page.text
    assert browser_responder.get("/settings/playbooks/new").status_code == 403
    assert (
        browser_responder.post("/settings/playbooks/major-incident", {"name": "x"}).status_code
        == 403
    )
