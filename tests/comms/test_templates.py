"""Update templates: the communications lead starts an update from "Investigating", which
names the affected components the way a person would and the time of the next update."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fireline.comms.templates import fill, join_names, list_templates
from fireline.errors import InvalidInput
from fireline.models import AuditRecord, UpdateTemplate

TEMPLATES = "/api/v1/update-templates"


def fields_named(response) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json().get("errors", [])]


def audit_actions(db) -> list[str]:
    db.expire_all()
    query = select(AuditRecord.action).where(AuditRecord.entity_type == "update_template")
    return list(db.scalars(query.order_by(AuditRecord.id)))


def template(**parts: str) -> UpdateTemplate:
    return UpdateTemplate(name="t", audience="public", **parts)


@pytest.mark.parametrize(
    ("names", "said"),
    [
        ([], ""),
        (["API"], "API"),
        (["API", "Dashboard"], "API and Dashboard"),
        (["API", "Dashboard", "Webhooks"], "API, Dashboard and Webhooks"),
    ],
)
def test_component_names_are_joined_as_a_sentence_says_them(names, said):
    assert join_names(names) == said


def test_fill_names_the_components_and_the_next_update():
    filled = fill(
        template(
            current_impact="Some customers may be unable to use {components}.",
            doing_now="We are investigating.",
            users_should="Next update at {next_update}.",
        ),
        components=["API", "Dashboard"],
        next_update=datetime(2026, 11, 27, 14, 30, tzinfo=UTC),
    )
    assert filled == {
        "current_impact": "Some customers may be unable to use API and Dashboard.",
        "doing_now": "We are investigating.",
        "users_should": "Next update at 14:30 UTC on 2026-11-27.",
    }


def test_fill_never_raises_and_leaves_what_it_does_not_know_as_typed():
    text = "{components} {unknown} {0} {components.x} { {next_update"
    filled = fill(
        template(current_impact=text, doing_now="{next_update}"), components=[], next_update=None
    )
    assert filled["current_impact"] == "our service {unknown} {0} {components.x} { {next_update"
    assert filled["doing_now"] == "{next_update}"  # no time yet: left for the writer
    assert filled["users_should"] == ""


def test_a_component_named_like_a_placeholder_is_not_filled_twice():
    filled = fill(
        template(current_impact="{components}"),
        components=["{next_update}"],
        next_update=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert filled["current_impact"] == "{next_update}"


def test_the_seeded_templates_are_listed_and_filtered(as_responder):
    everything = as_responder.get(TEMPLATES)
    assert everything.status_code == 200
    assert len(everything.json()) == 6
    internal = as_responder.get(TEMPLATES, params={"audience": "internal"}).json()
    assert [item["name"] for item in internal] == ["Stakeholder update"]
    identified = as_responder.get(TEMPLATES, params={"status": "identified"}).json()
    assert [item["name"] for item in identified] == ["Identified"]
    none = as_responder.get(TEMPLATES, params={"audience": "internal", "status": "identified"})
    assert none.json() == []
    found = as_responder.get(f"{TEMPLATES}/{identified[0]['id']}")
    assert found.json() == identified[0]


@pytest.mark.parametrize(("name", "value"), [("audience", "everyone"), ("status", "on_fire")])
def test_a_bad_filter_is_named(as_responder, name, value):
    assert fields_named(as_responder.get(TEMPLATES, params={name: value})) == [f"query.{name}"]


def test_an_admin_creates_changes_and_deletes_a_template_and_each_is_audited(as_admin, db):
    created = as_admin.post(
        TEMPLATES,
        json={
            "name": "Degraded",
            "audience": "public",
            "status": "monitoring",
            "current_impact": "{components} is slower than usual.",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["doing_now"]) == ("monitoring", "")
    url = f"{TEMPLATES}/{body['id']}"

    changed = as_admin.patch(url, json={"status": None, "doing_now": "Watching", "name": "Slow"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["status"], changed.json()["doing_now"]) == (None, "Watching")
    restatused = as_admin.patch(url, json={"status": "identified", "audience": "internal"})
    assert (restatused.json()["status"], restatused.json()["audience"]) == (
        "identified",
        "internal",
    )
    as_admin.patch(url, json={"name": "Slow"})  # no change, nothing recorded
    assert as_admin.delete(url).status_code == 204
    assert as_admin.get(url).status_code == 404
    assert audit_actions(db) == [
        "update_template.create",
        "update_template.update",
        "update_template.update",
        "update_template.delete",
    ]


def test_template_names_are_unique_whatever_their_case(as_admin):
    clash = as_admin.post(TEMPLATES, json={"name": "investigating", "audience": "public"})
    assert clash.status_code == 409
    mine = as_admin.post(TEMPLATES, json={"name": "Mine", "audience": "public"}).json()
    renamed = as_admin.patch(f"{TEMPLATES}/{mine['id']}", json={"name": "IDENTIFIED"})
    assert renamed.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "audience": "public"}, "name"),
        ({"name": "X", "audience": "customers"}, "audience"),
        ({"name": "X", "audience": "public", "status": "on_fire"}, "status"),
        ({"name": "X", "audience": "public", "doing_now": "x" * 5001}, "doing_now"),
        ({"name": "X"}, "audience"),
    ],
)
def test_bad_template_fields_are_named(as_admin, body, field):
    assert fields_named(as_admin.post(TEMPLATES, json=body)) == [field]


@pytest.mark.parametrize("field", ["name", "audience", "current_impact"])
def test_null_is_refused_where_a_template_needs_a_value(as_admin, field):
    mine = as_admin.post(TEMPLATES, json={"name": "Mine", "audience": "public"}).json()
    assert fields_named(as_admin.patch(f"{TEMPLATES}/{mine['id']}", json={field: None})) == [field]


def test_an_unknown_template_is_not_found(as_admin):
    assert as_admin.get(f"{TEMPLATES}/999999").status_code == 404
    assert as_admin.get(f"{TEMPLATES}/{2**40}").status_code == 404
    assert as_admin.patch(f"{TEMPLATES}/0", json={"name": "x"}).status_code == 404


def test_responders_read_templates_and_only_admins_change_them(as_responder, as_viewer):
    assert as_viewer.get(TEMPLATES).status_code == 403
    assert as_responder.get(TEMPLATES).status_code == 200
    created = as_responder.post(TEMPLATES, json={"name": "Mine", "audience": "public"})
    assert created.status_code == 403
    first = as_responder.get(TEMPLATES).json()[0]
    assert as_responder.delete(f"{TEMPLATES}/{first['id']}").status_code == 403


@pytest.mark.parametrize(("name", "value"), [("audience", "everyone"), ("status", "on_fire")])
def test_the_service_names_a_bad_audience_or_status_for_callers_besides_the_api(db, name, value):
    with pytest.raises(InvalidInput) as refused:
        list_templates(db, **{name: value})
    assert refused.value.errors[0].field == name
