"""The public subscription pages: the subscribe form's answer, and the confirm, manage and
unsubscribe links as a subscriber follows them in a browser; and the admin API."""

from __future__ import annotations

from sqlalchemy import select

from fireline.comms import subscribers
from fireline.models import Delivery, Subscriber

from .test_subscribers import make_component, make_page, subscribe

ORIGIN = "http://testserver"


def token_of(db, address: str) -> str:
    return db.scalars(select(Subscriber.token).where(Subscriber.target == address)).one()


def test_subscribing_answers_check_your_inbox_and_mails_a_confirm_link(client, db, clock):
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API")
    db.commit()

    answer = client.post(
        "/status/subscribe",
        data={"email": "ann@example.com", "components": [api.code]},
        headers={"Origin": ORIGIN},
    )

    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    assert answer.headers["cache-control"] == "no-store"
    [subscriber] = db.scalars(select(Subscriber)).all()
    assert subscriber.component_codes == [api.code]
    assert subscriber.confirmed_at is None
    assert len(db.scalars(select(Delivery)).all()) == 1


def test_the_answer_is_the_same_for_a_confirmed_address(client, db, clock):
    page = make_page(db, clock)
    subscribe(db, clock, page, "ann@example.com")
    db.commit()
    known = client.post("/status/subscribe", data={"email": "ann@example.com"})
    unknown = client.post("/status/subscribe", data={"email": "bob@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("ann@", "bob@") == unknown.text


def test_a_page_by_slug_has_its_own_form(client, db, clock):
    make_page(db, clock)
    eu = make_page(db, clock, slug="eu", default=False)
    db.commit()
    answer = client.post("/status/eu/subscribe", data={"email": "ann@example.com"})
    assert answer.status_code == 200
    assert db.scalars(select(Subscriber.page_id)).one() == eu.id
    missing = client.post("/status/nowhere/subscribe", data={"email": "ann@example.com"})
    assert missing.status_code == 404
    assert "no status page" in missing.text


def test_bad_input_reshows_the_form_with_a_helpful_message(client, db, clock):
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API")
    db.commit()
    answer = client.post("/status/subscribe", data={"email": "ann@", "components": [api.code]})
    assert answer.status_code == 422
    assert 'aria-invalid="true"' in answer.text
    assert 'value="ann@"' in answer.text
    assert f'value="{api.code}" checked' in answer.text
    unknown = client.post("/status/subscribe", data={"email": "a@example.com", "components": "x"})
    assert unknown.status_code == 422
    assert "not components of this page: x" in unknown.text
    assert db.scalars(select(Subscriber)).all() == []


def test_a_form_posted_from_another_site_is_refused(client, db, clock):
    make_page(db, clock)
    db.commit()
    for headers in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}):
        answer = client.post("/status/subscribe", data={"email": "a@example.com"}, headers=headers)
        assert answer.status_code == 403
    ours = client.post(
        "/status/subscribe",
        data={"email": "a@example.com"},
        headers={"Referer": "http://127.0.0.1:8000/status"},  # the configured base URL
    )
    assert ours.status_code == 200
    assert len(db.scalars(select(Subscriber)).all()) == 1


def test_an_address_asked_for_too_often_is_told_to_wait_and_so_is_a_busy_client(client, db, clock):
    make_page(db, clock)
    db.commit()
    answers = [
        client.post("/status/subscribe", data={"email": "ann@example.com"}).status_code
        for _ in range(subscribers_per_address() + 1)
    ]
    assert answers[-1] == 429
    assert answers[:-1] == [200] * subscribers_per_address()
    clock.advance(minutes=1)
    assert client.post("/status/subscribe", data={"email": "ann@example.com"}).status_code == 200
    statuses = [
        client.post("/status/subscribe", data={"email": f"p{n}@example.com"}).status_code
        for n in range(12)
    ]
    assert 429 in statuses
    assert (
        "Too many requests from your network"
        in client.post("/status/subscribe", data={"email": "z@example.com"}).text
    )


def subscribers_per_address() -> int:
    from fireline.comms.subscriber_views import PER_ADDRESS_PER_MINUTE

    return PER_ADDRESS_PER_MINUTE


def test_without_a_default_page_the_form_says_so(client, db, clock):
    page = subscribers.default_page(db)
    page.is_default = False
    db.commit()
    answer = client.post("/status/subscribe", data={"email": "ann@example.com"})
    assert answer.status_code == 404


def test_opening_the_confirm_link_only_shows_a_button_and_pressing_it_confirms(client, db, clock):
    page = make_page(db, clock)
    subscriber = subscribe(db, clock, page, "ann@example.com", confirmed=False)
    db.commit()
    url = f"/status/subscriptions/{subscriber.token}/confirm"

    shown = client.get(url)
    assert shown.status_code == 200
    assert '<form method="post">' in shown.text
    assert shown.headers["referrer-policy"] == "no-referrer"
    db.refresh(subscriber)
    assert subscriber.confirmed_at is None  # a mail scanner's GET confirms nothing

    done = client.post(url)
    assert done.status_code == 200
    assert "You are subscribed" in done.text
    db.refresh(subscriber)
    assert subscriber.confirmed_at == clock.now()
    again = client.get(url)
    assert "You are subscribed" in again.text
    assert "<form" not in again.text
    assert client.get("/status/subscriptions/nope/confirm").status_code == 404
    assert client.post("/status/subscriptions/nope/confirm").status_code == 404


