"""The resolution gate: stable against its criteria, impact over, a postmortem owner and due date
for major incidents, and the monitoring period waited out or waived with a reason.

The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

import pytest

INCIDENTS = "/api/v1/incidents"
EVERY_CONDITION = [
    "resolution_criteria",
    "criteria_met",
    "customer_impact_ended",
    "postmortem_owner",
    "postmortem_due_at",
    "monitoring_period",
]


def at(hhmm: str, day: int = 5) -> str:
    return f"2026-01-{day:02d}T{hhmm}:00Z"


def declare(api, title="Checkout down", severity="SEV1", **fields):
    response = api.post(INCIDENTS, json={"title": title, "severity": severity, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def fields_named(response):
    return [problem["field"] for problem in response.json().get("errors", [])]


def move(api, ref, status):
    response = api.post(f"{INCIDENTS}/{ref}/status", json={"status": status})
    assert response.status_code == 200, response.text
    return response.json()


def record_facts(api, ref, **overrides):
    """What the commander records once the rollback has held."""
    facts = {
        "resolution_criteria": "Checkout success rate above 99.5% in every region for 30 minutes",
        "criteria_met": True,
        "customer_impact_ended": True,
        "postmortem_owner": "ines@example.com",
        "postmortem_due_at": at("17:00", day=9),
        **overrides,
    }
    response = api.patch(f"{INCIDENTS}/{ref}", json=facts)
    assert response.status_code == 200, response.text
    return response.json()


def resolve(api, ref, **body):
    return api.post(f"{INCIDENTS}/{ref}/resolve", json=body)


def history(api, ref):
    return api.get(f"{INCIDENTS}/{ref}/timeline", params={"limit": 500}).json()["items"]


def audit_actions(as_admin, ref):
    records = as_admin.get("/api/v1/audit", params={"entity_id": ref, "limit": 200}).json()
    return [record["action"] for record in records["items"]]


@pytest.fixture
def ines(make_person):
    return make_person("responder", name="Ines Oncall", email="ines@example.com")


def test_a_sev1_with_nothing_recorded_cannot_resolve_and_hears_every_reason(as_responder, ines):
    ref = declare(as_responder)["reference"]

    refused = resolve(as_responder, ref)

    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"] == "/problems/resolution-blocked"
    assert problem["detail"].endswith("6 conditions unmet")
    assert fields_named(refused) == EVERY_CONDITION
    assert all(error["message"] for error in problem["errors"])
    never_monitored = problem["errors"][-1]["message"]
    assert "never in monitoring" in never_monitored
    assert "30-minute" in never_monitored


def test_the_status_route_applies_the_same_gate(as_responder, ines):
    ref = declare(as_responder)["reference"]

    refused = as_responder.post(f"{INCIDENTS}/{ref}/status", json={"status": "resolved"})

    assert refused.status_code == 409
    assert fields_named(refused) == EVERY_CONDITION


def test_the_resolution_check_reports_the_same_blockers_as_the_refusal(as_responder, ines, clock):
    ref = declare(as_responder)["reference"]
    record_facts(as_responder, ref, criteria_met=False, postmortem_owner=None)
    move(as_responder, ref, "monitoring")
    clock.advance(minutes=12)

    check = as_responder.get(f"{INCIDENTS}/{ref}/resolution-check")
    refused = resolve(as_responder, ref)

    assert check.status_code == 200
    assert check.json()["resolvable"] is False
    assert [blocker["field"] for blocker in check.json()["blockers"]] == [
        "criteria_met",
        "postmortem_owner",
        "monitoring_period",
    ]
    assert check.json()["blockers"] == refused.json()["errors"]
    assert "18 minutes left" in check.json()["blockers"][-1]["message"]


def test_a_sev1_in_monitoring_from_10_00_is_blocked_at_10_20_and_resolves_at_10_30(
    as_responder, as_admin, ines, clock
):
    ref = declare(as_responder, status="monitoring")["reference"]
    record_facts(as_responder, ref)

    clock.advance(minutes=20)
    early = resolve(as_responder, ref)

    assert early.status_code == 409
    assert fields_named(early) == ["monitoring_period"]
    message = early.json()["errors"][0]["message"]
    assert "10 minutes left" in message
    assert "2026-01-05T10:30:00Z" in message

    clock.advance(minutes=10)
    check = as_responder.get(f"{INCIDENTS}/{ref}/resolution-check").json()
    assert check == {"resolvable": True, "blockers": []}
    resolved = resolve(as_responder, ref, note="Success rate steady at 99.9%")

    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["status"] == "resolved"
    assert body["resolved_at"] == at("10:30")
    assert body["mitigated_at"] == at("10:00")
    last = history(as_responder, ref)[-1]
    assert last["details"] == {
        "from": "monitoring",
        "to": "resolved",
        "note": "Success rate steady at 99.9%",
    }
    assert "incident.resolve" in audit_actions(as_admin, ref)


def test_the_monitoring_period_counts_from_the_last_time_it_entered_monitoring(
    as_responder, ines, clock
):
    ref = declare(as_responder)["reference"]
    record_facts(as_responder, ref)
    clock.advance(minutes=5)
    move(as_responder, ref, "monitoring")
    clock.advance(minutes=15)
    move(as_responder, ref, "investigating")  # errors came back at 10:20
    clock.advance(minutes=5)
    move(as_responder, ref, "monitoring")  # mitigated again at 10:25

    clock.advance(minutes=15)
    at_10_40 = resolve(as_responder, ref)
    clock.advance(minutes=15)
    at_10_55 = resolve(as_responder, ref)

    assert at_10_40.status_code == 409
    assert "15 minutes left" in at_10_40.json()["errors"][0]["message"]
    assert at_10_55.status_code == 200, at_10_55.text
    assert at_10_55.json()["mitigated_at"] == at("10:25")


def test_the_last_minute_of_monitoring_is_still_a_minute_left(as_responder, ines, clock):
    ref = declare(as_responder, status="monitoring")["reference"]
    record_facts(as_responder, ref)

    clock.advance(minutes=29, seconds=30)
    refused = resolve(as_responder, ref)

    assert refused.status_code == 409
    assert "1 minute left" in refused.json()["errors"][0]["message"]


def test_the_monitoring_period_can_be_waived_with_a_reason_that_stays_on_record(
    as_responder, as_admin, ines, clock
):
    ref = declare(as_responder, status="monitoring")["reference"]
    record_facts(as_responder, ref)
    clock.advance(minutes=5)

    blank = resolve(as_responder, ref, monitoring_waiver_reason="   ")
    waived = resolve(
        as_responder,
        ref,
        monitoring_waiver_reason="Fix verified by synthetic checks in every region",
    )

    assert blank.status_code == 409
    assert fields_named(blank) == ["monitoring_period"]
    assert waived.status_code == 200, waived.text
    body = waived.json()
    assert body["status"] == "resolved"
    assert body["resolved_at"] == at("10:05")
    assert body["monitoring_waiver_reason"] == "Fix verified by synthetic checks in every region"
    (decision,) = [entry for entry in history(as_responder, ref) if entry["kind"] == "decision"]
    assert decision["body"] == (
        "Monitoring period waived: Fix verified by synthetic checks in every region"
    )
    assert decision["author"]["email"] == "rita@example.com"
    (record,) = as_admin.get(
        "/api/v1/audit", params={"entity_id": ref, "action": "incident.resolve"}
    ).json()["items"]
    assert record["after"]["monitoring_waiver_reason"].startswith("Fix verified")


def test_everything_the_gate_asks_for_can_be_sent_with_the_resolve_itself(
    as_responder, ines, clock
):
    ref = declare(as_responder)["reference"]
    move(as_responder, ref, "monitoring")
    clock.advance(minutes=30)

    resolved = resolve(
        as_responder,
        ref,
        resolution_criteria="p99 latency under 300 ms for 30 minutes",
        criteria_met=True,
        customer_impact_ended=True,
        postmortem_owner="ines@example.com",
        postmortem_due_at=at("12:00", day=12),
    )

    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["resolution_criteria"] == "p99 latency under 300 ms for 30 minutes"
    assert body["criteria_met"] is True
    assert body["customer_impact_ended"] is True
    assert body["postmortem_owner"]["email"] == "ines@example.com"
    assert body["postmortem_due_at"] == at("12:00", day=12)


def test_a_refused_resolve_changes_nothing_and_loses_nothing_already_recorded(
    as_responder, as_admin, ines, clock
):
    ref = declare(as_responder, status="monitoring")["reference"]
    recorded = record_facts(as_responder, ref, postmortem_owner=None)
    timeline_before = history(as_responder, ref)
    audit_before = audit_actions(as_admin, ref)

    clock.advance(minutes=10)
    refused = resolve(
        as_responder,
        ref,
        resolution_criteria="Something else entirely",
        criteria_met=False,
        postmortem_due_at=at("09:00", day=20),
        monitoring_waiver_reason="In a hurry",
    )

    assert refused.status_code == 409
    assert fields_named(refused) == ["criteria_met", "postmortem_owner"]
    after = as_responder.get(f"{INCIDENTS}/{ref}").json()
    assert after == recorded
    assert after["resolution_criteria"].startswith("Checkout success rate")
    assert after["criteria_met"] is True
    assert after["monitoring_waiver_reason"] is None
    assert history(as_responder, ref) == timeline_before
    assert audit_actions(as_admin, ref) == audit_before


def test_a_sev3_needs_no_postmortem_owner_to_resolve(as_responder, clock):
    ref = declare(as_responder, title="Search slow", severity="SEV3", status="monitoring")[
        "reference"
    ]
    clock.advance(minutes=5)

    blocked = resolve(as_responder, ref)
    assert fields_named(blocked) == [
        "resolution_criteria",
        "criteria_met",
        "customer_impact_ended",
        "monitoring_period",
    ]
    assert "10 minutes left" in blocked.json()["errors"][-1]["message"]

    clock.advance(minutes=10)
    resolved = resolve(
        as_responder,
        ref,
        resolution_criteria="Search p95 under 1 s",
        criteria_met=True,
        customer_impact_ended=True,
    )

    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["postmortem_owner"] is None
    assert resolved.json()["postmortem_due_at"] is None


def test_a_sev2_is_major_and_needs_a_postmortem_owner_too(as_responder, clock):
    ref = declare(as_responder, severity="SEV2", status="monitoring")["reference"]
    clock.advance(minutes=30)

    blocked = resolve(
        as_responder,
        ref,
        resolution_criteria="Login success above 99%",
        criteria_met=True,
        customer_impact_ended=True,
    )

    assert fields_named(blocked) == ["postmortem_owner", "postmortem_due_at"]


def test_lowering_a_sev1_to_sev3_lifts_the_postmortem_requirement(as_responder, clock):
    ref = declare(as_responder, status="monitoring")["reference"]
    as_responder.post(f"{INCIDENTS}/{ref}/severity", json={"severity": "SEV3"})
    clock.advance(minutes=15)

    resolved = resolve(
        as_responder,
        ref,
        resolution_criteria="Search p95 under 1 s",
        criteria_met=True,
        customer_impact_ended=True,
    )

    assert resolved.status_code == 200, resolved.text


def test_a_postmortem_due_date_already_past_blocks_even_a_minor_incident(as_responder, clock):
    ref = declare(as_responder, severity="SEV4")["reference"]
    clock.advance(hours=2)

    refused = resolve(
        as_responder,
        ref,
        resolution_criteria="Typo fixed",
        criteria_met=True,
        customer_impact_ended=True,
        postmortem_due_at=at("11:00"),
    )

    assert refused.status_code == 409
    assert fields_named(refused) == ["postmortem_due_at"]
    assert "must be in the future" in refused.json()["errors"][0]["message"]


def test_a_postmortem_owner_must_be_a_current_user(as_responder, as_admin, ines):
    ref = declare(as_responder)["reference"]
    as_admin.patch("/api/v1/users/ines@example.com", json={"is_active": False})

    unknown = resolve(as_responder, ref, postmortem_owner="nobody@example.com")
    gone = as_responder.patch(f"{INCIDENTS}/{ref}", json={"postmortem_owner": "ines@example.com"})

    assert unknown.status_code == 422
    assert fields_named(unknown) == ["postmortem_owner"]
    assert gone.status_code == 422
    assert fields_named(gone) == ["postmortem_owner"]


def test_a_report_still_in_triage_cannot_be_resolved(as_responder):
    ref = declare(as_responder, severity="SEV4", status="triage")["reference"]

    refused = resolve(
        as_responder,
        ref,
        resolution_criteria="n/a",
        criteria_met=True,
        customer_impact_ended=True,
    )

    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/illegal-transition"
    assert "resolved" not in refused.json()["allowed"]
    assert as_responder.get(f"{INCIDENTS}/{ref}").json()["resolution_criteria"] == ""


def test_the_resolution_check_says_a_report_in_triage_is_not_resolvable(as_responder):
    ref = declare(as_responder, severity="SEV4", status="triage")["reference"]
    as_responder.patch(
        f"{INCIDENTS}/{ref}",
        json={"resolution_criteria": "n/a", "criteria_met": True, "customer_impact_ended": True},
    )

    check = as_responder.get(f"{INCIDENTS}/{ref}/resolution-check").json()

    assert check["resolvable"] is False
    assert [blocker["field"] for blocker in check["blockers"]] == ["status"]


def test_a_resolved_incident_cannot_be_resolved_again(as_responder, ines, clock):
    ref = declare(as_responder, status="monitoring")["reference"]
    record_facts(as_responder, ref)
    clock.advance(minutes=30)
    assert resolve(as_responder, ref).status_code == 200

    again = resolve(as_responder, ref)

    assert again.status_code == 409
    assert again.json()["allowed"] == ["closed", "investigating"]


def test_a_reopened_incident_must_pass_the_gate_again(as_responder, ines, clock):
    ref = declare(as_responder, status="monitoring")["reference"]
    record_facts(as_responder, ref)
    clock.advance(minutes=5)
    resolve(as_responder, ref, monitoring_waiver_reason="Verified by synthetic checks")

    clock.advance(minutes=30)
    as_responder.post(f"{INCIDENTS}/{ref}/reopen", json={"reason": "Errors are back in eu-west"})
    clock.advance(minutes=5)
    move(as_responder, ref, "monitoring")
    refused = resolve(as_responder, ref)

    assert refused.status_code == 409
    assert fields_named(refused) == ["criteria_met", "customer_impact_ended", "monitoring_period"]
