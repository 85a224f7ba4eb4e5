"""A responder signs in through the form and lands on the dashboard; both pages are accessible."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import CORA, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_a_wrong_password_is_refused_on_an_accessible_sign_in_page(page: Page):
    page.goto("/?focus=INC-1")
    expect(page).to_have_url("/login?next=/%3Ffocus%3DINC-1")
    assert_accessible(page)
    screenshot(page, "login")

    page.get_by_label("Email").fill(CORA.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
    expect(page.get_by_label("Email")).to_have_value(CORA.email)


def test_a_responder_signs_in_to_an_accessible_dashboard(page: Page):
    sign_in(page, CORA.email)
    expect(page.get_by_role("button", name=f"Sign out {CORA.name}")).to_be_visible()
    dashboard_link = page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Dashboard"
    )
    expect(dashboard_link).to_have_attribute("aria-current", "page")
    assert_accessible(page)
    screenshot(page, "dashboard-on-sign-in")
