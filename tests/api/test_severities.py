"""The severity policy (design §4) and the severity assistant, through the JSON API."""

from __future__ import annotations

import pytest

SEVERITIES = "/api/v1/severities"
ASSISTANT = "/api/v1/severity-assistant"


def fields_named(response):
    return [problem["field"] for problem in response.json().get("errors", [])]


def test_the_policy_lists_sev1_to_sev4_with_the_design_defaults(as_viewer):
    response = as_viewer.get(SEVERITIES)

    assert response.status_code == 200
    policy = {item["key"]: item for item in response.json()}
    assert list(policy) == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert [item["level"] for item in policy.values()] == [1, 2, 3, 4]

    sev1, sev2, sev3, sev4 = policy.values()
    assert sev1["is_major"] is True
    assert sev1["first_update_minutes"] == 15
    assert sev1["update_cadence_minutes"] == 30
    assert sev1["exec_notice"] is True
    assert sev1["postmortem"] == "required"
    assert sev1["postmortem_meeting_business_days"] == 5
    assert sev1["public_summary_hours"] == 72
    assert sev1["monitoring_minutes"] == 30

    assert sev2["is_major"] is True
    assert (sev2["first_update_minutes"], sev2["update_cadence_minutes"]) == (30, 60)
    assert sev2["exec_notice"] is False
    assert sev2["postmortem"] == "required"
    assert sev2["public_summary_hours"] == 72

    for minor in (sev3, sev4):
        assert minor["is_major"] is False
        assert minor["first_update_minutes"] is None
        assert minor["update_cadence_minutes"] is None
        assert minor["exec_notice"] is False
        assert minor["public_summary_hours"] is None
    assert sev3["postmortem"] == "optional"
    assert sev4["postmortem"] == "none"


def test_one_severity_is_read_by_its_key_in_any_case(as_viewer):
    assert as_viewer.get(f"{SEVERITIES}/sev2").json()["name"] == "Major"
    assert as_viewer.get(f"{SEVERITIES}/SEV9").status_code == 404


def test_an_admin_tightens_the_sev2_first_update_and_it_is_audited(as_admin, clock):
    clock.advance(days=30)

    changed = as_admin.patch(
        f"{SEVERITIES}/SEV2", json={"first_update_minutes": 20, "exec_notice": True}
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["first_update_minutes"] == 20
    assert changed.json()["exec_notice"] is True
    assert changed.json()["update_cadence_minutes"] == 60
    assert as_admin.get(f"{SEVERITIES}/SEV2").json()["first_update_minutes"] == 20
    (record,) = as_admin.get(
        "/api/v1/audit", params={"entity_type": "severity", "entity_id": "SEV2"}
    ).json()["items"]
    assert record["action"] == "severity.update"
    assert record["actor"].startswith("Ada Admin")
    assert record["occurred_at"] == "2026-02-04T10:00:00Z"
    assert record["before"]["first_update_minutes"] == 30
    assert record["after"]["first_update_minutes"] == 20
    assert record["before"]["exec_notice"] is False
    assert record["after"]["exec_notice"] is True


def test_a_longer_monitoring_period_applies_to_open_incidents_at_once(as_admin, as_responder):
    ref = as_responder.post(
        "/api/v1/incidents",
        json={"title": "Search slow", "severity": "SEV3", "status": "monitoring"},
    ).json()["reference"]

    as_admin.patch(f"{SEVERITIES}/SEV3", json={"monitoring_minutes": 45})

    check = as_responder.get(f"/api/v1/incidents/{ref}/resolution-check").json()
    (monitoring,) = [b for b in check["blockers"] if b["field"] == "monitoring_period"]
    assert "45 minutes left" in monitoring["message"]


@pytest.mark.parametrize("who", ["as_responder", "as_viewer"])
def test_only_admins_may_change_the_policy(request, who):
    caller = request.getfixturevalue(who)

    refused = caller.patch(f"{SEVERITIES}/SEV1", json={"first_update_minutes": 60})

    assert refused.status_code == 403
    assert "severities:write" in refused.json()["detail"]
    assert caller.get(f"{SEVERITIES}/SEV1").json()["first_update_minutes"] == 15


def test_an_update_cadence_needs_a_first_update_deadline(as_admin):
    cadence_alone = as_admin.patch(f"{SEVERITIES}/SEV3", json={"update_cadence_minutes": 120})
    first_cleared = as_admin.patch(f"{SEVERITIES}/SEV1", json={"first_update_minutes": None})

    assert cadence_alone.status_code == 422
    assert fields_named(cadence_alone) == ["first_update_minutes"]
    assert first_cleared.status_code == 422
    assert fields_named(first_cleared) == ["first_update_minutes"]
    assert as_admin.get(f"{SEVERITIES}/SEV3").json()["update_cadence_minutes"] is None
    assert as_admin.get(f"{SEVERITIES}/SEV1").json()["first_update_minutes"] == 15
    audited = as_admin.get("/api/v1/audit", params={"entity_type": "severity"}).json()["items"]
    assert audited == []


def test_both_public_update_clocks_can_be_set_or_cleared_together(as_admin):
    set_both = as_admin.patch(
        f"{SEVERITIES}/SEV3", json={"first_update_minutes": 60, "update_cadence_minutes": 120}
    )
    cleared = as_admin.patch(
        f"{SEVERITIES}/SEV2", json={"first_update_minutes": None, "update_cadence_minutes": None}
    )

    assert set_both.status_code == 200, set_both.text
    assert (set_both.json()["first_update_minutes"], set_both.json()["update_cadence_minutes"]) == (
        60,
        120,
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["first_update_minutes"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"monitoring_minutes": -5}, "monitoring_minutes"),
        ({"first_update_minutes": 0}, "first_update_minutes"),
        ({"postmortem": "maybe"}, "postmortem"),
        ({"level": 0}, "level"),
        ({"key": "SEV0"}, "key"),
    ],
)
def test_a_nonsense_policy_edit_is_refused_and_named(as_admin, body, field):
    refused = as_admin.patch(f"{SEVERITIES}/SEV4", json=body)

    assert refused.status_code == 422
    assert fields_named(refused) == [field]


