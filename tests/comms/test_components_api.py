"""Components: an admin puts Checkout and Search on the page, linked to their catalog services;
during an outage a responder marks Checkout as a major outage, and every status the component
enters is in its history from the moment it was created."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fireline.accounts.principal import Actor
from fireline.comms import components, pages
from fireline.errors import InvalidInput
from fireline.models import AuditRecord, ComponentStatusChange, Service, StatusPage

PAGE = "/api/v1/status-pages/status"
COMPONENTS = f"{PAGE}/components"


def fields_named(response) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json().get("errors", [])]


def add_service(db, clock, slug: str) -> Service:
    service = Service(
        name=slug.title(),
        slug=slug,
        description="",
        tier=1,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    db.add(service)
    db.commit()
    return service


def version_of(db, slug: str = "status") -> int:
    db.expire_all()
    return db.scalars(select(StatusPage.version).where(StatusPage.slug == slug)).one()


def history_of(db, code: str) -> list[tuple[str, str]]:
    db.expire_all()
    rows = db.execute(
        select(ComponentStatusChange.status, ComponentStatusChange.at)
        .join(pages.Component, pages.Component.id == ComponentStatusChange.component_id)
        .where(pages.Component.code == code)
        .order_by(ComponentStatusChange.id)
    )
    return [(status, at.isoformat()) for status, at in rows]


def audit_actions(db, code: str) -> list[str]:
    db.expire_all()
    query = select(AuditRecord.action).where(AuditRecord.entity_id == code)
    return list(db.scalars(query.order_by(AuditRecord.id)))


@pytest.fixture
def checkout(db, clock) -> Service:
    return add_service(db, clock, "checkout")


@pytest.fixture
def core(as_admin) -> dict:
    return as_admin.post(f"{PAGE}/groups", json={"name": "Core"}).json()


def add_component(as_admin, **fields) -> dict:
    response = as_admin.post(COMPONENTS, json={"name": "Checkout", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_new_component_starts_its_status_history_at_creation(as_admin, db, clock, checkout, core):
    before = version_of(db)
    component = add_component(
        as_admin,
        description="Paying for an order",
        group=core["code"],
        service_id=checkout.id,
        showcase=False,
        only_show_if_degraded=True,
        status="degraded_performance",
    )
    assert component["status"] == "degraded_performance"
    assert component["group"] == {"code": core["code"], "name": "Core"}
    assert component["service"] == {"id": checkout.id, "slug": "checkout", "name": "Checkout"}
    assert (component["showcase"], component["only_show_if_degraded"]) == (False, True)
    assert component["started_at"] == clock.now().isoformat().replace("+00:00", "Z")
    assert history_of(db, component["code"]) == [("degraded_performance", clock.now().isoformat())]
    assert version_of(db) == before + 1
    assert audit_actions(db, component["code"]) == ["component.create"]
    assert as_admin.get(f"{COMPONENTS}/{component['code']}").json() == component


def test_components_are_appended_in_page_order_and_reordered(as_admin, db):
    checkout = add_component(as_admin)
    search = add_component(as_admin, name="Search")
    assert (checkout["position"], search["position"]) == (1, 2)
    assert checkout["status"] == "operational"
    order = [search["code"], checkout["code"]]
    before = version_of(db)
    reordered = as_admin.put(f"{COMPONENTS}/order", json={"codes": order})
    assert reordered.status_code == 200, reordered.text
    assert [item["code"] for item in as_admin.get(COMPONENTS).json()] == order
    assert version_of(db) == before + 1
    bad = as_admin.put(f"{COMPONENTS}/order", json={"codes": [search["code"]]})
    assert bad.status_code == 422
    assert fields_named(bad) == ["codes"]


def test_a_responder_marks_an_outage_and_each_change_joins_the_history(
    as_admin, as_responder, db, clock
):
    component = add_component(as_admin)
    created_at = clock.now().isoformat()
    clock.advance(minutes=7)
    before = version_of(db)
    outage = as_responder.put(
        f"{COMPONENTS}/{component['code']}/status", json={"status": "major_outage"}
    )
    assert outage.status_code == 200, outage.text
    assert outage.json()["status"] == "major_outage"
    assert version_of(db) == before + 1
    outage_at = clock.now().isoformat()

    clock.advance(minutes=30)
    as_responder.put(f"{COMPONENTS}/{component['code']}/status", json={"status": "operational"})
    assert history_of(db, component["code"]) == [
        ("operational", created_at),
        ("major_outage", outage_at),
        ("operational", clock.now().isoformat()),
    ]
    assert audit_actions(db, component["code"]) == [
        "component.create",
        "component.status_changed",
        "component.status_changed",
    ]


def test_setting_the_status_it_already_has_writes_nothing(as_admin, db):
    component = add_component(as_admin)
    before = version_of(db)
    same = as_admin.put(f"{COMPONENTS}/{component['code']}/status", json={"status": "operational"})
    assert same.status_code == 200
    assert len(history_of(db, component["code"])) == 1
    assert version_of(db) == before


def test_an_unknown_status_is_refused_naming_the_field(as_admin):
    component = add_component(as_admin)
    response = as_admin.put(f"{COMPONENTS}/{component['code']}/status", json={"status": "down"})
    assert response.status_code == 422
    assert fields_named(response) == ["status"]
    assert fields_named(as_admin.post(COMPONENTS, json={"name": "X", "status": "down"})) == [
        "status"
    ]


def test_a_responder_sets_statuses_but_may_not_shape_components(as_admin, as_responder):
    component = add_component(as_admin)
    url = f"{COMPONENTS}/{component['code']}"
    assert as_responder.get(COMPONENTS).status_code == 200
    assert as_responder.post(COMPONENTS, json={"name": "Search"}).status_code == 403
    assert as_responder.patch(url, json={"name": "Pay"}).status_code == 403
    assert as_responder.delete(url).status_code == 403
    assert as_responder.put(f"{COMPONENTS}/order", json={"codes": []}).status_code == 403


def test_a_viewer_may_not_even_set_a_status(as_admin, as_viewer):
    component = add_component(as_admin)
    url = f"{COMPONENTS}/{component['code']}"
    assert as_viewer.get(COMPONENTS).status_code == 403
    assert as_viewer.put(f"{url}/status", json={"status": "major_outage"}).status_code == 403
    assert as_admin.get(url).json()["status"] == "operational"


def test_an_update_moves_groups_relinks_the_service_and_is_audited(
    as_admin, db, clock, checkout, core
):
    component = add_component(as_admin, service_id=checkout.id)
    url = f"{COMPONENTS}/{component['code']}"
    search = add_service(db, clock, "search")
    before = version_of(db)
    updated = as_admin.patch(
        url,
        json={
            "name": "Search",
            "description": "Finding products",
            "group": core["code"],
            "service_id": search.id,
            "position": 9,
            "showcase": False,
            "only_show_if_degraded": True,
        },
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["name"], body["group"]["code"], body["service"]["slug"], body["position"]) == (
        "Search",
        core["code"],
        "search",
        9,
    )
    assert version_of(db) == before + 1
    ungrouped = as_admin.patch(url, json={"group": None, "service_id": None}).json()
    assert (ungrouped["group"], ungrouped["service"]) == (None, None)
    assert audit_actions(db, component["code"]) == [
        "component.create",
        "component.update",
        "component.update",
    ]
    as_admin.patch(url, json={"name": "Search"})  # nothing changes: nothing recorded
    assert len(audit_actions(db, component["code"])) == 3


def test_a_component_moves_only_between_groups_of_its_own_page(as_admin):
    as_admin.post("/api/v1/status-pages", json={"slug": "eu", "name": "EU"})
    eu_group = as_admin.post("/api/v1/status-pages/eu/groups", json={"name": "EU core"}).json()
    component = add_component(as_admin)
    moved = as_admin.patch(f"{COMPONENTS}/{component['code']}", json={"group": eu_group["code"]})
    assert moved.status_code == 422
    assert fields_named(moved) == ["group"]
    created = as_admin.post(COMPONENTS, json={"name": "X", "group": eu_group["code"]})
    assert fields_named(created) == ["group"]


def test_the_service_refuses_a_group_of_another_page(db, clock):
    actor = Actor.system("test")
    status = pages.get_page(db, "status")
    eu = pages.create_page(db, actor=actor, now=clock.now(), slug="eu", name="EU")
    eu_group = pages.create_group(db, actor=actor, now=clock.now(), page=eu, name="EU core")
    with pytest.raises(InvalidInput) as refused:
        components.create_component(
            db, actor=actor, now=clock.now(), page=status, name="X", group=eu_group
        )
    assert refused.value.errors[0].field == "group"
    component = components.create_component(db, actor=actor, now=clock.now(), page=status, name="Y")
    with pytest.raises(InvalidInput):
        components.move_component(
            db, actor=actor, now=clock.now(), component=component, group=eu_group
        )
    mine = pages.create_group(db, actor=actor, now=clock.now(), page=status, name="Core")
    moved = components.move_component(
        db, actor=actor, now=clock.now(), component=component, group=mine
    )
    assert moved.group is mine


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "service_id": 999_999}, "service_id"),
        ({"name": "X", "service_id": 2**40}, "service_id"),
        ({"name": "X", "group": "nope"}, "group"),
        ({"name": ""}, "name"),
        ({"name": "X", "position": -1}, "position"),
        ({"name": "X", "showcase": "sometimes"}, "showcase"),
        ({"name": "X", "colour": "red"}, "colour"),
    ],
)
def test_bad_component_fields_are_named(as_admin, body, field):
    assert fields_named(as_admin.post(COMPONENTS, json=body)) == [field]


@pytest.mark.parametrize("field", ["name", "position", "showcase", "only_show_if_degraded"])
def test_null_is_refused_where_a_component_needs_a_value(as_admin, field):
    component = add_component(as_admin)
    response = as_admin.patch(f"{COMPONENTS}/{component['code']}", json={field: None})
    assert fields_named(response) == [field]


def test_deleting_a_group_leaves_its_components_ungrouped(as_admin, core):
    component = add_component(as_admin, group=core["code"])
    assert as_admin.delete(f"{PAGE}/groups/{core['code']}").status_code == 204
    assert as_admin.get(f"{COMPONENTS}/{component['code']}").json()["group"] is None


def test_a_deleted_component_is_gone_with_its_history(as_admin, db):
    component = add_component(as_admin)
    before = version_of(db)
    assert as_admin.delete(f"{COMPONENTS}/{component['code']}").status_code == 204
    assert as_admin.get(f"{COMPONENTS}/{component['code']}").status_code == 404
    assert history_of(db, component["code"]) == []
    assert version_of(db) == before + 1
    assert audit_actions(db, component["code"])[-1] == "component.delete"


def test_an_unknown_component_is_not_found(as_admin):
    for response in (
        as_admin.get(f"{COMPONENTS}/nope"),
        as_admin.put(f"{COMPONENTS}/nope/status", json={"status": "major_outage"}),
        as_admin.delete(f"{COMPONENTS}/nope"),
    ):
        assert response.status_code == 404


def test_an_incident_on_catalog_services_finds_their_components(db, clock, checkout):
    actor = Actor.system("test")
    search = add_service(db, clock, "search")
    billing = add_service(db, clock, "billing")
    status = pages.get_page(db, "status")
    eu = pages.create_page(db, actor=actor, now=clock.now(), slug="eu", name="EU")

    def component(page, name: str, service: Service | None):
        return components.create_component(
            db, actor=actor, now=clock.now(), page=page, name=name, service=service
        )

    checkout_component = component(status, "Checkout", checkout)
    search_component = component(status, "Search", search)
    component(status, "Docs", None)
    component(status, "Billing", billing)
    component(eu, "EU Checkout", checkout)

    found = components.components_for_services(db, status, [search.id, checkout.id])
    assert found == [checkout_component, search_component]
    assert components.components_for_services(db, status, [9999]) == []
