"""An admin sets up the status page in a browser: every settings page passes axe, a refused form
shows its message beside the field, and a component's status set here shows on /status."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import ADMIN, assert_accessible, sign_in


def test_an_admin_adds_a_component_sets_its_status_and_every_page_passes_axe(page: Page):
    sign_in(page, ADMIN.email)
    page.goto("/settings")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Status pages").click()
    expect(page.get_by_role("heading", name="Status pages", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Service status").click()
    form = page.locator("#new-component")
    form.get_by_label("Name").fill("   ")  # passes the browser's check, not the server's
    form.get_by_role("button", name="Add component").click()
    expect(form.locator("#f-component-name-error")).to_be_visible()
    assert_accessible(page)
    form = page.locator("#new-component")
    form.get_by_label("Name").fill("Browser checkout")
    form.get_by_role("button", name="Add component").click()
    expect(page.get_by_role("status").filter(has_text="Created.")).to_be_visible()
    page.get_by_label("Status of Browser checkout").select_option("partial_outage")
    item = page.locator("li", has=page.get_by_label("Status of Browser checkout"))
    item.get_by_role("button", name="Set status").click()
    expect(page.get_by_role("status").filter(has_text="Status set")).to_be_visible()
    assert_accessible(page)

    for path, heading in (
        ("/settings/status-pages/status/maintenance", "Maintenance on Service status"),
        ("/settings/status-pages/status/subscribers", "Subscribers of Service status"),
        ("/settings/update-templates", "Update templates"),
        ("/settings/audiences", "Audiences"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        assert_accessible(page)

    page.goto("/status")
    expect(page.get_by_text("Browser checkout").first).to_be_visible()
    expect(page.get_by_text("Partial outage").first).to_be_visible()
