"""The on-call pages: who is on call now, a schedule's two-week timeline, overrides arranged by
responders, and schedules and their layers kept by admins.

The fake clock reads Monday 5 January 2026, 10:00 UTC. The payments schedule hands off every
Monday at 08:00 UTC, Ana then Ben, so before 08:00 today nobody covered it; Cleo covers for
whoever asks her.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from fireline.models import AuditRecord

SCHEDULES = "/oncall/schedules"
PAYMENTS = f"{SCHEDULES}/payments"
API = "/api/v1/schedules"


@pytest.fixture
def people(make_person):
    return {
        name: make_person("responder", name=name, email=f"{name.lower()}@example.com")
        for name in ("Ana", "Ben", "Cleo")
    }


@pytest.fixture
def payments(as_admin, people):
    created = as_admin.post(
        API,
        json={
            "name": "Payments",
            "layers": [
                {
                    "name": "Weekly",
                    "members": ["ana@example.com", "ben@example.com"],
                    "rotation_start": "2026-01-05T08:00:00Z",
                    "timezone": "UTC",
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


def text_of(response) -> str:
    """The page's text, tags dropped and spaces squeezed: what a reader sees."""
    body = re.sub(r"<[^>]+>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(body))


def final_rows(response) -> list[str]:
    table = response.text[response.text.index('<table class="final-shifts">') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S)[1:]
    return [
        re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", row))).strip() for row in rows
    ]


def shifts(api, start="2026-01-05T00:00:00Z", end="2026-01-19T00:00:00Z"):
    found = api.get(f"{API}/payments/shifts", params={"start": start, "end": end}).json()
    return [(s["user"]["name"], s["start"], s["end"], s["source"]) for s in found["shifts"]]


def test_on_call_now_says_who_holds_each_schedule_until_when_and_who_is_next(
    browser_responder, as_admin, payments, people
):
    policy = as_admin.post(
        "/api/v1/escalation-policies",
        json={
            "name": "Payments outage",
            "levels": [
                {"delay_minutes": 15, "targets": [{"type": "schedule", "slug": "payments"}]}
            ],
        },
    )
    assert policy.status_code == 201, policy.text
    as_admin.post(API, json={"name": "Empty"})

    page = browser_responder.get("/oncall")

    assert page.status_code == 200
    assert 'aria-current="page">On-call</a>' in page.text
    words = text_of(page)
    assert "Payments Ana 2026-01-12 08:00 UTC Ben, from 2026-01-12 08:00 UTC" in words
    assert "Empty Nobody — Nobody in the next two weeks" in words
    assert "Payments outage : Ana" in words
    assert "Make my calendar link" in words


def test_my_calendar_link_is_made_copied_and_replaced(browser_responder, responder, app):
    made = browser_responder.post("/oncall/calendar/rotate")
    assert made.headers["location"] == "/oncall?done=calendar#calendar"
    page = browser_responder.get("/oncall?done=calendar")
    [url] = re.findall(r'id="my-calendar-url" type="text" value="([^"]+)"', page.text)
    assert "/oncall/calendars/users/" in url
    assert 'data-copy="my-calendar-url"' in page.text
    assert "Your calendar link is new" in page.text
    path = url.removeprefix(app.state.settings.base_url.rstrip("/"))
    assert browser_responder.get(path).status_code == 200

    browser_responder.post("/oncall/calendar/rotate")
    assert browser_responder.get(path).status_code == 404


def test_the_timeline_draws_each_layer_the_final_schedule_and_the_gap_before_the_first_hand_off(
    browser_responder, payments
):
    page = browser_responder.get(PAYMENTS)

    assert page.status_code == 200
    assert "Mon 5 Jan 2026 to Sun 18 Jan 2026" in page.text
    # Two weeks are 336 hours: 08:00 on the first day is 8/336 of the way along.
    assert 'style="left: 2.3810%; width: 50.0000%" title="Ana: Mon 5 Jan 08:00 to Mon 12 Jan' in (
        page.text
    )
    assert 'class="tl-block tl-gap" style="left: 0.0000%; width: 2.3810%"' in page.text
    assert page.text.count('class="tl-row') == 3  # the days, the layer, the final schedule
    assert final_rows(page) == [
        "Nobody on call 2026-01-05 00:00 UTC 2026-01-05 08:00 UTC —",
        "Ana 2026-01-05 08:00 UTC 2026-01-12 08:00 UTC Weekly",
        "Ben 2026-01-12 08:00 UTC 2026-01-19 00:00 UTC Weekly",  # cut at the fortnight's end
    ]
    assert 'class="tl-now" style="left: 2.9762%"' in page.text  # 10:00
    assert "Ana until" in text_of(page)

    later = browser_responder.get(f"{PAYMENTS}?start=2026-01-19")
    assert "Mon 19 Jan 2026 to Sun 1 Feb 2026" in later.text
    assert "tl-now" not in later.text
    assert "?start=2026-01-05#timeline" in later.text
    for nonsense in ("yesterday", "0001-01-01"):
        assert "Mon 5 Jan 2026" in browser_responder.get(f"{PAYMENTS}?start={nonsense}").text


def test_a_responder_arranges_cover_for_a_colleague_and_removes_it(
    browser_responder, as_admin, payments, people, db
):
    page = browser_responder.get(PAYMENTS)
    assert (
        '<option value="UTC" selected>' in page.text[page.text.index('id="f-override-timezone"') :]
    )
    cleo = people["Cleo"].user.id

    added = browser_responder.post(
        f"{PAYMENTS}/overrides",
        {
            "override.user": str(cleo),
            "override.start": "2026-01-06T09:00",
            "override.end": "2026-01-06T17:00",
            "override.timezone": "Europe/Berlin",
            "override.reason": "Ana is at the dentist",
        },
    )

    assert added.status_code == 303
    assert added.headers["location"] == f"{PAYMENTS}?done=override#overrides"
    assert ("Cleo", "2026-01-06T08:00:00Z", "2026-01-06T16:00:00Z", "override") in shifts(as_admin)
    shown = browser_responder.get(added.headers["location"])
    assert "The override is set" in shown.text
    assert "Cleo 2026-01-06 08:00 UTC 2026-01-06 16:00 UTC Override" in final_rows(shown)
    assert "tl-override" in shown.text
    assert "Ana is at the dentist · set by Rita Responder" in text_of(shown)
    [override_id] = re.findall(r'/overrides/(\d+)/delete"', shown.text)

    asked = browser_responder.post(f"{PAYMENTS}/overrides/{override_id}/delete")
    assert asked.status_code == 200
    assert "Remove the override of Cleo?" in text_of(asked)
    assert "Cleo stops covering Payments from 2026-01-06 08:00 to 2026-01-06 16:00 UTC" in (
        text_of(asked)
    )
    assert ("Cleo", "2026-01-06T08:00:00Z", "2026-01-06T16:00:00Z", "override") in shifts(as_admin)

    removed = browser_responder.post(
        f"{PAYMENTS}/overrides/{override_id}/delete", {"confirmed": "yes"}
    )

    assert removed.headers["location"] == f"{PAYMENTS}?done=override-removed#overrides"
    assert all(source == "layer" for *_, source in shifts(as_admin))
    actions = db.scalars(select(AuditRecord.action).where(AuditRecord.entity_type == "schedule"))
    assert {"schedule.override.create", "schedule.override.delete"} <= set(actions)


def test_an_override_beyond_the_fortnight_opens_the_timeline_where_it_starts(
    browser_responder, payments, people
):
    added = browser_responder.post(
        f"{PAYMENTS}/overrides",
        {
            "override.user": str(people["Cleo"].user.id),
            "override.start": "2026-02-02T09:00",
            "override.end": "2026-02-02T17:00",
            "override.timezone": "UTC",
        },
    )
    assert added.headers["location"] == f"{PAYMENTS}?done=override&start=2026-02-02#overrides"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"override.user": ""}, "override-user", "choose who covers"),
        ({"override.end": ""}, "override-end", "say when the cover ends"),
        ({"override.start": "soon"}, "override-start", "is not a date and time"),
        ({"override.end": "2026-01-06T08:00"}, "override-end", "must end after it starts"),
        ({"override.timezone": "Mars/Olympus"}, "override-timezone", "choose a time zone"),
        ({"override.user": "99999"}, "override-user", "no user"),
        ({"override.reason": "x" * 2001}, "override-reason", "at most 2000 characters"),
    ],
)
def test_a_refused_override_says_why_beside_the_field_and_keeps_what_was_typed(
    browser_responder, payments, people, fields, field, message
):
    form = {
        "override.user": str(people["Cleo"].user.id),
        "override.start": "2026-01-06T09:00",
        "override.end": "2026-01-06T17:00",
        "override.timezone": "Europe/Berlin",
        "override.reason": "Typed reason",
    } | fields

    refused = browser_responder.post(f"{PAYMENTS}/overrides", form)

    assert refused.status_code == 422
    assert f'id="f-{field}-error"' in refused.text
    assert message in html.unescape(refused.text)
    assert 'role="alert"' in refused.text
    if field != "override-reason":
        assert 'value="Typed reason"' in refused.text
    assert '<option value="Europe/Berlin" selected>' in refused.text or field.endswith("timezone")


