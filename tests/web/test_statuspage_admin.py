"""A status page admin shapes the public status page from the settings pages: pages, groups and
components, in order; a responder sets a component's status during an incident and the public
page's version moves, so readers see it at once; a viewer changes nothing."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from fireline.models import AuditRecord, Component, ComponentGroup, StatusPage

PAGES = "/settings/status-pages"
DEFAULT = f"{PAGES}/status"  # the page the migrations seed, served at /status


def page_row(db, slug: str = "status") -> StatusPage:
    db.expire_all()
    return db.scalars(select(StatusPage).where(StatusPage.slug == slug)).one()


def components(db, slug: str = "status") -> list[Component]:
    page = page_row(db, slug)
    query = select(Component).where(Component.page_id == page.id).order_by(Component.position)
    return list(db.scalars(query))


def groups(db, slug: str = "status") -> list[ComponentGroup]:
    page = page_row(db, slug)
    query = (
        select(ComponentGroup)
        .where(ComponentGroup.page_id == page.id)
        .order_by(ComponentGroup.position)
    )
    return list(db.scalars(query))


def add_component(browser, name: str, **fields) -> object:
    form = {"component.name": name, "component.status": "operational", "component.showcase": "on"}
    return browser.post(f"{DEFAULT}/components", {**form, **fields})


@pytest.fixture
def viewer_browser(sign_in, viewer):
    return sign_in(viewer)


def test_each_status_page_settings_page_renders_for_an_admin(browser_admin):
    for path in (
        PAGES,
        DEFAULT,
        f"{DEFAULT}/maintenance",
        f"{DEFAULT}/subscribers",
        "/settings/update-templates",
        "/settings/audiences",
    ):
        shown = browser_admin.get(path)
        assert shown.status_code == 200, (path, shown.text)
    index = browser_admin.get("/settings")
    for href in (PAGES, "/settings/update-templates", "/settings/audiences"):
        assert f'href="{href}"' in index.text


def test_an_admin_adds_a_page_and_finds_it_listed_with_its_public_address(browser_admin, db):
    created = browser_admin.post(
        PAGES, {"name": "Payments status", "slug": "payments", "time_zone": "Europe/Paris"}
    )

    assert created.status_code == 303
    assert created.headers["location"] == f"{PAGES}/payments?done=created"
    listing = browser_admin.get(PAGES)
    assert 'href="/status/payments"' in listing.text
    assert "Payments status" in listing.text
    assert page_row(db, "payments").time_zone == "Europe/Paris"
    settings = browser_admin.get(f"{PAGES}/payments?done=created")
    assert "Created." in settings.text
    assert 'href="/status/payments"' in settings.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"slug": ""}, "slug", "Give the page a slug"),
        ({"slug": "Not A Slug"}, "slug", "lowercase letters, digits and single hyphens"),
        ({"slug": "history"}, "slug", "reserved"),
        ({"slug": "status"}, "slug", "already exists"),
        ({"name": ""}, "name", "Give it a name."),
        ({"homepage_url": "ftp://x"}, "homepage_url", "must be an http or https URL"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "is not an IANA time zone"),
    ],
)
def test_a_refused_page_says_why_beside_the_field(browser_admin, fields, field, message):
    form = {"name": "Payments", "slug": "payments", "time_zone": "Etc/UTC", **fields}
    refused = browser_admin.post(PAGES, form)

    assert refused.status_code in (409, 422)
    text = html.unescape(refused.text)
    assert f'id="f-{field}-error"' in text
    assert message in text
    assert f'value="{form["name"]}"' in text  # what was typed stays


def test_page_settings_are_saved_and_the_default_moves_only_to_another_page(browser_admin, db):
    browser_admin.post(PAGES, {"name": "Payments", "slug": "payments", "time_zone": "Etc/UTC"})
    saved = browser_admin.post(
        f"{PAGES}/payments",
        {
            "name": "Payments status",
            "description": "Card payments",
            "support_url": "https://help.example.com",
            "time_zone": "Etc/UTC",
            "is_default": "on",
        },
    )

    assert saved.status_code == 303
    assert saved.headers["location"] == f"{PAGES}/payments?done=saved#settings"
    assert page_row(db, "payments").is_default
    assert not page_row(db, "status").is_default
    refused = browser_admin.post(f"{PAGES}/payments", {"name": "Payments", "time_zone": "Etc/UTC"})
    assert refused.status_code == 422
    assert 'id="f-is_default-error"' in refused.text
    assert "another page becomes it" in refused.text
    blank = browser_admin.post(f"{PAGES}/payments", {"name": "", "time_zone": "Etc/UTC"})
    assert 'id="f-name-error"' in blank.text


def test_a_page_is_deleted_after_a_confirmation_but_the_default_never(browser_admin, db):
    browser_admin.post(PAGES, {"name": "Payments", "slug": "payments", "time_zone": "Etc/UTC"})

    asked = browser_admin.post(f"{PAGES}/payments/delete")
    assert asked.status_code == 200
    assert "Delete the status page “Payments”?" in asked.text
    deleted = browser_admin.post(f"{PAGES}/payments/delete", {"confirmed": "yes"})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == f"{PAGES}?done=deleted"
    assert browser_admin.get(f"{PAGES}/payments").status_code == 404
    kept = browser_admin.post(f"{DEFAULT}/delete", {"confirmed": "yes"})
    assert kept.status_code == 409
    assert "make another page the default" in kept.text
    assert page_row(db).is_default


def test_groups_and_components_are_added_edited_moved_and_deleted(browser_admin, db, as_admin):
    made = as_admin.post("/api/v1/services", json={"name": "Checkout", "slug": "checkout"})
    service_id = made.json()["id"]
    for name in ("Payments", "Storefront"):
        added = browser_admin.post(f"{DEFAULT}/groups", {"group.name": name})
        assert added.status_code == 303
    payments, storefront = groups(db)
    for name in ("Card API", "Payouts"):
        added = add_component(
            browser_admin, name, **{"component.group": payments.code, "component.service": ""}
        )
        assert added.status_code == 303
    add_component(browser_admin, "Search", **{"component.service": str(service_id)})
    card, payouts, search = components(db)
    assert search.service_id == service_id
    page = browser_admin.get(DEFAULT)
    assert "stands for" in page.text
    assert "Checkout" in page.text

    moved = browser_admin.post(f"{DEFAULT}/components/{payouts.code}/move", {"direction": "up"})
    assert moved.headers["location"] == f"{DEFAULT}?done=moved#component-{payouts.code}"
    assert [c.name for c in components(db)] == ["Payouts", "Card API", "Search"]
    # Search is alone in having no group: nothing to move it past.
    browser_admin.post(f"{DEFAULT}/components/{search.code}/move", {"direction": "up"})
    assert [c.name for c in components(db)] == ["Payouts", "Card API", "Search"]
    browser_admin.post(f"{DEFAULT}/groups/{storefront.code}/move", {"direction": "up"})
    assert [g.name for g in groups(db)] == ["Storefront", "Payments"]
    browser_admin.post(f"{DEFAULT}/groups/{storefront.code}/move", {"direction": "up"})
    assert [g.name for g in groups(db)] == ["Storefront", "Payments"]
    assert browser_admin.post(f"{DEFAULT}/groups/{storefront.code}/move", {}).status_code == 422

    form = browser_admin.get(f"{DEFAULT}/components/{card.code}")
    assert form.status_code == 200
    assert 'value="Card API"' in form.text
    saved = browser_admin.post(
        f"{DEFAULT}/components/{card.code}",
        {"name": "Cards", "group": storefront.code, "service": "", "showcase": "on"},
    )
    assert saved.status_code == 303
    cards = next(c for c in components(db) if c.code == card.code)
    assert (cards.name, cards.group_id) == ("Cards", storefront.id)
    refused = browser_admin.post(
        f"{DEFAULT}/components/{card.code}", {"name": "", "service": "999999"}
    )
    assert refused.status_code == 422
    assert 'id="f-name-error"' in refused.text
    unknown = browser_admin.post(
        f"{DEFAULT}/components/{card.code}", {"name": "X", "service": "9999"}
    )
    assert 'id="f-service-error"' in unknown.text
    assert "no service 9999" in unknown.text

    group_form = browser_admin.get(f"{DEFAULT}/groups/{payments.code}")
    assert 'value="Payments"' in group_form.text
    renamed = browser_admin.post(f"{DEFAULT}/groups/{payments.code}", {"name": "Money"})
    assert renamed.status_code == 303
    assert groups(db)[1].name == "Money"
    blank = browser_admin.post(f"{DEFAULT}/groups/{payments.code}", {"name": " "})
    assert blank.status_code == 422
    assert 'id="f-name-error"' in blank.text

    asked = browser_admin.post(f"{DEFAULT}/groups/{payments.code}/delete")
    assert "Its components stay on the page" in asked.text
    browser_admin.post(f"{DEFAULT}/groups/{payments.code}/delete", {"confirmed": "yes"})
    assert [g.name for g in groups(db)] == ["Storefront"]
    assert next(c for c in components(db) if c.code == payouts.code).group_id is None
    asked = browser_admin.post(f"{DEFAULT}/components/{search.code}/delete")
    assert "Delete the component “Search”?" in asked.text
    gone = browser_admin.post(f"{DEFAULT}/components/{search.code}/delete", {"confirmed": "yes"})
    assert gone.headers["location"] == f"{DEFAULT}?done=deleted#components"
    assert "Search" not in [c.name for c in components(db)]
    actions = set(db.scalars(select(AuditRecord.action)))
    assert {"component.create", "component.update", "component.reorder"} <= actions
    assert {"status_component_group.delete", "component.delete"} <= actions


@pytest.mark.parametrize(
    ("path", "fields", "field", "message"),
    [
        ("groups", {"group.name": ""}, "group-name", "Give it a name."),
        ("components", {"component.name": ""}, "component-name", "Give it a name."),
        (
            "components",
            {"component.name": "X", "component.group": "nope"},
            "component-group",
            "no group",
        ),
        (
            "components",
            {"component.name": "X", "component.service": "abc"},
            "component-service",
            "Choose a service from the list",
        ),
        (
            "components",
            {"component.name": "X", "component.status": "on_fire"},
            "component-status",
            "Choose a status from the list.",
        ),
    ],
)
def test_a_refused_group_or_component_says_why_beside_its_field(
    browser_admin, path, fields, field, message
):
    refused = browser_admin.post(f"{DEFAULT}/{path}", fields)

    assert refused.status_code == 422
    assert f'id="f-{field}-error"' in refused.text
    assert message in html.unescape(refused.text)


def test_a_responder_sets_a_component_status_and_the_public_page_version_moves(
    browser_admin, browser_responder, db
):
    add_component(browser_admin, "Card API")
    (card,) = components(db)
    before = page_row(db).version

    set_status = browser_responder.post(
        f"{DEFAULT}/components/{card.code}/status", {"status": "major_outage"}
    )

    assert set_status.status_code == 303
    assert set_status.headers["location"] == f"{DEFAULT}?done=status#component-{card.code}"
    assert components(db)[0].status == "major_outage"
    assert page_row(db).version > before
    shown = browser_responder.get(set_status.headers["location"])
    assert "Status set" in shown.text
    assert '<option value="major_outage" selected>' in shown.text
    assert "Add a component" not in shown.text  # responders do not shape the page
    refused = browser_responder.post(
        f"{DEFAULT}/components/{card.code}/status", {"status": "on_fire"}
    )
    assert refused.status_code == 422
    assert f'id="f-status-{card.code}-error"' in refused.text


def test_a_responder_cannot_shape_pages_and_a_viewer_changes_nothing(
    browser_admin, browser_responder, viewer_browser, db
):
    add_component(browser_admin, "Card API")
    (card,) = components(db)
    group = browser_admin.post(f"{DEFAULT}/groups", {"group.name": "G"})
    assert group.status_code == 303
    (g,) = groups(db)
    admin_only = [
        (PAGES, {"name": "X", "slug": "x"}),
        (DEFAULT, {"name": "X"}),
        (f"{DEFAULT}/delete", {}),
        (f"{DEFAULT}/groups", {"group.name": "X"}),
        (f"{DEFAULT}/groups/{g.code}", {"name": "X"}),
        (f"{DEFAULT}/groups/{g.code}/move", {"direction": "up"}),
        (f"{DEFAULT}/groups/{g.code}/delete", {}),
        (f"{DEFAULT}/components", {"component.name": "X"}),
        (f"{DEFAULT}/components/{card.code}", {"name": "X"}),
        (f"{DEFAULT}/components/{card.code}/move", {"direction": "up"}),
        (f"{DEFAULT}/components/{card.code}/delete", {}),
        (f"{DEFAULT}/subscribers", {"target": "https://hooks.example.com/x"}),
        ("/settings/update-templates", {"name": "X", "audience": "public"}),
        ("/settings/audiences", {"name": "X", "kind": "custom"}),
    ]
    for path, form in admin_only:
        assert browser_responder.post(path, form).status_code == 403, path
    for path in (f"{DEFAULT}/groups/{g.code}", f"{DEFAULT}/subscribers", "/settings/audiences"):
        assert browser_responder.get(path).status_code == 403, path
    assert browser_responder.get(PAGES).status_code == 200
    assert browser_responder.get(f"{DEFAULT}/maintenance").status_code == 200
    for path, form in [
        *admin_only,
        (f"{DEFAULT}/components/{card.code}/status", {"status": "major_outage"}),
        (f"{DEFAULT}/maintenance", {"name": "X"}),
    ]:
        assert viewer_browser.post(path, form).status_code == 403, path
    assert viewer_browser.get(PAGES).status_code == 403
    assert components(db)[0].status == "operational"


def test_a_form_without_the_csrf_token_is_refused(browser_admin):
    refused = browser_admin.client.post(
        PAGES, data={"name": "X", "slug": "x"}, follow_redirects=False
    )
    assert refused.status_code == 403


def test_a_page_whose_components_all_sit_in_groups_shows_no_ungrouped_section(browser_admin, db):
    browser_admin.post(f"{DEFAULT}/groups", {"group.name": "Payments"})
    (payments,) = groups(db)
    add_component(browser_admin, "Card API", **{"component.group": payments.code})

    page = browser_admin.get(DEFAULT)

    assert "Card API" in page.text
    assert "Not in a group" not in page.text


def test_saving_a_page_that_is_not_the_default_leaves_the_default_alone(browser_admin, db):
    browser_admin.post(PAGES, {"name": "Payments", "slug": "payments", "time_zone": "Etc/UTC"})

    saved = browser_admin.post(f"{PAGES}/payments", {"name": "Pay", "time_zone": "Etc/UTC"})

    assert saved.status_code == 303
    assert page_row(db, "payments").name == "Pay"
    assert page_row(db, "status").is_default
