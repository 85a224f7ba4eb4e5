"""Declaring an incident from the browser, the severity assistant beside it, and the incident
list a responder filters and pages through. The clock stands at 2026-01-05 10:00 UTC."""

from __future__ import annotations

import re
import threading
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fireline.accounts import service as accounts
from fireline.accounts.principal import Actor
from fireline.app import create_app
from fireline.clock import FakeClock
from fireline.config import Settings
from fireline.db import make_engine, make_session_factory, transaction
from fireline.models import Incident, Role

from .conftest import PASSWORD, csrf_of

INCIDENTS = "/api/v1/incidents"


def token_of(html: str) -> str:
    match = re.search(r'name="idempotency_token" value="([^"]+)"', html)
    assert match, "the declare form carries no one-time token"
    return match.group(1)


@pytest.fixture
def catalog(as_responder):
    for name in ("Checkout", "Payments", "Search"):
        made = as_responder.post("/api/v1/services", json={"name": name})
        assert made.status_code == 201, made.text


def declare_form(browser_responder, responder, **changes):
    form = browser_responder.get("/incidents/new")
    assert form.status_code == 200, form.text
    data = {
        "idempotency_token": token_of(form.text),
        "title": "Checkout down in all regions",
        "severity": "SEV1",
        "summary": "Every checkout attempt returns 502.",
        "services": ["checkout", "payments"],
        "type": "default",
        "customer_impact": "Nobody can pay.",
        "commander": str(responder.user.id),
        "status": "investigating",
    }
    return {**data, **changes}


def declare_by_api(api, title, severity="SEV3", status="investigating"):
    made = api.post(INCIDENTS, json={"title": title, "severity": severity, "status": status})
    assert made.status_code == 201, made.text
    return made.json()["reference"]


def test_the_form_offers_each_severity_with_its_definition_and_the_signed_in_commander(
    browser_responder, responder, catalog
):
    form = browser_responder.get("/incidents/new")

    assert form.status_code == 200
    text = unescape(form.text)
    assert "<legend>Severity</legend>" in form.text
    assert "complete unavailability" in text.lower()
    assert 'aria-describedby="severity-SEV1-definition"' in form.text
    assert f'<option value="{responder.user.id}" selected>Rita Responder' in form.text
    assert '<option value="checkout" >Checkout</option>' in form.text
    assert 'id="status-investigating" name="status" value="investigating"' in form.text


def test_a_sev1_declared_through_the_form_lands_on_its_page_with_commander_services_and_playbook(
    browser_responder, responder, as_responder, catalog
):
    declared = browser_responder.post("/incidents/new", declare_form(browser_responder, responder))

    assert declared.status_code == 303, declared.text
    location = declared.headers["location"]
    assert re.fullmatch(r"/incidents/INC-\d+", location)
    incident = as_responder.get(f"/api/v1{location}").json()
    assert incident["title"] == "Checkout down in all regions"
    assert incident["status"] == "investigating"
    assert incident["roles"]["commander"]["email"] == "rita@example.com"
    assert [service["slug"] for service in incident["services"]] == ["checkout", "payments"]
    # after_change ran in the same request: the major incident has its 60-minute playbook.
    playbooks = as_responder.get(f"/api/v1{location}/playbooks").json()
    assert len(playbooks) == 1


def test_submitting_the_same_form_twice_declares_one_incident(
    browser_responder, responder, as_responder, catalog
):
    data = declare_form(browser_responder, responder)

    first = browser_responder.post("/incidents/new", data)
    again = browser_responder.post("/incidents/new", data)

    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert len(as_responder.get(INCIDENTS).json()["items"]) == 1


@pytest.fixture
def live_app(fresh_database, tmp_path):
    """An app on a database of its own that commits for real, as two web requests would."""
    database = fresh_database()
    engine = make_engine(database.url, pool_size=4)
    settings = Settings(
        database_url=database.url,
        secret_key="test-secret",
        data_dir=tmp_path,
        log_level="warning",
        embedded_worker=False,
    )
    with transaction(make_session_factory(engine)) as session:
        accounts.create_user(
            session,
            actor=Actor.system("test"),
            now=FakeClock().now(),
            email="rita@example.com",
            name="Rita Responder",
            role=Role.RESPONDER,
            password=PASSWORD,
        )
    yield create_app(settings, clock=FakeClock(), engine=engine)
    engine.dispose()