def test_a_viewer_reads_the_schedule_but_arranges_no_cover(sign_in, viewer, payments, people):
    browser = sign_in(viewer)
    page = browser.get(PAYMENTS)
    assert page.status_code == 200
    assert "Add override" not in page.text
    assert "Edit Weekly" not in page.text
    assert "/oncall/calendars/schedules/" in page.text  # readers may subscribe

    refused = browser.post(f"{PAYMENTS}/overrides", {"override.user": str(people["Cleo"].user.id)})
    assert refused.status_code == 403
    assert "Your role does not allow this" in refused.text


def test_pages_answer_unknown_schedules_and_stale_forms_in_words(browser_responder, payments):
    missing = browser_responder.get(f"{SCHEDULES}/nowhere")
    assert missing.status_code == 404
    assert "No schedule" in missing.text
    stale = browser_responder.client.post(
        f"{PAYMENTS}/overrides", data={"csrf_token": "old"}, follow_redirects=False
    )
    assert stale.status_code == 403
    assert "This form has expired" in stale.text
    assert browser_responder.post(f"{PAYMENTS}/overrides/99999/delete").status_code == 404


def test_an_admin_makes_a_schedule_from_the_list(browser_admin, payments):
    listed = browser_admin.get(SCHEDULES)
    assert "Payments" in listed.text
    assert "Make schedule" in listed.text

    made = browser_admin.post(
        SCHEDULES,
        {
            "schedule.name": "Search primary",
            "schedule.description": "Search and indexing",
            "schedule.timezone": "America/New_York",
        },
    )

    assert made.headers["location"] == f"{SCHEDULES}/search-primary?done=created"
    page = browser_admin.get(made.headers["location"])
    assert "The schedule is made" in page.text
    assert "America/New York" in page.text
    assert "No layers yet" in page.text
    assert final_rows(page) == ["Nobody on call 2026-01-05 05:00 UTC 2026-01-19 05:00 UTC —"]
    assert "<details open>" in page.text  # the new-layer form, ready


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"schedule.name": ""}, 422, "give the schedule a name"),
        ({"schedule.name": "payments"}, 409, "already exists"),
        ({"schedule.timezone": "Nowhere"}, 422, "choose a time zone"),
        ({"schedule.name": "x" * 201}, 422, "at most 200 characters"),
    ],
)
def test_a_refused_schedule_keeps_what_was_typed(browser_admin, payments, fields, status, message):
    form = {"schedule.name": "Search", "schedule.description": "Typed", "schedule.timezone": "UTC"}
    refused = browser_admin.post(SCHEDULES, form | fields)
    assert refused.status_code == status
    assert message in html.unescape(refused.text)
    assert ">Typed</textarea>" in refused.text


