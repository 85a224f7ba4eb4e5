"""The publishing API as the communications lead uses it: publish Checkout's outage from INC-n,
post updates (warned, never blocked, about guesses at the cause), resolve with the closing
update, publish the report; schedule, reschedule and cancel maintenance. Also what the incident
updates route does once an incident is on the status page."""

from __future__ import annotations

import pytest

from .test_publishing import add_component, declare

PAGE = "/api/v1/status-pages/status"
PUBLIC = "/api/v1/public-incidents"
MAINTENANCES = "/api/v1/maintenances"
FOUR_PARTS = {
    "current_impact": "Card payments fail for most customers.",
    "doing_now": "We are rolling back the 09:40 deploy.",
    "users_should": "Retry in a few minutes; no charge was made.",
}


def fields_named(response) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json().get("errors", [])]


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def checkout(db, clock):
    return add_component(db, clock, "Checkout")


def publish(api, **fields):
    body = {"name": "Payments failing", **FOUR_PARTS, **fields}
    return api.post(f"{PAGE}/incidents", json=body)


def test_publishing_from_an_incident_meets_its_clock_and_shows_the_components(
    as_responder, checkout, clock
):
    ref = declare(as_responder)
    clock.advance(minutes=12)
    public = ok(
        publish(
            as_responder,
            incident=ref,
            components={checkout.code: "major_outage"},
            next_update_at="2026-01-05T10:42:00Z",
        ),
        201,
    )
    assert (public["incident"], public["status"], public["impact"]) == (
        ref,
        "investigating",
        "critical",
    )
    assert public["components"] == [
        {"code": checkout.code, "name": "Checkout", "status": "major_outage"}
    ]
    (first,) = public["updates"]
    assert first["body"].endswith("Next update: by 2026-01-05 10:42 UTC.")
    assert public["warnings"] == []
    obligations = ok(as_responder.get(f"/api/v1/incidents/{ref}/obligations"))
    (met,) = [o for o in obligations if o["kind"] == "first_public_update"]
    assert (met["state"], met["met_at"]) == ("met", "2026-01-05T10:12:00Z")

    again = ok(as_responder.get(f"{PUBLIC}/{public['code']}"))
    assert again["updates"] == public["updates"]


def test_speculative_wording_is_warned_about_and_still_published(as_responder):
    made = publish(as_responder, doing_now="This was probably caused by the deploy.")
    public = ok(made, 201)
    (warning,) = public["warnings"]
    assert "“probably”" in warning
    assert "“caused by”" in warning
    assert "post-incident report" in warning
    assert len(public["updates"]) == 1


def test_bad_publishing_input_names_the_field(as_responder):
    assert fields_named(publish(as_responder, incident="INC-999999")) == ["incident"]
    assert fields_named(publish(as_responder, components={"nope": "major_outage"})) == [
        "components.nope"
    ]
    assert publish(as_responder, status="resolved").status_code == 422
    assert as_responder.post("/api/v1/status-pages/nope/incidents", json={
        "name": "x", **FOUR_PARTS}).status_code == 404  # fmt: skip


def test_viewers_read_but_do_not_publish(as_viewer, as_responder):
    assert publish(as_viewer).status_code == 403
    code = ok(publish(as_responder), 201)["code"]
    assert ok(as_viewer.get(f"{PUBLIC}/{code}"))["code"] == code
    assert as_viewer.post(f"{PUBLIC}/{code}/updates", json={
        "status": "identified", **FOUR_PARTS}).status_code == 403  # fmt: skip
    assert as_viewer.get(f"{PUBLIC}/nope").status_code == 404
    assert as_viewer.get(f"/api/v1/status-pages/{'x' * 61}/incidents").status_code == 404


