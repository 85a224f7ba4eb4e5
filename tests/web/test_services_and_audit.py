"""The service catalog's pages (responders write, viewers read) and the audit log page, which
only admins may open. The clock stands at 2026-01-05 10:00 UTC."""

from __future__ import annotations

import itertools
import re
from html import unescape
from html.parser import HTMLParser

import pytest


@pytest.fixture
def teams(as_admin):
    for name in ("Payments Team", "Search Team"):
        made = as_admin.post("/api/v1/teams", json={"name": name})
        assert made.status_code == 201, made.text


def add_service(browser, **fields):
    data = {"name": "Checkout", "slug": "", "description": "", "owner_team": "", "tier": "2"}
    return browser.post("/services/new", {**data, **fields})


def test_a_responder_adds_a_service_and_sees_it_listed_with_its_owner_and_tier(
    browser_responder, as_responder, teams
):
    form = browser_responder.get("/services/new")
    assert form.status_code == 200
    assert '<label for="owner_team">Owner team</label>' in form.text

    added = add_service(
        browser_responder,
        name="Checkout API",
        owner_team="payments-team",
        tier="1",
        runbook_url="https://runbooks.example.com/checkout",
    )

    assert (added.status_code, added.headers["location"]) == (303, "/services/checkout-api?saved=1")
    shown = browser_responder.get(added.headers["location"])
    assert 'role="status">Saved.' in shown.text
    listed = browser_responder.get("/services").text
    assert '<a href="/services/checkout-api">Checkout API</a>' in listed
    assert "Payments Team" in listed
    assert "Tier 1" in listed
    stored = as_responder.get("/api/v1/services/checkout-api").json()
    assert (stored["tier"], stored["owner_team"]["slug"]) == (1, "payments-team")


def test_a_responder_edits_a_service_and_can_clear_its_owner(
    browser_responder, as_responder, as_admin, teams
):
    add_service(browser_responder, name="Search", owner_team="search-team")

    edited = browser_responder.post(
        "/services/search",
        {"name": "Search API", "description": "Finds things.", "owner_team": "", "tier": "3"},
    )

    assert (edited.status_code, edited.headers["location"]) == (303, "/services/search?saved=1")
    stored = as_responder.get("/api/v1/services/search").json()
    assert (stored["name"], stored["tier"], stored["owner_team"]) == ("Search API", 3, None)
    # The service audited the change, as it does for the API.
    records = as_admin.get("/api/v1/audit?entity_type=service").json()["items"]
    assert [record["action"] for record in records] == ["service.update", "service.create"]


def test_bad_service_input_comes_back_inline_with_the_values_kept(browser_responder, teams):
    refused = add_service(
        browser_responder,
        name="Billing",
        slug="Not A Slug",
        tier="9",
        owner_team="payments-team",
        runbook_url="javascript:alert(1)",
    )

    assert refused.status_code == 422
    page = refused.text
    for name in ("slug", "tier", "runbook_url"):
        assert f'id="{name}-error"' in page
        assert re.search(rf'aria-describedby="[^"]*{name}-error" aria-invalid="true"', page)
    assert "Use lower-case letters, digits and single dashes" in page
    assert 'value="Billing"' in page
    assert 'value="Not A Slug"' in page
    assert '<option value="payments-team" selected>Payments Team</option>' in page
    assert browser_responder.get("/services/billing").status_code == 404


def test_a_second_service_with_the_same_name_is_refused_with_a_message(browser_responder):
    add_service(browser_responder, name="Checkout")

    again = add_service(browser_responder, name="Checkout")

    assert again.status_code == 409
    assert "already exists" in again.text
    assert 'value="Checkout"' in again.text


def test_an_unknown_owner_team_on_edit_is_named_on_its_field(browser_responder):
    add_service(browser_responder, name="Checkout")

    refused = browser_responder.post(
        "/services/checkout", {"name": "Checkout", "owner_team": "ghosts", "tier": "2"}
    )

    assert refused.status_code == 422
    assert 'id="owner_team-error"' in refused.text


def test_a_viewer_reads_the_catalog_but_cannot_change_it(
    sign_in, viewer, browser_responder, as_responder
):
    add_service(browser_responder, name="Checkout", description="Takes the money.")
    browser = sign_in(viewer)

    listed = browser.get("/services")
    assert listed.status_code == 200
    assert "Checkout" in listed.text
    assert "Add a service" not in listed.text
    details = browser.get("/services/checkout")
    assert details.status_code == 200
    assert "Takes the money." in details.text
    assert '<form method="post" action="/services/checkout"' not in details.text
    assert browser.get("/services/new").status_code == 403
    refused = browser.post("/services/checkout", {"name": "Mine now", "tier": "1"})
    assert refused.status_code == 403
    assert as_responder.get("/api/v1/services/checkout").json()["name"] == "Checkout"


