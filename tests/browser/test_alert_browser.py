"""An admin connects Prometheus; its alert arrives through the PagerDuty Events API; the
responder on call acknowledges it from the alert list (the row updates without a reload) and the
alert page says who took it. The pages are accessible and photographed for review."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from fireline.accounts.principal import Actor
from fireline.catalog import service as catalog
from fireline.clock import SystemClock
from fireline.db import make_engine, make_session_factory, transaction

from .conftest import (
    ADMIN,
    CORA,
    LiveServer,
    assert_accessible,
    screenshot,
    settle,
    sign_in,
    watched,
)

pytestmark = pytest.mark.browser

SUMMARY = "Storefront 5xx above 5 % in eu-west-1"


def add_service(live_server: LiveServer, name: str) -> None:
    engine = make_engine(live_server.database_url, pool_size=1)
    with transaction(make_session_factory(engine)) as session:
        catalog.create_service(
            session, actor=Actor.system("browser-tests"), now=SystemClock().now(), name=name
        )
    engine.dispose()


def test_a_responder_acknowledges_an_arriving_alert_from_the_list(
    new_page: Callable[[], Page], live_server: LiveServer
):
    add_service(live_server, "Storefront")
    admin = new_page()
    sign_in(admin, ADMIN.email)
    admin.goto("/settings/integrations")
    form = admin.locator("#new-integration")
    form.get_by_label("Service").select_option(label="Storefront")
    form.get_by_label("Type").select_option("pagerduty")
    form.get_by_label("Name").fill("Storefront Prometheus")
    form.get_by_role("button", name="Add integration").click()
    expect(admin.get_by_role("status").filter(has_text="Created.")).to_be_visible()
    card = admin.get_by_role("region", name="Storefront Prometheus")
    key = card.get_by_role("textbox", name="Routing key").input_value()
    assert len(key) == 32
    expect(
        card.get_by_role("button", name="Copy the routing key of Storefront Prometheus")
    ).to_be_visible()
    assert_accessible(admin)
    screenshot(admin, "integrations")

    sent = httpx.post(
        f"{live_server.url}/v2/enqueue",
        json={
            "routing_key": key,
            "event_action": "trigger",
            "payload": {"summary": SUMMARY, "source": "prometheus", "severity": "critical"},
            "links": [
                {"href": "https://grafana.example.com/d/storefront", "text": "Grafana dashboard"}
            ],
        },
    )
    assert sent.status_code == 202, sent.text

    cora = watched(new_page())
    sign_in(cora, CORA.email)
    cora.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    row = cora.get_by_role("row").filter(has_text=SUMMARY)
    expect(row).to_contain_text("triggered")
    expect(row).to_contain_text("critical")
    settle(cora)
    cora.evaluate("() => { window.neverReloaded = true; }")
    assert_accessible(cora)

    row.get_by_role("button", name="Acknowledge").click()

    expect(row).to_contain_text("acknowledged")
    expect(row).to_contain_text(CORA.name)
    expect(row.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(cora.get_by_role("status").filter(has_text="acknowledged")).to_be_attached()
    assert cora.evaluate("() => window.neverReloaded === true"), "the list was reloaded"
    assert_accessible(cora)
    screenshot(cora, "alerts-list")

    row.get_by_role("link", name=SUMMARY).click()
    expect(cora.get_by_role("heading", level=1)).to_contain_text(SUMMARY)
    expect(cora.locator(".facts")).to_contain_text(f"Acknowledged by{CORA.name}")
    expect(cora.get_by_role("link", name="Grafana dashboard")).to_have_attribute(
        "href", "https://grafana.example.com/d/storefront"
    )
    log = cora.get_by_role("region", name="Log")
    expect(log).to_contain_text(f"Acknowledged by {CORA.name}")
    assert_accessible(cora)
    screenshot(cora, "alert-page")
