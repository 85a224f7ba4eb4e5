"""The incident timeline: notes and decisions in threads, pins, filters and paging.

The clock stands at Monday 2026-01-05 10:00 UTC unless a test moves it."""

from __future__ import annotations

import pytest

INCIDENTS = "/api/v1/incidents"


def at(hhmm: str) -> str:
    return f"2026-01-05T{hhmm}:00Z"


def declare(api, title="Checkout down", severity="SEV1", **fields):
    response = api.post(INCIDENTS, json={"title": title, "severity": severity, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def fields_named(response):
    return [problem["field"] for problem in response.json().get("errors", [])]


def write(api, ref, body, **fields):
    response = api.post(f"{INCIDENTS}/{ref}/timeline", json={"body": body, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def read(api, ref, **params):
    response = api.get(f"{INCIDENTS}/{ref}/timeline", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def open_thread(api, ref, name):
    response = api.post(f"{INCIDENTS}/{ref}/threads", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_note_lands_in_the_command_thread_signed_by_its_author(as_responder, clock):
    ref = declare(as_responder)["reference"]

    clock.advance(minutes=3)
    note = write(as_responder, ref, "  Error rate on /pay is 40% in eu-west-1  ")

    assert note["kind"] == "note"
    assert note["body"] == "Error rate on /pay is 40% in eu-west-1"
    assert note["thread"] == "command"
    assert note["author"]["email"] == "rita@example.com"
    assert note["occurred_at"] == note["created_at"] == at("10:03")
    assert note["pinned"] is False
    assert read(as_responder, ref)[-1] == note


def test_a_decision_is_recorded_in_a_subsystem_thread(as_responder, as_admin, clock):
    ref = declare(as_responder)["reference"]
    clock.advance(minutes=5)
    thread = open_thread(as_responder, ref, "database")

    clock.advance(minutes=5)
    decision = write(
        as_responder,
        ref,
        "Fail over to the replica in eu-west-2",
        kind="decision",
        thread="database",
    )

    assert thread["name"] == "database"
    assert thread["is_command"] is False
    assert decision["kind"] == "decision"
    assert decision["thread"] == "database"
    threads = as_responder.get(f"{INCIDENTS}/{ref}/threads").json()
    assert [(item["name"], item["is_command"]) for item in threads] == [
        ("command", True),
        ("database", False),
    ]
    opened = read(as_responder, ref, kind="thread_opened")
    assert [entry["details"]["thread"] for entry in opened] == ["database"]
    audited = as_admin.get(
        "/api/v1/audit", params={"entity_id": ref, "action": "incident.decision"}
    ).json()["items"]
    assert audited[0]["after"]["thread"] == "database"


def test_a_thread_name_is_used_once_per_incident(as_responder):
    ref = declare(as_responder)["reference"]
    open_thread(as_responder, ref, "database")

    again = as_responder.post(f"{INCIDENTS}/{ref}/threads", json={"name": " database "})
    blank = as_responder.post(f"{INCIDENTS}/{ref}/threads", json={"name": "  "})

    assert again.status_code == 409
    assert blank.status_code == 422
    assert fields_named(blank) == ["name"]
    other = declare(as_responder, title="Search slow", severity="SEV3")["reference"]
    assert open_thread(as_responder, other, "database")["name"] == "database"


def test_writing_to_or_reading_an_unknown_thread_is_refused(as_responder):
    ref = declare(as_responder)["reference"]

    written = as_responder.post(
        f"{INCIDENTS}/{ref}/timeline", json={"body": "Checking replicas", "thread": "network"}
    )
    filtered = as_responder.get(f"{INCIDENTS}/{ref}/timeline", params={"thread": "network"})

    assert written.status_code == 422
    assert fields_named(written) == ["thread"]
    assert filtered.status_code == 422
    assert fields_named(filtered) == ["thread"]
    assert read(as_responder, ref, kind="note") == []


def test_responders_may_only_write_notes_and_decisions_with_some_text(as_responder):
    ref = declare(as_responder)["reference"]

    empty = as_responder.post(f"{INCIDENTS}/{ref}/timeline", json={"body": "   "})
    forged = as_responder.post(
        f"{INCIDENTS}/{ref}/timeline", json={"body": "Resolved!", "kind": "status_change"}
    )

    assert empty.status_code == 422
    assert fields_named(empty) == ["body"]
    assert forged.status_code == 422
    assert fields_named(forged) == ["kind"]


def test_pinning_and_unpinning_a_key_finding(as_responder, as_admin):
    ref = declare(as_responder)["reference"]
    write(as_responder, ref, "Dashboards loading")
    finding = write(as_responder, ref, "Deploy 2.14 at 09:47 matches the error spike")

    pinned = as_responder.put(
        f"{INCIDENTS}/{ref}/timeline/{finding['id']}/pin", json={"pinned": True}
    )
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["pinned"] is True
    assert [entry["id"] for entry in read(as_responder, ref, pinned="true")] == [finding["id"]]

    unpinned = as_responder.put(
        f"{INCIDENTS}/{ref}/timeline/{finding['id']}/pin", json={"pinned": False}
    )
    assert unpinned.json()["pinned"] is False
    assert read(as_responder, ref, pinned="true") == []
    actions = [
        record["action"]
        for record in as_admin.get("/api/v1/audit", params={"entity_id": ref}).json()["items"]
    ]
    assert actions.count("incident.timeline.pin") == 1
    assert actions.count("incident.timeline.unpin") == 1


def test_a_note_can_be_pinned_as_it_is_written(as_responder):
    ref = declare(as_responder)["reference"]

    note = write(as_responder, ref, "Customer workaround: pay by invoice", pinned=True)

    assert note["pinned"] is True
    assert [entry["id"] for entry in read(as_responder, ref, pinned="true")] == [note["id"]]


def test_an_entry_is_pinned_only_through_its_own_incident(as_responder):
    ref = declare(as_responder)["reference"]
    other = declare(as_responder, title="Search slow", severity="SEV3")["reference"]
    note = write(as_responder, ref, "A finding")

    too_big = as_responder.put(f"{INCIDENTS}/{ref}/timeline/{'9' * 25}/pin", json={"pinned": True})
    wrong = as_responder.put(
        f"{INCIDENTS}/{other}/timeline/{note['id']}/pin", json={"pinned": True}
    )
    missing = as_responder.put(f"{INCIDENTS}/{ref}/timeline/99999999/pin", json={"pinned": True})

    assert wrong.status_code == 404
    assert missing.status_code == 404
    assert too_big.status_code == 404
    assert read(as_responder, ref, pinned="true") == []


def test_the_timeline_is_filtered_by_thread_kind_and_pin(as_responder):
    ref = declare(as_responder)["reference"]
    open_thread(as_responder, ref, "database")
    command_note = write(as_responder, ref, "Paging the DBA")
    db_note = write(as_responder, ref, "Replication lag 40s", thread="database", pinned=True)
    db_decision = write(as_responder, ref, "Fail over", kind="decision", thread="database")

    def ids(**params):
        return [entry["id"] for entry in read(as_responder, ref, **params)]

    assert ids(thread="database") == [db_note["id"], db_decision["id"]]
    assert ids(kind="decision") == [db_decision["id"]]
    assert ids(kind=["note", "decision"]) == [command_note["id"], db_note["id"], db_decision["id"]]
    assert ids(thread="database", kind="note") == [db_note["id"]]
    assert ids(pinned="true") == [db_note["id"]]
    assert db_note["id"] not in ids(pinned="false")
    command = read(as_responder, ref, thread="command")
    assert {entry["thread"] for entry in command} == {"command"}
    assert command_note["id"] in [entry["id"] for entry in command]


def test_a_backdated_note_takes_its_place_in_the_story(as_responder, clock):
    ref = declare(as_responder)["reference"]
    clock.advance(minutes=10)
    write(as_responder, ref, "Rolled back to 2.13")

    clock.advance(minutes=20)
    late = write(as_responder, ref, "Support saw the first tickets", occurred_at=at("10:05"))

    notes = read(as_responder, ref, kind="note")
    assert [note["body"] for note in notes] == [
        "Support saw the first tickets",
        "Rolled back to 2.13",
    ]
    assert late["occurred_at"] == at("10:05")
    assert late["created_at"] == at("10:30")
    everything = [entry["occurred_at"] for entry in read(as_responder, ref)]
    assert everything == sorted(everything)


def test_a_note_cannot_describe_the_future(as_responder):
    ref = declare(as_responder)["reference"]

    future = as_responder.post(
        f"{INCIDENTS}/{ref}/timeline", json={"body": "Fixed", "occurred_at": at("10:30")}
    )
    no_zone = as_responder.post(
        f"{INCIDENTS}/{ref}/timeline", json={"body": "Fixed", "occurred_at": "2026-01-05T09:30"}
    )

    assert future.status_code == 422
    assert fields_named(future) == ["occurred_at"]
    assert no_zone.status_code == 422
    assert fields_named(no_zone) == ["occurred_at"]


def test_a_long_incident_timeline_is_read_page_by_page_without_gaps(as_responder, clock):
    ref = declare(as_responder)["reference"]
    for n in range(250):
        if n % 7 == 0:
            clock.advance(minutes=1)  # several notes share a minute, so pages split ties
        occurred = {"occurred_at": at("09:59")} if n % 50 == 0 else {}
        write(as_responder, ref, f"Observation {n}", **occurred)

    seen, cursor = [], None
    while True:
        params = {"limit": 40, **({"cursor": cursor} if cursor else {})}
        page = as_responder.get(f"{INCIDENTS}/{ref}/timeline", params=params)
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break

    ids = [entry["id"] for entry in seen]
    assert len(ids) == len(set(ids)) == 254  # 250 notes, the declaration's 3, the playbook's 1
    assert [entry["id"] for entry in read(as_responder, ref)] == ids
    positions = [(entry["occurred_at"], entry["id"]) for entry in seen]
    assert positions == sorted(positions)
    assert [entry["body"] for entry in seen[:5]] == [
        "Observation 0",
        "Observation 50",
        "Observation 100",
        "Observation 150",
        "Observation 200",
    ]


@pytest.mark.parametrize("cursor", ["garbage", "aWQ6MTI", "YXQ6bm90LWEtZGF0ZXwx"])
def test_a_timeline_cursor_the_api_did_not_hand_out_is_refused(as_responder, cursor):
    ref = declare(as_responder)["reference"]

    response = as_responder.get(f"{INCIDENTS}/{ref}/timeline", params={"cursor": cursor})

    assert response.status_code == 422
    assert fields_named(response) == ["cursor"]


def test_every_change_to_an_incident_is_on_the_timeline_with_its_author(
    as_responder, make_person, clock
):
    make_person("responder", name="Ines Oncall", email="ines@example.com")
    ref = declare(as_responder, severity="SEV2")["reference"]

    clock.advance(minutes=1)
    as_responder.post(
        f"{INCIDENTS}/{ref}/roles", json={"role": "commander", "user": "ines@example.com"}
    )
    clock.advance(minutes=1)
    as_responder.post(f"{INCIDENTS}/{ref}/severity", json={"severity": "SEV1"})
    clock.advance(minutes=1)
    as_responder.patch(f"{INCIDENTS}/{ref}", json={"customer_impact": "No one can pay"})
    clock.advance(minutes=1)
    as_responder.patch(f"{INCIDENTS}/{ref}/timestamps", json={"impact_started_at": at("09:40")})
    clock.advance(minutes=1)
    as_responder.post(f"{INCIDENTS}/{ref}/status", json={"status": "identified"})
    clock.advance(minutes=1)
    as_responder.delete(f"{INCIDENTS}/{ref}/roles/commander")  # refused: leaves no trace

    everything = read(as_responder, ref)
    # The playbook a SEV2 gets is the engine's doing, not a person's: it has no author.
    (playbook,) = [entry for entry in everything if entry["kind"] == "playbook_attached"]
    assert playbook["author"] is None
    story = [entry for entry in everything if entry is not playbook]

    assert [entry["kind"] for entry in story] == [
        "reported",
        "declared",
        "status_change",
        "role_change",
        "severity_change",
        "field_change",
        "timestamp_change",
        "status_change",
    ]
    assert {entry["author"]["email"] for entry in story} == {"rita@example.com"}
    assert all(entry["body"].startswith("Rita Responder") for entry in story[1:])
    assert [entry["occurred_at"] for entry in story[3:]] == [
        at("10:01"),
        at("10:02"),
        at("10:03"),
        at("10:04"),
        at("10:05"),
    ]