def test_responders_make_no_schedules(browser_responder):
    assert "Make schedule" not in browser_responder.get(SCHEDULES).text
    assert browser_responder.post(SCHEDULES, {"schedule.name": "Mine"}).status_code == 403


def test_an_admin_renames_the_schedule_and_moves_it_to_another_zone(
    browser_admin, as_admin, payments
):
    saved = browser_admin.post(
        PAYMENTS,
        {
            "schedule.name": "Payments primary",
            "schedule.description": "Card payments",
            "schedule.timezone": "Europe/Berlin",
        },
    )
    assert saved.headers["location"] == f"{PAYMENTS}?done=saved#details"
    stored = as_admin.get(f"{API}/payments").json()
    assert (stored["name"], stored["timezone"]) == ("Payments primary", "Europe/Berlin")
    page = browser_admin.get(PAYMENTS)
    # The timeline now starts at midnight in Berlin, 23:00 UTC the day before.
    assert "Nobody on call 2026-01-04 23:00 UTC 2026-01-05 08:00 UTC" in final_rows(page)[0]

    as_admin.post(API, json={"name": "Search"})
    clash = browser_admin.post(
        PAYMENTS,
        {"schedule.name": "Search", "schedule.description": "", "schedule.timezone": "UTC"},
    )
    assert clash.status_code == 409
    assert 'value="Search"' in clash.text
    assert '<h1 id="schedule-heading">Payments primary</h1>' in clash.text