@pytest.mark.parametrize("slug", ["no-such-service", "nul%00slug"])
def test_an_unknown_service_is_a_not_found_page(browser_responder, slug):
    missing = browser_responder.get(f"/services/{slug}")

    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")


def test_the_audit_log_shows_an_admin_the_declaration_with_its_fields(browser_admin, as_responder):
    declared = as_responder.post(
        "/api/v1/incidents", json={"title": "Checkout down", "severity": "SEV1"}
    )
    reference = declared.json()["reference"]

    log = browser_admin.get("/audit")

    assert log.status_code == 200
    text = unescape(log.text)
    assert "incident.create" in text
    assert f'<a href="/incidents/{reference}">{reference}</a>' in text
    assert "Rita Responder <rita@example.com>" in text
    # A creation shows its fields as they were set, each as compact JSON.
    assert '<code class="field">title</code>' in text
    assert '<code>"Checkout down"</code>' in text


def test_the_audit_log_filters_and_pages(browser_admin, as_responder, responder):
    for title in ("First", "Second", "Third"):
        as_responder.post("/api/v1/incidents", json={"title": title, "severity": "SEV4"})

    mine = browser_admin.get(
        f"/audit?entity_type=incident&actor={responder.user.id}&action=incident.create&limit=2"
    )
    assert mine.status_code == 200
    assert mine.text.count("<code>incident.create</code>") == 2
    older = unescape(re.search(r'href="([^"]+)" rel="next"', mine.text).group(1))
    rest = browser_admin.get(older)
    assert rest.text.count("<code>incident.create</code>") == 1
    assert "Newest records" in rest.text

    tomorrow = browser_admin.get("/audit?entity_type=incident&occurred_after=2026-01-06")
    assert "No audit records match these filters." in tomorrow.text
    today = browser_admin.get(
        "/audit?entity_type=incident&occurred_after=2026-01-05&occurred_before=2026-01-06"
    )
    assert today.text.count("<code>incident.create</code>") == 3


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("actor=nobody@example.com", "no user"),
        ("occurred_after=soon", "is not a date"),
        ("cursor=%%%", "This page link is broken"),
        ("limit=9999", "must be a number from 1 to 200"),
        ("entity_id=%00", "contains a NUL character"),
    ],
)
def test_bad_audit_filters_are_explained(browser_admin, query, message):
    answered = browser_admin.get(f"/audit?{query}")

    assert answered.status_code == 422
    assert message in answered.text


def test_a_responder_gets_a_friendly_403_page_for_the_audit_log(browser_responder):
    refused = browser_responder.get("/audit")

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "Your role does not allow this; ask an admin." in refused.text


class PageStructure(HTMLParser):
    """The ids, labels, fields, references and headings of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.labelled: set[str] = set()
        self.fields: list[str] = []
        self.references: list[str] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "label" and attributes.get("for"):
            self.labelled.add(attributes["for"])
        if tag in {"input", "select", "textarea"} and attributes.get("type") != "hidden":
            self.fields.append(attributes.get("id") or f"<{tag} name={attributes.get('name')}>")
        self.references += (attributes.get("aria-describedby") or "").split()
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))


@pytest.mark.parametrize(
    "path",
    [
        "/incidents/new",
        "/incidents",
        "/incidents?status=nope",
        "/services",
        "/services/new",
        "/services/checkout",
        "/audit",
        "/audit?limit=0",
    ],
)
def test_every_field_is_labelled_and_every_description_exists(browser_admin, as_admin, teams, path):
    as_admin.post("/api/v1/services", json={"name": "Checkout"})
    as_admin.post("/api/v1/incidents", json={"title": "Checkout down", "severity": "SEV1"})
    html = browser_admin.get(path).text
    structure = PageStructure()
    structure.feed(html)

    assert len(structure.ids) == len(set(structure.ids)), "an id is used twice"
    assert [field for field in structure.fields if field not in structure.labelled] == []
    assert [ref for ref in structure.references if ref not in structure.ids] == []
    assert structure.headings[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(structure.headings)), (
        "a heading level skipped"
    )


def test_a_refused_form_describes_each_problem_on_its_field(browser_admin, teams):
    refused = add_service(browser_admin, name="", tier="7")
    structure = PageStructure()
    structure.feed(refused.text)

    assert {"name-error", "tier-error"} <= set(structure.references)
    assert [ref for ref in structure.references if ref not in structure.ids] == []
