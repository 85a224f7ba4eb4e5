"""Status pages: an admin opens a second page for the EU region, makes it the default, and
cannot delete whichever page /status serves; every change readers see raises the version."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fireline.accounts.principal import Actor
from fireline.comms import components, pages
from fireline.errors import InvalidInput
from fireline.models import AuditRecord, StatusPage

PAGES = "/api/v1/status-pages"


def fields_named(response) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json().get("errors", [])]


def audit_actions(db, entity_type: str) -> list[str]:
    db.expire_all()
    query = select(AuditRecord.action).where(AuditRecord.entity_type == entity_type)
    return list(db.scalars(query.order_by(AuditRecord.id)))


def version_of(db, slug: str) -> int:
    db.expire_all()
    return db.scalars(select(StatusPage.version).where(StatusPage.slug == slug)).one()


def eu_page(as_admin, **fields):
    response = as_admin.post(PAGES, json={"slug": "eu", "name": "Fireline EU", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_the_seeded_default_page_is_listed_first(as_admin):
    eu_page(as_admin)
    listed = as_admin.get(PAGES)
    assert listed.status_code == 200
    assert [(page["slug"], page["is_default"]) for page in listed.json()] == [
        ("status", True),
        ("eu", False),
    ]


def test_an_admin_creates_a_page_and_the_audit_log_records_it(as_admin, db, clock):
    page = eu_page(
        as_admin,
        description="Our EU region",
        homepage_url="https://eu.example.com",
        support_url="http://help.example.com/contact",
        time_zone="Europe/Paris",
    )
    assert page["time_zone"] == "Europe/Paris"
    assert page["support_url"] == "http://help.example.com/contact"
    assert page["created_at"] == clock.now().isoformat().replace("+00:00", "Z")
    assert audit_actions(db, "status_page") == ["status_page.create"]
    by_slug = as_admin.get(f"{PAGES}/eu").json()
    by_code = as_admin.get(f"{PAGES}/{page['code']}").json()
    assert by_slug == by_code
    assert by_slug["version"] > 1  # readers' caches learn there is a new page


def test_a_taken_slug_is_a_conflict(as_admin):
    eu_page(as_admin)
    again = as_admin.post(PAGES, json={"slug": "eu", "name": "Another"})
    assert again.status_code == 409
    assert "eu" in again.json()["detail"]


@pytest.mark.parametrize(
    "slug",
    [
        "api",
        "history",
        "incidents",
        "subscribe",
        "confirm",
        "unsubscribe",
        "EU",
        "eu_west",
        "-eu",
        "eu-",
        "eu--west",
        "é",
        "a" * 61,
        "",
    ],
)
def test_slugs_that_cannot_name_a_page_are_refused(as_admin, slug):
    response = as_admin.post(PAGES, json={"slug": slug, "name": "Bad"})
    assert response.status_code == 422
    assert fields_named(response) == ["slug"]


def test_a_sixty_character_slug_with_digits_and_hyphens_is_fine(as_admin):
    slug = "eu-west-2-" + "a" * 50
    assert as_admin.post(PAGES, json={"slug": slug, "name": "Long"}).status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("homepage_url", "ftp://example.com"),
        ("homepage_url", "example.com"),
        ("support_url", "https://"),
        ("support_url", "https://exa mple.com"),
        ("support_url", "http://[::1"),
        ("time_zone", "Mars/Olympus"),
        ("time_zone", "../../etc/passwd"),
        ("name", ""),
        ("is_default", "perhaps"),
        ("description", "x" * 5001),
    ],
)
def test_each_bad_field_is_named_in_the_problem(as_admin, field, value):
    created = as_admin.post(PAGES, json={"slug": "eu", "name": "EU", field: value})
    assert created.status_code == 422
    assert fields_named(created) == [field]
    eu_page(as_admin)
    updated = as_admin.patch(f"{PAGES}/eu", json={field: value})
    assert updated.status_code == 422
    assert fields_named(updated) == [field]


@pytest.mark.parametrize("field", ["name", "time_zone", "homepage_url", "is_default"])
def test_null_is_refused_for_a_page_field(as_admin, field):
    eu_page(as_admin)
    response = as_admin.patch(f"{PAGES}/eu", json={field: None})
    assert response.status_code == 422
    assert fields_named(response) == [field]


def test_an_update_readers_can_see_raises_the_version_and_is_audited(as_admin, db):
    eu_page(as_admin)
    before = version_of(db, "eu")
    response = as_admin.patch(
        f"{PAGES}/eu",
        json={"name": "Fireline Europe", "homepage_url": "", "time_zone": "Europe/Berlin"},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["time_zone"]) == (
        "Fireline Europe",
        "Europe/Berlin",
    )
    assert version_of(db, "eu") == before + 1
    assert audit_actions(db, "status_page") == ["status_page.create", "status_page.update"]


def test_an_update_that_changes_nothing_leaves_version_and_audit_alone(as_admin, db):
    eu_page(as_admin)
    before = version_of(db, "eu")
    assert as_admin.patch(f"{PAGES}/eu", json={"name": "Fireline EU"}).status_code == 200
    assert version_of(db, "eu") == before
    assert audit_actions(db, "status_page") == ["status_page.create"]


def test_making_a_page_the_default_moves_the_flag(as_admin, db):
    eu_page(as_admin)
    old_default_version = version_of(db, "status")
    moved = as_admin.patch(f"{PAGES}/eu", json={"is_default": True})
    assert moved.status_code == 200, moved.text
    assert moved.json()["is_default"] is True
    db.expire_all()
    defaults = db.scalars(select(StatusPage.slug).where(StatusPage.is_default)).all()
    assert defaults == ["eu"]
    assert version_of(db, "status") == old_default_version + 1  # /status now serves another page
    # Asking again changes nothing.
    assert as_admin.patch(f"{PAGES}/eu", json={"is_default": True}).json()["is_default"] is True
    assert as_admin.patch(f"{PAGES}/status", json={"is_default": False}).status_code == 200


def test_a_page_created_as_default_takes_the_flag(as_admin, db):
    eu_page(as_admin, is_default=True)
    listed = as_admin.get(PAGES).json()
    assert [(page["slug"], page["is_default"]) for page in listed] == [
        ("eu", True),
        ("status", False),
    ]
    assert audit_actions(db, "status_page") == ["status_page.update", "status_page.create"]


def test_the_default_page_cannot_stop_being_default_on_its_own(as_admin):
    response = as_admin.patch(f"{PAGES}/status", json={"is_default": False})
    assert response.status_code == 422
    assert fields_named(response) == ["is_default"]


def test_the_default_page_cannot_be_deleted_and_the_refusal_says_why(as_admin):
    response = as_admin.delete(f"{PAGES}/status")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "default" in response.json()["detail"]
    assert as_admin.get(f"{PAGES}/status").status_code == 200


def test_another_page_is_deleted_with_its_components(as_admin, db):
    eu_page(as_admin)
    group = as_admin.post(f"{PAGES}/eu/groups", json={"name": "Core"}).json()
    as_admin.post(f"{PAGES}/eu/components", json={"name": "API", "group": group["code"]})
    assert as_admin.delete(f"{PAGES}/eu").status_code == 204
    assert as_admin.get(f"{PAGES}/eu").status_code == 404
    assert audit_actions(db, "status_page")[-1] == "status_page.delete"


def test_an_unknown_page_is_not_found(as_admin):
    for response in (
        as_admin.get(f"{PAGES}/nowhere"),
        as_admin.patch(f"{PAGES}/nowhere", json={"name": "x"}),
        as_admin.get(f"{PAGES}/nowhere/components"),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_a_viewer_may_not_read_or_change_pages(as_viewer):
    assert as_viewer.get(PAGES).status_code == 403
    assert as_viewer.post(PAGES, json={"slug": "eu", "name": "EU"}).status_code == 403
    assert as_viewer.delete(f"{PAGES}/status").status_code == 403


def test_a_responder_reads_pages_but_may_not_create_change_or_delete_them(as_responder, db):
    assert as_responder.get(PAGES).status_code == 200
    assert as_responder.get(f"{PAGES}/status").status_code == 200
    assert as_responder.post(PAGES, json={"slug": "eu", "name": "EU"}).status_code == 403
    assert as_responder.patch(f"{PAGES}/status", json={"name": "Mine"}).status_code == 403
    assert as_responder.delete(f"{PAGES}/status").status_code == 403
    assert audit_actions(db, "status_page") == []


# --- Groups ----------------------------------------------------------------------------------


def test_groups_are_created_last_updated_reordered_and_deleted(as_admin, db):
    base = f"{PAGES}/status/groups"
    before = version_of(db, "status")
    core = as_admin.post(base, json={"name": "Core", "description": "What everyone uses"})
    assert core.status_code == 201, core.text
    extras = as_admin.post(base, json={"name": "Extras"}).json()
    assert (core.json()["position"], extras["position"]) == (1, 2)
    assert version_of(db, "status") == before + 2

    renamed = as_admin.patch(f"{base}/{extras['code']}", json={"name": "Integrations"})
    assert renamed.json()["name"] == "Integrations"
    unchanged = as_admin.patch(f"{base}/{extras['code']}", json={"name": "Integrations"})
    assert unchanged.status_code == 200

    order = [extras["code"], core.json()["code"]]
    reordered = as_admin.put(f"{base}/order", json={"codes": order})
    assert reordered.status_code == 200, reordered.text
    assert [group["code"] for group in reordered.json()] == order
    assert [group["code"] for group in as_admin.get(base).json()] == order

    assert as_admin.delete(f"{base}/{extras['code']}").status_code == 204
    assert [group["name"] for group in as_admin.get(base).json()] == ["Core"]
    assert audit_actions(db, "status_component_group") == [
        "status_component_group.create",
        "status_component_group.create",
        "status_component_group.update",
        "status_component_group.delete",
    ]
    assert "status_component_group.reorder" in audit_actions(db, "status_page")


def test_a_group_can_be_placed_explicitly(as_admin):
    placed = as_admin.post(f"{PAGES}/status/groups", json={"name": "First", "position": 0})
    assert placed.json()["position"] == 0


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (["A", "A"], "more than once"),
        (["nope"], "no group 'nope'"),
        ([], "must name every group"),
    ],
)
def test_a_group_order_must_name_every_group_once(as_admin, codes, message):
    base = f"{PAGES}/status/groups"
    code = as_admin.post(base, json={"name": "Core"}).json()["code"]
    response = as_admin.put(f"{base}/order", json={"codes": [c.replace("A", code) for c in codes]})
    assert response.status_code == 422
    assert fields_named(response) == ["codes"]
    assert message in response.json()["detail"]


def test_bad_group_fields_are_named(as_admin):
    base = f"{PAGES}/status/groups"
    assert fields_named(as_admin.post(base, json={"name": " "})) == ["name"]
    assert fields_named(as_admin.post(base, json={"name": "x", "position": -1})) == ["position"]
    code = as_admin.post(base, json={"name": "Core"}).json()["code"]
    assert fields_named(as_admin.patch(f"{base}/{code}", json={"name": None})) == ["name"]
    assert as_admin.patch(f"{base}/unknown", json={"name": "x"}).status_code == 404


def test_a_responder_may_not_change_groups(as_responder):
    base = f"{PAGES}/status/groups"
    assert as_responder.get(base).status_code == 200
    assert as_responder.post(base, json={"name": "Core"}).status_code == 403


def test_the_service_refuses_what_the_api_cannot_send(db, clock):
    """Callers other than the API (the web UI, the CLI) get the same checks."""
    actor = Actor.system("test")
    with pytest.raises(InvalidInput) as refused:
        pages.check_url("https://" + "a" * 2000 + ".com", field="homepage_url")
    assert refused.value.errors[0].field == "homepage_url"
    page = pages.create_page(db, actor=actor, now=clock.now(), slug="eu", name="EU")
    assert components.components_for_services(db, page, []) == []