def test_an_admin_rotates_the_schedule_calendar_link(browser_admin, browser_responder, payments):
    before = browser_admin.get(PAYMENTS).text
    rotated = browser_admin.post(f"{PAYMENTS}/calendar/rotate")
    assert rotated.headers["location"] == f"{PAYMENTS}?done=calendar#calendar"
    after = browser_admin.get(rotated.headers["location"]).text
    link = re.compile(r'id="schedule-calendar-url" type="text" value="([^"]+)"')
    assert link.findall(before) != link.findall(after)
    assert "The calendar link is new" in after
    assert browser_responder.post(f"{PAYMENTS}/calendar/rotate").status_code == 403


def layer_form(prefix="layer", **fields):
    form = {
        f"{prefix}.name": "Business hours",
        f"{prefix}.members.0": "",
        f"{prefix}.shift_length": "1",
        f"{prefix}.shift_unit": "days",
        f"{prefix}.rotation_start": "2026-01-05T09:00",
        f"{prefix}.timezone": "Europe/Berlin",
        f"{prefix}.restrictions.0.weekday": "",
        f"{prefix}.restrictions.0.start_time": "09:00",
        f"{prefix}.restrictions.0.minutes": "480",
        f"{prefix}.restrictions.1.weekday": "",
        f"{prefix}.restrictions.1.start_time": "",
        f"{prefix}.restrictions.1.minutes": "",
    }
    return form | {f"{prefix}.{name}": value for name, value in fields.items()}


