"""Status page subscribers: double opt-in, who hears about what, and the messages they get."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Actor
from fireline.clock import FakeClock
from fireline.comms import notifications, subscribers
from fireline.comms.codes import new_code
from fireline.errors import Conflict, InvalidInput
from fireline.models import (
    AuditRecord,
    Component,
    Delivery,
    Job,
    PublicIncident,
    PublicUpdate,
    StatusPage,
    Subscriber,
    public_incident_components,
)

BASE = "https://status.example.com"
ACTOR = Actor(user_id=None, label="subscribe form", via="status page")

# --- builders, shared with the page and contract tests ----------------------------------------


def make_page(
    db: Session, clock: FakeClock, *, slug: str = "acme", default: bool = True
) -> StatusPage:
    """A page named after its slug; the default one is the page the migrations made."""
    if default:
        page = subscribers.default_page(db)
        page.slug, page.name = slug, f"{slug.title()} Status"
    else:
        page = StatusPage(
            code=new_code(),
            slug=slug,
            name=f"{slug.title()} Status",
            is_default=False,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        db.add(page)
    db.flush()
    return page


def make_component(
    db: Session, clock: FakeClock, page: StatusPage, name: str, *, position: int = 0
) -> Component:
    component = Component(
        code=new_code(),
        page_id=page.id,
        name=name,
        position=position,
        started_at=clock.now(),
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    db.add(component)
    db.flush()
    return component


def make_incident(
    db: Session,
    clock: FakeClock,
    page: StatusPage,
    components: list[Component],
    *,
    name: str = "Checkout errors",
    kind: str = "incident",
    status: str = "investigating",
    body: str = "Some payments fail.\n\nWe are rolling back the last deploy.",
) -> tuple[PublicIncident, PublicUpdate]:
    now = clock.now()
    incident = PublicIncident(
        code=new_code(),
        page_id=page.id,
        kind=kind,
        name=name,
        status=status,
        impact="major" if kind == "incident" else "maintenance",
        started_at=now,
        scheduled_for=now + timedelta(hours=2) if kind == "maintenance" else None,
        scheduled_until=now + timedelta(hours=3) if kind == "maintenance" else None,
        remind_minutes=60 if kind == "maintenance" else None,
        report={},
        created_at=now,
        updated_at=now,
    )
    db.add(incident)
    db.flush()
    for component in components:
        db.execute(
            public_incident_components.insert().values(
                public_incident_id=incident.id, component_id=component.id
            )
        )
    update = PublicUpdate(
        code=new_code(),
        public_incident_id=incident.id,
        status=status,
        body=body,
        parts={},
        affected_components=[
            {"code": c.code, "name": c.name, "old_status": "operational", "new_status": "major"}
            for c in components
        ],
        display_at=now,
        created_at=now,
    )
    db.add(update)
    db.flush()
    return incident, update


def subscribe(
    db: Session,
    clock: FakeClock,
    page: StatusPage,
    email: str,
    components: list[str] | None = None,
    *,
    confirmed: bool = True,
) -> Subscriber:
    subscriber = subscribers.subscribe_email(
        db,
        actor=ACTOR,
        page=page,
        email=email,
        component_codes=components or [],
        now=clock.now(),
        base_url=BASE,
    )
    if confirmed:
        subscribers.confirm(db, subscriber=subscriber, now=clock.now())
    return subscriber


def deliveries(db: Session, event: str | None = None) -> list[Delivery]:
    query = select(Delivery).order_by(Delivery.id)
    if event is not None:
        query = query.where(Delivery.event == event)
    return list(db.scalars(query))


# --- subscribing ------------------------------------------------------------------------------


def test_a_new_address_is_pending_and_mailed_a_confirm_link_that_needs_a_button(db, clock):
    page = make_page(db, clock)
    subscriber = subscribe(db, clock, page, "Ann@Example.COM", confirmed=False)

    assert subscriber.confirmed_at is None
    assert subscriber.target == "Ann@example.com"  # the domain normalised
    [mail] = deliveries(db)
    assert mail.event == subscribers.CONFIRM_EVENT
    assert mail.target == "Ann@example.com"
    assert mail.message["subject"] == "[Acme Status] Confirm your subscription"
    confirm_url = f"{BASE}/status/subscriptions/{subscriber.token}/confirm"
    assert confirm_url in mail.message["text"]
    assert confirm_url in mail.message["html"]
    assert db.scalar(select(func.count()).select_from(Job).where(Job.kind == "notify.deliver"))
    audit = db.scalars(select(AuditRecord).where(AuditRecord.entity_id == subscriber.code)).all()
    assert [entry.action for entry in audit] == ["status_subscriber.subscribed"]
    assert "Ann" not in str(audit[0].after)  # the address stays out of the audit log


def test_asking_again_within_the_hour_sends_no_second_mail_and_later_does(db, clock):
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API")
    first = subscribe(db, clock, page, "ann@example.com", confirmed=False)
    clock.advance(minutes=59)
    again = subscribe(db, clock, page, "ann@example.com", [api.code], confirmed=False)

    assert again.id == first.id
    assert again.component_codes == [api.code]  # a pending subscription takes the new choice
    assert len(deliveries(db)) == 1
    clock.advance(minutes=2)
    subscribe(db, clock, page, "ann@example.com", [api.code], confirmed=False)
    assert len(deliveries(db)) == 2


def test_a_confirmed_address_asking_again_keeps_its_choice_and_gets_its_manage_link(db, clock):
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API")
    subscriber = subscribe(db, clock, page, "ann@example.com")
    clock.advance(hours=2)

    again = subscribe(db, clock, page, "ann@example.com", [api.code], confirmed=False)

    assert again.id == subscriber.id
    assert again.component_codes == []  # a stranger cannot narrow what Ann hears about
    mail = deliveries(db)[-1]
    assert mail.message["subject"] == "[Acme Status] Your subscription"
    assert f"{BASE}/status/subscriptions/{subscriber.token}" in mail.message["text"]


def test_bad_input_names_the_field(db, clock):
    page = make_page(db, clock)
    with pytest.raises(InvalidInput) as bad_email:
        subscribe(db, clock, page, "not-an-address")
    assert bad_email.value.errors[0].field == "email"
    with pytest.raises(InvalidInput) as bad_component:
        subscribe(db, clock, page, "ann@example.com", ["nope"])
    assert bad_component.value.errors[0].field == "components"
    assert "nope" in bad_component.value.errors[0].message
    assert deliveries(db) == []


def test_confirming_twice_changes_nothing_the_second_time(db, clock):
    page = make_page(db, clock)
    subscriber = subscribe(db, clock, page, "ann@example.com", confirmed=False)
    assert subscribers.confirm(db, subscriber=subscriber, now=clock.now()) is True
    clock.advance(minutes=5)
    assert subscribers.confirm(db, subscriber=subscriber, now=clock.now()) is False
    assert subscriber.confirmed_at == clock.now() - timedelta(minutes=5)


def test_components_are_kept_in_page_order_and_can_be_changed_and_cleared(db, clock):
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API", position=2)
    web = make_component(db, clock, page, "Web", position=1)
    subscriber = subscribe(db, clock, page, "ann@example.com", [api.code, web.code, api.code])
    assert subscriber.component_codes == [web.code, api.code]

    subscribers.set_components(
        db, subscriber=subscriber, component_codes=[api.code], now=clock.now()
    )
    assert subscriber.component_codes == [api.code]
    subscribers.set_components(db, subscriber=subscriber, component_codes=[], now=clock.now())
    assert subscriber.component_codes == []
    actions = db.scalars(
        select(AuditRecord.action).where(AuditRecord.entity_id == subscriber.code)
    ).all()
    assert actions.count("status_subscriber.components_changed") == 2


def test_a_component_of_another_page_cannot_be_chosen(db, clock):
    page = make_page(db, clock)
    other = make_page(db, clock, slug="other", default=False)
    theirs = make_component(db, clock, other, "Billing")
    with pytest.raises(InvalidInput):
        subscribe(db, clock, page, "ann@example.com", [theirs.code])


def test_webhooks_are_confirmed_at_once_checked_and_unique(db, clock):
    page = make_page(db, clock)
    hook = subscribers.add_webhook(
        db,
        actor=ACTOR,
        page=page,
        url="https://Hooks.Example.com/status",
        component_codes=[],
        now=clock.now(),
        allow_private=False,
    )
    assert hook.confirmed_at == clock.now()
    assert hook.target == "https://hooks.example.com/status"
    with pytest.raises(Conflict):
        subscribers.add_webhook(
            db,
            actor=ACTOR,
            page=page,
            url="https://hooks.example.com/status",
            component_codes=[],
            now=clock.now(),
            allow_private=False,
        )
    with pytest.raises(InvalidInput) as private:
        subscribers.add_webhook(
            db,
            actor=ACTOR,
            page=page,
            url="http://127.0.0.1:9/hook",
            component_codes=[],
            now=clock.now(),
            allow_private=False,
        )
    assert private.value.errors[0].field == "target"


def test_removing_deletes_the_subscriber_and_audits_who_did_it(db, clock, admin):
    page = make_page(db, clock)
    mine = subscribe(db, clock, page, "ann@example.com")
    theirs = subscribe(db, clock, page, "bob@example.com")
    code_mine, code_theirs = mine.code, theirs.code

    subscribers.remove(db, subscriber=mine, now=clock.now())
    admin_actor = Actor(user_id=admin.user.id, label="Ada", via="api")
    subscribers.remove(db, subscriber=theirs, now=clock.now(), actor=admin_actor)

    assert subscribers.list_subscribers(db, page=page) == []
    audit = dict(
        db.execute(
            select(AuditRecord.entity_id, AuditRecord.action).where(
                AuditRecord.action.in_(
                    ["status_subscriber.unsubscribed", "status_subscriber.removed"]
                )
            )
        ).all()
    )
    assert audit == {
        code_mine: "status_subscriber.unsubscribed",
        code_theirs: "status_subscriber.removed",
    }


def test_by_token_finds_nothing_for_an_empty_or_overlong_token(db, clock):
    page = make_page(db, clock)
    subscriber = subscribe(db, clock, page, "ann@example.com")
    assert subscribers.by_token(db, subscriber.token) is subscriber
    assert subscribers.by_token(db, "") is None
    assert subscribers.by_token(db, "x" * 65) is None


def test_page_urls_the_default_page_at_status_others_by_slug(db, clock):
    page = make_page(db, clock)
    other = make_page(db, clock, slug="eu", default=False)
    assert subscribers.page_url(BASE + "/", page) == f"{BASE}/status"
    assert subscribers.page_url(BASE, other) == f"{BASE}/status/eu"


# --- who hears what ---------------------------------------------------------------------------


def test_an_incident_update_reaches_confirmed_subscribers_who_follow_its_components(db, clock):
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API")
    web = make_component(db, clock, page, "Web", position=1)
    everything = subscribe(db, clock, page, "all@example.com")
    api_fan = subscribe(db, clock, page, "api@example.com", [api.code])
    subscribe(db, clock, page, "web@example.com", [web.code])
    subscribe(db, clock, page, "pending@example.com", confirmed=False)
    other_page = make_page(db, clock, slug="other", default=False)
    subscribe(db, clock, other_page, "elsewhere@example.com")
    incident, update = make_incident(db, clock, page, [api])
    before = len(deliveries(db))

    notifications.incident_updated(
        db, public_incident=incident, update=update, now=clock.now(), base_url=BASE
    )

    sent = deliveries(db, notifications.INCIDENT_EVENT)
    assert len(deliveries(db)) == before + 2
    assert sorted(d.target for d in sent) == ["all@example.com", "api@example.com"]
    mail = next(d for d in sent if d.target == api_fan.target)
    assert mail.message["subject"] == "[Acme Status] Checkout errors — Investigating"
    assert f"{BASE}/status/incidents/{incident.code}" in mail.message["text"]
    assert "We are rolling back the last deploy." in mail.message["text"]
    assert "<p>We are rolling back the last deploy.</p>" in mail.message["html"]
    unsubscribe = f"{BASE}/status/subscriptions/{api_fan.token}/unsubscribe"
    assert unsubscribe in mail.message["text"]
    assert mail.message["headers"] == {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    other = next(d for d in sent if d.target == everything.target)
    assert everything.token in other.message["text"]
    assert api_fan.token not in other.message["text"]


def test_an_incident_naming_no_components_reaches_every_confirmed_subscriber(db, clock):
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API")
    subscribe(db, clock, page, "api@example.com", [api.code])
    subscribe(db, clock, page, "all@example.com")
    incident, update = make_incident(db, clock, page, [])

    notifications.incident_updated(
        db, public_incident=incident, update=update, now=clock.now(), base_url=BASE
    )

    assert len(deliveries(db, notifications.INCIDENT_EVENT)) == 2


def test_a_retried_publishing_job_sends_nothing_twice(db, clock):
    page = make_page(db, clock)
    subscribe(db, clock, page, "ann@example.com")
    incident, update = make_incident(db, clock, page, [])
    for _ in range(2):
        notifications.incident_updated(
            db, public_incident=incident, update=update, now=clock.now(), base_url=BASE
        )
    assert len(deliveries(db, notifications.INCIDENT_EVENT)) == 1
    assert db.scalar(select(func.count()).select_from(Job).where(Job.kind == "notify.deliver")) == 2


def test_a_webhook_gets_a_statuspage_incident_document(db, clock):
    page = make_page(db, clock, slug="eu", default=False)
    api = make_component(db, clock, page, "API")
    api.status = "partial_outage"
    hook = subscribers.add_webhook(
        db,
        actor=ACTOR,
        page=page,
        url="https://hooks.example.com/status",
        component_codes=[api.code],
        now=clock.now(),
        allow_private=False,
    )
    incident, first = make_incident(db, clock, page, [api])
    clock.advance(minutes=20)
    second = PublicUpdate(
        code=new_code(),
        public_incident_id=incident.id,
        status="identified",
        body="The cause is found.",
        parts={},
        affected_components=[],
        display_at=clock.now(),
        created_at=clock.now(),
    )
    db.add(second)
    incident.status = "identified"
    db.flush()

    notifications.incident_updated(
        db, public_incident=incident, update=second, now=clock.now(), base_url=BASE
    )

    [delivery] = deliveries(db, notifications.INCIDENT_EVENT)
    assert delivery.transport == "webhook"
    assert delivery.target == hook.target
    document = delivery.message
    assert document["meta"] == {
        "unsubscribe": f"{BASE}/status/subscriptions/{hook.token}/unsubscribe",
        "documentation": notifications.DOCUMENTATION_URL,
    }
    assert document["page"]["id"] == page.code
    assert document["page"]["status_indicator"] in {"minor", "major"}
    assert document["page"]["status_description"]
    body = document["incident"]
    assert body["id"] == incident.code
    assert body["name"] == "Checkout errors"
    assert body["status"] == "identified"
    assert body["impact"] == "major"
    assert body["shortlink"] == f"{BASE}/status/eu/incidents/{incident.code}"
    assert body["created_at"].endswith("Z")
    assert [u["id"] for u in body["incident_updates"]] == [second.code, first.code]
    assert body["incident_updates"][0]["incident_id"] == incident.code
    assert body["incident_updates"][1]["affected_components"][0]["code"] == api.code
    assert body["components"] == [
        {
            "created_at": body["components"][0]["created_at"],
            "id": api.code,
            "name": "API",
            "status": "partial_outage",
        }
    ]


def test_a_component_change_reaches_its_followers_with_a_component_update(db, clock):
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API")
    web = make_component(db, clock, page, "Web", position=1)
    subscribe(db, clock, page, "api@example.com", [api.code])
    subscribe(db, clock, page, "web@example.com", [web.code])
    subscribe(db, clock, page, "all@example.com")
    hook = subscribers.add_webhook(
        db,
        actor=ACTOR,
        page=page,
        url="https://hooks.example.com/s",
        component_codes=[],
        now=clock.now(),
        allow_private=False,
    )
    api.status = "major_outage"
    db.flush()

    for _ in range(2):  # a retried job: still one delivery each
        notifications.component_changed(
            db, component=api, old_status="operational", now=clock.now(), base_url=BASE
        )

    sent = deliveries(db, notifications.COMPONENT_EVENT)
    assert sorted(d.target for d in sent) == sorted(
        ["api@example.com", "all@example.com", hook.target]
    )
    mail = next(d for d in sent if d.target == "api@example.com")
    assert mail.message["subject"] == "[Acme Status] API — Major outage"
    assert "Operational → Major outage" in mail.message["text"]
    document = next(d for d in sent if d.target == hook.target).message
    update = document["component_update"]
    assert update["new_status"] == "major_outage"
    assert update["old_status"] == "operational"
    assert update["component_id"] == api.code
    assert len(update["id"]) == 12
    assert document["component"]["id"] == api.code
    assert document["component"]["status"] == "major_outage"
    assert document["page"] == {
        "id": page.code,
        # One of two components down: a partial outage of the system, by the page's rule.
        "status_indicator": "major",
        "status_description": "Partial System Outage",
    }


def test_a_maintenance_reminder_goes_once_to_those_who_follow_its_components(db, clock):
    page = make_page(db, clock)
    api = make_component(db, clock, page, "API")
    web = make_component(db, clock, page, "Web", position=1)
    subscribe(db, clock, page, "api@example.com", [api.code])
    subscribe(db, clock, page, "web@example.com", [web.code])
    hook = subscribers.add_webhook(
        db,
        actor=ACTOR,
        page=page,
        url="https://hooks.example.com/s",
        component_codes=[api.code],
        now=clock.now(),
        allow_private=False,
    )
    maintenance, _ = make_incident(
        db,
        clock,
        page,
        [api],
        name="Database upgrade",
        kind="maintenance",
        status="scheduled",
        body="Short read-only window.",
    )
    for _ in range(2):
        notifications.maintenance_reminder(
            db, maintenance=maintenance, now=clock.now(), base_url=BASE
        )

    sent = deliveries(db, notifications.REMINDER_EVENT)
    assert sorted(d.target for d in sent) == sorted(["api@example.com", hook.target])
    mail = next(d for d in sent if d.transport == "email").message
    starts = maintenance.scheduled_for
    assert starts is not None
    assert mail["subject"] == (
        f"[Acme Status] Reminder: Database upgrade — starts {starts:%Y-%m-%d %H:%M} UTC"
    )
    assert "Short read-only window." in mail["text"]
    assert "Affected: API" in mail["text"]
    document = next(d for d in sent if d.transport == "webhook").message
    assert document["incident"]["status"] == "scheduled"
    assert document["incident"]["scheduled_remind_prior"] is True
    assert document["incident"]["scheduled_auto_transition"] is True
    assert document["page"]["status_indicator"] == "none"


def test_a_page_with_an_active_maintenance_reads_under_maintenance(db, clock):
    page = make_page(db, clock)
    hook = subscribers.add_webhook(
        db,
        actor=ACTOR,
        page=page,
        url="https://hooks.example.com/s",
        component_codes=[],
        now=clock.now(),
        allow_private=False,
    )
    maintenance, update = make_incident(
        db, clock, page, [], kind="maintenance", status="in_progress", body="Started."
    )
    notifications.incident_updated(
        db, public_incident=maintenance, update=update, now=clock.now(), base_url=BASE
    )
    [delivery] = deliveries(db, notifications.INCIDENT_EVENT)
    assert delivery.target == hook.target
    assert delivery.message["page"]["status_indicator"] == "none"
    assert "aintenance" in delivery.message["page"]["status_description"]


def test_an_email_header_that_would_break_the_message_is_refused_not_sent(smtp_server):
    from fireline.notify.transports import send_email

    message = {"subject": "s", "text": "t", "html": "<p>t</p>"}
    for headers in ({"X-Evil": "a\r\nBcc: x@example.com"}, {"Subject": "twice"}):
        outcome = send_email(
            smtp_server.settings(), to="ann@example.com", message={**message, "headers": headers}
        )
        assert outcome.permanent
        assert "header" in (outcome.error or "")
    sent = send_email(
        smtp_server.settings(),
        to="ann@example.com",
        message={**message, "headers": {"List-Unsubscribe": "<https://x.example/u>"}},
    )
    assert sent.ok
    assert smtp_server.messages[0]["List-Unsubscribe"] == "<https://x.example/u>"
