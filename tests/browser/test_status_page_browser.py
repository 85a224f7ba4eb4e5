"""Publishing from the incident page, in a real browser, as the communications lead lives it.

Lee publishes "Payments are failing" from the incident page with the Payments API in partial
outage, then posts the next update. A customer opening /status in another browser sees the
banner, the component's status and the update's words. The incident page and /status pass axe.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from fireline.clock import SystemClock
from fireline.comms.codes import new_code
from fireline.comms.pages import default_page
from fireline.db import make_engine, make_session_factory, transaction
from fireline.models import Component

from .conftest import (
    CORA,
    LEE,
    WAIT_MS,
    LiveServer,
    assert_accessible,
    screenshot,
    settle,
    sign_in,
    watched,
)

pytestmark = pytest.mark.browser


def add_component(live_server: LiveServer, name: str) -> None:
    engine = make_engine(live_server.database_url, pool_size=1)
    now = SystemClock().now()
    with transaction(make_session_factory(engine)) as session:
        page = default_page(session)
        assert page is not None
        session.add(
            Component(
                code=new_code(),
                page_id=page.id,
                name=name,
                started_at=now - timedelta(days=1),
                created_at=now,
                updated_at=now,
            )
        )
    engine.dispose()


def reload_until_shown(page: Page, text: str) -> None:
    """Reload until the page shows `text`: the server's cache rebuilds within a second of a
    change, so each reload is a fresh look, never a fixed wait."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not page.get_by_text(text).count():
        if time.monotonic() > deadline:
            pytest.fail(f"{page.url} did not show {text!r} within {WAIT_MS} ms")
        page.reload()


def test_an_update_published_from_the_incident_page_shows_on_the_status_page(
    new_page: Callable[[], Page], live_server: LiveServer, declared: Callable[..., str]
):
    add_component(live_server, "Payments API")
    reference = declared("Card payments fail at checkout", severity="SEV2", commander=CORA)
    lee = watched(new_page())
    sign_in(lee, LEE.email)
    lee.goto(f"/incidents/{reference}")

    # Publishing, with the Payments API in partial outage.
    section = lee.get_by_role("region", name="Status page")
    expect(section).to_contain_text("Not published")
    publish = section.get_by_role("form", name="Publish on a status page")
    publish.get_by_label("Public title").fill("Payments are failing")
    publish.get_by_label("Payments API").select_option("partial_outage")
    publish.get_by_label("Current impact").fill("Some card payments fail at checkout.")
    publish.get_by_role("button", name="Publish").click()
    expect(section).to_contain_text("Published as")
    settle(lee)

    # The next update: monitoring, with the speculative wording flagged in the preview.
    update = section.get_by_role("form", name="Next public update")
    update.get_by_label("Public status").select_option("monitoring")
    update.get_by_label("Current impact").fill("Card payments are succeeding again.")
    update.get_by_label("What we are doing").fill("This was probably the new fraud check.")
    update.get_by_role("button", name="Preview the public text").click()
    expect(section.get_by_text("This reads as a guess about the cause")).to_be_visible()
    section = lee.get_by_role("region", name="Status page")
    update = section.get_by_role("form", name="Next public update")
    update.get_by_label("What we are doing").fill("We switched off the new fraud check.")
    update.get_by_role("button", name="Post public update").click()
    expect(section.locator(".update-text").first).to_contain_text(
        "We switched off the new fraud check."
    )
    settle(lee)
    expect(
        lee.get_by_role("region", name="Support macro").get_by_role(
            "button", name="Copy the support macro"
        )
    ).to_be_visible()
    assert_accessible(lee)
    screenshot(lee, "incident-status-page")

    # A customer, at another computer.
    customer = new_page()
    customer.goto("/status")
    reload_until_shown(customer, "We switched off the new fraud check.")
    expect(customer.get_by_role("heading", level=1)).not_to_have_text("All Systems Operational")
    expect(customer.get_by_text("Payments are failing").first).to_be_visible()
    payments = customer.locator(".component-head").filter(has_text="Payments API")
    expect(payments).to_contain_text("Partial outage")
    assert_accessible(customer)
    screenshot(customer, "status-page-after-update")