def test_an_admin_adds_a_business_hours_layer_edits_it_and_deletes_it(
    browser_admin, as_admin, payments, people
):
    ana, cleo = people["Ana"].user.id, people["Cleo"].user.id
    added = browser_admin.post(
        f"{PAYMENTS}/layers",
        layer_form(**{"members.0": str(cleo), "members.1": "", "members.2": str(ana)}),
    )

    assert added.headers["location"] == f"{PAYMENTS}?done=layer-added#layers"
    layer = as_admin.get(f"{API}/payments").json()["layers"][0]  # highest first
    assert [m["name"] for m in layer["members"]] == ["Cleo", "Ana"]
    assert (layer["shift_unit"], layer["rotation_start"]) == ("days", "2026-01-05T08:00:00Z")
    assert layer["restrictions"] == [{"weekday": None, "start_time": "09:00", "minutes": 480}]
    page = browser_admin.get(added.headers["location"])
    assert "Cleo 2026-01-05 08:00 UTC 2026-01-05 16:00 UTC Business hours" in final_rows(page)
    assert "Only on call: every day from 09:00 for 480 minutes." in text_of(page)
    assert 'name="layer-{}.members.1"'.format(layer["id"]) in page.text

    prefix = f"layer-{layer['id']}"
    saved = browser_admin.post(
        f"{PAYMENTS}/layers/{layer['id']}",
        layer_form(
            prefix,
            name="Weekdays",
            **{
                "members.0": str(ana),
                "restrictions.0.weekday": "0",
                "restrictions.0.minutes": "600",
            },
        ),
    )
    assert saved.headers["location"] == f"{PAYMENTS}?done=layer-saved#layers"
    layer = as_admin.get(f"{API}/payments").json()["layers"][0]
    assert (layer["name"], [m["name"] for m in layer["members"]]) == ("Weekdays", ["Ana"])
    assert layer["restrictions"] == [{"weekday": 0, "start_time": "09:00", "minutes": 600}]
    assert "Mondays from 09:00 for 600 minutes" in browser_admin.get(PAYMENTS).text

    asked = browser_admin.post(f"{PAYMENTS}/layers/{layer['id']}/delete")
    assert asked.status_code == 200
    assert "Delete the layer “Weekdays” of Payments?" in text_of(asked)
    assert len(as_admin.get(f"{API}/payments").json()["layers"]) == 2  # nothing removed yet
    deleted = browser_admin.post(f"{PAYMENTS}/layers/{layer['id']}/delete", {"confirmed": "yes"})
    assert deleted.headers["location"] == f"{PAYMENTS}?done=layer-deleted#layers"
    assert [item["name"] for item in as_admin.get(f"{API}/payments").json()["layers"]] == ["Weekly"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"members.0": ""}, "members", "choose at least one member"),
        ({"name": ""}, "name", "give the layer a name"),
        ({"shift_length": "0"}, "shift_length", "a number of days from 1 to"),
        ({"shift_unit": "fortnights"}, "shift_unit", "choose hours, days or weeks"),
        ({"rotation_start": "Monday"}, "rotation_start", "is not a date and time"),
        ({"timezone": "Nowhere"}, "timezone", "choose a time zone"),
        ({"restrictions.0.start_time": "25:00"}, "restrictions-0-start_time", "a time of day"),
        ({"restrictions.0.minutes": "0"}, "restrictions-0-minutes", "minutes from 1 to"),
        ({"restrictions.0.minutes": "2000"}, "restrictions-0-minutes", "at most 1440 minutes"),
        ({"restrictions.0.weekday": "8"}, "restrictions-0-weekday", "choose every day"),
        ({"members.0": "99999"}, "members-0", "no user"),
    ],
)
def test_a_refused_layer_opens_its_form_again_with_the_reason_beside_the_field(
    browser_admin, payments, people, fields, field, message
):
    form = layer_form(**{"members.0": str(people["Cleo"].user.id)} | fields)

    refused = browser_admin.post(f"{PAYMENTS}/layers", form)

    assert refused.status_code == 422
    if field == "members":
        assert 'id="layer-members-error"' in refused.text
    else:
        assert f'id="f-layer-{field}-error"' in refused.text
    assert message in html.unescape(refused.text)
    new_layer = refused.text[refused.text.rindex("<details") :]
    assert new_layer.startswith("<details open>")
    assert 'value="09:00"' in new_layer or "start_time" in field


def test_a_refused_edit_keeps_the_other_layers_as_stored(browser_admin, payments):
    layer_id = payments["layers"][0]["id"]
    ana = str(payments["layers"][0]["members"][0]["id"])
    refused = browser_admin.post(
        f"{PAYMENTS}/layers/{layer_id}",
        layer_form(f"layer-{layer_id}", shift_length="x", **{"members.0": ana}),
    )
    assert refused.status_code == 422
    assert f'id="f-layer-{layer_id}-shift_length-error"' in refused.text
    assert f'<h3 id="layer-{layer_id}-name">Weekly</h3>' in refused.text
    assert "<details open>" in refused.text
    assert browser_admin.post(f"{PAYMENTS}/layers/99999/delete").status_code == 404