def test_updates_resolve_and_report_through_the_api(as_responder, checkout, clock):
    code = ok(publish(as_responder, components={checkout.code: "major_outage"}), 201)["code"]
    clock.advance(minutes=15)
    posted = ok(
        as_responder.post(
            f"{PUBLIC}/{code}/updates",
            json={"status": "monitoring", "components": {checkout.code: "degraded_performance"},
                  **FOUR_PARTS, "users_should": "We think retrying helps."},
        ),
        201,
    )  # fmt: skip
    assert posted["update"]["status"] == "monitoring"
    assert posted["update"]["affected_components"] == [
        {"code": checkout.code, "name": "Checkout", "old_status": "major_outage",
         "new_status": "degraded_performance"}
    ]  # fmt: skip
    assert posted["public_incident"]["impact"] == "minor"
    assert posted["warnings"] == posted["public_incident"]["warnings"] != []

    report = {
        "apology": "We are sorry.",
        "summary": "Payments failed for 20 minutes.",
        "impact": "Most card payments failed.",
        "root_cause": "A change sent payments to a retired endpoint.",
        "what_was_done": "We rolled it back.",
        "prevention": "Routing changes are now checked before they ship.",
    }
    assert as_responder.put(f"{PUBLIC}/{code}/report", json=report).status_code == 409

    clock.advance(minutes=5)
    closing = ok(
        as_responder.post(
            f"{PUBLIC}/{code}/resolve",
            json={"what_happened": "Card payments failed.", "what_was_done": "We rolled back."},
        ),
        201,
    )
    assert closing["update"]["closing"] is True
    assert closing["public_incident"]["status"] == "resolved"
    assert closing["public_incident"]["components"][0]["status"] == "operational"
    refused = as_responder.post(f"{PUBLIC}/{code}/updates", json={"status": "identified",
                                                                   **FOUR_PARTS})  # fmt: skip
    assert refused.status_code == 409

    reported = ok(as_responder.put(f"{PUBLIC}/{code}/report", json=report))
    assert reported["status"] == "postmortem"
    assert reported["report"] == report


def test_the_page_lists_its_incidents_filtered_and_a_page_at_a_time(as_responder):
    first = ok(publish(as_responder), 201)["code"]
    second = ok(publish(as_responder, name="Search slow"), 201)["code"]
    ok(as_responder.post(f"{PUBLIC}/{first}/resolve", json={
        "what_happened": "It failed.", "what_was_done": "We fixed it."}), 201)  # fmt: skip

    def codes(**params):
        listed = ok(as_responder.get(f"{PAGE}/incidents", params=params))
        return [item["code"] for item in listed["items"]], listed["next_cursor"]

    assert codes() == ([second, first], None)
    assert codes(unresolved="true") == ([second], None)
    assert codes(status="resolved") == ([first], None)
    page_one, cursor = codes(limit=1)
    assert page_one == [second]
    assert codes(limit=1, cursor=cursor)[0] == [first]


# --- The incident's own updates route ---------------------------------------------------------


def test_a_public_update_of_a_published_incident_goes_to_the_page_too(as_responder, clock):
    ref = declare(as_responder)
    code = ok(publish(as_responder, incident=ref), 201)["code"]
    clock.advance(minutes=20)

    entry = ok(
        as_responder.post(
            f"/api/v1/incidents/{ref}/updates",
            json={"audience": "public", "status": "identified", **FOUR_PARTS},
        ),
        201,
    )

    assert entry["kind"] == "public_update"
    public = ok(as_responder.get(f"{PUBLIC}/{code}"))
    assert public["status"] == "identified"
    latest = public["updates"][0]
    assert (latest["timeline_entry_id"], latest["status"]) == (entry["id"], "identified")
    ok(as_responder.post(f"/api/v1/incidents/{ref}/updates",
                         json={"audience": "public", **FOUR_PARTS}), 201)  # fmt: skip
    public = ok(as_responder.get(f"{PUBLIC}/{code}"))
    assert [u["status"] for u in public["updates"]] == ["identified", "identified", "investigating"]

    internal = {"audience": "internal", "current_impact": "x", "doing_now": "y"}
    ok(as_responder.post(f"/api/v1/incidents/{ref}/updates", json=internal), 201)
    assert len(ok(as_responder.get(f"{PUBLIC}/{code}"))["updates"]) == 3


