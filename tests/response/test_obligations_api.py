"""Status updates and the obligations they meet, through the JSON API, as a responder lives it.

The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

import pytest

INCIDENTS = "/api/v1/incidents"
WAIVER = "Fix verified by synthetic checks in every region"


def at(hhmm: str, day: int = 5) -> str:
    """An instant on the fake clock's calendar, as the API writes it."""
    return f"2026-01-{day:02d}T{hhmm}:00Z"


def declare(api, severity="SEV1", **fields):
    response = api.post(INCIDENTS, json={"title": "Checkout down", "severity": severity, **fields})
    assert response.status_code == 201, response.text
    return response.json()["reference"]


def update(api, ref, audience="public", **overrides):
    body = {
        "audience": audience,
        "current_impact": "Card payments fail for most customers.",
        "doing_now": "Rolling back the 09:40 deploy.",
        "users_should": "Retry in a few minutes; no charge was made.",
        **overrides,
    }
    return api.post(f"{INCIDENTS}/{ref}/updates", json=body)


def posted(api, ref, **overrides):
    response = update(api, ref, **overrides)
    assert response.status_code == 201, response.text
    return response.json()


def owed(api, ref, *kinds):
    response = api.get(f"{INCIDENTS}/{ref}/obligations")
    assert response.status_code == 200, response.text
    return [o for o in response.json() if not kinds or o["kind"] in kinds]


def resolve_with_waiver(api, ref):
    """Resolve through the gate, waiving the monitoring period."""
    body = {
        "resolution_criteria": "Checkout success above 99.5% for 30 minutes",
        "criteria_met": True,
        "customer_impact_ended": True,
        "postmortem_owner": "ines@example.com",
        "postmortem_due_at": at("17:00", day=16),
        "monitoring_waiver_reason": WAIVER,
    }
    response = api.post(f"{INCIDENTS}/{ref}/resolve", json=body)
    assert response.status_code == 200, response.text


def fields_named(response):
    return [problem["field"] for problem in response.json().get("errors", [])]


@pytest.fixture
def ines(make_person):
    return make_person("responder", name="Ines Oncall", email="ines@example.com")


def test_a_sev1_owes_a_first_public_update_by_10_15_reminding_the_comms_lead_at_10_10(
    as_responder,
):
    ref = declare(as_responder)

    (first,) = owed(as_responder, ref, "first_public_update")

    assert first == {
        "kind": "first_public_update",
        "sequence": 0,
        "state": "pending",
        "due_at": at("10:15"),
        "remind_at": at("10:10"),
        "owner_role": "comms_lead",
        "escalate_to": "commander",
        "met_at": None,
        "late": False,
        "waiver_reason": None,
    }


def test_missed_at_10_16_met_late_at_10_17_then_kept_on_time_at_10_40(as_responder, clock):
    ref = declare(as_responder)

    clock.advance(minutes=16)
    (missed,) = owed(as_responder, ref, "first_public_update")
    assert (missed["state"], missed["escalate_to"]) == ("missed", "commander")

    clock.advance(minutes=1)
    posted(as_responder, ref)
    first, following = owed(as_responder, ref, "first_public_update", "public_update")
    assert (first["state"], first["met_at"], first["late"]) == ("met", at("10:17"), True)
    assert (following["sequence"], following["state"]) == (1, "pending")
    assert following["due_at"] == at("10:47")

    clock.advance(minutes=23)
    posted(as_responder, ref)
    *_, kept, next_one = owed(as_responder, ref, "public_update")
    assert (kept["state"], kept["met_at"], kept["late"]) == ("met", at("10:40"), False)
    assert (next_one["state"], next_one["due_at"]) == ("pending", at("11:10"))