def role_row(response, role: str) -> str:
    """The words of the role's row in "Incident roles from on-call", its select's options left
    out (an admin's form lists every schedule): the role, the schedule chosen, who it gives."""
    row = response.text[response.text.index(f'<tr id="role-{role}">') :]
    row = row[: row.index("</tr>")]
    row = re.sub(r"<option [^>]*>.*?</option>", "", row, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", row))).strip()


def chosen_for(response, role: str) -> str:
    """The option the role's select shows as chosen."""
    select_html = response.text[response.text.index(f'name="role.{role}"') :]
    select_html = select_html[: select_html.index("</select>")]
    found = re.findall(r'<option value="[^"]*"\s*selected>(.*?)</option>', select_html)
    return found[0] if found else "None"


def test_an_admin_fills_the_commander_role_from_a_schedule_and_sees_who_it_gives_now(
    browser_admin, payments, db
):
    page = browser_admin.get("/oncall")
    assert "Incident roles from on-call" in page.text
    assert "goes to the commander schedule's on-call person" in text_of(page)
    assert 'action="/oncall/roles/commander"' in page.text
    assert chosen_for(page, "commander") == "None"

    saved = browser_admin.post("/oncall/roles/commander", {"role.commander": str(payments["id"])})

    assert saved.status_code == 303
    assert saved.headers["location"] == "/oncall?done=role#roles"
    page = browser_admin.get(saved.headers["location"])
    assert "Saved: the role follows the schedule chosen." in page.text
    assert chosen_for(page, "commander") == "Payments"
    assert (
        role_row(page, "commander") == "Incident commander Schedule for Incident commander Save Ana"
    )
    assert chosen_for(page, "scribe") == "None"
    records = db.scalars(select(AuditRecord).where(AuditRecord.entity_type == "role_schedule"))
    [record] = list(records)
    assert (record.action, record.entity_id) == ("role_schedule.set", "commander")


def test_choosing_none_clears_the_role_schedule(browser_admin, as_admin, payments, db):
    as_admin.put("/api/v1/role-schedules/commander", json={"schedule": "payments"})

    cleared = browser_admin.post("/oncall/roles/commander", {"role.commander": ""})

    assert cleared.status_code == 303
    assert as_admin.get("/api/v1/role-schedules").json() == []
    page = browser_admin.get("/oncall")
    assert chosen_for(page, "commander") == "None"
    actions = db.scalars(
        select(AuditRecord.action).where(AuditRecord.entity_type == "role_schedule")
    )
    assert "role_schedule.delete" in set(actions)
    # None again, when nothing followed a schedule, changes nothing and fails nothing.
    assert browser_admin.post("/oncall/roles/scribe", {"role.scribe": ""}).status_code == 303


def test_an_unknown_schedule_is_refused_beside_the_role_keeping_the_others(
    browser_admin, as_admin, payments
):
    as_admin.put("/api/v1/role-schedules/scribe", json={"schedule": "payments"})

    refused = browser_admin.post("/oncall/roles/commander", {"role.commander": "99999"})

    assert refused.status_code == 422
    assert "Incident commander: choose a schedule from the list, or None." in refused.text
    assert 'id="f-role-commander-error"' in refused.text
    assert chosen_for(refused, "scribe") == "Payments"
    assert as_admin.get("/api/v1/role-schedules").json()[0]["role"] == "scribe"


def test_a_responder_reads_the_role_schedules_but_changes_none(
    browser_responder, as_admin, payments
):
    as_admin.put("/api/v1/role-schedules/commander", json={"schedule": "payments"})

    page = browser_responder.get("/oncall")

    assert page.status_code == 200
    assert 'action="/oncall/roles/' not in page.text
    assert role_row(page, "commander") == "Incident commander Payments Ana"
    assert role_row(page, "tech_lead") == "Technical lead None —"
    refused = browser_responder.post("/oncall/roles/commander", {"role.commander": ""})
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    assert as_admin.get("/api/v1/role-schedules").json()[0]["role"] == "commander"


def test_an_unknown_role_is_a_not_found_page(browser_admin, payments):
    missing = browser_admin.post("/oncall/roles/sme", {"role.sme": str(payments["id"])})

    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]