def test_unsubscribing_needs_the_button_and_a_second_press_still_succeeds(client, db, clock):
    page = make_page(db, clock)
    subscriber = subscribe(db, clock, page, "ann@example.com")
    db.commit()
    url = f"/status/subscriptions/{subscriber.token}/unsubscribe"

    shown = client.get(url)
    assert "Stop sending" in shown.text
    assert db.scalars(select(Subscriber)).all() != []

    done = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    assert "ann@example.com" in done.text
    assert db.scalars(select(Subscriber)).all() == []
    assert client.post(url).status_code == 200
    gone = client.get(url)
    assert gone.status_code == 200
    assert "You are unsubscribed" in gone.text


def test_the_manage_link_chooses_components(client, db, clock):
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API")
    web = make_component(db, clock, page, "Web", position=1)
    subscriber = subscribe(db, clock, page, "ann@example.com")
    db.commit()
    url = f"/status/subscriptions/{subscriber.token}"

    shown = client.get(url)
    assert shown.status_code == 200
    assert f'value="{api.code}">' in shown.text  # nothing ticked: everything

    saved = client.post(url, data={"components": [web.code]})
    assert saved.status_code == 200
    assert "Saved." in saved.text
    assert f'value="{web.code}" checked' in saved.text
    db.refresh(subscriber)
    assert subscriber.component_codes == [web.code]

    refused = client.post(url, data={"components": ["bogus"]})
    assert refused.status_code == 422
    assert "bogus" in refused.text
    db.refresh(subscriber)
    assert subscriber.component_codes == [web.code]
    assert client.get("/status/subscriptions/nope").status_code == 404
    assert client.post("/status/subscriptions/nope").status_code == 404


def test_an_unconfirmed_subscriber_managing_is_offered_the_confirm_link(client, db, clock):
    page = make_page(db, clock)
    subscriber = subscribe(db, clock, page, "ann@example.com", confirmed=False)
    db.commit()
    shown = client.get(f"/status/subscriptions/{subscriber.token}")
    assert f"/status/subscriptions/{subscriber.token}/confirm" in shown.text
    assert "no components to choose from" in shown.text


# --- admin API --------------------------------------------------------------------------------

API = "/api/v1/status-pages/acme/subscribers"


def test_admins_add_list_export_and_remove_subscribers(as_admin, app, db, clock):
    app.state.settings.webhook_allow_private_targets = True
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API")
    db.commit()

    mail = as_admin.post(API, json={"kind": "email", "target": "ann@example.com"})
    assert mail.status_code == 201, mail.text
    assert mail.json()["confirmed"] is False
    hook = as_admin.post(
        API,
        json={"kind": "webhook", "target": "http://127.0.0.1:9/h", "components": [api.code]},
        headers={"Idempotency-Key": "k1"},
    )
    assert hook.status_code == 201
    assert hook.json()["confirmed"] is True
    replay = as_admin.post(
        API,
        json={"kind": "webhook", "target": "http://127.0.0.1:9/h", "components": [api.code]},
        headers={"Idempotency-Key": "k1"},
    )
    assert replay.json() == hook.json()

    first = as_admin.get(API, params={"limit": 1}).json()
    assert [item["target"] for item in first["items"]] == ["ann@example.com"]
    rest = as_admin.get(API, params={"cursor": first["next_cursor"]}).json()
    assert [item["code"] for item in rest["items"]] == [hook.json()["code"]]
    assert rest["next_cursor"] is None

    csv = as_admin.get(f"{API}.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "code,kind,target,components,confirmed_at,created_at"
    assert len(lines) == 3
    assert f"webhook,http://127.0.0.1:9/h,{api.code}," in lines[2]

    gone = as_admin.delete(f"{API}/{hook.json()['code']}")
    assert gone.status_code == 204
    assert as_admin.delete(f"{API}/{hook.json()['code']}").status_code == 404
    assert len(as_admin.get(API).json()["items"]) == 1


def test_the_api_names_the_bad_field_and_needs_statuspage_admin(as_admin, as_viewer, db, clock):
    make_page(db, clock)
    db.commit()
    bad = as_admin.post(API, json={"kind": "email", "target": "nope"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in bad.json()["errors"]] == ["target"]
    private = as_admin.post(API, json={"kind": "webhook", "target": "http://127.0.0.1/h"})
    assert [e["field"] for e in private.json()["errors"]] == ["target"]
    assert as_viewer.get(API).status_code == 403
    assert as_viewer.post(API, json={"kind": "email", "target": "a@example.com"}).status_code == 403
    assert as_admin.get("/api/v1/status-pages/nowhere/subscribers").status_code == 404


def test_a_spreadsheet_formula_in_an_export_is_defused(as_admin, db, clock):
    page = make_page(db, clock)
    subscribe(db, clock, page, "=cmd@example.com")
    db.commit()
    lines = as_admin.get(f"{API}.csv").text.splitlines()
    assert ",'=cmd@example.com," in lines[1]
