"""Audiences through the JSON API: a status page admin keeps the lists stakeholder updates go to."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fireline.accounts.principal import Actor
from fireline.comms import audiences
from fireline.errors import InvalidInput
from fireline.models import AudienceKind, AuditRecord

AUDIENCES = "/api/v1/audiences"


def fields_named(response):
    return [error["field"] for error in response.json().get("errors", [])]


def create(api, **fields):
    body = {
        "name": "Leadership",
        "kind": "executives",
        "description": "The exec team",
        "recipients": [
            {"transport": "email", "target": "ceo@Example.COM"},
            {"transport": "webhook", "target": "https://hooks.example.com/exec"},
        ],
        **fields,
    }
    response = api.post(AUDIENCES, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def audit_actions(db, entity_id):
    rows = db.scalars(
        select(AuditRecord)
        .where(AuditRecord.entity_type == "audience", AuditRecord.entity_id == str(entity_id))
        .order_by(AuditRecord.id)
    )
    return [row.action for row in rows]


def test_an_admin_creates_lists_changes_and_deletes_an_audience(as_admin, db):
    created = create(as_admin)
    assert created["name"] == "Leadership"
    assert created["kind"] == "executives"
    assert created["recipients"] == [
        {"transport": "email", "target": "ceo@example.com"},  # the domain normalised
        {"transport": "webhook", "target": "https://hooks.example.com/exec"},
    ]
    assert len(created["signing_secret"]) >= 32
    audience_id = created["id"]

    listed = as_admin.get(AUDIENCES)
    assert listed.status_code == 200, listed.text
    assert [a["name"] for a in listed.json()] == ["Leadership"]
    assert "signing_secret" not in listed.json()[0]  # shown once, on create

    changed = as_admin.patch(
        f"{AUDIENCES}/{audience_id}",
        json={
            "name": "Execs",
            "recipients": [{"transport": "slack", "target": "https://hooks.slack.com/x"}],
        },
    )
    assert changed.status_code == 200, changed.text
    fetched = as_admin.get(f"{AUDIENCES}/{audience_id}").json()
    assert (fetched["name"], fetched["description"]) == ("Execs", "The exec team")
    assert fetched["recipients"] == [{"transport": "slack", "target": "https://hooks.slack.com/x"}]

    deleted = as_admin.delete(f"{AUDIENCES}/{audience_id}")
    assert deleted.status_code == 204, deleted.text
    assert as_admin.get(f"{AUDIENCES}/{audience_id}").status_code == 404
    assert audit_actions(db, audience_id) == [
        "audience.create",
        "audience.update",
        "audience.delete",
    ]


@pytest.mark.parametrize(
    ("recipient", "field"),
    [
        ({"transport": "email", "target": "not an address"}, "recipients.0.target"),
        ({"transport": "webhook", "target": "ftp://hooks.example.com/"}, "recipients.0.target"),
        ({"transport": "slack", "target": "http://127.0.0.1/hook"}, "recipients.0.target"),
    ],
)
def test_a_recipient_that_cannot_be_used_is_refused_naming_it(as_admin, recipient, field):
    response = as_admin.post(
        AUDIENCES, json={"name": "Support", "kind": "support", "recipients": [recipient]}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fields_named(response) == [field]


def test_the_same_recipient_twice_is_refused(as_admin):
    twice = {"transport": "email", "target": "help@example.com"}
    response = as_admin.post(
        AUDIENCES, json={"name": "Support", "kind": "support", "recipients": [twice, twice]}
    )
    assert response.status_code == 422, response.text
    assert fields_named(response) == ["recipients.1.target"]


def test_an_unknown_kind_or_transport_is_refused(as_admin):
    kind = as_admin.post(AUDIENCES, json={"name": "Board", "kind": "board"})
    assert kind.status_code == 422, kind.text
    transport = as_admin.post(
        AUDIENCES,
        json={
            "name": "Board",
            "kind": "custom",
            "recipients": [{"transport": "sms", "target": "1"}],
        },
    )
    assert transport.status_code == 422, transport.text


def test_names_are_unique(as_admin):
    create(as_admin)
    again = as_admin.post(AUDIENCES, json={"name": "Leadership", "kind": "custom"})
    assert again.status_code == 409, again.text
    assert fields_named(again) == ["name"]
    other = create(as_admin, name="Sales floor", kind="sales", recipients=[])
    renamed = as_admin.patch(f"{AUDIENCES}/{other['id']}", json={"name": "Leadership"})
    assert renamed.status_code == 409, renamed.text
    same = as_admin.patch(
        f"{AUDIENCES}/{other['id']}", json={"name": "Sales floor", "kind": "custom"}
    )
    assert same.status_code == 200, same.text
    assert same.json()["kind"] == "custom"


def test_null_is_not_a_change(as_admin):
    created = create(as_admin)
    response = as_admin.patch(f"{AUDIENCES}/{created['id']}", json={"description": None})
    assert response.status_code == 422, response.text
    assert fields_named(response) == ["description"]


def test_private_targets_are_allowed_when_the_admin_allows_them(as_admin, app):
    app.state.settings.webhook_allow_private_targets = True
    created = create(
        as_admin, recipients=[{"transport": "webhook", "target": "http://127.0.0.1:9/h"}]
    )
    assert created["recipients"][0]["target"] == "http://127.0.0.1:9/h"


def test_only_status_page_admins_manage_audiences(as_responder, as_admin):
    created = create(as_admin)
    assert as_responder.get(AUDIENCES).status_code == 403
    assert as_responder.get(f"{AUDIENCES}/{created['id']}").status_code == 403
    assert as_responder.post(AUDIENCES, json={"name": "X", "kind": "custom"}).status_code == 403
    assert as_responder.delete(f"{AUDIENCES}/{created['id']}").status_code == 403
    assert as_admin.get(f"{AUDIENCES}/{created['id']}").status_code == 200


def test_an_unknown_audience_is_not_found(as_admin):
    assert as_admin.get(f"{AUDIENCES}/999999").status_code == 404
    assert as_admin.patch(f"{AUDIENCES}/999999", json={"name": "X"}).status_code == 404


def test_the_service_names_what_it_cannot_take(db, clock):
    actor = Actor.system("test")
    with pytest.raises(InvalidInput) as bad_transport:
        audiences.check_recipients([{"transport": "pager", "target": "x"}], allow_private=False)
    assert bad_transport.value.errors[0].field == "recipients.0.transport"
    audience = audiences.create_audience(
        db,
        actor=actor,
        now=clock.now(),
        name="Field sales",
        kind=AudienceKind.SALES,
        description="",
        recipients=[],
        allow_private=False,
    )
    with pytest.raises(InvalidInput) as unknown:
        audiences.update_audience(
            db,
            actor=actor,
            now=clock.now(),
            audience=audience,
            changes={"secret": "mine"},
            allow_private=False,
        )
    assert unknown.value.errors[0].field == "secret"
    changed = audiences.update_audience(
        db,
        actor=actor,
        now=clock.now(),
        audience=audience,
        changes={"kind": "executives"},
        allow_private=False,
    )
    assert changed.kind == "executives"
    assert audiences.list_audiences(db, kind=AudienceKind.EXECUTIVES) == [changed]