# --- priorities and ends of layers ----------------------------------------------------------


def test_a_layer_is_given_a_priority_and_an_end_in_the_hand_off_zone(
    browser_admin, as_admin, payments, people
):
    page = browser_admin.get(PAYMENTS)
    new_layer = page.text[page.text.rindex("<details") :]
    assert 'name="layer.priority" type="number" value="2"' in new_layer  # on top of Weekly's 1
    assert "higher layers win where they overlap" in new_layer
    assert 'name="layer.ends_at" type="datetime-local" value=""' in new_layer

    added = browser_admin.post(
        f"{PAYMENTS}/layers",
        layer_form(
            priority="7",
            ends_at="2026-01-10T09:00",
            **{"members.0": str(people["Cleo"].user.id)},
        ),
    )

    assert added.status_code == 303, added.text
    layer = as_admin.get(f"{API}/payments").json()["layers"][0]
    assert (layer["name"], layer["priority"]) == ("Business hours", 7)
    assert layer["ends_at"] == "2026-01-10T08:00:00Z"  # 09:00 in Berlin
    page = browser_admin.get(PAYMENTS)
    prefix = f"layer-{layer['id']}"
    assert f'name="{prefix}.priority" type="number" value="7"' in page.text
    assert f'name="{prefix}.ends_at" type="datetime-local" value="2026-01-10T09:00"' in page.text
    assert "Priority 7: higher layers win where they overlap." in text_of(page)

    cleared = browser_admin.post(
        f"{PAYMENTS}/layers/{layer['id']}",
        layer_form(prefix, priority="3", ends_at="", **{"members.0": str(people["Cleo"].user.id)}),
    )
    assert cleared.status_code == 303, cleared.text
    layer = as_admin.get(f"{API}/payments").json()["layers"][0]
    assert (layer["priority"], layer["ends_at"]) == (3, None)


@pytest.mark.parametrize(
    ("fields", "field", "status", "message"),
    [
        ({"priority": "1"}, "priority", 409, "layer 'Weekly' already has priority 1"),
        ({"priority": "0"}, "priority", 422, "a whole number from 1 to 1000"),
        ({"priority": "1001"}, "priority", 422, "a whole number from 1 to 1000"),
        ({"ends_at": "2026-01-05T08:59"}, "ends_at", 422, "must be after the first hand-off"),
        ({"ends_at": "2026-01-05T09:00"}, "ends_at", 422, "must be after the first hand-off"),
        ({"ends_at": "soon"}, "ends_at", 422, "is not a date and time"),
    ],
)
def test_a_clashing_priority_or_an_end_before_the_start_is_shown_beside_the_field(
    browser_admin, as_admin, payments, people, fields, field, status, message
):
    form = layer_form(**{"members.0": str(people["Cleo"].user.id)} | fields)

    refused = browser_admin.post(f"{PAYMENTS}/layers", form)

    assert refused.status_code == status
    error = re.search(rf'id="f-layer-{field}-error">([^<]*)<', refused.text)
    assert error is not None
    assert message in html.unescape(error.group(1))
    new_layer = refused.text[refused.text.rindex("<details") :]
    assert new_layer.startswith("<details open>")
    typed = fields[field]
    assert f'name="layer.{field}" type="' in new_layer
    assert f'value="{typed}"' in new_layer  # kept as typed
    assert [item["name"] for item in as_admin.get(f"{API}/payments").json()["layers"]] == ["Weekly"]


def test_editing_a_layer_onto_another_layers_priority_is_refused_beside_its_field(
    browser_admin, as_admin, payments, people
):
    ana = str(people["Ana"].user.id)
    added = browser_admin.post(f"{PAYMENTS}/layers", layer_form(**{"members.0": ana}))
    assert added.status_code == 303
    top = as_admin.get(f"{API}/payments").json()["layers"][0]

    refused = browser_admin.post(
        f"{PAYMENTS}/layers/{top['id']}",
        layer_form(f"layer-{top['id']}", priority="1", **{"members.0": ana}),
    )

    assert refused.status_code == 409
    assert f'id="f-layer-{top["id"]}-priority-error"' in refused.text
    assert "already has priority 1" in html.unescape(refused.text)
    assert as_admin.get(f"{API}/payments").json()["layers"][0]["priority"] == top["priority"]