def test_a_public_status_needs_a_published_open_incident_and_publishing_rights(
    as_responder, make_person, client
):
    ref = declare(as_responder)
    updates = f"/api/v1/incidents/{ref}/updates"
    with_status = {"audience": "public", "status": "monitoring", **FOUR_PARTS}
    assert fields_named(as_responder.post(updates, json=with_status)) == ["status"]
    ok(as_responder.post(updates, json={"audience": "public", **FOUR_PARTS}), 201)

    code = ok(publish(as_responder, incident=ref), 201)["code"]
    scoped = make_person("responder", scopes=["incidents:read", "incidents:write"])
    refused = client.post(updates, json={"audience": "public", **FOUR_PARTS},
                          headers=scoped.headers)  # fmt: skip
    assert refused.status_code == 403
    assert "statuspage:write" in refused.json()["detail"]

    ok(as_responder.post(f"{PUBLIC}/{code}/resolve", json={
        "what_happened": "It failed.", "what_was_done": "We fixed it."}), 201)  # fmt: skip
    assert fields_named(as_responder.post(updates, json=with_status)) == ["status"]
    ok(as_responder.post(updates, json={"audience": "public", **FOUR_PARTS}), 201)
    assert len(ok(as_responder.get(f"{PUBLIC}/{code}"))["updates"]) == 2  # not on the page


# --- Maintenance ------------------------------------------------------------------------------


def schedule(api, components=(), **fields):
    body = {
        "name": "Database upgrade",
        "scheduled_for": "2026-01-05T12:00:00Z",
        "scheduled_until": "2026-01-05T14:00:00Z",
        "components": [component.code for component in components],
        **FOUR_PARTS,
        **fields,
    }
    return api.post(f"{PAGE}/maintenances", json=body)


def test_maintenance_is_scheduled_rescheduled_updated_and_cancelled(as_responder, checkout):
    made = ok(schedule(as_responder, [checkout]), 201)
    code = made["code"]
    assert (made["kind"], made["status"], made["remind_minutes"]) == (
        "maintenance",
        "scheduled",
        60,
    )

    moved = ok(as_responder.patch(f"{MAINTENANCES}/{code}", json={
        "scheduled_for": "2026-01-05T13:00:00Z", "scheduled_until": "2026-01-05T15:00:00Z",
        "remind_minutes": None}))  # fmt: skip
    assert (moved["scheduled_for"][:16], moved["remind_minutes"]) == ("2026-01-05T13:00", None)

    posted = ok(
        as_responder.post(f"{MAINTENANCES}/{code}/updates",
                          json={"status": "in_progress", **FOUR_PARTS}), 201
    )  # fmt: skip
    assert posted["public_incident"]["components"][0]["status"] == "under_maintenance"
    backwards = as_responder.post(f"{MAINTENANCES}/{code}/updates",
                                  json={"status": "scheduled", **FOUR_PARTS})  # fmt: skip
    assert backwards.status_code == 409

    both = as_responder.patch(f"{MAINTENANCES}/{code}", json={"cancel_reason": "No longer needed.",
                                                               "name": "x"})  # fmt: skip
    assert fields_named(both) == ["cancel_reason"]
    cancelled = ok(as_responder.patch(f"{MAINTENANCES}/{code}",
                                      json={"cancel_reason": "No longer needed."}))  # fmt: skip
    assert cancelled["status"] == "completed"
    assert cancelled["components"][0]["status"] == "operational"
    assert cancelled["updates"][0]["body"].endswith("No longer needed.")


def test_maintenance_input_and_kind_are_checked(as_responder, as_viewer):
    assert fields_named(schedule(as_responder, scheduled_for="2026-01-05T09:00:00Z")) == [
        "scheduled_for"
    ]
    assert fields_named(schedule(as_responder, components=[], remind_minutes=0))
    assert schedule(as_viewer).status_code == 403
    incident = ok(publish(as_responder), 201)["code"]
    assert as_responder.patch(f"{MAINTENANCES}/{incident}", json={}).status_code == 404
    maintenance = ok(schedule(as_responder, doing_now="Likely a quick one."), 201)
    assert maintenance["warnings"] != []
    code = maintenance["code"]
    assert as_responder.post(f"{PUBLIC}/{code}/updates", json={
        "status": "identified", **FOUR_PARTS}).status_code == 404  # fmt: skip
