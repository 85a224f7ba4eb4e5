"""Declaring, finding and moving incidents through the JSON API, as a responder lives it.

The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

import re

import pytest

INCIDENTS = "/api/v1/incidents"
WAR_ROOM = re.compile(r"^#incident-\d{4}-\d{2}-\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*$")


def at(hhmm: str, day: int = 5) -> str:
    """An instant on the fake clock's calendar, as the API writes it."""
    return f"2026-01-{day:02d}T{hhmm}:00Z"


def declare(api, title="Checkout down", severity="SEV1", **fields):
    response = api.post(INCIDENTS, json={"title": title, "severity": severity, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def fields_named(response):
    return [problem["field"] for problem in response.json().get("errors", [])]


def entries(api, ref, **params):
    response = api.get(f"{INCIDENTS}/{ref}/timeline", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def audit(as_admin, ref, action=None):
    params = {"entity_type": "incident", "entity_id": ref, "limit": 200}
    if action:
        params["action"] = action
    response = as_admin.get("/api/v1/audit", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def add_service(api, name, slug):
    response = api.post("/api/v1/services", json={"name": name, "slug": slug})
    assert response.status_code == 201, response.text
    return response.json()


def ready_to_resolve(api, ref):
    """Record what the resolution gate asks of a minor incident."""
    response = api.patch(
        f"{INCIDENTS}/{ref}",
        json={
            "resolution_criteria": "Error rate under 0.1% for 15 minutes",
            "criteria_met": True,
            "customer_impact_ended": True,
        },
    )
    assert response.status_code == 200, response.text


# --- declaring ----------------------------------------------------------------------------------


def test_a_sev1_declared_at_10_00_gets_a_reference_a_war_room_and_its_timestamps(
    as_responder, as_admin
):
    created = as_responder.post(
        INCIDENTS,
        json={
            "title": "Checkout down in all regions",
            "severity": "SEV1",
            "summary": "Every payment attempt returns 503.",
            "impact_started_at": at("09:48"),
            "detected_at": at("09:52"),
        },
    )

    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["reference"] == f"INC-{incident['id']}"
    assert incident["status"] == "investigating"
    assert incident["severity"] == "SEV1"
    assert incident["is_major"] is True
    assert incident["war_room"] == "#incident-2026-01-05-checkout-down-in-all-regions"
    assert incident["impact_started_at"] == at("09:48")
    assert incident["detected_at"] == at("09:52")
    assert incident["reported_at"] == at("10:00")
    assert incident["declared_at"] == at("10:00")
    assert incident["acknowledged_at"] is None
    assert incident["identified_at"] is None
    assert incident["resolved_at"] is None
    assert created.headers["Location"] == f"/api/v1/incidents/{incident['reference']}"

    read = as_responder.get(created.headers["Location"])
    assert read.status_code == 200
    assert read.json() == incident
    assert as_responder.get(f"{INCIDENTS}/{incident['id']}").json()["id"] == incident["id"]

    kinds = [entry["kind"] for entry in entries(as_responder, incident["reference"])]
    assert kinds[:2] == ["reported", "declared"]
    # Newest first: a SEV1 gets the major-incident playbook in the same transaction.
    assert [record["action"] for record in audit(as_admin, incident["reference"])] == [
        "incident.playbook_attached",
        "incident.create",
    ]


def test_a_declaration_without_a_detection_time_counts_as_detected_when_reported(as_responder):
    incident = declare(as_responder, title="Search is slow", severity="SEV3")

    assert incident["detected_at"] == incident["reported_at"] == at("10:00")
    assert incident["impact_started_at"] is None


def test_an_unknown_incident_is_404_by_number_or_reference(as_responder):
    assert as_responder.get(f"{INCIDENTS}/INC-999999").status_code == 404
    assert as_responder.get(f"{INCIDENTS}/not-an-incident").status_code == 404
    assert as_responder.get(f"{INCIDENTS}/INC-{'9' * 18}").status_code == 404
    assert as_responder.get(f"{INCIDENTS}/{'9' * 30}").status_code == 404


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        (
            "  Checkout: 500s for *all* EU merchants (again?)  ",
            "checkout-500s-for-all-eu-merchants-again",
        ),
        ("🔥🔥🔥", "incident"),
        ("Café payments \u2013 Überweisung failing", "cafe-payments-uberweisung-failing"),
        ("DB_primary   failover___stuck", "db-primary-failover-stuck"),
    ],
)
def test_odd_titles_become_a_tidy_war_room_slug(as_responder, title, slug):
    incident = declare(as_responder, title=title)

    assert incident["war_room"] == f"#incident-2026-01-05-{slug}"


def test_a_very_long_title_is_cut_to_a_channel_name_chat_tools_accept(as_responder):
    title = "Payments API returning intermittent 502 errors for merchants " * 4

    incident = declare(as_responder, title=title)

    war_room = incident["war_room"]
    assert len(war_room) <= 80
    assert WAR_ROOM.match(war_room), war_room
    assert war_room.startswith("#incident-2026-01-05-payments-api-returning-intermittent-502")


def test_two_incidents_with_the_same_title_on_one_day_get_different_war_rooms(as_responder, clock):
    first = declare(as_responder, title="Checkout down")
    second = declare(as_responder, title="Checkout down")

    assert first["war_room"] == "#incident-2026-01-05-checkout-down"
    assert second["war_room"] != first["war_room"]
    assert second["war_room"].startswith("#incident-2026-01-05-checkout-down")
    assert WAR_ROOM.match(second["war_room"]), second["war_room"]

    clock.advance(days=1)
    next_day = declare(as_responder, title="Checkout down")
    assert next_day["war_room"] == "#incident-2026-01-06-checkout-down"


def test_a_repeated_long_title_still_gets_a_tidy_unique_war_room(as_responder):
    # Cut the duplicate's name exactly where a word ends, so a careless cut leaves "--".
    probe = declare(as_responder, title="Probe", severity="SEV4")
    duplicate_id = probe["id"] + 2
    kept = 80 - len("#incident-2026-01-05-") - len(f"-{duplicate_id}")
    title = "x" * (kept - 1) + " replication lag on the orders database"

    first = declare(as_responder, title=title)
    second = declare(as_responder, title=title)

    assert second["id"] == duplicate_id
    assert second["war_room"] != first["war_room"]
    for war_room in (first["war_room"], second["war_room"]):
        assert len(war_room) <= 80
        assert WAR_ROOM.match(war_room), war_room


def test_a_suspected_incident_in_triage_has_no_war_room_until_declared(as_responder, clock):
    reported = declare(as_responder, title="Maybe login errors", status="triage")

    assert reported["status"] == "triage"
    assert reported["war_room"] is None
    assert reported["declared_at"] is None
    assert reported["reported_at"] == at("10:00")

    clock.advance(minutes=10)
    declared = as_responder.post(
        f"{INCIDENTS}/{reported['reference']}/status", json={"status": "investigating"}
    )

    assert declared.status_code == 200, declared.text
    body = declared.json()
    assert body["status"] == "investigating"
    assert body["war_room"] == "#incident-2026-01-05-maybe-login-errors"
    assert body["declared_at"] == at("10:10")
    assert body["reported_at"] == at("10:00")
    kinds = [entry["kind"] for entry in entries(as_responder, reported["reference"])]
    # Declared, the major incident gets its playbook; in triage it had none.
    assert kinds == ["reported", "declared", "status_change", "playbook_attached"]


def test_an_incident_is_declared_against_services_named_by_slug(as_responder):
    add_service(as_responder, "Payments", "payments")
    add_service(as_responder, "Checkout", "checkout")

    incident = declare(as_responder, services=["payments", "Checkout"])

    assert sorted(service["slug"] for service in incident["services"]) == ["checkout", "payments"]


def test_an_unknown_service_is_refused_and_named(as_responder):
    add_service(as_responder, "Checkout", "checkout")

    response = as_responder.post(
        INCIDENTS,
        json={"title": "Checkout down", "severity": "SEV1", "services": ["checkout", "chekout"]},
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fields_named(response) == ["services"]
    assert "chekout" in response.json()["errors"][0]["message"]
    assert as_responder.get(INCIDENTS).json()["items"] == []


def test_naming_a_commander_at_declaration_acknowledges_the_incident(as_responder, make_person):
    ines = make_person("responder", name="Ines Commander", email="ines@example.com")

    incident = declare(as_responder, commander="ines@example.com")

    assert incident["roles"]["commander"]["id"] == ines.user.id
    assert incident["acknowledged_at"] == incident["declared_at"] == at("10:00")


def test_a_commander_named_in_triage_acknowledges_when_the_incident_is_declared(
    as_responder, make_person, clock
):
    make_person("responder", name="Ines Commander", email="ines@example.com")
    reported = declare(as_responder, status="triage", commander="ines@example.com")
    assert reported["acknowledged_at"] is None

    clock.advance(minutes=5)
    declared = as_responder.post(
        f"{INCIDENTS}/{reported['id']}/status", json={"status": "investigating"}
    ).json()

    assert declared["declared_at"] == declared["acknowledged_at"] == at("10:05")


def test_an_unknown_commander_is_refused_and_named(as_responder):
    response = as_responder.post(
        INCIDENTS,
        json={"title": "Checkout down", "severity": "SEV1", "commander": "nobody@example.com"},
    )

    assert response.status_code == 422
    assert fields_named(response) == ["commander"]


def test_impact_cannot_start_after_it_was_detected(as_responder):
    response = as_responder.post(
        INCIDENTS,
        json={
            "title": "Checkout down",
            "severity": "SEV1",
            "impact_started_at": at("09:55"),
            "detected_at": at("09:40"),
        },
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "impact_started_at" in fields_named(response)
    assert as_responder.get(INCIDENTS).json()["items"] == []


@pytest.mark.parametrize("field", ["impact_started_at", "detected_at"])
def test_a_timestamp_in_the_future_is_refused(as_responder, field):
    response = as_responder.post(
        INCIDENTS, json={"title": "Checkout down", "severity": "SEV1", field: at("10:30")}
    )

    assert response.status_code == 422
    assert field in fields_named(response)
    assert "future" in response.json()["detail"]


def test_a_timestamp_given_in_another_time_zone_is_stored_as_the_same_instant(as_responder):
    incident = declare(as_responder, impact_started_at="2026-01-05T10:45:00+01:00")

    assert incident["impact_started_at"] == at("09:45")


def test_a_timestamp_without_a_time_zone_is_refused_not_guessed(as_responder):
    response = as_responder.post(
        INCIDENTS,
        json={
            "title": "Checkout down",
            "severity": "SEV1",
            "impact_started_at": "2026-01-05T09:45",
        },
    )

    assert response.status_code == 422
    assert fields_named(response) == ["impact_started_at"]


def test_an_instant_that_has_no_utc_equivalent_is_refused_not_a_server_error(as_responder):
    response = as_responder.post(
        INCIDENTS,
        json={"title": "0", "severity": "SEV1", "detected_at": "0001-01-01T00:00:04+01:01"},
    )
    listed = as_responder.get(INCIDENTS, params={"declared_after": "0001-01-01T00:00:00+05:00"})

    assert response.status_code == 422
    assert fields_named(response) == ["detected_at"]
    assert listed.status_code == 422
    assert fields_named(listed) == ["query.declared_after"]


@pytest.mark.parametrize("severity", ["SEV9", "sev1", "critical", ""])
def test_a_severity_outside_sev1_to_sev4_is_refused(as_responder, severity):
    response = as_responder.post(INCIDENTS, json={"title": "Checkout down", "severity": severity})

    assert response.status_code == 422
    assert fields_named(response) == ["severity"]


def test_a_missing_title_and_an_unexpected_field_are_both_named(as_responder):
    response = as_responder.post(
        INCIDENTS, json={"title": "   ", "severity": "SEV2", "priority": "P1"}
    )

    assert response.status_code == 422
    assert sorted(fields_named(response)) == ["priority", "title"]


def test_an_incident_cannot_be_created_already_resolved(as_responder):
    response = as_responder.post(
        INCIDENTS, json={"title": "Checkout down", "severity": "SEV1", "status": "resolved"}
    )

    assert response.status_code == 422
    assert fields_named(response) == ["status"]


# --- idempotency --------------------------------------------------------------------------------


def test_a_retried_declaration_with_the_same_key_returns_the_first_incident(as_responder):
    body = {"title": "Checkout down", "severity": "SEV1"}
    headers = {"Idempotency-Key": "declare-checkout-1"}

    first = as_responder.post(INCIDENTS, json=body, headers=headers)
    retry = as_responder.post(INCIDENTS, json=body, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert [item["id"] for item in as_responder.get(INCIDENTS).json()["items"]] == [
        first.json()["id"]
    ]


def test_reusing_a_key_for_a_different_declaration_is_refused(as_responder):
    headers = {"Idempotency-Key": "declare-1"}
    first = as_responder.post(
        INCIDENTS, json={"title": "Checkout down", "severity": "SEV1"}, headers=headers
    )

    clash = as_responder.post(
        INCIDENTS, json={"title": "Search down", "severity": "SEV2"}, headers=headers
    )

    assert first.status_code == 201
    assert clash.status_code == 422
    assert clash.json()["type"] == "/problems/idempotency-key-reused"
    assert len(as_responder.get(INCIDENTS).json()["items"]) == 1


def test_two_people_using_the_same_key_each_get_their_own_incident(as_responder, make_person):
    other = type(as_responder)(as_responder.client, make_person("responder", name="Omar"))
    body = {"title": "Checkout down", "severity": "SEV1"}
    headers = {"Idempotency-Key": "my-retry-key"}

    mine = as_responder.post(INCIDENTS, json=body, headers=headers)
    theirs = other.post(INCIDENTS, json=body, headers=headers)

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert len(as_responder.get(INCIDENTS).json()["items"]) == 2


# --- listing ------------------------------------------------------------------------------------


def test_incidents_are_listed_newest_first_and_filtered_by_status(as_responder):
    triage = declare(as_responder, title="Maybe login errors", status="triage")
    investigating = declare(as_responder, title="Checkout down")
    monitoring = declare(as_responder, title="Search slow", severity="SEV3", status="monitoring")
    declined = declare(as_responder, title="Noisy alert", severity="SEV4", status="triage")
    as_responder.post(f"{INCIDENTS}/{declined['id']}/decline", json={"reason": "Flapping probe"})

    everything = as_responder.get(INCIDENTS).json()["items"]
    open_ones = as_responder.get(
        INCIDENTS, params=[("status", "triage"), ("status", "monitoring")]
    ).json()["items"]

    assert [item["id"] for item in everything] == [
        declined["id"],
        monitoring["id"],
        investigating["id"],
        triage["id"],
    ]
    assert [item["id"] for item in open_ones] == [monitoring["id"], triage["id"]]
    bad = as_responder.get(INCIDENTS, params={"status": "on-fire"})
    assert bad.status_code == 422


def test_incidents_are_filtered_by_severity_service_and_words(as_responder):
    add_service(as_responder, "Checkout", "checkout")
    checkout = declare(as_responder, title="Checkout down", severity="SEV1", services=["checkout"])
    search = declare(
        as_responder,
        title="Search slow",
        severity="SEV3",
        summary="Latency on the CHECKOUT search box",
    )
    declare(as_responder, title="Typo on the status page", severity="SEV4")

    def ids(**params):
        response = as_responder.get(INCIDENTS, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids(severity="SEV1") == [checkout["id"]]
    assert ids(severity="sev3") == [search["id"]]
    assert ids(service="checkout") == [checkout["id"]]
    assert ids(service="Checkout") == [checkout["id"]]
    assert ids(service="payments") == []
    assert ids(q="checkout") == [search["id"], checkout["id"]]
    assert ids(q="Checkout", severity="SEV3") == [search["id"]]
    assert ids(q="no such words") == []
    unknown = as_responder.get(INCIDENTS, params={"severity": "SEV9"})
    assert unknown.status_code == 422
    assert fields_named(unknown) == ["severity"]


def test_a_search_for_a_percent_sign_matches_it_literally(as_responder):
    declare(as_responder, title="Checkout down")
    errors = declare(as_responder, title="Error rate at 100% on login", severity="SEV2")

    found = as_responder.get(INCIDENTS, params={"q": "100%"}).json()["items"]
    underscores = as_responder.get(INCIDENTS, params={"q": "_"}).json()["items"]

    assert [item["id"] for item in found] == [errors["id"]]
    assert underscores == []


def test_incidents_are_filtered_by_when_they_were_declared(as_responder, clock):
    early = declare(as_responder, title="Early one")
    clock.advance(hours=2)
    late = declare(as_responder, title="Late one")

    def ids(**params):
        response = as_responder.get(INCIDENTS, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids(declared_after=at("11:00")) == [late["id"]]
    assert ids(declared_before=at("11:00")) == [early["id"]]
    assert ids(declared_after=at("09:00"), declared_before=at("13:00")) == [late["id"], early["id"]]
    backwards = as_responder.get(
        INCIDENTS, params={"declared_after": at("12:00"), "declared_before": at("09:00")}
    )
    assert backwards.status_code == 422
    assert fields_named(backwards) == ["declared_before"]
    no_zone = as_responder.get(INCIDENTS, params={"declared_after": "2026-01-05T09:00"})
    assert no_zone.status_code == 422
    assert fields_named(no_zone) == ["query.declared_after"]


def test_walking_the_pages_returns_every_incident_once(as_responder):
    made = [declare(as_responder, title=f"Incident {n}", severity="SEV4")["id"] for n in range(7)]

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = as_responder.get(INCIDENTS, params=params)
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        pages += 1
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break

    assert seen == sorted(made, reverse=True)
    assert pages == 3


@pytest.mark.parametrize("cursor", ["not-a-cursor", "aWQ6YWJj", "%%%"])
def test_a_cursor_the_api_did_not_hand_out_is_refused(as_responder, cursor):
    response = as_responder.get(INCIDENTS, params={"cursor": cursor})

    assert response.status_code == 422
    assert fields_named(response) == ["cursor"]


# --- status -------------------------------------------------------------------------------------

ALLOWED_MOVES = [
    ("triage", "investigating"),
    ("triage", "identified"),
    ("triage", "monitoring"),
    ("triage", "declined"),
    ("investigating", "identified"),
    ("investigating", "monitoring"),
    ("investigating", "resolved"),
    ("identified", "investigating"),
    ("identified", "monitoring"),
    ("identified", "resolved"),
    ("monitoring", "investigating"),
    ("monitoring", "identified"),
    ("monitoring", "resolved"),
    ("resolved", "closed"),
    ("resolved", "investigating"),
    ("closed", "investigating"),
    ("declined", "triage"),
]

# How a SEV4 (no monitoring period) is brought to each status from a fresh report.
ROUTE_TO = {
    "triage": [],
    "investigating": ["investigating"],
    "identified": ["identified"],
    "monitoring": ["monitoring"],
    "resolved": ["investigating", "resolved"],
    "closed": ["investigating", "resolved", "closed"],
    "declined": ["declined"],
}


def move(api, ref, status, note="moving on"):
    return api.post(f"{INCIDENTS}/{ref}/status", json={"status": status, "note": note})


def incident_in(api, status):
    incident = declare(api, title=f"Now {status}", severity="SEV4", status="triage")
    ready_to_resolve(api, incident["reference"])
    for step in ROUTE_TO[status]:
        response = move(api, incident["reference"], step)
        assert response.status_code == 200, response.text
    return api.get(f"{INCIDENTS}/{incident['reference']}").json()


@pytest.mark.parametrize(("start", "target"), ALLOWED_MOVES)
def test_every_allowed_status_change_works_through_the_api(as_responder, start, target):
    incident = incident_in(as_responder, start)
    assert incident["status"] == start

    moved = move(as_responder, incident["reference"], target)

    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == target
    last = entries(as_responder, incident["reference"])[-1]
    assert last["kind"] in {"status_change", "reopened"}
    assert last["details"]["from"] == start
    assert last["details"]["to"] == target
    assert last["author"]["email"] == "rita@example.com"


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        ("triage", "resolved", ["declined", "identified", "investigating", "monitoring"]),
        ("investigating", "closed", ["identified", "monitoring", "resolved"]),
        ("investigating", "investigating", ["identified", "monitoring", "resolved"]),
        ("closed", "resolved", ["investigating"]),
        ("declined", "investigating", ["triage"]),
    ],
)
def test_a_forbidden_status_change_is_a_conflict_listing_where_it_can_go(
    as_responder, start, target, allowed
):
    incident = incident_in(as_responder, start)

    refused = move(as_responder, incident["reference"], target)

    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"] == "/problems/illegal-transition"
    assert refused.json()["allowed"] == allowed
    after = as_responder.get(f"{INCIDENTS}/{incident['reference']}").json()
    assert after == incident


def test_identified_and_monitoring_record_when_the_cause_was_found_and_impact_mitigated(
    as_responder, clock
):
    incident = declare(as_responder)
    ref = incident["reference"]

    clock.advance(minutes=12)
    identified = move(as_responder, ref, "identified", note="Bad deploy of checkout v2.14").json()
    clock.advance(minutes=8)
    monitoring = move(as_responder, ref, "monitoring", note="Rolled back to v2.13").json()

    assert identified["identified_at"] == at("10:12")
    assert identified["mitigated_at"] is None
    assert monitoring["identified_at"] == at("10:12")
    assert monitoring["mitigated_at"] == at("10:20")


def test_stepping_back_clears_the_milestones_that_will_be_lived_again(as_responder, clock):
    ref = declare(as_responder)["reference"]
    clock.advance(minutes=10)
    move(as_responder, ref, "identified")
    clock.advance(minutes=10)
    move(as_responder, ref, "monitoring")

    clock.advance(minutes=5)
    back_to_identified = move(as_responder, ref, "identified", note="Errors are back").json()
    assert back_to_identified["identified_at"] == at("10:10")
    assert back_to_identified["mitigated_at"] is None

    clock.advance(minutes=5)
    back_to_investigating = move(as_responder, ref, "investigating", note="Wrong cause").json()
    assert back_to_investigating["identified_at"] is None
    assert back_to_investigating["mitigated_at"] is None

    clock.advance(minutes=5)
    again = move(as_responder, ref, "monitoring").json()
    assert again["mitigated_at"] == at("10:35")


def test_declining_a_report_needs_a_reason(as_responder):
    ref = declare(as_responder, title="Odd graph", severity="SEV4", status="triage")["reference"]

    no_reason = as_responder.post(f"{INCIDENTS}/{ref}/decline", json={"reason": "  "})
    no_note = move(as_responder, ref, "declined", note="")
    declined = as_responder.post(
        f"{INCIDENTS}/{ref}/decline", json={"reason": "Expected batch job spike"}
    )

    assert no_reason.status_code == 422
    assert fields_named(no_reason) == ["reason"]
    assert no_note.status_code == 422
    assert fields_named(no_note) == ["reason"]
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    assert declined.json()["decline_reason"] == "Expected batch job spike"
    last = entries(as_responder, ref)[-1]
    assert "Expected batch job spike" in last["body"]


def test_only_a_report_in_triage_can_be_declined(as_responder):
    ref = declare(as_responder)["reference"]

    refused = as_responder.post(f"{INCIDENTS}/{ref}/decline", json={"reason": "Never mind"})

    assert refused.status_code == 409
    assert refused.json()["allowed"] == ["identified", "monitoring", "resolved"]


def test_reopening_a_declined_report_brings_it_back_to_triage(as_responder, as_admin, clock):
    ref = declare(as_responder, title="Odd graph", severity="SEV3", status="triage")["reference"]
    as_responder.post(f"{INCIDENTS}/{ref}/decline", json={"reason": "Looked like noise"})

    clock.advance(minutes=30)
    reopened = as_responder.post(
        f"{INCIDENTS}/{ref}/reopen", json={"reason": "Customers are reporting it too"}
    )

    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "triage"
    assert reopened.json()["decline_reason"] is None
    assert reopened.json()["war_room"] is None
    last = entries(as_responder, ref)[-1]
    assert last["kind"] == "reopened"
    assert "Customers are reporting it too" in last["body"]
    assert audit(as_admin, ref, action="incident.reopen")


def test_reopening_a_resolved_incident_starts_investigating_again_from_scratch(as_responder, clock):
    incident = incident_in(as_responder, "resolved")
    ref = incident["reference"]
    assert incident["resolved_at"] is not None
    assert incident["criteria_met"] is True

    clock.advance(hours=1)
    reopened = as_responder.post(f"{INCIDENTS}/{ref}/reopen", json={"reason": "Errors are back"})

    assert reopened.status_code == 200, reopened.text
    body = reopened.json()
    assert body["status"] == "investigating"
    assert body["resolved_at"] is None
    assert body["mitigated_at"] is None
    assert body["criteria_met"] is False
    assert body["customer_impact_ended"] is False
    assert body["monitoring_waiver_reason"] is None
    assert body["resolution_criteria"] == incident["resolution_criteria"]
    assert body["declared_at"] == incident["declared_at"]
    assert body["war_room"] == incident["war_room"]


def test_a_closed_incident_can_be_reopened_and_its_closure_is_forgotten(as_responder):
    incident = incident_in(as_responder, "closed")
    assert incident["closed_at"] is not None

    reopened = as_responder.post(
        f"{INCIDENTS}/{incident['reference']}/reopen", json={"reason": "Same fault again"}
    ).json()

    assert reopened["status"] == "investigating"
    assert reopened["closed_at"] is None
    assert reopened["resolved_at"] is None


def test_an_open_incident_cannot_be_reopened(as_responder):
    ref = declare(as_responder)["reference"]

    refused = as_responder.post(f"{INCIDENTS}/{ref}/reopen", json={"reason": "Just because"})

    assert refused.status_code == 409


def test_closing_a_resolved_incident_records_when_the_follow_up_was_done(as_responder, clock):
    ref = incident_in(as_responder, "resolved")["reference"]

    clock.advance(days=3)
    closed = move(as_responder, ref, "closed", note="Postmortem reviewed")

    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] == at("10:00", day=8)


def test_a_status_change_is_audited_with_the_state_before_and_after(as_responder, as_admin):
    ref = declare(as_responder)["reference"]

    move(as_responder, ref, "identified", note="Bad deploy")

    (record,) = audit(as_admin, ref, action="incident.status")
    assert record["before"]["status"] == "investigating"
    assert record["after"]["status"] == "identified"
    assert record["actor"].startswith("Rita Responder")


# --- severity -----------------------------------------------------------------------------------


def test_raising_a_sev2_to_sev1_is_on_the_timeline_with_who_did_it(as_responder, as_admin):
    ref = declare(as_responder, severity="SEV2")["reference"]

    raised = as_responder.post(
        f"{INCIDENTS}/{ref}/severity",
        json={"severity": "SEV1", "reason": "Now all regions are affected"},
    )

    assert raised.status_code == 200, raised.text
    assert raised.json()["severity"] == "SEV1"
    assert raised.json()["is_major"] is True
    (entry,) = entries(as_responder, ref, kind="severity_change")
    assert "raised the severity: SEV2 → SEV1" in entry["body"]
    assert "Now all regions are affected" in entry["body"]
    assert entry["author"]["email"] == "rita@example.com"
    (record,) = audit(as_admin, ref, action="incident.severity")
    assert (record["before"]["severity"], record["after"]["severity"]) == ("SEV2", "SEV1")


def test_lowering_a_sev1_to_sev3_says_it_was_lowered(as_responder):
    ref = declare(as_responder, severity="SEV1")["reference"]

    lowered = as_responder.post(f"{INCIDENTS}/{ref}/severity", json={"severity": "SEV3"})

    assert lowered.json()["severity"] == "SEV3"
    assert lowered.json()["is_major"] is False
    (entry,) = entries(as_responder, ref, kind="severity_change")
    assert "lowered the severity: SEV1 → SEV3" in entry["body"]


def test_setting_the_severity_it_already_has_is_a_conflict(as_responder):
    ref = declare(as_responder, severity="SEV2")["reference"]

    same = as_responder.post(f"{INCIDENTS}/{ref}/severity", json={"severity": "SEV2"})
    unknown = as_responder.post(f"{INCIDENTS}/{ref}/severity", json={"severity": "SEV0"})

    assert same.status_code == 409
    assert "already SEV2" in same.json()["detail"]
    assert unknown.status_code == 422
    assert fields_named(unknown) == ["severity"]
    assert entries(as_responder, ref, kind="severity_change") == []


# --- editing fields -----------------------------------------------------------------------------


def test_editing_the_title_and_services_is_on_the_timeline_and_audited(as_responder, as_admin):
    add_service(as_responder, "Checkout", "checkout")
    ref = declare(as_responder, title="Checkout slow")["reference"]

    edited = as_responder.patch(
        f"{INCIDENTS}/{ref}",
        json={"title": "Checkout failing", "services": ["checkout"], "summary": "503s"},
    )

    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Checkout failing"
    assert [service["slug"] for service in edited.json()["services"]] == ["checkout"]
    (entry,) = entries(as_responder, ref, kind="field_change")
    assert entry["details"]["fields"] == ["title", "summary", "services"]
    assert entry["author"]["name"] == "Rita Responder"
    (record,) = audit(as_admin, ref, action="incident.update")
    assert record["before"]["title"] == "Checkout slow"
    assert record["after"]["title"] == "Checkout failing"


def test_an_edit_that_changes_nothing_leaves_no_trace(as_responder, as_admin):
    ref = declare(as_responder, title="Checkout slow")["reference"]

    same = as_responder.patch(f"{INCIDENTS}/{ref}", json={"title": "Checkout slow"})

    assert same.status_code == 200
    assert entries(as_responder, ref, kind="field_change") == []
    assert audit(as_admin, ref, action="incident.update") == []


def test_listing_the_same_services_in_another_order_is_not_a_change(as_responder):
    add_service(as_responder, "Checkout", "checkout")
    add_service(as_responder, "Payments", "payments")
    ref = declare(as_responder, services=["checkout", "payments"])["reference"]

    same = as_responder.patch(f"{INCIDENTS}/{ref}", json={"services": ["payments", "checkout"]})

    assert same.status_code == 200, same.text
    assert entries(as_responder, ref, kind="field_change") == []


def test_a_postmortem_due_date_can_be_cleared_but_a_title_cannot(as_responder):
    ref = declare(as_responder)["reference"]
    as_responder.patch(f"{INCIDENTS}/{ref}", json={"postmortem_due_at": at("12:00", day=9)})

    cleared = as_responder.patch(f"{INCIDENTS}/{ref}", json={"postmortem_due_at": None})
    untitled = as_responder.patch(f"{INCIDENTS}/{ref}", json={"title": None})

    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["postmortem_due_at"] is None
    assert untitled.status_code == 422
    assert fields_named(untitled) == ["title"]
    no_services = as_responder.patch(f"{INCIDENTS}/{ref}", json={"services": None})
    assert no_services.status_code == 422
    assert fields_named(no_services) == ["services"]
    assert as_responder.get(f"{INCIDENTS}/{ref}").json()["title"] == "Checkout down"


def test_editing_with_an_unknown_field_or_service_is_refused(as_responder):
    ref = declare(as_responder)["reference"]

    extra = as_responder.patch(f"{INCIDENTS}/{ref}", json={"status": "resolved"})
    unknown = as_responder.patch(f"{INCIDENTS}/{ref}", json={"services": ["nope"]})

    assert extra.status_code == 422
    assert fields_named(extra) == ["status"]
    assert unknown.status_code == 422
    assert fields_named(unknown) == ["services"]


# --- correcting timestamps ----------------------------------------------------------------------


def test_correcting_when_impact_started_is_recorded(as_responder, as_admin):
    ref = declare(as_responder, impact_started_at=at("09:50"))["reference"]

    corrected = as_responder.patch(
        f"{INCIDENTS}/{ref}/timestamps", json={"impact_started_at": at("09:31")}
    )

    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["impact_started_at"] == at("09:31")
    (entry,) = entries(as_responder, ref, kind="timestamp_change")
    assert "impact started" in entry["body"]
    assert entry["author"]["email"] == "rita@example.com"
    (record,) = audit(as_admin, ref, action="incident.timestamps")
    assert record["before"]["impact_started_at"].startswith("2026-01-05T09:50")
    assert record["after"]["impact_started_at"].startswith("2026-01-05T09:31")


def test_moving_impact_start_after_detection_is_refused_naming_the_field(as_responder):
    incident = declare(as_responder, impact_started_at=at("09:50"), detected_at=at("09:55"))
    ref = incident["reference"]

    too_late = as_responder.patch(
        f"{INCIDENTS}/{ref}/timestamps", json={"impact_started_at": at("09:58")}
    )
    too_early = as_responder.patch(
        f"{INCIDENTS}/{ref}/timestamps", json={"detected_at": at("09:40")}
    )

    assert too_late.status_code == 422
    assert too_late.json()["type"] == "/problems/timestamp-order"
    assert "impact_started_at" in fields_named(too_late)
    assert too_early.status_code == 422
    assert "detected_at" in fields_named(too_early)
    assert as_responder.get(f"{INCIDENTS}/{ref}").json() == incident


def test_milestones_owned_by_status_changes_cannot_be_set_by_hand(as_responder):
    ref = declare(as_responder)["reference"]

    response = as_responder.patch(
        f"{INCIDENTS}/{ref}/timestamps", json={"mitigated_at": at("09:59")}
    )

    assert response.status_code == 422
    assert fields_named(response) == ["mitigated_at"]


def test_an_incident_always_keeps_the_time_it_was_reported(as_responder):
    ref = declare(as_responder)["reference"]

    cleared = as_responder.patch(f"{INCIDENTS}/{ref}/timestamps", json={"reported_at": None})
    nothing = as_responder.patch(f"{INCIDENTS}/{ref}/timestamps", json={})
    future = as_responder.patch(
        f"{INCIDENTS}/{ref}/timestamps", json={"acknowledged_at": at("11:00")}
    )

    assert cleared.status_code == 422
    assert fields_named(cleared) == ["reported_at"]
    assert nothing.status_code == 422
    assert future.status_code == 422
    assert fields_named(future) == ["acknowledged_at"]


# --- who may do what ----------------------------------------------------------------------------


def incident_writes(ref):
    return [
        ("POST", INCIDENTS, {"title": "Checkout down", "severity": "SEV1"}),
        ("PATCH", f"{INCIDENTS}/{ref}", {"title": "Renamed"}),
        ("POST", f"{INCIDENTS}/{ref}/status", {"status": "identified"}),
        ("POST", f"{INCIDENTS}/{ref}/severity", {"severity": "SEV2"}),
        ("POST", f"{INCIDENTS}/{ref}/resolve", {"monitoring_waiver_reason": "x"}),
        ("POST", f"{INCIDENTS}/{ref}/decline", {"reason": "noise"}),
        ("POST", f"{INCIDENTS}/{ref}/reopen", {"reason": "again"}),
        ("PATCH", f"{INCIDENTS}/{ref}/timestamps", {"impact_started_at": at("09:00")}),
        ("POST", f"{INCIDENTS}/{ref}/roles", {"role": "scribe", "user": "rita@example.com"}),
        ("DELETE", f"{INCIDENTS}/{ref}/roles/scribe", None),
        ("POST", f"{INCIDENTS}/{ref}/timeline", {"body": "Looking at the dashboards"}),
        ("PUT", f"{INCIDENTS}/{ref}/timeline/1/pin", {"pinned": True}),
        ("POST", f"{INCIDENTS}/{ref}/threads", {"name": "database"}),
        ("PATCH", "/api/v1/severities/SEV1", {"first_update_minutes": 10}),
    ]


def test_a_viewer_can_read_an_incident_but_every_write_is_forbidden(as_responder, as_viewer):
    incident = declare(as_responder)
    ref = incident["reference"]

    for path in (
        INCIDENTS,
        f"{INCIDENTS}/{ref}",
        f"{INCIDENTS}/{ref}/timeline",
        f"{INCIDENTS}/{ref}/roles",
        f"{INCIDENTS}/{ref}/threads",
        f"{INCIDENTS}/{ref}/resolution-check",
        "/api/v1/severities",
    ):
        assert as_viewer.get(path).status_code == 200, path

    for method, path, body in incident_writes(ref):
        response = as_viewer._call(method, path, json=body)
        assert response.status_code == 403, f"{method} {path}: {response.text}"
        assert response.headers["content-type"].startswith("application/problem+json")
    assert as_viewer.get(f"{INCIDENTS}/{ref}").json() == incident
    assert len(as_viewer.get(INCIDENTS).json()["items"]) == 1


def test_a_read_only_token_of_a_responder_cannot_write(as_responder, client, make_person):
    ref = declare(as_responder)["reference"]
    dashboard = type(as_responder)(
        client, make_person("responder", name="Dashboard bot", scopes=["incidents:read"])
    )

    assert dashboard.get(f"{INCIDENTS}/{ref}").status_code == 200
    for method, path, body in incident_writes(ref):
        response = dashboard._call(method, path, json=body)
        assert response.status_code == 403, f"{method} {path}: {response.text}"
    assert (
        "token"
        in dashboard.post(INCIDENTS, json={"title": "x", "severity": "SEV1"}).json()["detail"]
    )


def test_re_sending_the_same_timestamps_changes_nothing_and_records_nothing(as_responder, as_admin):
    incident = declare(as_responder, impact_started_at="2026-01-05T09:40:00Z")
    ref = incident["reference"]
    before = len(entries(as_responder, ref))
    same = {
        "impact_started_at": incident["impact_started_at"],
        "detected_at": incident["detected_at"],
    }

    response = as_responder.patch(f"{INCIDENTS}/{ref}/timestamps", json=same)

    assert response.status_code == 200
    assert len(entries(as_responder, ref)) == before
    assert audit(as_admin, ref, action="incident.timestamps") == []


def test_declining_an_active_incident_is_refused_as_a_move_before_any_reason_is_asked(as_responder):
    ref = declare(as_responder)["reference"]

    response = as_responder.post(f"{INCIDENTS}/{ref}/status", json={"status": "declined"})

    assert response.status_code == 409
    assert response.json()["type"] == "/problems/illegal-transition"


def test_an_empty_severity_edit_leaves_no_audit_record(as_admin):
    response = as_admin.patch("/api/v1/severities/SEV2", json={})

    assert response.status_code == 200
    records = as_admin.get("/api/v1/audit", params={"action": "severity.update"}).json()["items"]
    assert records == []