# --- deleting a schedule --------------------------------------------------------------------


def test_an_admin_deletes_a_schedule_after_confirming(browser_admin, as_admin, payments, db):
    page = browser_admin.get(PAYMENTS)
    assert f'action="{PAYMENTS}/delete"' in page.text

    asked = browser_admin.post(f"{PAYMENTS}/delete")

    assert asked.status_code == 200
    assert "Delete the schedule “Payments”?" in text_of(asked)
    assert 'name="confirmed" value="yes"' in asked.text
    assert f'action="{PAYMENTS}/delete"' in asked.text
    assert 'name="csrf_token"' in asked.text
    assert as_admin.get(f"{API}/payments").status_code == 200  # nothing removed yet

    deleted = browser_admin.post(f"{PAYMENTS}/delete", {"confirmed": "yes"})

    assert deleted.status_code == 303
    assert deleted.headers["location"] == f"{SCHEDULES}?done=deleted"
    listed = browser_admin.get(deleted.headers["location"])
    assert "The schedule is deleted." in listed.text
    assert "The schedule is deleted." not in browser_admin.get(SCHEDULES).text
    assert as_admin.get(f"{API}/payments").status_code == 404
    assert browser_admin.get(PAYMENTS).status_code == 404
    assert browser_admin.post(f"{PAYMENTS}/delete", {"confirmed": "yes"}).status_code == 404
    actions = db.scalars(select(AuditRecord.action).where(AuditRecord.entity_type == "schedule"))
    assert "schedule.delete" in set(actions)


def test_a_schedule_an_escalation_policy_pages_through_is_not_deleted(
    browser_admin, as_admin, payments
):
    made = as_admin.post(
        "/api/v1/escalation-policies",
        json={
            "name": "Payments outage",
            "levels": [
                {"delay_minutes": 15, "targets": [{"type": "schedule", "slug": "payments"}]}
            ],
        },
    )
    assert made.status_code == 201, made.text

    refused = browser_admin.post(f"{PAYMENTS}/delete", {"confirmed": "yes"})

    assert refused.status_code == 409
    words = text_of(refused)
    assert "It cannot be deleted" in words
    assert "escalation policy 'Payments outage'" in words
    assert 'name="confirmed"' not in refused.text  # not offered again
    assert as_admin.get(f"{API}/payments").status_code == 200


def test_a_schedule_filling_an_incident_role_is_not_deleted(browser_admin, as_admin, payments):
    chosen = as_admin.put("/api/v1/role-schedules/commander", json={"schedule": "payments"})
    assert chosen.status_code == 200, chosen.text

    refused = browser_admin.post(f"{PAYMENTS}/delete", {"confirmed": "yes"})

    assert refused.status_code == 409
    assert "the default commander" in text_of(refused)
    assert as_admin.get(f"{API}/payments").status_code == 200


def test_only_admins_delete_schedules_and_layers(browser_responder, as_admin, payments):
    page = browser_responder.get(PAYMENTS)
    assert f'action="{PAYMENTS}/delete"' not in page.text
    assert "/layers/" not in page.text
    layer_id = payments["layers"][0]["id"]
    for form in ({}, {"confirmed": "yes"}):
        assert browser_responder.post(f"{PAYMENTS}/delete", form).status_code == 403
        refused = browser_responder.post(f"{PAYMENTS}/layers/{layer_id}/delete", form)
        assert refused.status_code == 403
    assert len(as_admin.get(f"{API}/payments").json()["layers"]) == 1
    stale = browser_responder.client.post(
        f"{PAYMENTS}/delete", data={"confirmed": "yes"}, follow_redirects=False
    )
    assert stale.status_code == 403
