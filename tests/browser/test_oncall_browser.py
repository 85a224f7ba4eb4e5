"""A responder arranges cover: Cora opens the payments schedule and has Lee cover tomorrow
09:00-17:00; the block appears on the timeline and the shift in the final schedule. The on-call
pages are accessible and photographed for review."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from fireline.accounts import service as accounts
from fireline.accounts.principal import Actor
from fireline.clock import SystemClock
from fireline.db import make_engine, make_session_factory, transaction
from fireline.oncall import policies, schedules
from fireline.oncall.schemas import LevelIn, TargetIn

from .conftest import CORA, LEE, TIM, LiveServer, assert_accessible, screenshot, sign_in

pytestmark = pytest.mark.browser


def add_schedule_and_policy(live_server: LiveServer) -> int:
    """A UTC schedule with Cora and Tim taking weekly turns from a week ago, and a policy paging
    it; returns the policy's id."""
    engine = make_engine(live_server.database_url, pool_size=1)
    now = SystemClock().now()
    actor = Actor.system("browser-tests")
    with transaction(make_session_factory(engine)) as session:
        cora, tim = (accounts.find_user(session, p.email) for p in (CORA, TIM))
        schedule = schedules.create_schedule(
            session,
            actor=actor,
            now=now,
            name="Payments primary",
            timezone="UTC",
            layers=[
                {
                    "name": "Weekly",
                    "members": [cora.id, tim.id],
                    "shift_length": 1,
                    "shift_unit": "weeks",
                    "rotation_start": (now - timedelta(days=7)).replace(
                        hour=8, minute=0, second=0, microsecond=0
                    ),
                    "timezone": "UTC",
                    "restrictions": [],
                }
            ],
        )
        policy = policies.create_policy(
            session,
            actor=actor,
            now=now,
            name="Payments outage",
            levels=[LevelIn(delay_minutes=15, targets=[TargetIn(type="schedule", id=schedule.id)])],
        )
        policy_id = policy.id
    engine.dispose()
    return policy_id


def test_a_responder_has_a_colleague_cover_tomorrow(
    new_page: Callable[[], Page], live_server: LiveServer
):
    policy_id = add_schedule_and_policy(live_server)
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, CORA.email)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="On-call").click()
    expect(page.get_by_role("heading", name="On call now", level=1)).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Payments primary")).to_be_visible()
    expect(page.get_by_role("region", name="Escalation policies")).to_contain_text(
        "Payments outage"
    )
    assert_accessible(page)
    screenshot(page, "oncall-now")

    page.get_by_role("link", name="Payments primary").first.click()
    expect(page.get_by_role("heading", name="Payments primary", level=1)).to_be_visible()
    form = page.locator("#add-override")
    form.get_by_label("Who covers").select_option(label=f"{LEE.name} ({LEE.email})")
    tomorrow = (SystemClock().now() + timedelta(days=1)).date().isoformat()
    form.get_by_label("Starts").fill(f"{tomorrow}T09:00")
    form.get_by_label("Ends").fill(f"{tomorrow}T17:00")
    expect(form.get_by_label("Time zone of these times")).to_have_value("UTC")
    form.get_by_label("Reason (optional)").fill("Cora is at the dentist")
    form.get_by_role("button", name="Add override").click()

    expect(page.get_by_role("status").filter(has_text="The override is set")).to_be_visible()
    final_lane = page.get_by_role("list", name="Final schedule")
    block = final_lane.get_by_role("listitem").filter(has_text=LEE.name)
    expect(block).to_be_visible()
    expect(block).to_have_attribute("title", f"{LEE.name}: " + _span(tomorrow))
    row = page.locator("table.final-shifts").get_by_role("row").filter(has_text=LEE.name)
    expect(row).to_contain_text("Override")
    expect(page.get_by_role("region", name="Overrides")).to_contain_text("Cora is at the dentist")
    assert_accessible(page)
    screenshot(page, "oncall-schedule")

    page.goto(f"/oncall/policies/{policy_id}")
    expect(page.get_by_role("heading", name="Who would be paged now")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "oncall-policy")
    assert errors == []


def _span(day: str) -> str:
    at = date.fromisoformat(day)
    words = f"{at:%a} {at.day} {at:%b}"
    return f"{words} 09:00 to {words} 17:00 (UTC)"