def test_a_double_click_sending_both_submissions_at_once_declares_one_incident(live_app):
    first = TestClient(live_app, raise_server_exceptions=False)
    first.post("/login", data={"email": "rita@example.com", "password": PASSWORD, "next": "/"})
    form = first.get("/incidents/new").text
    data = {
        "csrf_token": csrf_of(form),
        "idempotency_token": token_of(form),
        "title": "Checkout down",
        "severity": "SEV2",
    }
    second = TestClient(live_app, raise_server_exceptions=False, cookies=first.cookies)
    barrier = threading.Barrier(2)
    answers = []

    def submit(client: TestClient) -> None:
        barrier.wait()
        answers.append(client.post("/incidents/new", data=data, follow_redirects=False))

    threads = [threading.Thread(target=submit, args=(client,)) for client in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [answer.status_code for answer in answers] == [303, 303], [a.text for a in answers]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    with transaction(live_app.state.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1


def test_a_reported_incident_waits_in_triage(browser_responder, responder, as_responder, catalog):
    data = declare_form(browser_responder, responder, status="triage", severity="SEV3")

    declared = browser_responder.post("/incidents/new", data)

    assert declared.status_code == 303
    incident = as_responder.get(f"/api/v1{declared.headers['location']}").json()
    assert (incident["status"], incident["declared_at"]) == ("triage", None)


def test_a_missing_title_comes_back_beside_the_field_with_everything_else_kept(
    browser_responder, responder, as_responder, catalog
):
    data = declare_form(browser_responder, responder, title="   ")

    refused = browser_responder.post("/incidents/new", data)

    assert refused.status_code == 422
    page = refused.text
    assert 'id="title-error"' in page
    assert 'aria-describedby="title-hint title-error" aria-invalid="true"' in page
    assert "Give the incident a title" in page
    assert re.search(r'value="SEV1"\s+aria-describedby="[^"]+"\s+checked', page)
    assert "Every checkout attempt returns 502.</textarea>" in page
    assert '<option value="checkout" selected>Checkout</option>' in page
    assert '<option value="payments" selected>Payments</option>' in page
    assert f'name="idempotency_token" value="{data["idempotency_token"]}"' in page
    assert as_responder.get(INCIDENTS).json()["items"] == []


def test_service_and_commander_problems_are_named_on_their_fields(
    browser_responder, responder, catalog
):
    data = declare_form(browser_responder, responder, services=["checkout", "nope"])
    data["commander"] = "999999"

    refused = browser_responder.post("/incidents/new", data)

    assert refused.status_code == 422
    assert 'id="services-error"' in refused.text
    assert "unknown service(s): nope" in refused.text
    # The service stops at the first problem; the person fixes one, then sees the next.
    fixed = browser_responder.post("/incidents/new", {**data, "services": ["checkout"]})
    assert fixed.status_code == 422
    assert 'id="commander-error"' in fixed.text


def test_a_viewer_cannot_open_the_declare_form(sign_in, viewer):
    browser = sign_in(viewer)

    assert browser.get("/incidents/new").status_code == 403
    refused = browser.post("/incidents/new", {"title": "x", "severity": "SEV4"})
    assert refused.status_code == 403
    assert "Your role does not allow this" in refused.text


def test_the_assistant_proposes_sev1_for_all_customers_revenue_and_security(
    browser_responder, catalog
):
    answers = {
        "assess_reach": "all_or_most",
        "assess_core": "degraded",
        "assess_revenue": "yes",
        "assess_security": "yes",
    }

    proposal = browser_responder.post(
        "/incidents/new/severity-assistant", answers, headers={"HX-Request": "true"}
    )

    assert proposal.status_code == 200
    assert "<html" not in proposal.text
    assert "SEV1 proposed" in proposal.text
    assert "A security breach or data loss is always SEV1." in proposal.text
    assert "Revenue is affected" in proposal.text
    # The severity choice comes along, out of band, with SEV1 selected.
    assert 'id="severity-choice" class="choices" hx-swap-oob="true"' in proposal.text
    assert re.search(r'value="SEV1"\s+aria-describedby="[^"]+"\s+checked', proposal.text)


def test_the_assistant_asks_for_the_reach_it_needs(browser_responder):
    missing = browser_responder.post("/incidents/new/severity-assistant", {})

    assert missing.status_code == 200  # htmx swaps only successful answers
    assert "Choose how many customers are affected." in missing.text
    assert "hx-swap-oob" not in missing.text


def test_without_script_the_assistant_reloads_the_form_with_its_proposal(
    browser_responder, responder, catalog
):
    data = declare_form(browser_responder, responder, severity="")
    data.update(intent="assess", assess_reach="subset", assess_core="unavailable")

    assessed = browser_responder.post("/incidents/new", data)

    assert assessed.status_code == 200
    assert "SEV2 proposed" in assessed.text
    assert re.search(r'value="SEV2"\s+aria-describedby="[^"]+"\s+checked', assessed.text)
    assert "Checkout down in all regions" in assessed.text


def test_the_list_filters_by_status_severity_and_words(browser_responder, as_responder):
    declare_by_api(as_responder, "Checkout down", severity="SEV1")
    declare_by_api(as_responder, "Search slow", severity="SEV3")
    declare_by_api(as_responder, "Odd checkout emails", severity="SEV4", status="triage")

    everything = browser_responder.get("/incidents")
    assert everything.status_code == 200
    assert all(t in everything.text for t in ("Checkout down", "Search slow", "Odd checkout"))
    assert '<th scope="col">Declared</th>' in everything.text
    assert 'datetime="2026-01-05T10:00:00Z"' in everything.text

    triage = browser_responder.get("/incidents?status=triage").text
    assert "Odd checkout emails" in triage
    assert "Checkout down" not in triage
    assert 'value="triage"\n               checked' in triage

    severe = browser_responder.get("/incidents?severity=SEV1&severity=SEV3").text
    assert "Checkout down" in severe
    assert "Search slow" in severe
    assert "Odd checkout" not in severe

    words = browser_responder.get("/incidents?q=CHECKOUT&status=investigating").text
    assert "Checkout down" in words
    assert "Odd checkout" not in words
    assert "Search slow" not in words


def test_the_list_pages_with_the_apis_cursor(browser_responder, as_responder):
    for n in range(5):
        declare_by_api(as_responder, f"Incident number {n}")

    first = browser_responder.get("/incidents?limit=2&q=number")
    assert "Incident number 4" in first.text
    assert "Incident number 3" in first.text
    assert "Incident number 2" not in first.text
    next_link = unescape(re.search(r'href="([^"]+)" rel="next"', first.text).group(1))
    assert next_link.startswith("/incidents?q=number&limit=2&cursor=")

    second = browser_responder.get(next_link)
    assert "Incident number 2" in second.text
    assert "Incident number 4" not in second.text
    assert "First page" in second.text

    third = browser_responder.get(
        unescape(re.search(r'href="([^"]+)" rel="next"', second.text).group(1))
    )
    assert "Incident number 0" in third.text
    assert 'rel="next"' not in third.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=exploded", "&#39;exploded&#39; is not a status"),
        ("severity=SEV9", "&#39;SEV9&#39; is not a severity"),
        ("declared_after=yesterday", "is not a date"),
        ("declared_after=2026-01-06&declared_before=2026-01-05", "must be later than"),
        ("cursor=not-a-cursor", "This page link is broken"),
        ("limit=0", "must be a number from 1 to 200"),
        ("q=%00", "contains a NUL character"),
        ("q=" + "x" * 201, "is longer than 200 characters"),
    ],
)
def test_bad_filters_are_explained_not_a_server_error(browser_responder, query, message):
    answered = browser_responder.get(f"/incidents?{query}")

    assert answered.status_code == 422
    assert answered.headers["content-type"].startswith("text/html")
    assert message in answered.text
    assert "These filters cannot be used" in answered.text
