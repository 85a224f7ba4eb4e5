"""A note one responder adds shows up on every open page of the incident, without a reload."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .conftest import CORA, LEE, settle, sign_in, wait_for_live_stream, watched

pytestmark = pytest.mark.browser


def test_a_note_reaches_every_open_page_of_the_incident(
    new_page: Callable[[], Page], declared: Callable[..., str]
):
    reference = declared("Search results are hours stale", severity="SEV3", commander=CORA)
    lee = watched(new_page())
    sign_in(lee, LEE.email)
    lee.goto(f"/incidents/{reference}")
    wait_for_live_stream(lee)
    lee.evaluate("() => { window.neverReloaded = true; }")

    cora = watched(new_page())
    sign_in(cora, CORA.email)
    cora.goto(f"/incidents/{reference}")
    settle(cora)
    composer = cora.get_by_role("region", name="Add a note or decision")
    composer.get_by_label("What happened, or what was decided").fill("Index rebuild started.")
    composer.get_by_role("button", name="Add to the timeline").click()

    for page in (cora, lee):
        timeline = page.get_by_role("list", name="Timeline entries, newest first")
        expect(timeline.get_by_role("listitem").first).to_contain_text("Index rebuild started.")
    assert lee.evaluate("() => window.neverReloaded === true"), "Lee's page was reloaded"
