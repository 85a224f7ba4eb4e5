"""Admins tune the severity policy from the settings pages; everyone else reads it."""

from __future__ import annotations


def test_the_settings_index_offers_only_what_the_person_may_use(browser_admin, browser_responder):
    admin_index = browser_admin.get("/settings")
    assert admin_index.status_code == 200
    for section in (
        "/settings/severities",
        "/settings/channels",
        "/settings/jobs",
        "/settings/users",
    ):
        assert f'href="{section}"' in admin_index.text

    responder_index = browser_responder.get("/settings")
    assert 'href="/settings/severities"' in responder_index.text
    assert 'href="/settings/contact"' in responder_index.text
    assert 'href="/settings/tokens"' in responder_index.text
    for section in ("/settings/channels", "/settings/jobs", "/settings/users"):
        assert f'href="{section}"' not in responder_index.text


def test_an_admin_sets_sev2s_update_cadence_and_the_api_reflects_it(browser_admin, as_admin):
    table = browser_admin.get("/settings/severities")
    assert table.status_code == 200
    assert 'href="/settings/severities/SEV2"' in table.text

    form = browser_admin.get("/settings/severities/SEV2")
    assert form.status_code == 200
    assert 'name="update_cadence_minutes"' in form.text
    policy = as_admin.get("/api/v1/severities/SEV2").json()

    edited = {
        "name": policy["name"],
        "description": policy["description"],
        "paging": policy["paging"],
        "first_update_minutes": str(policy["first_update_minutes"]),
        "update_cadence_minutes": "45",
        "postmortem": policy["postmortem"],
        "postmortem_meeting_business_days": str(policy["postmortem_meeting_business_days"] or ""),
        "public_summary_hours": str(policy["public_summary_hours"] or ""),
        "monitoring_minutes": str(policy["monitoring_minutes"]),
        "is_major": "on" if policy["is_major"] else "",
        "exec_notice": "on" if policy["exec_notice"] else "",
    }
    edited = {name: value for name, value in edited.items() if value != ""}
    saved = browser_admin.post("/settings/severities/SEV2", edited)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/settings/severities?done=saved"
    assert "Saved." in browser_admin.get(saved.headers["location"]).text

    after = as_admin.get("/api/v1/severities/SEV2").json()
    assert after["update_cadence_minutes"] == 45
    assert {k: v for k, v in after.items() if k != "update_cadence_minutes"} == {
        k: v for k, v in policy.items() if k != "update_cadence_minutes"
    }
    audit = as_admin.get("/api/v1/audit", params={"entity_type": "severity", "entity_id": "SEV2"})
    (change,) = audit.json()["items"]
    assert (change["action"], change["after"]["update_cadence_minutes"]) == ("severity.update", 45)
    assert change["actor"].startswith("Ada Admin")


def test_a_cadence_of_zero_is_shown_beside_the_field_and_nothing_changes(browser_admin, as_admin):
    before = as_admin.get("/api/v1/severities/SEV1").json()
    refused = browser_admin.post(
        "/settings/severities/SEV1",
        {
            "name": "Critical, renamed",
            "description": before["description"],
            "paging": before["paging"],
            "first_update_minutes": "15",
            "update_cadence_minutes": "0",
            "postmortem": "required",
            "monitoring_minutes": "30",
        },
    )
    assert refused.status_code == 422
    assert 'id="f-update_cadence_minutes-error"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert "greater than or equal to 1" in refused.text
    assert 'value="Critical, renamed"' in refused.text  # what was typed is kept
    assert as_admin.get("/api/v1/severities/SEV1").json() == before


def test_a_cadence_without_a_first_update_is_refused_by_the_policy_itself(browser_admin, as_admin):
    before = as_admin.get("/api/v1/severities/SEV3").json()
    refused = browser_admin.post(
        "/settings/severities/SEV3",
        {
            "name": "Minor",
            "description": before["description"],
            "paging": before["paging"],
            "update_cadence_minutes": "60",
            "postmortem": before["postmortem"],
            "monitoring_minutes": "0",
        },
    )
    assert refused.status_code == 422
    assert "an update cadence needs a first-update deadline too" in refused.text
    assert 'id="f-first_update_minutes-error"' in refused.text
    assert as_admin.get("/api/v1/severities/SEV3").json() == before


def test_a_responder_reads_the_policy_but_may_not_edit_it(browser_responder):
    table = browser_responder.get("/settings/severities")
    assert table.status_code == 200
    assert "SEV4" in table.text
    assert 'href="/settings/severities/SEV1"' not in table.text

    form = browser_responder.get("/settings/severities/SEV1")
    assert form.status_code == 403
    assert "Your role does not allow this; ask an admin." in form.text
    assert form.headers["content-type"].startswith("text/html")
    posted = browser_responder.post("/settings/severities/SEV1", {"name": "Mine"})
    assert posted.status_code == 403


def test_an_unknown_severity_is_a_page_saying_so(browser_admin):
    missing = browser_admin.get("/settings/severities/SEV9")
    assert missing.status_code == 404
    assert "No severity" in missing.text