def test_an_update_lands_on_the_timeline_readably_with_its_parts_and_an_audit_record(
    as_responder, as_admin, clock
):
    ref = declare(as_responder)
    clock.advance(minutes=5)

    response = update(as_responder, ref, next_update_at=at("10:35"))

    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["kind"] == "public_update"
    assert entry["thread"] == "command"
    assert entry["occurred_at"] == at("10:05")
    assert entry["author"]["email"] == "rita@example.com"
    assert entry["body"] == (
        "Current impact: Card payments fail for most customers.\n"
        "What we are doing: Rolling back the 09:40 deploy.\n"
        "What users should do: Retry in a few minutes; no charge was made.\n"
        "Next update: by 2026-01-05T10:35:00Z."
    )
    assert entry["details"] == {
        "audience": "public",
        "current_impact": "Card payments fail for most customers.",
        "doing_now": "Rolling back the 09:40 deploy.",
        "users_should": "Retry in a few minutes; no charge was made.",
        "next_update_at": at("10:35"),
    }
    timeline = as_responder.get(f"{INCIDENTS}/{ref}/timeline", params={"kind": "public_update"})
    assert [e["id"] for e in timeline.json()["items"]] == [entry["id"]]
    audit = as_admin.get(
        "/api/v1/audit", params={"entity_id": ref, "action": "incident.public_update"}
    )
    (record,) = audit.json()["items"]
    assert record["after"]["entry_id"] == entry["id"]


def test_an_internal_update_needs_no_advice_for_users_and_meets_the_internal_update(
    as_responder, clock
):
    ref = declare(as_responder)
    clock.advance(minutes=10)

    entry = posted(as_responder, ref, audience="internal", users_should=None)

    assert entry["kind"] == "internal_update"
    assert "What users should do" not in entry["body"]
    assert entry["body"].endswith("Next update: none scheduled.")
    first, following = owed(as_responder, ref, "internal_update")
    assert (first["state"], first["met_at"], first["late"]) == ("met", at("10:10"), False)
    assert (following["state"], following["due_at"]) == ("pending", at("11:10"))
    (public,) = owed(as_responder, ref, "first_public_update")
    assert public["state"] == "pending"


def test_a_sev3_owes_no_public_update_until_raised_to_sev1_at_10_20(as_responder, clock):
    ref = declare(as_responder, severity="SEV3")
    assert owed(as_responder, ref, "first_public_update", "public_update") == []

    clock.advance(minutes=20)
    raised = as_responder.post(f"{INCIDENTS}/{ref}/severity", json={"severity": "SEV1"})
    assert raised.status_code == 200, raised.text

    (first,) = owed(as_responder, ref, "first_public_update")
    assert (first["state"], first["due_at"], first["remind_at"]) == (
        "pending",
        at("10:35"),
        at("10:30"),
    )


def test_resolving_waives_the_open_updates_and_starts_the_learning_clocks(
    as_responder, ines, clock
):
    ref = declare(as_responder)
    clock.advance(minutes=10)
    posted(as_responder, ref)
    clock.advance(minutes=10)

    resolve_with_waiver(as_responder, ref)

    obligations = owed(as_responder, ref)
    (next_update,) = [o for o in obligations if o["kind"] == "public_update"]
    assert (next_update["state"], next_update["waiver_reason"]) == ("waived", "resolved")
    assert all(o["state"] != "pending" for o in obligations if o["due_at"] < at("11:00"))
    (summary,) = [o for o in obligations if o["kind"] == "post_incident_summary"]
    assert (summary["state"], summary["due_at"]) == ("pending", at("10:20", day=8))
    (meeting,) = [o for o in obligations if o["kind"] == "postmortem_meeting"]
    assert (meeting["due_at"], meeting["owner_role"]) == (at("17:00", day=12), "postmortem_owner")
    (completion,) = [o for o in obligations if o["kind"] == "postmortem_completion"]
    assert completion["due_at"] == at("17:00", day=16)


