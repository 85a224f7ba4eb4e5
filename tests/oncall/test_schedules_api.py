"""Schedules, layers, shifts, overrides and who is on call, through the JSON API.

The fake clock starts on Monday 5 January 2026 at 10:00 UTC. The payments team hands off every
Monday at 09:00 Berlin time (08:00 UTC in winter): Ana, then Ben, then Cleo.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fireline.accounts import service as accounts
from fireline.accounts.principal import Actor
from fireline.models import AuditRecord
from fireline.oncall.schedules import default_holder, on_call

SCHEDULES = "/api/v1/schedules"
MONDAY_HANDOFF = "2026-01-05T08:00:00Z"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
def team(make_person):
    """Ana, Ben and Cleo, who share the payments pager."""
    return {
        name: make_person("responder", name=f"{name} Payments", email=f"{name.lower()}@example.com")
        for name in ("Ana", "Ben", "Cleo")
    }


def weekly_layer(team, **changes):
    layer = {
        "name": "Weekly",
        "members": [team["Ana"].user.id, "ben@example.com", "CLEO@example.com"],
        "shift_length": 1,
        "shift_unit": "weeks",
        "rotation_start": "2026-01-05T09:00:00+01:00",
        "timezone": "Europe/Berlin",
    }
    return {**layer, **changes}


@pytest.fixture
def payments(as_admin, team):
    created = as_admin.post(
        SCHEDULES,
        json={
            "name": "Payments primary",
            "timezone": "Europe/Berlin",
            "layers": [weekly_layer(team)],
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


def fields_named(response):
    return [error["field"] for error in response.json().get("errors", [])]


def who(shift):
    return None if shift is None else shift["user"]["name"].split()[0]


def shift_list(response):
    assert response.status_code == 200, response.text
    return [
        (who(shift), shift["start"], shift["end"], shift["source"])
        for shift in response.json()["shifts"]
    ]


def test_a_weekly_rotation_has_ana_on_call_this_week_and_ben_next_week(
    as_admin, as_viewer, payments, clock
):
    assert payments["slug"] == "payments-primary"
    (layer,) = payments["layers"]
    assert [member["email"] for member in layer["members"]] == [
        "ana@example.com",
        "ben@example.com",
        "cleo@example.com",
    ]
    now = payments["on_call_now"]
    assert (who(now), now["start"], now["end"], now["source"]) == (
        "Ana",
        "2026-01-05T08:00:00Z",
        "2026-01-12T08:00:00Z",
        "layer",
    )

    clock.advance(days=7)
    shown = as_viewer.get(f"{SCHEDULES}/payments-primary").json()
    assert who(shown["on_call_now"]) == "Ben"
    assert as_viewer.get(f"{SCHEDULES}/{payments['id']}").json()["id"] == payments["id"]
    on_call_now = as_viewer.get("/api/v1/oncall").json()
    assert [(item["slug"], who(item["on_call"])) for item in on_call_now["schedules"]] == [
        ("payments-primary", "Ben")
    ]
    a_fortnight_on = as_viewer.get("/api/v1/oncall", params={"at": "2026-01-19T09:00:00Z"})
    assert who(a_fortnight_on.json()["schedules"][0]["on_call"]) == "Cleo"


def test_the_hand_off_stays_at_nine_in_berlin_across_the_clock_change(as_admin, payments):
    # Berlin springs forward on 29 March 2026: from then on 09:00 local is 07:00 UTC.
    shifts = shift_list(
        as_admin.get(
            f"{SCHEDULES}/payments-primary/shifts",
            params={"start": "2026-03-23T00:00:00Z", "end": "2026-04-06T00:00:00Z"},
        )
    )
    assert [(person, start) for person, start, _, _ in shifts] == [
        ("Ben", "2026-03-23T00:00:00Z"),
        ("Cleo", "2026-03-23T08:00:00Z"),
        ("Ana", "2026-03-30T07:00:00Z"),
    ]


def test_an_override_wins_and_shows_in_the_shifts_and_in_who_is_on_call(
    as_admin, as_responder, responder, db, payments
):
    created = as_responder.post(
        f"{SCHEDULES}/payments-primary/overrides",
        json={
            "user": "cleo@example.com",
            "start": "2026-01-06T19:00:00+01:00",
            "end": "2026-01-07T09:00:00+01:00",
            "reason": "Ana is at a wedding",
        },
    )
    assert created.status_code == 201, created.text
    override = created.json()
    assert (who(override), override["created_by_id"]) == ("Cleo", responder.user.id)
    ana_until = as_admin.get(f"{SCHEDULES}/payments-primary").json()["on_call_now"]
    assert (who(ana_until), ana_until["end"]) == ("Ana", "2026-01-06T18:00:00Z")

    week = {"start": MONDAY_HANDOFF, "end": "2026-01-12T08:00:00Z"}
    assert shift_list(as_admin.get(f"{SCHEDULES}/payments-primary/shifts", params=week)) == [
        ("Ana", "2026-01-05T08:00:00Z", "2026-01-06T18:00:00Z", "layer"),
        ("Cleo", "2026-01-06T18:00:00Z", "2026-01-07T08:00:00Z", "override"),
        ("Ana", "2026-01-07T08:00:00Z", "2026-01-12T08:00:00Z", "layer"),
    ]
    at_night = as_responder.get("/api/v1/oncall", params={"at": "2026-01-06T23:00:00+01:00"})
    shift = at_night.json()["schedules"][0]["on_call"]
    assert (who(shift), shift["source"], shift["override_id"]) == (
        "Cleo",
        "override",
        override["id"],
    )
    listed = as_responder.get(f"{SCHEDULES}/payments-primary/overrides").json()
    assert [item["reason"] for item in listed["items"]] == ["Ana is at a wedding"]

    removed = as_responder.delete(f"{SCHEDULES}/payments-primary/overrides/{override['id']}")
    assert removed.status_code == 204
    assert [
        person
        for person, *_ in shift_list(
            as_admin.get(f"{SCHEDULES}/payments-primary/shifts", params=week)
        )
    ] == ["Ana"]
    audited = db.scalars(
        select(AuditRecord.action)
        .where(AuditRecord.entity_type == "schedule", AuditRecord.entity_id == str(payments["id"]))
        .order_by(AuditRecord.id)
    ).all()
    assert audited == ["schedule.create", "schedule.override.create", "schedule.override.delete"]


def test_a_business_hours_layer_leaves_the_nights_as_gaps(as_admin, team):
    created = as_admin.post(
        SCHEDULES,
        json={
            "name": "Support desk",
            "layers": [
                {
                    "name": "Office hours",
                    "members": ["ana@example.com"],
                    "shift_unit": "days",
                    "rotation_start": "2026-01-01T00:00:00Z",
                    "timezone": "UTC",
                    "restrictions": [{"start_time": "09:00", "minutes": 480}],
                }
            ],
        },
    )
    assert created.status_code == 201, created.text

    day = as_admin.get(
        f"{SCHEDULES}/support-desk/shifts",
        params={"start": "2026-01-05T00:00:00Z", "end": "2026-01-06T00:00:00Z"},
    )

    assert shift_list(day) == [("Ana", "2026-01-05T09:00:00Z", "2026-01-05T17:00:00Z", "layer")]
    assert day.json()["gaps"] == [
        {"start": "2026-01-05T00:00:00Z", "end": "2026-01-05T09:00:00Z"},
        {"start": "2026-01-05T17:00:00Z", "end": "2026-01-06T00:00:00Z"},
    ]
    at_night = as_admin.get("/api/v1/oncall", params={"at": "2026-01-05T20:00:00Z"}).json()
    assert at_night["schedules"][0]["on_call"] is None


def test_shifts_default_to_two_weeks_from_now_and_refuse_more_than_93_days(as_admin, payments):
    default = as_admin.get(f"{SCHEDULES}/payments-primary/shifts").json()
    assert (default["start"], default["end"]) == ("2026-01-05T10:00:00Z", "2026-01-19T10:00:00Z")
    assert [who(shift) for shift in default["shifts"]] == ["Ana", "Ben", "Cleo"]
    assert default["gaps"] == []

    too_long = as_admin.get(
        f"{SCHEDULES}/payments-primary/shifts",
        params={"start": "2026-01-01T00:00:00Z", "end": "2026-04-04T00:00:01Z"},
    )
    assert too_long.status_code == 422
    assert too_long.json()["errors"] == [
        {"field": "end", "message": "a range may span at most 93 days"}
    ]
    backwards = as_admin.get(
        f"{SCHEDULES}/payments-primary/shifts",
        params={"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
    )
    assert (backwards.status_code, fields_named(backwards)) == (422, ["end"])
    naive = as_admin.get(
        f"{SCHEDULES}/payments-primary/shifts", params={"start": "2026-01-02T00:00:00"}
    )
    assert (naive.status_code, fields_named(naive)) == (422, ["query.start"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"members": []}, "members"),
        ({"members": ["ana@example.com", "nobody@example.com"]}, "members.1"),
        ({"members": ["ana@example.com", 999999]}, "members.1"),
        ({"shift_unit": "months"}, "shift_unit"),
        ({"shift_length": 0}, "shift_length"),
        ({"rotation_start": "2026-01-05T09:00:00"}, "rotation_start"),
        ({"ends_at": "2026-01-01T00:00:00Z"}, "ends_at"),
        ({"restrictions": [{"start_time": "9am", "minutes": 60}]}, "restrictions.0.start_time"),
        ({"restrictions": [{"start_time": "09:00", "minutes": 1441}]}, "restrictions.0.minutes"),
        (
            {"restrictions": [{"weekday": 7, "start_time": "09:00", "minutes": 60}]},
            "restrictions.0.weekday",
        ),
    ],
)
def test_a_layer_that_cannot_be_scheduled_is_refused_naming_the_field(
    as_admin, payments, team, changes, field
):
    refused = as_admin.post(
        f"{SCHEDULES}/payments-primary/layers", json=weekly_layer(team, **changes)
    )

    assert refused.status_code == 422, refused.text
    assert fields_named(refused) == [field]
    assert len(as_admin.get(f"{SCHEDULES}/payments-primary").json()["layers"]) == 1


def test_a_deactivated_member_or_a_bad_nested_layer_is_named_in_the_problem(
    as_admin, team, db, clock
):
    accounts.update_user(
        db, actor=Actor.system("test"), now=clock.now(), user=team["Ben"].user, is_active=False
    )
    db.commit()
    refused = as_admin.post(SCHEDULES, json={"name": "Nested", "layers": [weekly_layer(team)]})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "layers.0.members.1", "message": "ben@example.com is deactivated"}
    ]
    bad_zone = as_admin.post(SCHEDULES, json={"name": "Nowhere", "timezone": "Mars/Olympus"})
    assert (bad_zone.status_code, fields_named(bad_zone)) == (422, ["timezone"])
    assert as_admin.get(SCHEDULES).json()["items"] == []


def test_viewers_only_read_responders_arrange_cover_and_admins_shape_schedules(
    client, as_admin, as_responder, as_viewer, payments, team
):
    override = {
        "user": "ben@example.com",
        "start": "2026-01-06T00:00:00Z",
        "end": "2026-01-06T08:00:00Z",
    }
    assert client.get(SCHEDULES).status_code == 401
    assert client.get("/api/v1/oncall").status_code == 401
    assert as_viewer.get(SCHEDULES).status_code == 200
    assert as_viewer.post(SCHEDULES, json={"name": "Mine"}).status_code == 403
    assert (
        as_viewer.post(f"{SCHEDULES}/payments-primary/overrides", json=override).status_code == 403
    )
    assert as_responder.post(SCHEDULES, json={"name": "Mine"}).status_code == 403
    assert (
        as_responder.patch(f"{SCHEDULES}/payments-primary", json={"name": "X"}).status_code == 403
    )
    layer_path = f"{SCHEDULES}/payments-primary/layers"
    assert as_responder.post(layer_path, json=weekly_layer(team)).status_code == 403
    assert as_responder.delete(f"{SCHEDULES}/payments-primary").status_code == 403

    covered = as_responder.post(f"{SCHEDULES}/payments-primary/overrides", json=override)

    assert covered.status_code == 201, covered.text
    assert who(covered.json()) == "Ben"  # a responder may arrange cover by a colleague
    forbidden = as_viewer.delete(f"{SCHEDULES}/payments-primary/overrides/{covered.json()['id']}")
    assert forbidden.status_code == 403


def test_an_override_needs_an_active_person_and_an_end_after_its_start(as_responder, payments):
    path = f"{SCHEDULES}/payments-primary/overrides"
    backwards = as_responder.post(
        path,
        json={
            "user": "ben@example.com",
            "start": "2026-01-06T08:00:00Z",
            "end": "2026-01-06T08:00:00Z",
        },
    )
    assert (backwards.status_code, fields_named(backwards)) == (422, ["end"])
    stranger = as_responder.post(
        path,
        json={
            "user": "eve@example.com",
            "start": "2026-01-06T00:00:00Z",
            "end": "2026-01-06T08:00:00Z",
        },
    )
    assert stranger.status_code == 422
    assert stranger.json()["errors"] == [{"field": "user", "message": "no user 'eve@example.com'"}]
    missing = as_responder.delete(f"{path}/424242")
    assert missing.status_code == 404


def test_overrides_list_what_is_running_or_coming_page_by_page(as_responder, payments, clock):
    path = f"{SCHEDULES}/payments-primary/overrides"
    for day in (4, 6, 7, 8):  # the one on the 4th is over by now (the 5th)
        created = as_responder.post(
            path,
            json={
                "user": "cleo@example.com",
                "start": f"2026-01-0{day}T00:00:00Z",
                "end": f"2026-01-0{day}T08:00:00Z",
                "reason": f"day {day}",
            },
        )
        assert created.status_code == 201, created.text

    first = as_responder.get(path, params={"limit": 2}).json()
    second = as_responder.get(path, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    before_the_8th = as_responder.get(path, params={"end": "2026-01-08T00:00:00Z"}).json()
    back_then = as_responder.get(path, params={"start": "2026-01-01T00:00:00Z"}).json()

    assert [item["reason"] for item in first["items"]] == ["day 6", "day 7"]
    assert [item["reason"] for item in second["items"]] == ["day 8"]
    assert second["next_cursor"] is None
    assert [item["reason"] for item in before_the_8th["items"]] == ["day 6", "day 7"]
    assert len(back_then["items"]) == 4


def test_changing_a_layer_changes_who_is_on_call_and_deleting_it_leaves_nobody(as_admin, payments):
    layer_id = payments["layers"][0]["id"]
    path = f"{SCHEDULES}/payments-primary/layers/{layer_id}"

    reordered = as_admin.patch(path, json={"members": ["cleo@example.com", "ana@example.com"]})

    assert reordered.status_code == 200, reordered.text
    assert [m["email"] for m in reordered.json()["members"]] == [
        "cleo@example.com",
        "ana@example.com",
    ]
    assert who(as_admin.get(f"{SCHEDULES}/payments-primary").json()["on_call_now"]) == "Cleo"
    kept = as_admin.patch(path, json={"priority": None, "name": "Weekly, reordered"})
    assert (kept.json()["priority"], kept.json()["name"]) == (1, "Weekly, reordered")
    nulled = as_admin.patch(path, json={"shift_unit": None})
    assert (nulled.status_code, fields_named(nulled)) == (422, ["shift_unit"])
    bad_zone = as_admin.patch(path, json={"timezone": "Berlin"})
    assert (bad_zone.status_code, fields_named(bad_zone)) == (422, ["timezone"])

    assert as_admin.delete(path).status_code == 204
    emptied = as_admin.get(f"{SCHEDULES}/payments-primary").json()
    assert (emptied["layers"], emptied["on_call_now"]) == ([], None)
    assert as_admin.delete(path).status_code == 404


def test_a_higher_layer_covers_the_lower_one_whose_own_shifts_stay_visible(
    as_admin, payments, team
):
    weekend = as_admin.post(
        f"{SCHEDULES}/payments-primary/layers",
        json=weekly_layer(
            team,
            name="Weekend cover",
            members=["ben@example.com"],
            restrictions=[{"weekday": 5, "start_time": "09:00", "minutes": 2 * 24 * 60}],
        ),
    )
    assert weekend.status_code == 201, weekend.text
    assert weekend.json()["priority"] == 2
    clash = as_admin.post(
        f"{SCHEDULES}/payments-primary/layers", json=weekly_layer(team, priority=2)
    )
    assert (clash.status_code, fields_named(clash)) == (409, ["priority"])
    week = {"start": MONDAY_HANDOFF, "end": "2026-01-12T08:00:00Z"}

    final = shift_list(as_admin.get(f"{SCHEDULES}/payments-primary/shifts", params=week))
    weekly_id = payments["layers"][0]["id"]
    own = shift_list(
        as_admin.get(f"{SCHEDULES}/payments-primary/layers/{weekly_id}/shifts", params=week)
    )

    assert final == [
        ("Ana", "2026-01-05T08:00:00Z", "2026-01-10T08:00:00Z", "layer"),
        ("Ben", "2026-01-10T08:00:00Z", "2026-01-12T08:00:00Z", "layer"),
    ]
    assert own == [("Ana", "2026-01-05T08:00:00Z", "2026-01-12T08:00:00Z", "layer")]
    shown = as_admin.get(f"{SCHEDULES}/payments-primary").json()
    assert [layer["name"] for layer in shown["layers"]] == ["Weekend cover", "Weekly"]


def test_schedules_are_listed_page_by_page_renamed_and_deleted(as_admin, payments, team):
    assert as_admin.post(SCHEDULES, json={"name": "Payments primary"}).status_code == 409
    second = as_admin.post(SCHEDULES, json={"name": "Database", "team": None})
    assert second.status_code == 201, second.text
    unknown_team = as_admin.post(SCHEDULES, json={"name": "Infra", "team": "no-such-team"})
    assert (unknown_team.status_code, fields_named(unknown_team)) == (422, ["team"])

    first = as_admin.get(SCHEDULES, params={"limit": 1}).json()
    rest = as_admin.get(SCHEDULES, params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [item["slug"] for item in first["items"] + rest["items"]] == [
        "payments-primary",
        "database",
    ]

    renamed = as_admin.patch(
        f"{SCHEDULES}/database",
        json={"name": "Database primary", "description": "Postgres", "timezone": "Asia/Tokyo"},
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["timezone"]) == (
        "Database primary",
        "Asia/Tokyo",
    )
    team = as_admin.post("/api/v1/teams", json={"name": "DBA"})
    assert team.status_code == 201, team.text
    owned = as_admin.patch(f"{SCHEDULES}/database", json={"team": "dba"}).json()
    assert owned["team"]["slug"] == "dba"
    assert as_admin.patch(f"{SCHEDULES}/database", json={"team": None}).json()["team"] is None
    taken = as_admin.patch(f"{SCHEDULES}/database", json={"name": "payments PRIMARY"})
    assert taken.status_code == 409
    assert as_admin.delete(f"{SCHEDULES}/database").status_code == 204
    assert as_admin.get(f"{SCHEDULES}/database").status_code == 404


def test_the_commander_role_follows_a_schedule(as_admin, as_viewer, db, payments, clock):
    path = "/api/v1/role-schedules/commander"
    assert as_viewer.put(path, json={"schedule": "payments-primary"}).status_code == 403
    unknown = as_admin.put(path, json={"schedule": "nope"})
    assert (unknown.status_code, fields_named(unknown)) == (422, ["schedule"])
    not_a_role = as_admin.put(
        "/api/v1/role-schedules/janitor", json={"schedule": "payments-primary"}
    )
    assert (not_a_role.status_code, fields_named(not_a_role)) == (422, ["role"])

    set_up = as_admin.put(path, json={"schedule": "payments-primary"})

    assert set_up.status_code == 200, set_up.text
    assert (set_up.json()["schedule"]["slug"], set_up.json()["on_call_now"]["name"]) == (
        "payments-primary",
        "Ana Payments",
    )
    assert (
        default_holder(db, role="commander", at=utc("2026-01-13T00:00:00Z")).name == "Ben Payments"
    )
    assert default_holder(db, role="scribe", at=clock.now()) is None
    assert default_holder(db, role="commander", at=utc("2026-01-01T00:00:00Z")) is None
    assert [
        (r["role"], r["on_call_now"]["name"])
        for r in as_viewer.get("/api/v1/role-schedules").json()
    ] == [("commander", "Ana Payments")]
    in_use = as_admin.delete(f"{SCHEDULES}/payments-primary")
    assert in_use.status_code == 409
    assert in_use.json()["roles"] == ["commander"]

    other = as_admin.post(SCHEDULES, json={"name": "Commanders"})
    moved = as_admin.put(path, json={"schedule": other.json()["id"]})
    assert (moved.json()["schedule"]["slug"], moved.json()["on_call_now"]) == ("commanders", None)
    assert as_admin.delete(path).status_code == 204
    assert as_admin.delete(path).status_code == 404
    assert as_admin.get("/api/v1/role-schedules").json() == []
    assert as_admin.delete(f"{SCHEDULES}/payments-primary").status_code == 204


def test_on_call_answers_for_one_schedule_at_any_instant(db, payments):
    (ana,) = on_call(db, schedule_id=payments["id"], at=utc("2026-01-05T08:00:00Z"))
    (cleo,) = on_call(db, schedule_id=payments["id"], at=utc("2026-01-26T07:59:59Z"))

    assert (ana.user.email, ana.shift.end) == ("ana@example.com", utc("2026-01-12T08:00:00Z"))
    assert cleo.user.email == "cleo@example.com"
    assert on_call(db, schedule_id=payments["id"], at=utc("2026-01-05T07:59:59Z")) == []
