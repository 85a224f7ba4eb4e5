"""The incident page's communications, as the communications lead lives them on the fake clock
(Monday 2026-01-05, 10:00 UTC): Checkout fails and a SEV1 is declared; Lee publishes it on the
status page from the incident page with Checkout in partial outage, previews an update that
guesses at the cause (warned, not blocked), posts it with Checkout back to degraded, resolves the
incident and is prompted for the closing update, then publishes the report. Stakeholders get
their update, and support agents copy the macro. Viewers read; they change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fireline.accounts.principal import Actor
from fireline.catalog import service as catalog
from fireline.comms import audiences
from fireline.comms.codes import new_code
from fireline.comms.templates import list_templates
from fireline.models import (
    AudienceKind,
    Component,
    Delivery,
    PublicIncident,
    PublicUpdate,
    StatusPage,
)

from .conftest import Browser

SYSTEM = Actor.system("test")
FOUR_PARTS = {
    "current_impact": "Card payments fail for most customers.",
    "doing_now": "We are rolling back the 09:40 deploy.",
    "users_should": "Retry in a few minutes; no charge was made.",
    "next_update_at": "2026-01-05T10:45",
}


def htmx(browser: Browser, path: str, data: dict | None = None):
    return browser.post(path, data, headers={"HX-Request": "true"})


def default_page(db) -> StatusPage:
    return db.scalars(select(StatusPage).where(StatusPage.is_default)).one()


@pytest.fixture
def checkout_service(db, clock):
    made = catalog.create_service(db, actor=SYSTEM, now=clock.now(), name="Checkout")
    db.commit()
    return made


def add_component(db, clock, name: str, service_id: int | None = None) -> Component:
    component = Component(
        code=new_code(),
        page_id=default_page(db).id,
        service_id=service_id,
        name=name,
        started_at=clock.now() - timedelta(days=30),
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    db.add(component)
    db.commit()
    return component


@pytest.fixture
def checkout(db, clock, checkout_service) -> Component:
    return add_component(db, clock, "Checkout", checkout_service.id)


@pytest.fixture
def search(db, clock) -> Component:
    return add_component(db, clock, "Search")


@pytest.fixture
def sev1(as_responder, checkout_service) -> str:
    declared = as_responder.post(
        "/api/v1/incidents",
        json={
            "title": "Checkout down",
            "severity": "SEV1",
            "commander": "rita@example.com",
            "customer_impact": "No customer can pay.",
            "services": [checkout_service.slug],
        },
    )
    assert declared.status_code == 201, declared.text
    return declared.json()["reference"]


def publish_form(checkout: Component, **fields: str) -> dict[str, str]:
    return {
        "page": "status",
        "name": "Payments failing",
        "status": "investigating",
        f"components.{checkout.code}": "partial_outage",
        **FOUR_PARTS,
        **fields,
    }


def public_incident(db) -> PublicIncident:
    db.expire_all()
    return db.scalars(select(PublicIncident)).one()


def published(browser: Browser, ref: str, checkout: Component):
    answer = browser.post(f"/incidents/{ref}/comms/publish", publish_form(checkout))
    assert answer.status_code == 303, answer.text
    return answer


# --- publishing -----------------------------------------------------------------------------------


def test_the_publish_form_starts_from_the_incident_its_services_and_the_template(
    browser_responder, sev1, checkout, search
):
    html = browser_responder.get(f"/incidents/{sev1}").text
    assert 'id="status-page"' in html
    assert "Not published: customers see nothing about this incident yet." in html
    assert 'name="name" type="text" value="Checkout down"' in html
    assert "What customers see" in html
    # Checkout stands for the incident's service, so it starts in partial outage; Search not.
    checkout_select = html.split(f'name="components.{checkout.code}"')[1].split("</select>")[0]
    assert '<option value="partial_outage" selected>' in checkout_select
    search_select = html.split(f'name="components.{search.code}"')[1].split("</select>")[0]
    assert '<option value="" selected>' in search_select
    # The investigating template, with the component's name, and the SEV1 cadence.
    assert "Some customers may be unable to use Checkout." in html
    assert 'value="2026-01-05T10:30"' in html
    # No macro yet: nothing to link to.
    assert "Not published on a status page yet" in html


def test_publishing_puts_the_component_in_partial_outage_and_meets_the_clock(
    browser_responder, as_responder, app, client, db, sev1, checkout
):
    answer = published(browser_responder, sev1, checkout)
    assert answer.headers["location"] == f"/incidents/{sev1}#status-page"
    public = public_incident(db)
    assert (public.name, public.status, public.impact) == (
        "Payments failing",
        "investigating",
        "major",
    )
    db.refresh(checkout)
    assert checkout.status == "partial_outage"
    owed = as_responder.get(f"/api/v1/incidents/{sev1}/obligations").json()
    first = next(o for o in owed if o["kind"] == "first_public_update")
    assert first["state"] == "met"

    html = browser_responder.get(f"/incidents/{sev1}").text
    assert f'href="/status/incidents/{public.code}"' in html
    assert "Next public update" in html
    assert "Card payments fail for most customers." in html
    # The plain public composer gives way to the status page's update form.
    assert 'id="update-public"' not in html
    assert 'id="update-internal"' in html
    # The support macro, read-only, with its copy button and link.
    assert '<textarea id="support-macro-text" rows="10" readonly' in html
    assert 'data-copy="support-macro-text"' in html
    assert f"http://testserver/status/incidents/{public.code}" in html or public.code in html

    app.state.public_cache.refresh_now()
    status = client.get("/status").text
    assert "Payments failing" in status
    assert "Partial outage" in status


def test_publishing_again_is_refused_in_place(browser_responder, db, sev1, checkout):
    published(browser_responder, sev1, checkout)
    again = htmx(browser_responder, f"/incidents/{sev1}/comms/publish", publish_form(checkout))
    # The section now offers the update form, so the refusal comes with the update view.
    assert again.status_code == 409
    assert len(db.scalars(select(PublicIncident)).all()) == 1


def test_bad_publish_input_is_shown_beside_the_field_keeping_what_was_typed(
    browser_responder, db, sev1, checkout
):
    form = publish_form(checkout, name=" ", doing_now="", next_update_at="soon")
    answer = browser_responder.post(f"/incidents/{sev1}/comms/publish", form)
    assert answer.status_code == 422
    assert 'id="comms-publish-next_update_at-problem"' in answer.text
    assert "is not a date and time" in answer.text
    assert 'value="soon"' in answer.text
    form = publish_form(checkout, name=" ", doing_now="")
    answer = htmx(browser_responder, f"/incidents/{sev1}/comms/publish", form)
    assert answer.status_code == 422
    assert answer.text.lstrip().startswith("<section")
    assert 'id="comms-publish-name-problem">is required' in answer.text
    assert 'id="comms-publish-doing_now-problem">is required' in answer.text
    assert "Card payments fail for most customers." in answer.text
    under = publish_form(checkout, **{f"components.{checkout.code}": "under_maintenance"})
    answer = htmx(browser_responder, f"/incidents/{sev1}/comms/publish", under)
    assert answer.status_code == 422
    assert f'id="comms-publish-components.{checkout.code}-problem"' in answer.text
    answer = htmx(
        browser_responder, f"/incidents/{sev1}/comms/publish", publish_form(checkout, page="nope")
    )
    assert answer.status_code == 422
    assert 'id="comms-publish-page-problem"' in answer.text
    assert db.scalars(select(PublicIncident)).all() == []


def test_a_preview_shows_the_published_text_and_warns_about_guesses(
    browser_responder, db, sev1, checkout
):
    form = publish_form(checkout, form="publish", doing_now="It was probably the deploy.")
    answer = htmx(browser_responder, f"/incidents/{sev1}/comms/preview", form)
    assert answer.status_code == 200
    assert "Current impact: Card payments fail for most customers." in answer.text
    assert "Next update: by 2026-01-05 10:45 UTC." in answer.text
    assert "“probably”" in answer.text
    assert "It was probably the deploy." in answer.text  # still in the form
    late = publish_form(checkout, form="publish", next_update_at="2026-01-05T09:00")
    answer = browser_responder.post(f"/incidents/{sev1}/comms/preview", late)
    assert "The next update time has passed" in answer.text
    assert "<h1" in answer.text  # the whole page, without script
    broken = publish_form(checkout, form="publish", next_update_at="later")
    answer = htmx(browser_responder, f"/incidents/{sev1}/comms/preview", broken)
    assert "is not a date and time, so it is left out" in answer.text
    assert htmx(browser_responder, f"/incidents/{sev1}/comms/preview", {}).status_code == 422
    assert db.scalars(select(PublicIncident)).all() == []


def test_filling_from_a_template_uses_the_components_chosen(browser_responder, db, sev1, checkout):
    chosen = next(t for t in list_templates(db, audience="public") if t.name == "Identified")
    form = publish_form(checkout, form="publish", template=str(chosen.id), doing_now="typed")
    answer = htmx(browser_responder, f"/incidents/{sev1}/comms/template", form)
    assert answer.status_code == 200
    assert "We have found the problem and are putting a fix in place." in answer.text
    assert "Some customers may be unable to use Checkout." in answer.text
    # No template chosen: what was typed stays.
    form = publish_form(checkout, form="publish", template="", doing_now="typed")
    answer = htmx(browser_responder, f"/incidents/{sev1}/comms/template", form)
    assert "typed</textarea>" in answer.text


# --- updates --------------------------------------------------------------------------------------


def test_the_next_update_changes_status_and_components(
    browser_responder, app, client, db, clock, sev1, checkout
):
    published(browser_responder, sev1, checkout)
    clock.advance(minutes=20)
    html = browser_responder.get(f"/incidents/{sev1}").text
    update_select = html.split(f'name="components.{checkout.code}"')[1].split("</select>")[0]
    assert '<option value="partial_outage" selected>' in update_select
    form = {
        "status": "monitoring",
        f"components.{checkout.code}": "degraded_performance",
        **FOUR_PARTS,
        "doing_now": "A fix is in place; we are watching payments recover.",
        "next_update_at": "2026-01-05T11:00",
    }
    answer = htmx(browser_responder, f"/incidents/{sev1}/comms/updates", form)
    assert answer.status_code == 200, answer.text
    assert answer.headers["HX-Trigger"] == "incident-changed"
    assert "A fix is in place; we are watching payments recover." in answer.text
    public = public_incident(db)
    assert (public.status, public.impact) == ("monitoring", "minor")
    latest = db.scalars(select(PublicUpdate).order_by(PublicUpdate.id.desc())).first()
    assert latest.affected_components[0]["new_status"] == "degraded_performance"
    app.state.public_cache.refresh_now()
    status = client.get("/status").text
    assert "Degraded performance" in status
    assert "A fix is in place; we are watching payments recover." in status


def test_a_bad_update_is_shown_in_place(browser_responder, db, sev1, checkout):
    published(browser_responder, sev1, checkout)
    form = {"status": "resolved", **FOUR_PARTS, "users_should": ""}
    answer = htmx(browser_responder, f"/incidents/{sev1}/comms/updates", form)
    assert answer.status_code == 422
    assert 'id="comms-update-users_should-problem">is required' in answer.text
    assert 'id="comms-update-status-problem"' in answer.text
    assert len(db.scalars(select(PublicUpdate)).all()) == 1


def test_the_plain_public_composer_posts_to_the_status_page_once_published(
    browser_responder, db, sev1, checkout
):
    published(browser_responder, sev1, checkout)
    form = {"audience": "public", **FOUR_PARTS, "current_impact": "Fewer payments fail."}
    answer = browser_responder.post(f"/incidents/{sev1}/updates", form)
    assert answer.status_code == 303, answer.text
    public = public_incident(db)
    assert public.status == "investigating"
    bodies = [u.body for u in db.scalars(select(PublicUpdate))]
    assert any("Fewer payments fail." in body for body in bodies)


def test_viewers_see_the_status_but_change_nothing(
    sign_in, viewer, browser_responder, db, sev1, checkout
):
    published(browser_responder, sev1, checkout)
    as_viewer = sign_in(viewer)
    html = as_viewer.get(f"/incidents/{sev1}").text
    assert "Published as" in html
    assert "Next public update" not in html
    assert "Stakeholder update" not in html
    assert 'id="support-macro-text"' in html
    for path, form in (
        ("publish", publish_form(checkout)),
        ("updates", {"status": "monitoring", **FOUR_PARTS}),
        ("preview", {"form": "update", **FOUR_PARTS}),
        ("template", {"form": "update"}),
        ("resolve", {"what_happened": "x", "what_was_done": "y"}),
        ("report", {}),
        ("stakeholder-updates", {}),
    ):
        assert as_viewer.post(f"/incidents/{sev1}/comms/{path}", form).status_code == 403, path
    plain = as_viewer.post(f"/incidents/{sev1}/updates", {"audience": "public", **FOUR_PARTS})
    assert plain.status_code == 403
    assert len(db.scalars(select(PublicUpdate)).all()) == 1


def test_the_sections_refresh_on_their_own(browser_responder, sev1, checkout):
    for section in ("status-page", "stakeholders", "macro"):
        answer = browser_responder.get(f"/incidents/{sev1}/comms/partials/{section}")
        assert answer.status_code == 200
        assert f'id="{section}"' in answer.text
    assert browser_responder.get(f"/incidents/{sev1}/comms/partials/nope").status_code == 404


# --- closing and the report -----------------------------------------------------------------------


def resolve_internally(as_responder, ref: str) -> None:
    resolved = as_responder.post(
        f"/api/v1/incidents/{ref}/resolve",
        json={
            "resolution_criteria": "Payments succeed for 15 minutes.",
            "criteria_met": True,
            "customer_impact_ended": True,
            "postmortem_owner": "rita@example.com",
            "postmortem_due_at": "2026-01-10T10:00:00Z",
            "monitoring_waiver_reason": "Rolled back; nothing left to watch.",
        },
    )
    assert resolved.status_code == 200, resolved.text


def test_the_closing_prompt_comes_only_once_resolved_and_not_closed_publicly(
    browser_responder, as_responder, app, client, db, clock, sev1, checkout
):
    published(browser_responder, sev1, checkout)
    assert "close the public incident" not in browser_responder.get(f"/incidents/{sev1}").text
    clock.advance(minutes=40)
    resolve_internally(as_responder, sev1)
    html = browser_responder.get(f"/incidents/{sev1}").text
    assert f"{sev1} is resolved: close the public incident" in html
    assert 'value="2026-01-05T10:00"' in html  # started, from the public incident

    refused = htmx(browser_responder, f"/incidents/{sev1}/comms/resolve", {"what_happened": ""})
    assert refused.status_code == 422
    assert 'id="closing-what_happened-problem">is required' in refused.text

    closing = {
        "what_happened": "Card payments failed.",
        "what_was_done": "We rolled back the deploy.",
        "started_at": "2026-01-05T10:00",
        "ended_at": "2026-01-05T10:35",
    }
    answer = browser_responder.post(f"/incidents/{sev1}/comms/resolve", closing)
    assert answer.status_code == 303, answer.text
    public = public_incident(db)
    assert public.status == "resolved"
    db.refresh(checkout)
    assert checkout.status == "operational"
    html = browser_responder.get(f"/incidents/{sev1}").text
    assert "close the public incident" not in html
    assert "Publish the post-incident report" in html

    app.state.public_cache.refresh_now()
    assert "Card payments failed." in client.get(f"/status/incidents/{public.code}").text


def test_the_report_is_published_after_the_closing_update(
    browser_responder, as_responder, db, clock, sev1, checkout
):
    published(browser_responder, sev1, checkout)
    clock.advance(minutes=40)
    resolve_internally(as_responder, sev1)
    closing = {"what_happened": "Card payments failed.", "what_was_done": "Rolled back."}
    assert browser_responder.post(f"/incidents/{sev1}/comms/resolve", closing).status_code == 303
    report = {
        "apology": "We are sorry.",
        "summary": "Card payments failed for 35 minutes.",
        "impact": "Most customers could not pay.",
        "root_cause": "",
        "what_was_done": "We rolled back the change.",
        "prevention": "Deploys now roll out slowly.",
    }
    refused = htmx(browser_responder, f"/incidents/{sev1}/comms/report", report)
    assert refused.status_code == 422
    assert 'id="report-root_cause-problem">is required' in refused.text
    report["root_cause"] = "A configuration change stopped card checks."
    answer = htmx(browser_responder, f"/incidents/{sev1}/comms/report", report)
    assert answer.status_code == 200, answer.text
    assert "Revise the post-incident report" in answer.text
    public = public_incident(db)
    assert public.status == "postmortem"
    assert public.report["root_cause"] == "A configuration change stopped card checks."


def test_resolving_or_reporting_what_was_never_published_is_refused(browser_responder, sev1):
    for path in ("resolve", "report", "updates"):
        answer = htmx(browser_responder, f"/incidents/{sev1}/comms/{path}", {"status": "x"})
        assert answer.status_code == 409
        assert "is not on a status page yet; publish it first." in answer.text


# --- stakeholders ---------------------------------------------------------------------------------


@pytest.fixture
def executives(db, clock):
    made = audiences.create_audience(
        db,
        actor=SYSTEM,
        now=clock.now(),
        name="Executives",
        kind=AudienceKind.EXECUTIVES,
        description="",
        allow_private=False,
        recipients=[{"transport": "email", "target": "ceo@example.com"}],
    )
    db.commit()
    return made


def test_a_stakeholder_update_is_sent_and_shown(browser_responder, db, sev1, executives):
    html = browser_responder.get(f"/incidents/{sev1}").text
    assert "Stakeholder update" in html
    assert "SEV1 investigating: Checkout down" in html  # the internal template's start
    assert "No customer can pay." in html

    refused = htmx(browser_responder, f"/incidents/{sev1}/comms/stakeholder-updates", {
        "current_status": "SEV1 investigating", "impact": "No customer can pay."})  # fmt: skip
    assert refused.status_code == 422
    assert 'id="stakeholder-audiences-problem">tick at least one audience' in refused.text

    sent = htmx(
        browser_responder,
        f"/incidents/{sev1}/comms/stakeholder-updates",
        {
            "audiences": str(executives.id),
            "current_status": "SEV1 investigating; rollback under way",
            "impact": "No customer can pay.",
            "doing_now": "Rolling back.",
            "next_update_at": "2026-01-05T10:30",
        },
    )
    assert sent.status_code == 200, sent.text
    assert "Last sent" in sent.text
    assert "to Executives (1 recipient)" in sent.text
    assert "Current status: SEV1 investigating; rollback under way" in sent.text
    (delivery,) = db.scalars(select(Delivery)).all()
    assert delivery.target == "ceo@example.com"


def test_without_audiences_the_composer_says_so(browser_responder, sev1):
    html = browser_responder.get(f"/incidents/{sev1}").text
    assert "No audiences yet" in html