def test_reopening_restarts_the_response_clocks_from_the_reopen(as_responder, ines, clock):
    ref = declare(as_responder)
    posted(as_responder, ref)
    clock.advance(minutes=10)
    resolve_with_waiver(as_responder, ref)
    clock.advance(minutes=50)
    reopened = as_responder.post(f"{INCIDENTS}/{ref}/reopen", json={"reason": "Errors are back"})
    assert reopened.status_code == 200, reopened.text

    obligations = owed(as_responder, ref)
    (summary,) = [o for o in obligations if o["kind"] == "post_incident_summary"]
    assert (summary["state"], summary["waiver_reason"]) == ("waived", "reopened")
    pending = [o for o in obligations if o["state"] == "pending"]
    assert {"kind": "public_update", "due_at": at("11:15")} in [
        {"kind": o["kind"], "due_at": o["due_at"]} for o in pending
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"audience": "everyone"}, "audience"),
        ({"current_impact": "   "}, "current_impact"),
        ({"doing_now": "x" * 5001}, "doing_now"),
        ({"users_should": None}, "users_should"),
        ({"next_update_at": "2026-01-05T09:59:00Z"}, "next_update_at"),
        ({"next_update_at": "2026-01-05T10:30:00"}, "next_update_at"),
        ({"current_impact": "nul\u0000here"}, "current_impact"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_an_invalid_update_names_the_field_and_writes_nothing(as_responder, changes, field):
    ref = declare(as_responder)

    response = update(as_responder, ref, **changes)

    assert response.status_code == 422, response.text
    assert field in fields_named(response)
    timeline = as_responder.get(f"{INCIDENTS}/{ref}/timeline", params={"kind": "public_update"})
    assert timeline.json()["items"] == []


def test_a_viewer_may_read_obligations_but_not_post_updates(as_responder, as_viewer):
    ref = declare(as_responder)

    assert update(as_viewer, ref).status_code == 403
    assert as_viewer.get(f"{INCIDENTS}/{ref}/obligations").status_code == 200


def test_an_incident_in_triage_or_declined_takes_no_updates_and_owes_nothing(as_responder):
    ref = declare(as_responder, status="triage")

    refused = update(as_responder, ref)

    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "triage" in refused.json()["detail"]
    assert owed(as_responder, ref) == []
    declined = as_responder.post(f"{INCIDENTS}/{ref}/decline", json={"reason": "Planned test"})
    assert declined.status_code == 200, declined.text
    assert update(as_responder, ref).status_code == 409


def test_an_unknown_incident_is_404(as_responder):
    assert update(as_responder, "INC-999999").status_code == 404
    assert as_responder.get(f"{INCIDENTS}/INC-999999/obligations").status_code == 404


def test_lowering_a_sev1_to_sev3_waives_the_public_update_not_yet_due(as_responder, clock):
    ref = declare(as_responder)
    clock.advance(minutes=5)

    lowered = as_responder.post(f"{INCIDENTS}/{ref}/severity", json={"severity": "SEV3"})
    assert lowered.status_code == 200, lowered.text

    (first,) = owed(as_responder, ref, "first_public_update")
    assert (first["state"], first["waiver_reason"]) == ("waived", "severity lowered")


def test_a_declined_report_reopened_and_declared_owes_from_its_declaration(as_responder, clock):
    ref = declare(as_responder, status="triage")
    declined = as_responder.post(f"{INCIDENTS}/{ref}/decline", json={"reason": "Looked planned"})
    assert declined.status_code == 200, declined.text
    reopened = as_responder.post(f"{INCIDENTS}/{ref}/reopen", json={"reason": "It was not"})
    assert reopened.status_code == 200, reopened.text
    clock.advance(minutes=30)

    moved = as_responder.post(f"{INCIDENTS}/{ref}/status", json={"status": "investigating"})
    assert moved.status_code == 200, moved.text

    (first,) = owed(as_responder, ref, "first_public_update")
    assert (first["state"], first["due_at"]) == ("pending", at("10:45"))


def test_a_waived_first_update_says_why_and_the_next_falls_due_a_cadence_after_it(
    as_responder, as_viewer, clock
):
    ref = declare(as_responder, severity="SEV2")
    clock.advance(minutes=10)
    path = f"{INCIDENTS}/{ref}/obligations/first_public_update/0/waive"
    reason = "No customer-visible impact: internal tooling only"

    assert as_viewer.post(path, json={"reason": reason}).status_code == 403
    waived = as_responder.post(path, json={"reason": reason})

    assert waived.status_code == 201, waived.text
    assert waived.json()["kind"] == "obligation_waived"
    assert reason in waived.json()["body"]
    (first,) = owed(as_responder, ref, "first_public_update")
    assert (first["state"], first["waiver_reason"]) == ("waived", reason)
    (following,) = owed(as_responder, ref, "public_update")
    assert (following["state"], following["due_at"]) == ("pending", at("11:30"))
    again = as_responder.post(path, json={"reason": reason})
    assert again.status_code == 409, again.text
    unknown = as_responder.post(
        f"{INCIDENTS}/{ref}/obligations/public_update/7/waive", json={"reason": reason}
    )
    assert unknown.status_code == 404
    blank = as_responder.post(
        f"{INCIDENTS}/{ref}/obligations/public_update/1/waive", json={"reason": "  "}
    )
    assert blank.status_code == 422
    assert fields_named(blank) == ["reason"]
