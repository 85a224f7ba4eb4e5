"""The incident page, as responders use it: a SEV1 declared at 10:00 shows its roles, clocks,
checklist and timeline; the page's forms change it as the API would, and refuse bad input in
place, keeping what was typed; the live stream says when something changed."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import anyio
import pytest
from sqlalchemy import event, insert, select

from fireline.incidents.views import incident_version
from fireline.models import TimelineEntry, TimelineThread
from fireline.web import live

from .conftest import Browser


@pytest.fixture
def sev1(as_responder) -> str:
    """Checkout down, declared SEV1 at 10:00 with Rita in command."""
    declared = as_responder.post(
        "/api/v1/incidents",
        json={
            "title": "Checkout down",
            "severity": "SEV1",
            "commander": "rita@example.com",
            "customer_impact": "No customer can pay.",
        },
    )
    assert declared.status_code == 201, declared.text
    return declared.json()["reference"]


def entries(api, ref: str, kind: str) -> list[dict]:
    page = api.get(f"/api/v1/incidents/{ref}/timeline", params={"kind": kind, "limit": 500})
    return page.json()["items"]


def obligation(api, ref: str, kind: str, sequence: int = 0) -> dict:
    owed = api.get(f"/api/v1/incidents/{ref}/obligations").json()
    return next(o for o in owed if o["kind"] == kind and o["sequence"] == sequence)


def htmx(browser: Browser, path: str, data: dict | None = None):
    return browser.post(path, data, headers={"HX-Request": "true"})


# --- reading the page -----------------------------------------------------------------------------


def test_a_declared_sev1_shows_its_roles_obligations_tasks_and_timeline(browser_responder, sev1):
    page = browser_responder.get(f"/incidents/{sev1}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Checkout down" in html
    assert 'class="badge sev-SEV1"' in html
    assert "#incident-2026-01-05-checkout-down" in html
    assert "Rita Responder" in html
    # The four single-holder roles and the experts, each with a way to fill it.
    for role in ("Incident commander", "Technical lead", "Communications lead", "Scribe"):
        assert role in html
    assert 'name="role" value="tech_lead"' in html
    # The first public update is owed by 10:15, counting down.
    assert "First public update" in html
    assert 'data-due="2026-01-05T10:15:00Z"' in html
    # The major-incident playbook, by phase, each task with its button.
    assert "<h3>0-5 min: declare and mobilise</h3>" in html
    assert "<h3>45-60 min: monitoring and closure plan</h3>" in html
    assert html.count('class="done-button"') >= 10
    # The timeline, newest first, live, and the live stream with the incident's token.
    assert 'aria-live="polite"' in html
    assert "declared the incident" in html
    assert re.search(rf'sse-connect="/incidents/{sev1}/events\?since=[0-9-]+"', html)
    assert '<script src="/static/vendor/sse.min.js" defer></script>' in html


def test_the_page_answers_to_the_number_alone_and_404s_for_an_unknown_incident(
    browser_responder, sev1
):
    number = sev1.removeprefix("INC-")
    assert browser_responder.get(f"/incidents/{number}").status_code == 200
    missing = browser_responder.get("/incidents/INC-999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")


def test_a_section_can_be_fetched_alone_for_htmx(browser_responder, sev1):
    section = browser_responder.get(f"/incidents/{sev1}/partials/obligations")
    assert section.status_code == 200
    assert section.text.lstrip().startswith("<section")
    assert 'id="obligations"' in section.text
    assert "<html" not in section.text


# --- changing the incident through the forms ------------------------------------------------------


def test_changing_the_status_through_the_form_is_recorded_and_shown(
    browser_responder, as_responder, sev1
):
    changed = browser_responder.post(
        f"/incidents/{sev1}/status", {"status": "identified", "note": "Bad deploy found."}
    )
    assert changed.status_code == 303
    assert changed.headers["location"] == f"/incidents/{sev1}#controls"
    assert as_responder.get(f"/api/v1/incidents/{sev1}").json()["status"] == "identified"
    page = browser_responder.get(f"/incidents/{sev1}").text
    assert "investigating → identified. Bad deploy found." in page


def test_an_illegal_status_change_is_refused_in_place_with_409(browser_responder, sev1):
    refused = browser_responder.post(f"/incidents/{sev1}/status", {"status": "triage", "note": "x"})
    assert refused.status_code == 409
    assert "Cannot move an incident from investigating to triage" in refused.text
    assert 'role="alert"' in refused.text


def test_declining_without_a_reason_points_at_the_note(browser_responder, as_responder):
    reported = as_responder.post(
        "/api/v1/incidents", json={"title": "Odd graphs", "severity": "SEV3", "status": "triage"}
    )
    ref = reported.json()["reference"]
    refused = browser_responder.post(f"/incidents/{ref}/status", {"status": "declined"})
    assert refused.status_code == 422
    assert 'id="status-form-note-problem"' in refused.text
    assert "say why this is not an incident" in refused.text


def test_changing_the_severity_with_a_reason(browser_responder, as_responder, sev1):
    changed = browser_responder.post(
        f"/incidents/{sev1}/severity", {"severity": "SEV2", "reason": "Only EU is affected."}
    )
    assert changed.status_code == 303
    assert as_responder.get(f"/api/v1/incidents/{sev1}").json()["severity"] == "SEV2"
    page = browser_responder.get(f"/incidents/{sev1}").text
    assert "lowered the severity: SEV1 → SEV2. Only EU is affected." in page


def test_choosing_the_current_severity_again_is_a_conflict_not_a_crash(browser_responder, sev1):
    refused = browser_responder.post(f"/incidents/{sev1}/severity", {"severity": "SEV1"})
    assert refused.status_code == 409
    assert "is already SEV1" in refused.text


def test_assigning_and_releasing_a_role(browser_responder, as_responder, make_person, sev1):
    make_person("responder", name="Tess Tech", email="tess@example.com")
    assigned = browser_responder.post(
        f"/incidents/{sev1}/roles", {"role": "tech_lead", "user": "tess@example.com"}
    )
    assert assigned.status_code == 303
    roles = as_responder.get(f"/api/v1/incidents/{sev1}").json()["roles"]
    assert roles["tech_lead"]["email"] == "tess@example.com"
    page = browser_responder.get(f"/incidents/{sev1}").text
    assert "made Tess Tech technical lead" in page

    released = browser_responder.post(f"/incidents/{sev1}/roles/tech_lead/release")
    assert released.status_code == 303
    assert as_responder.get(f"/api/v1/incidents/{sev1}").json()["roles"]["tech_lead"] is None


def test_assigning_someone_unknown_keeps_the_email_and_says_why(browser_responder, sev1):
    refused = browser_responder.post(
        f"/incidents/{sev1}/roles", {"role": "scribe", "user": "nobody@example.com"}
    )
    assert refused.status_code == 422
    assert "no user &#39;nobody@example.com&#39;" in refused.text
    assert 'value="nobody@example.com"' in refused.text
    assert 'aria-invalid="true"' in refused.text


def test_a_note_and_a_decision_land_on_the_timeline(browser_responder, as_responder, sev1):
    noted = browser_responder.post(
        f"/incidents/{sev1}/timeline", {"kind": "note", "body": "Error rate 40 % in EU."}
    )
    assert noted.status_code == 303
    decided = browser_responder.post(
        f"/incidents/{sev1}/timeline", {"kind": "decision", "body": "Roll back 2026.01.05-3."}
    )
    assert decided.status_code == 303
    assert [e["body"] for e in entries(as_responder, sev1, "decision")] == [
        "Roll back 2026.01.05-3."
    ]
    page = browser_responder.get(f"/incidents/{sev1}").text
    assert "Error rate 40 % in EU." in page
    assert page.index("Roll back 2026.01.05-3.") < page.index("Error rate 40 % in EU.")


def test_an_empty_note_is_refused_in_place_and_nothing_is_stored(
    browser_responder, as_responder, sev1
):
    refused = browser_responder.post(
        f"/incidents/{sev1}/timeline", {"kind": "decision", "body": "   "}
    )
    assert refused.status_code == 422
    assert 'id="note-body-problem"' in refused.text
    assert "is required" in refused.text
    assert 'value="decision" checked' in refused.text
    assert entries(as_responder, sev1, "decision") == []


def test_a_public_update_meets_the_first_public_update(browser_responder, as_responder, sev1):
    posted = browser_responder.post(
        f"/incidents/{sev1}/updates",
        {
            "audience": "public",
            "current_impact": "Payments fail for all customers.",
            "doing_now": "We are rolling back the latest release.",
            "users_should": "Retry your payment after 10:45 UTC.",
            "next_update_at": "2026-01-05T10:45",
        },
    )
    assert posted.status_code == 303, posted.text
    first = obligation(as_responder, sev1, "first_public_update")
    assert first["state"] == "met"
    update = entries(as_responder, sev1, "public_update")[0]
    assert update["details"]["next_update_at"] == "2026-01-05T10:45:00Z"
    page = browser_responder.get(f"/incidents/{sev1}").text
    assert "What users should do: Retry your payment after 10:45 UTC." in page


def test_a_public_update_without_what_users_should_do_keeps_every_word_typed(
    browser_responder, as_responder, sev1
):
    refused = browser_responder.post(
        f"/incidents/{sev1}/updates",
        {
            "audience": "public",
            "current_impact": "Payments fail in the EU.",
            "doing_now": "Failing over to the US processor.",
            "users_should": "",
            "next_update_at": "2026-01-05T10:45",
        },
    )
    assert refused.status_code == 422
    html = refused.text
    assert "Payments fail in the EU.</textarea>" in html
    assert "Failing over to the US processor.</textarea>" in html
    assert 'value="2026-01-05T10:45"' in html
    assert 'id="update-public-users_should-problem"' in html
    assert entries(as_responder, sev1, "public_update") == []
    assert obligation(as_responder, sev1, "first_public_update")["state"] == "pending"


def test_an_internal_update_needs_no_advice_for_users(browser_responder, as_responder, sev1):
    posted = browser_responder.post(
        f"/incidents/{sev1}/updates",
        {
            "audience": "internal",
            "current_impact": "All checkout traffic, about 12 000 users.",
            "doing_now": "Rolling back; ETA 10:40.",
            "next_update_at": "",
        },
    )
    assert posted.status_code == 303, posted.text
    assert len(entries(as_responder, sev1, "internal_update")) == 1


def test_the_preview_renders_the_update_and_warns_on_guesses_about_the_cause(
    browser_responder, as_responder, sev1
):
    draft = {
        "audience": "public",
        "current_impact": "Payments fail. This was probably caused by a bad deploy.",
        "doing_now": "Rolling back.",
        "users_should": "Retry later.",
        "next_update_at": "2026-01-05T10:45",
    }
    preview = htmx(browser_responder, f"/incidents/{sev1}/updates/preview", draft)
    assert preview.status_code == 200
    assert "Current impact: Payments fail." in preview.text
    assert "Next update: by 2026-01-05T10:45:00Z." in preview.text
    assert "“probably”" in preview.text
    assert "“caused by”" in preview.text
    assert entries(as_responder, sev1, "public_update") == []

    # Without script, the page comes back with the preview and the draft kept.
    page = browser_responder.post(f"/incidents/{sev1}/updates/preview", draft)
    assert page.status_code == 200
    assert "“probably”" in page.text
    assert "This was probably caused by a bad deploy.</textarea>" in page.text


def test_an_internal_preview_does_not_police_wording(browser_responder, sev1):
    draft = {"audience": "internal", "current_impact": "Likely the DB.", "doing_now": "Looking."}
    preview = htmx(browser_responder, f"/incidents/{sev1}/updates/preview", draft)
    assert "guess about the cause" not in preview.text


def test_waiving_an_obligation_with_a_reason(browser_responder, as_responder, sev1):
    path = f"/incidents/{sev1}/obligations/exec_notice/0/waive"
    refused = browser_responder.post(path, {"reason": ""})
    assert refused.status_code == 422
    assert obligation(as_responder, sev1, "exec_notice")["state"] == "pending"

    waived = browser_responder.post(path, {"reason": "Execs are in the war room."})
    assert waived.status_code == 303
    assert obligation(as_responder, sev1, "exec_notice")["state"] == "waived"


def test_ticking_off_and_reopening_a_task(browser_responder, as_responder, sev1):
    task = as_responder.get(f"/api/v1/incidents/{sev1}/tasks").json()[0]
    done = browser_responder.post(f"/incidents/{sev1}/tasks/{task['id']}/complete")
    assert done.status_code == 303
    again = browser_responder.post(f"/incidents/{sev1}/tasks/{task['id']}/complete")
    assert again.status_code == 409
    assert "was already done" in again.text
    reopened = browser_responder.post(f"/incidents/{sev1}/tasks/{task['id']}/reopen")
    assert reopened.status_code == 303
    tasks = as_responder.get(f"/api/v1/incidents/{sev1}/tasks").json()
    assert tasks[0]["state"] == "open"
    assert browser_responder.post(f"/incidents/{sev1}/tasks/999999/complete").status_code == 409


def test_pinning_an_entry_and_filtering_to_pinned_ones(browser_responder, as_responder, sev1):
    note = as_responder.post(
        f"/api/v1/incidents/{sev1}/timeline", json={"body": "Rollback started."}
    ).json()
    pinned = htmx(
        browser_responder, f"/incidents/{sev1}/timeline/{note['id']}/pin", {"pin": "true"}
    )
    assert pinned.status_code == 200
    assert pinned.text.lstrip().startswith(f'<li id="entry-{note["id"]}"')
    assert "Unpin" in pinned.text
    only_pinned = browser_responder.get(f"/incidents/{sev1}?pinned=true").text
    assert "Rollback started." in only_pinned
    assert "declared the incident" not in only_pinned

    unpinned = browser_responder.post(
        f"/incidents/{sev1}/timeline/{note['id']}/pin", {"pin": "false"}
    )
    assert unpinned.status_code == 303
    assert unpinned.headers["location"].endswith(f"#entry-{note['id']}")
    assert "Rollback started." not in browser_responder.get(f"/incidents/{sev1}?pinned=true").text


def test_the_timeline_filters_by_thread_and_kind(browser_responder, as_responder, sev1):
    as_responder.post(f"/api/v1/incidents/{sev1}/threads", json={"name": "payments-db"})
    as_responder.post(
        f"/api/v1/incidents/{sev1}/timeline",
        json={"body": "Replica lag 40 s.", "thread": "payments-db"},
    )
    by_thread = browser_responder.get(f"/incidents/{sev1}?thread=payments-db").text
    assert "Replica lag 40 s." in by_thread
    assert "declared the incident" not in by_thread
    by_kind = browser_responder.get(f"/incidents/{sev1}/partials/timeline?kind=declared").text
    assert "declared the incident" in by_kind
    assert "Replica lag 40 s." not in by_kind
    unknown = browser_responder.get(f"/incidents/{sev1}?thread=nope")
    assert unknown.status_code == 200
    assert "There is no thread named “nope”." in unknown.text


# --- htmx: the section comes back -----------------------------------------------------------------


def test_htmx_gets_the_fresh_section_and_a_nudge_to_the_others(browser_responder, sev1):
    noted = htmx(browser_responder, f"/incidents/{sev1}/timeline", {"body": "Mitigation holding."})
    assert noted.status_code == 200
    assert noted.headers["HX-Trigger"] == "incident-changed"
    assert 'id="composer"' in noted.text
    assert "<html" not in noted.text

    refused = htmx(browser_responder, f"/incidents/{sev1}/timeline", {"body": ""})
    assert refused.status_code == 422
    assert 'id="composer"' in refused.text
    assert "HX-Trigger" not in refused.headers


# --- resolving ------------------------------------------------------------------------------------


def test_the_resolve_form_lists_what_the_gate_needs_and_resolves_once_it_is_met(
    browser_responder, as_responder, sev1
):
    page = browser_responder.get(f"/incidents/{sev1}").text
    assert "Record the resolution criteria" in page
    assert "A major incident needs a postmortem owner" in page

    blocked = browser_responder.post(
        f"/incidents/{sev1}/resolve",
        {"resolution_criteria": "Checkout error rate < 0.1 % for 30 min", "criteria_met": "true"},
    )
    assert blocked.status_code == 409
    assert "cannot be resolved yet" in blocked.text
    assert "Confirm that customer impact has ended." in blocked.text
    assert "Checkout error rate &lt; 0.1 % for 30 min</textarea>" in blocked.text
    # Nothing the refused form carried was kept.
    assert as_responder.get(f"/api/v1/incidents/{sev1}").json()["criteria_met"] is False

    resolved = browser_responder.post(
        f"/incidents/{sev1}/resolve",
        {
            "resolution_criteria": "Checkout error rate < 0.1 % for 30 min",
            "criteria_met": "true",
            "customer_impact_ended": "true",
            "postmortem_owner": "rita@example.com",
            "postmortem_due_at": "2026-01-09T17:00",
            "monitoring_waiver_reason": "Rolled back to a release that ran for a week.",
            "note": "Stable.",
        },
    )
    assert resolved.status_code == 303, resolved.text
    incident = as_responder.get(f"/api/v1/incidents/{sev1}").json()
    assert incident["status"] == "resolved"
    assert incident["postmortem_due_at"].startswith("2026-01-09T17:00")
    page = browser_responder.get(f"/incidents/{sev1}").text
    assert "This incident is resolved" in page
    assert "Monitoring period waived: Rolled back to a release that ran for a week." in page


def test_a_malformed_due_date_is_an_inline_error_not_a_crash(browser_responder, sev1):
    refused = browser_responder.post(
        f"/incidents/{sev1}/resolve", {"postmortem_due_at": "next friday"}
    )
    assert refused.status_code == 422
    assert 'id="resolve-postmortem_due_at-problem"' in refused.text
    assert 'value="next friday"' in refused.text


# --- who may do what ------------------------------------------------------------------------------


def test_a_viewer_reads_the_page_without_forms_and_may_not_post(sign_in, viewer, sev1):
    browser = sign_in(viewer)
    page = browser.get(f"/incidents/{sev1}")
    assert page.status_code == 200
    main = page.text.split('<main id="main"', 1)[1]
    assert 'method="post"' not in main  # only the timeline's filters, which read
    assert 'id="timeline-filters"' in main
    assert "Checkout down" in main
    assert "First public update" in main
    forbidden = browser.post(f"/incidents/{sev1}/timeline", {"body": "I was here."})
    assert forbidden.status_code == 403
    assert "Your role does not allow this" in forbidden.text
    assert browser.post(f"/incidents/{sev1}/updates/preview", {}).status_code == 403


def test_a_form_without_the_pages_csrf_token_is_refused(browser_responder, sev1):
    forged = browser_responder.client.post(
        f"/incidents/{sev1}/timeline",
        data={"csrf_token": "forged", "body": "hello"},
        follow_redirects=False,
    )
    assert forged.status_code == 403


def test_a_stranger_is_sent_to_sign_in(client, sev1):
    asked = client.get(f"/incidents/{sev1}", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"].startswith("/login?next=/incidents/")
    assert client.get(f"/incidents/{sev1}/events", follow_redirects=False).status_code == 303


# --- paging a long timeline -----------------------------------------------------------------------


def add_notes(db, ref: str, count: int, start: datetime) -> None:
    """`count` notes a minute apart from `start`, written straight to the table."""
    incident_id = int(ref.removeprefix("INC-"))
    thread_id = db.scalar(
        select(TimelineThread.id).where(
            TimelineThread.incident_id == incident_id, TimelineThread.is_command.is_(True)
        )
    )
    rows = [
        {
            "incident_id": incident_id,
            "thread_id": thread_id,
            "kind": "note",
            "body": f"Note {n:04d}",
            "details": {},
            "author_id": None,
            "occurred_at": start + timedelta(minutes=n),
            "created_at": start + timedelta(minutes=n),
            "pinned": False,
        }
        for n in range(1, count + 1)
    ]
    db.execute(insert(TimelineEntry), rows)
    db.commit()


def test_a_long_timeline_shows_the_newest_hundred_and_a_link_to_older_ones(
    browser_responder, db, clock, sev1
):
    add_notes(db, sev1, 150, clock.now())
    clock.advance(hours=3)
    page = browser_responder.get(f"/incidents/{sev1}").text
    assert page.count('class="entry kind-note') == 100
    assert "Note 0150" in page
    assert "Note 0051" in page
    assert "Note 0050" not in page
    older = re.search(r'hx-get="(/incidents/INC-\d+/partials/older\?before=[^"]+)"', page)
    assert older, "no link to older entries"
    assert "Show older entries" in page

    rest = browser_responder.get(older.group(1).replace("&amp;", "&")).text
    assert "Note 0050" in rest
    assert "Note 0001" in rest
    assert "Note 0051" not in rest
    assert "declared the incident" in rest
    assert "Show older entries" not in rest


def test_the_page_costs_the_same_queries_whatever_the_timeline_length(
    browser_responder, db, clock, engine, sev1
):
    def queries_for_page() -> int:
        statements: list[str] = []

        def count(*args) -> None:
            statements.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert browser_responder.get(f"/incidents/{sev1}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    short = queries_for_page()
    add_notes(db, sev1, 1000, clock.now())
    assert queries_for_page() == short
    assert short < 40


# --- live updates ---------------------------------------------------------------------------------


def test_the_change_token_moves_with_each_change(db, clock, as_responder, sev1):
    incident_id = int(sev1.removeprefix("INC-"))
    before = incident_version(db, incident_id)
    note = as_responder.post(f"/api/v1/incidents/{sev1}/timeline", json={"body": "Hello"}).json()
    db.expire_all()
    after_note = incident_version(db, incident_id)
    assert after_note != before
    as_responder.put(f"/api/v1/incidents/{sev1}/timeline/{note['id']}/pin", json={"pinned": True})
    db.expire_all()
    assert incident_version(db, incident_id) != after_note
    assert incident_version(db, 999_999) is None


def read_events(browser: Browser, url: str, headers: dict | None = None) -> list[str]:
    """The stream's lines up to its first `changed` event."""
    lines: list[str] = []
    with browser.client.stream("GET", url, headers=headers or {}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith("data:") and "event: changed" in lines:
                break
    return lines


def test_the_stream_says_changed_after_a_note_is_added(browser_responder, db, sev1):
    page = browser_responder.get(f"/incidents/{sev1}").text
    since = re.search(r"events\?since=([0-9-]+)", page).group(1)
    browser_responder.post(f"/incidents/{sev1}/timeline", {"body": "Rollback done."})
    now = incident_version(db, int(sev1.removeprefix("INC-")))
    assert now != since

    lines = read_events(browser_responder, f"/incidents/{sev1}/events?since={since}")
    assert lines[0] == f"retry: {live.RETRY_MILLISECONDS}"
    assert lines[-3:] == [f"id: {now}", "event: changed", f"data: {now}"]


def test_a_reconnecting_browser_picks_up_from_the_last_event_it_was_sent(
    browser_responder, db, sev1
):
    before = incident_version(db, int(sev1.removeprefix("INC-")))
    browser_responder.post(f"/incidents/{sev1}/timeline", {"body": "Rollback done."})
    now = incident_version(db, int(sev1.removeprefix("INC-")))
    # The page's own token is current, but the browser was last told about `before`.
    url = f"/incidents/{sev1}/events?since={now}"
    lines = read_events(browser_responder, url, headers={"Last-Event-ID": before})
    assert "event: changed" in lines


class FakeRequest:
    """Enough of a request for the stream: it disconnects after `checks` checks."""

    def __init__(self, checks: int) -> None:
        self.checks = checks

    async def is_disconnected(self) -> bool:
        self.checks -= 1
        return self.checks < 0


def test_the_stream_beats_while_quiet_and_ends_when_the_browser_leaves(session_factory, sev1):
    incident_id = int(sev1.removeprefix("INC-"))
    retry = f"retry: {live.RETRY_MILLISECONDS}\n\n"

    def read(incident: int, checks: int, **timing) -> list[str]:
        async def collect() -> list[str]:
            stream = live.changes(FakeRequest(checks), session_factory, incident, **timing)
            return [message async for message in stream]

        # In a thread of its own: the browser tests' Playwright may own this thread's loop.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(anyio.run, collect).result(timeout=30)

    quiet = read(incident_id, 3, poll_seconds=0, heartbeat_seconds=0)
    assert quiet[0] == retry
    assert quiet[1].startswith("id: ")  # where it starts, with no event to dispatch
    assert "event" not in quiet[1]
    assert quiet[2:] == [": heartbeat\n\n", ": heartbeat\n\n"]  # then it disconnected

    assert read(999_999, 5, poll_seconds=0)[-1].startswith("event: gone")


def test_stream_for_an_unknown_incident_is_a_404(browser_responder):
    assert browser_responder.get("/incidents/INC-424242/events").status_code == 404


def test_a_naive_next_update_time_is_taken_as_utc(browser_responder, as_responder, sev1):
    browser_responder.post(
        f"/incidents/{sev1}/updates",
        {
            "audience": "internal",
            "current_impact": "EU only.",
            "doing_now": "Rolling back.",
            "next_update_at": "2026-01-05T11:00",
        },
    )
    update = entries(as_responder, sev1, "internal_update")[0]
    assert update["details"]["next_update_at"] == "2026-01-05T11:00:00Z"