def test_an_unknown_severity_cannot_be_edited(as_admin):
    assert as_admin.patch(f"{SEVERITIES}/SEV5", json={"name": "Trivial"}).status_code == 404


# --- the severity assistant ---------------------------------------------------------------------


def test_checkout_down_in_all_regions_is_proposed_as_sev1(as_responder):
    proposal = as_responder.post(
        ASSISTANT,
        json={
            "customer_impact": "all_or_most",
            "core_functionality_unavailable": True,
            "revenue_impact": True,
        },
    )

    assert proposal.status_code == 200, proposal.text
    body = proposal.json()
    assert body["severity"] == "SEV1"
    assert body["summary"].startswith("SEV1 proposed: core functionality is unavailable")
    assert body["reasons"][0].startswith("Core functionality is unavailable for all or most")
    assert any("Revenue" in reason for reason in body["reasons"])


@pytest.mark.parametrize(
    ("answers", "severity"),
    [
        ({"customer_impact": "subset", "core_functionality_unavailable": True}, "SEV2"),
        ({"customer_impact": "all_or_most"}, "SEV2"),
        ({"customer_impact": "subset"}, "SEV3"),
        ({"customer_impact": "few", "revenue_impact": True}, "SEV2"),
        ({"customer_impact": "few", "workaround_available": True}, "SEV4"),
        ({"customer_impact": "none", "security_or_data_loss": True}, "SEV1"),
        ({"customer_impact": "none"}, "SEV4"),
    ],
)
def test_the_assistant_follows_the_policy(as_responder, answers, severity):
    proposal = as_responder.post(ASSISTANT, json=answers)

    assert proposal.status_code == 200, proposal.text
    assert proposal.json()["severity"] == severity
    assert proposal.json()["summary"].startswith(f"{severity} proposed:")


def test_a_viewer_may_ask_the_assistant_but_it_declares_nothing(as_viewer):
    proposal = as_viewer.post(ASSISTANT, json={"customer_impact": "all_or_most"})

    assert proposal.status_code == 200
    assert as_viewer.get("/api/v1/incidents").json()["items"] == []


def test_the_assistant_names_an_answer_it_does_not_understand(as_responder):
    refused = as_responder.post(
        ASSISTANT, json={"customer_impact": "everyone", "blast_radius": "huge"}
    )

    assert refused.status_code == 422
    assert sorted(fields_named(refused)) == ["blast_radius", "customer_impact"]
