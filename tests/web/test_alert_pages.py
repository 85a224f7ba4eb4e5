"""The alert list and the alert page: what a responder sees when paged, and the buttons they
press — acknowledge and resolve in place from the list, link to an incident from the alert."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from fireline.models import Alert, AuditRecord

HTMX = {"HX-Request": "true"}


def add_service(api, slug: str) -> None:
    made = api.post("/api/v1/services", json={"name": slug.title(), "slug": slug})
    assert made.status_code == 201, made.text


def pd_trigger(key: str, summary: str, *, dedup_key: str | None = None, **payload) -> dict:
    """A PagerDuty Events API v2 trigger, as Prometheus sends it."""
    event: dict = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {"summary": summary, "source": "prometheus", "severity": "critical", **payload},
    }
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    return event


@pytest.fixture
def checkout(as_admin) -> str:
    """Checkout with a Prometheus integration speaking the PagerDuty Events API: its key."""
    add_service(as_admin, "checkout")
    made = as_admin.post(
        "/api/v1/integrations",
        json={"service": "checkout", "type": "pagerduty", "name": "Prometheus"},
    )
    assert made.status_code == 201, made.text
    return made.json()["key"]


@pytest.fixture
def fired(client, db, checkout):
    """Send a trigger through the checkout integration, as Prometheus would; the alert made."""

    def send(summary: str, **payload) -> Alert:
        sent = client.post("/v2/enqueue", json=pd_trigger(checkout, summary, **payload))
        assert sent.status_code == 202, sent.text
        db.expire_all()
        return db.scalars(select(Alert).where(Alert.summary == summary)).one()

    return send


def row_of(html: str, alert_id: int) -> str:
    match = re.search(rf'<tr id="alert-{alert_id}".*?</tr>', html, re.S)
    assert match, f"alert {alert_id} is not in the list"
    return match.group(0)


def test_the_list_shows_open_alerts_with_their_service_severity_and_occurrences(
    browser_responder, fired, client, checkout
):
    disk = fired("Disk 91 % full on db-3", severity="warning")
    client.post("/v2/enqueue", json=pd_trigger(checkout, "Checkout 5xx above 5 %", dedup_key="5xx"))
    client.post("/v2/enqueue", json=pd_trigger(checkout, "Checkout 5xx above 5 %", dedup_key="5xx"))
    old = fired("Old and done")
    browser_responder.post(f"/alerts/{old.id}/actions/resolve")

    listed = browser_responder.get("/alerts")

    assert listed.status_code == 200
    assert 'aria-current="page">Alerts</a>' in listed.text
    row = row_of(listed.text, disk.id)
    assert "warning" in row
    assert "triggered" in row
    assert "Checkout" in row
    five_xx = re.search(r'<tr id="alert-(\d+)"[^>]*>(?:(?!</tr>).)*Checkout 5xx', listed.text, re.S)
    assert five_xx
    assert '<td class="number">2</td>' in five_xx.group(0)
    assert f'id="alert-{old.id}"' not in listed.text  # resolved: not open

    resolved = browser_responder.get("/alerts", params={"status": "resolved"})
    assert f'id="alert-{old.id}"' in resolved.text
    assert f'id="alert-{disk.id}"' not in resolved.text


def test_filters_narrow_by_severity_service_and_words_of_the_summary(
    browser_responder, fired, as_admin
):
    disk = fired("Disk 91 % full on db-3", severity="warning")
    latency = fired("Checkout latency p99 above 2 s", severity="critical")
    add_service(as_admin, "search")

    by_severity = browser_responder.get("/alerts", params={"severity": "critical"})
    assert f'id="alert-{latency.id}"' in by_severity.text
    assert f'id="alert-{disk.id}"' not in by_severity.text
    by_words = browser_responder.get("/alerts", params={"q": "DISK db-3"})
    assert f'id="alert-{disk.id}"' in by_words.text
    assert f'id="alert-{latency.id}"' not in by_words.text
    assert 'value="DISK db-3"' in by_words.text  # the search stays in the box
    elsewhere = browser_responder.get("/alerts", params={"service": "search"})
    assert "No alerts match these filters" in elsewhere.text
    like_wildcards = browser_responder.get("/alerts", params={"q": "%_"})
    assert "No alerts match" in like_wildcards.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "sleeping"}, "'sleeping' is not one of"),
        ({"severity": "SEV1"}, "'SEV1' is not one of critical"),
        ({"service": "nowhere"}, "there is no service"),
        ({"q": "x" * 201}, "longer than 200"),
        ({"cursor": "not-a-cursor"}, "This page link is broken"),
        ({"q": "a\x00b"}, "NUL character"),
    ],
)
def test_filters_that_make_no_sense_are_explained_not_a_server_error(
    browser_responder, params, message
):
    answer = browser_responder.get("/alerts", params=params)

    assert answer.status_code == 422
    assert "These filters cannot be used" in answer.text
    assert message in html.unescape(answer.text)


def test_fifty_one_alerts_page_with_an_older_link(browser_responder, client, checkout, db):
    for n in range(51):
        client.post("/v2/enqueue", json=pd_trigger(checkout, f"Alert number {n}"))
    db.expire_all()
    oldest = db.scalars(select(Alert).order_by(Alert.id)).first()

    first = browser_responder.get("/alerts")
    assert first.text.count('<tr id="alert-') == 50
    assert f'id="alert-{oldest.id}"' not in first.text
    older = re.search(r'<a href="([^"]+)" rel="next">Older alerts</a>', first.text)
    assert older

    second = browser_responder.get(older.group(1).replace("&amp;", "&"))
    assert second.text.count('<tr id="alert-') == 1
    assert f'id="alert-{oldest.id}"' in second.text
    assert "Newest alerts" in second.text


def test_acknowledging_from_the_list_with_htmx_answers_with_the_updated_row(
    browser_responder, fired, db
):
    alert = fired("Checkout 5xx above 5 %")

    answer = browser_responder.post(
        f"/alerts/{alert.id}/actions/acknowledge", {"next": "/alerts"}, headers=HTMX
    )

    assert answer.status_code == 200
    assert answer.text.lstrip().startswith(f'<tr id="alert-{alert.id}"')
    assert "acknowledged" in answer.text
    assert "Rita Responder" in answer.text
    assert ">Acknowledge<" not in answer.text  # only Resolve is left
    assert f"Alert {alert.id} acknowledged." in answer.text  # said to screen readers
    db.expire_all()
    stored = db.get(Alert, alert.id)
    assert stored.status == "acknowledged"
    assert stored.acknowledged_by_id is not None
    audit = db.scalars(select(AuditRecord).where(AuditRecord.action == "alert.acknowledge"))
    assert len(audit.all()) == 1

    resolved = browser_responder.post(f"/alerts/{alert.id}/actions/resolve", headers=HTMX)
    assert resolved.status_code == 200
    assert "Resolved</span>" in resolved.text


def test_without_script_the_buttons_post_and_return_to_the_filtered_list(browser_responder, fired):
    alert = fired("Checkout 5xx above 5 %")

    answer = browser_responder.post(
        f"/alerts/{alert.id}/actions/acknowledge", {"next": "/alerts?severity=critical"}
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/alerts?severity=critical"
    page = browser_responder.get(f"/alerts/{alert.id}")
    assert "Acknowledged by</dt><dd>Rita Responder" in page.text


@pytest.mark.parametrize("elsewhere", ["https://evil.example/", "//evil.example/alerts", ""])
def test_a_button_returns_only_to_alert_pages(browser_responder, fired, elsewhere):
    alert = fired("Checkout 5xx above 5 %")

    answer = browser_responder.post(f"/alerts/{alert.id}/actions/resolve", {"next": elsewhere})

    assert answer.headers["location"] == f"/alerts/{alert.id}?done=resolve"
    assert "Resolved: paging has stopped." in browser_responder.get(answer.headers["location"]).text


def test_acknowledging_a_resolved_alert_is_refused_in_words(browser_responder, fired):
    alert = fired("Checkout 5xx above 5 %")
    browser_responder.post(f"/alerts/{alert.id}/actions/resolve")

    in_place = browser_responder.post(f"/alerts/{alert.id}/actions/acknowledge", headers=HTMX)
    assert in_place.status_code == 409
    assert "The alert is already resolved." in in_place.text
    assert in_place.text.lstrip().startswith("<tr")

    plain = browser_responder.post(f"/alerts/{alert.id}/actions/acknowledge")
    assert plain.status_code == 409
    assert "The alert is already resolved." in plain.text
    assert '<h2 id="log-heading">Log</h2>' in plain.text


def test_the_alert_page_shows_every_field_its_log_and_only_web_links(
    browser_responder, fired, db, clock
):
    alert = fired(
        "Checkout 5xx above 5 %",
        component="api",
        group="payments",
        custom_details={"error_rate": 0.07},
    )
    alert.labels = {"team": "payments", "region": "eu-west-1"}
    alert.annotations = {"runbook": "Restart the pods"}
    alert.links = [
        {"href": "https://grafana.example.com/d/checkout", "text": "Dashboard"},
        {"href": "javascript:alert(1)", "text": "Sneaky"},
    ]
    alert.client, alert.client_url = "Prometheus", "javascript:alert(2)"
    db.commit()
    clock.advance(timedelta(minutes=3))
    browser_responder.post(f"/alerts/{alert.id}/actions/acknowledge")

    page = browser_responder.get(f"/alerts/{alert.id}")

    assert page.status_code == 200
    text = page.text
    for shown in ("Checkout 5xx above 5 %", "payments", "eu-west-1", "Restart the pods", "api"):
        assert shown in text
    assert (
        '<a href="https://grafana.example.com/d/checkout" rel="noopener noreferrer">Dashboard</a>'
        in text
    )
    assert "javascript:" not in text
    assert 'Sneaky <span class="muted">(not a web address)</span>' in text
    assert "error_rate" in text
    log = text[text.index('id="log-heading"') :]
    assert log.index(">triggered<") < log.index(">acknowledged<")
    assert "Acknowledged by Rita Responder" in log
    assert "Rita Responder," in text  # acknowledged by, with its time


def test_an_alert_is_linked_to_an_incident_by_its_reference(
    browser_responder, as_responder, fired, db
):
    alert = fired("Checkout 5xx above 5 %")
    declared = as_responder.post(
        "/api/v1/incidents", json={"title": "Checkout failing", "severity": "SEV2"}
    )
    reference = declared.json()["reference"]

    blank = browser_responder.post(f"/alerts/{alert.id}/actions/link", {"incident": " "})
    assert blank.status_code == 422
    assert "Enter the incident's reference" in html.unescape(blank.text)

    unknown = browser_responder.post(f"/alerts/{alert.id}/actions/link", {"incident": "INC-999"})
    assert unknown.status_code == 422
    assert 'value="INC-999"' in unknown.text  # what was typed stays
    assert 'aria-invalid="true"' in unknown.text
    assert "No incident INC-999." in unknown.text

    linked = browser_responder.post(f"/alerts/{alert.id}/actions/link", {"incident": reference})
    assert linked.status_code == 303
    page = browser_responder.get(linked.headers["location"])
    assert f'<a href="/incidents/{reference}">{reference}</a> Checkout failing' in page.text
    assert "Linked to the incident" in page.text
    timeline = as_responder.get(f"/api/v1/incidents/{reference}/timeline", params={"kind": "alert"})
    assert [e["body"] for e in timeline.json()["items"]] == [
        f"Rita Responder <rita@example.com> linked alert #{alert.id}: Checkout 5xx above 5 %."
    ]
    again = browser_responder.post(f"/alerts/{alert.id}/actions/link", {"incident": reference})
    assert again.status_code == 303  # linking twice adds nothing
    timeline = as_responder.get(f"/api/v1/incidents/{reference}/timeline", params={"kind": "alert"})
    assert len(timeline.json()["items"]) == 1


def test_a_viewer_reads_alerts_but_has_no_buttons_and_cannot_post(sign_in, viewer, fired):
    alert = fired("Checkout 5xx above 5 %")
    browser = sign_in(viewer)

    listed = browser.get("/alerts")
    assert listed.status_code == 200
    assert f'id="alert-{alert.id}"' in listed.text
    assert ">Acknowledge<" not in listed.text
    page = browser.get(f"/alerts/{alert.id}")
    assert ">Acknowledge<" not in page.text
    assert "Link alert" not in page.text

    refused = browser.post(f"/alerts/{alert.id}/actions/acknowledge")
    assert refused.status_code == 403
    assert "Your role does not allow this" in refused.text


def test_a_post_without_the_forms_token_is_refused(browser_responder, fired):
    alert = fired("Checkout 5xx above 5 %")

    forged = browser_responder.client.post(
        f"/alerts/{alert.id}/actions/acknowledge", data={}, follow_redirects=False
    )

    assert forged.status_code == 403
    assert "This form has expired" in forged.text


def test_an_unknown_alert_is_a_friendly_not_found_page(browser_responder):
    missing = browser_responder.get("/alerts/999999")
    assert missing.status_code == 404
    assert "No alert 999999." in missing.text
    too_big = browser_responder.get("/alerts/99999999999999999999999")
    assert too_big.status_code == 422


def test_signing_in_is_asked_for_first(client):
    answer = client.get("/alerts", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/alerts"
