"""Publishing an incident to the status page, as the communications lead lives it, on the fake
clock (Monday 2026-01-05, 10:00 UTC): Checkout fails, a SEV1 is declared at 10:00, the public
incident goes out at 10:12 and meets the first public update the SEV1 owes; updates follow, the
incident is resolved with a closing update, and the report comes later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from fireline.accounts.principal import Actor
from fireline.comms import public_incidents, publishing
from fireline.comms.codes import new_code
from fireline.comms.publishing import PublicParts
from fireline.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from fireline.incidents.queries import get_incident
from fireline.models import (
    AuditRecord,
    Component,
    ComponentStatus,
    Impact,
    PublicIncident,
    PublicStatus,
    StatusPage,
    TimelineEntry,
)
from fireline.response import service as response

BASE = "https://status.example.com"
LEE = Actor(user_id=None, label="Lee Comms <lee@example.com>", via="test")
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE
OPERATIONAL = ComponentStatus.OPERATIONAL


def at(hhmm: str, day: int = 5) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime(2026, 1, day, hours, minutes, tzinfo=UTC)


def default_page(db) -> StatusPage:
    return db.scalars(select(StatusPage).where(StatusPage.is_default)).one()


def add_component(db, clock, name: str, *, page: StatusPage | None = None) -> Component:
    page = page or default_page(db)
    component = Component(
        code=new_code(),
        page_id=page.id,
        name=name,
        started_at=clock.now() - timedelta(days=30),
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    db.add(component)
    db.commit()
    return component


def parts(next_update_at: datetime | None = None, **overrides: str) -> PublicParts:
    fields = {
        "current_impact": "Card payments fail for most customers.",
        "doing_now": "We are rolling back the 09:40 deploy.",
        "users_should": "Retry in a few minutes; no charge was made.",
        **overrides,
    }
    return PublicParts(**fields, next_update_at=next_update_at)


def declare(api, severity: str = "SEV1") -> str:
    made = api.post("/api/v1/incidents", json={"title": "Checkout down", "severity": severity})
    assert made.status_code == 201, made.text
    return made.json()["reference"]


def publish(db, clock, incident=None, *, components=None, **fields) -> PublicIncident:
    arguments = {
        "name": "Payments failing",
        "status": PublicStatus.INVESTIGATING,
        "components": components or {},
        "parts": parts(clock.now() + timedelta(minutes=30)),
        **fields,
    }
    return publishing.publish_incident(
        db,
        actor=LEE,
        now=clock.now(),
        base_url=BASE,
        page=default_page(db),
        incident=incident,
        **arguments,
    )


def update(db, clock, public_incident, status=PublicStatus.IDENTIFIED, **fields):
    return publishing.post_public_update(
        db,
        actor=LEE,
        now=clock.now(),
        base_url=BASE,
        public_incident=public_incident,
        status=status,
        parts=fields.pop("parts", parts(clock.now() + timedelta(minutes=30))),
        **fields,
    )


def resolve(db, clock, public_incident, **fields):
    return publishing.resolve_public_incident(
        db,
        actor=LEE,
        now=clock.now(),
        base_url=BASE,
        public_incident=public_incident,
        what_happened=fields.pop("what_happened", "Card payments failed for most customers."),
        what_was_done=fields.pop("what_was_done", "We rolled back the deploy."),
        **fields,
    )


def report(db, clock, public_incident, **overrides):
    fields = {
        "apology": "We are sorry.",
        "summary": "Payments failed for 40 minutes.",
        "impact": "Most card payments failed.",
        "root_cause": "A configuration change sent payments to a retired endpoint.",
        "what_was_done": "We rolled it back.",
        "prevention": "Changes to payment routing are now checked before they ship.",
        **overrides,
    }
    return publishing.publish_report(
        db, actor=LEE, now=clock.now(), public_incident=public_incident, **fields
    )


def resolve_internal(api, ref: str) -> None:
    """Resolve the internal incident through its gate, waiving the monitoring period."""
    body = {
        "resolution_criteria": "Checkout success above 99.5% for 30 minutes",
        "criteria_met": True,
        "customer_impact_ended": True,
        "postmortem_owner": api.person.user.email,
        "postmortem_due_at": "2026-01-16T17:00:00Z",
        "monitoring_waiver_reason": "Fix verified by synthetic checks in every region",
    }
    resolved = api.post(f"/api/v1/incidents/{ref}/resolve", json=body)
    assert resolved.status_code == 200, resolved.text


def field_of(error: InvalidInput) -> str:
    (problem,) = error.errors
    return problem.field


def statuses(db, *components: Component) -> list[str]:
    db.expire_all()
    return [db.get_one(Component, component.id).status for component in components]


def entries(db, incident_id: int, kind: str = "public_update") -> list[TimelineEntry]:
    return list(
        db.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == incident_id, TimelineEntry.kind == kind)
            .order_by(TimelineEntry.id)
        )
    )


def owed(db, clock, incident_id: int, kind: response.ObligationKind):
    incident = get_incident(db, incident_id)
    return [o for o in response.obligations(db, incident, clock.now()) if o.kind is kind]


# --- What the customer reads ------------------------------------------------------------------


def test_an_update_reads_as_its_four_parts_with_the_next_update_in_utc():
    body = publishing.render_body(parts(at("10:42")))
    assert body.split("\n\n") == [
        "Current impact: Card payments fail for most customers.",
        "What we are doing: We are rolling back the 09:40 deploy.",
        "What you should do: Retry in a few minutes; no charge was made.",
        "Next update: by 2026-01-05 10:42 UTC.",
    ]


def test_an_update_without_a_next_time_says_more_comes_when_known():
    assert publishing.render_body(parts()).endswith("Next update: when we have more to share.")


@pytest.mark.parametrize(
    ("seen", "impact"),
    [
        ([], Impact.NONE),
        (["operational", "under_maintenance"], Impact.NONE),
        (["degraded_performance"], Impact.MINOR),
        (["degraded_performance", "partial_outage"], Impact.MAJOR),
        (["major_outage", "partial_outage", "operational"], Impact.CRITICAL),
    ],
)
def test_the_impact_is_the_worst_component_status(seen, impact):
    assert publishing.derive_impact(seen) is impact


# --- Publishing -------------------------------------------------------------------------------


def test_publishing_puts_the_components_in_their_statuses_and_writes_the_first_update(
    db, clock, as_responder
):
    ref = declare(as_responder)
    checkout, search = add_component(db, clock, "Checkout"), add_component(db, clock, "Search")
    version = default_page(db).version
    clock.advance(minutes=12)
    incident = get_incident(db, ref)

    public = publish(db, clock, incident, components={checkout.code: MAJOR, search.code: DEGRADED})

    assert (public.kind, public.status, public.impact) == ("incident", "investigating", "critical")
    assert public.started_at.replace(tzinfo=UTC) == at("10:00")  # the SEV1's declaration
    assert public.incident_id == incident.id
    assert statuses(db, checkout, search) == ["major_outage", "degraded_performance"]
    (first,) = public_incidents.updates_of(db, public)
    assert first.status == "investigating"
    assert first.body == publishing.render_body(parts(at("10:42")))
    assert {(a["code"], a["old_status"], a["new_status"]) for a in first.affected_components} == {
        (checkout.code, "operational", "major_outage"),
        (search.code, "operational", "degraded_performance"),
    }
    assert [c.name for c in public_incidents.components_of(db, public)] == ["Checkout", "Search"]
    (entry,) = entries(db, incident.id)
    assert first.timeline_entry_id == entry.id
    assert public_incidents.timeline_entry_of(db, first) is entry
    assert default_page(db).version > version
    actions = db.scalars(
        select(AuditRecord.action).where(AuditRecord.entity_id == public.code)
    ).all()
    assert {"public_incident.published", "public_update.posted"} <= set(actions)


def test_a_sev1_declared_at_10_00_published_at_10_12_meets_its_first_public_update(
    db, clock, as_responder
):
    ref = declare(as_responder)
    incident = get_incident(db, ref)
    (first,) = owed(db, clock, incident.id, response.ObligationKind.FIRST_PUBLIC_UPDATE)
    assert (first.state, first.due_at) == (response.ObligationState.PENDING, at("10:15"))

    clock.advance(minutes=12)
    public = publish(db, clock, incident)

    (first,) = owed(db, clock, incident.id, response.ObligationKind.FIRST_PUBLIC_UPDATE)
    assert (first.state, first.met_at, first.late) == (
        response.ObligationState.MET,
        at("10:12"),
        False,
    )
    (following,) = owed(db, clock, incident.id, response.ObligationKind.PUBLIC_UPDATE)
    assert (following.state, following.due_at) == (response.ObligationState.PENDING, at("10:42"))

    clock.advance(minutes=28)  # 10:40: the next public update, on the page, meets the next clock
    update(db, clock, public)
    (met, following) = owed(db, clock, incident.id, response.ObligationKind.PUBLIC_UPDATE)
    assert (met.state, met.met_at) == (response.ObligationState.MET, at("10:40"))
    assert (following.state, following.due_at) == (response.ObligationState.PENDING, at("11:10"))


def test_a_public_incident_of_its_own_starts_now_with_no_impact_and_no_timeline(db, clock):
    public = publish(db, clock)
    assert (public.incident_id, public.impact) == (None, "none")
    assert public.started_at.replace(tzinfo=UTC) == clock.now()
    (first,) = public_incidents.updates_of(db, public)
    assert first.timeline_entry_id is None
    assert public_incidents.timeline_entry_of(db, first) is None


def test_an_incident_still_in_triage_is_published_without_a_timeline_entry(db, clock, as_responder):
    made = as_responder.post(
        "/api/v1/incidents", json={"title": "Odd errors", "severity": "SEV2", "status": "triage"}
    )
    assert made.status_code == 201, made.text
    incident = get_incident(db, made.json()["reference"])
    assert not publishing.allows_updates(incident)
    public = publish(db, clock, incident)
    (first,) = public_incidents.updates_of(db, public)
    assert first.timeline_entry_id is None
    assert entries(db, incident.id) == []


def test_the_start_the_impact_and_monitoring_may_be_given(db, clock):
    public = publish(
        db,
        clock,
        status=PublicStatus.MONITORING,
        impact=Impact.MAJOR,
        started_at=at("09:40"),
    )
    assert (public.impact, public.status) == ("major", "monitoring")
    assert public.monitoring_at.replace(tzinfo=UTC) == at("10:00")
    assert public.started_at.replace(tzinfo=UTC) == at("09:40")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"status": PublicStatus.RESOLVED}, "status"),
        ({"status": PublicStatus.SCHEDULED}, "status"),
        ({"parts": parts(current_impact=" ")}, "current_impact"),
        ({"parts": parts(doing_now="")}, "doing_now"),
        ({"parts": parts(users_should="")}, "users_should"),
        ({"parts": parts(at("10:00"))}, "next_update_at"),
        ({"started_at": at("10:01")}, "started_at"),
    ],
)
def test_bad_input_is_refused_naming_the_field(db, clock, fields, field):
    with pytest.raises(InvalidInput) as refused:
        publish(db, clock, **fields)
    assert field_of(refused.value) == field


def test_a_component_not_on_the_page_or_put_under_maintenance_is_refused_by_code(db, clock):
    checkout = add_component(db, clock, "Checkout")
    with pytest.raises(InvalidInput) as unknown:
        publish(db, clock, components={"nope": MAJOR})
    assert field_of(unknown.value) == "components.nope"
    with pytest.raises(InvalidInput) as maintenance:
        publish(db, clock, components={checkout.code: ComponentStatus.UNDER_MAINTENANCE})
    assert field_of(maintenance.value) == f"components.{checkout.code}"
    assert "maintenance" in maintenance.value.detail


def test_an_incident_is_published_once_while_its_public_incident_is_open(db, clock, as_responder):
    incident = get_incident(db, declare(as_responder))
    public = publish(db, clock, incident)
    with pytest.raises(Conflict, match=public.code):
        publish(db, clock, incident)
    clock.advance(minutes=5)
    resolve(db, clock, public)
    again = publish(db, clock, incident)  # it came back: a new public incident
    assert public_incidents.public_incident_for(db, incident) is again


# --- Updates ----------------------------------------------------------------------------------


def test_updates_move_between_open_statuses_in_any_order_and_note_monitoring(db, clock):
    public = publish(db, clock)
    clock.advance(minutes=10)
    update(db, clock, public, PublicStatus.MONITORING)
    assert public.monitoring_at.replace(tzinfo=UTC) == at("10:10")
    clock.advance(minutes=10)
    update(db, clock, public, PublicStatus.IDENTIFIED)
    clock.advance(minutes=10)
    update(db, clock, public, PublicStatus.MONITORING)
    assert public.monitoring_at.replace(tzinfo=UTC) == at("10:30")
    clock.advance(minutes=1)
    update(db, clock, public, PublicStatus.MONITORING)  # staying in monitoring keeps its start
    assert public.monitoring_at.replace(tzinfo=UTC) == at("10:30")
    assert [u.status for u in public_incidents.updates_of(db, public)] == [
        "monitoring",
        "monitoring",
        "identified",
        "monitoring",
        "investigating",
    ]


def test_resolved_comes_only_from_resolving(db, clock):
    public = publish(db, clock)
    with pytest.raises(InvalidInput) as refused:
        update(db, clock, public, PublicStatus.RESOLVED)
    assert field_of(refused.value) == "status"
    with pytest.raises(IllegalTransition):
        update(db, clock, public, PublicStatus.POSTMORTEM)


def test_an_update_records_component_changes_and_derives_the_impact_again(db, clock):
    checkout, search = add_component(db, clock, "Checkout"), add_component(db, clock, "Search")
    public = publish(db, clock, components={checkout.code: MAJOR})
    clock.advance(minutes=20)

    posted = update(db, clock, public, components={checkout.code: DEGRADED, search.code: DEGRADED})

    assert posted.affected_components == [
        {"code": checkout.code, "name": "Checkout", "old_status": "major_outage",
         "new_status": "degraded_performance"},
        {"code": search.code, "name": "Search", "old_status": "operational",
         "new_status": "degraded_performance"},
    ]  # fmt: skip
    assert public.impact == "minor"
    unchanged = update(db, clock, public, components={checkout.code: DEGRADED})
    assert unchanged.affected_components == []
    update(db, clock, public, impact=Impact.CRITICAL)
    assert public.impact == "critical"
    update(db, clock, public)  # no components, no impact: it stays as it was
    assert public.impact == "critical"


def test_subscribers_are_told_of_each_update_with_one_message(db, clock, monkeypatch):
    told = []
    monkeypatch.setattr(
        publishing.notifications,
        "incident_updated",
        lambda _session, **kwargs: told.append(kwargs["update"].code),
    )
    changed = []
    monkeypatch.setattr(
        "fireline.comms.status_changes.notifications.component_changed",
        lambda _session, **kwargs: changed.append(kwargs),
    )
    checkout = add_component(db, clock, "Checkout")
    public = publish(db, clock, components={checkout.code: MAJOR})
    posted = update(db, clock, public)
    closing = resolve(db, clock, public)
    first = public_incidents.updates_of(db, public)[-1]
    assert told == [first.code, posted.code, closing.code]
    assert changed == []  # the updates named the component changes themselves


# --- Resolving and the report -----------------------------------------------------------------


def test_the_closing_update_says_what_happened_when_and_what_was_done(db, clock, as_responder):
    incident = get_incident(db, declare(as_responder))
    checkout = add_component(db, clock, "Checkout")
    clock.advance(minutes=12)
    public = publish(db, clock, incident, components={checkout.code: MAJOR})
    clock.advance(minutes=33)  # 10:45

    closing = resolve(db, clock, public, started_at=at("09:58"), ended_at=at("10:41"))

    assert (closing.closing, closing.status, public.status) == (True, "resolved", "resolved")
    assert closing.body.split("\n\n") == [
        "Resolved: Card payments failed for most customers.",
        "It started at 2026-01-05 09:58 UTC and ended at 2026-01-05 10:41 UTC.",
        "What we did: We rolled back the deploy.",
    ]
    assert closing.parts == {
        "what_happened": "Card payments failed for most customers.",
        "started_at": "2026-01-05T09:58:00Z",
        "ended_at": "2026-01-05T10:41:00Z",
        "what_was_done": "We rolled back the deploy.",
    }
    assert public.resolved_at.replace(tzinfo=UTC) == at("10:41")
    assert public.started_at.replace(tzinfo=UTC) == at("09:58")
    assert statuses(db, checkout) == ["operational"]
    assert closing.affected_components == [
        {"code": checkout.code, "name": "Checkout", "old_status": "major_outage",
         "new_status": "operational"}
    ]  # fmt: skip
    _first, last = entries(db, incident.id)
    assert last.id == closing.timeline_entry_id
    assert "Resolved: Card payments failed" in last.body


def test_a_component_another_open_incident_holds_stays_in_its_worse_state(db, clock):
    checkout, search = add_component(db, clock, "Checkout"), add_component(db, clock, "Search")
    payments = publish(db, clock, components={checkout.code: MAJOR, search.code: DEGRADED})
    clock.advance(minutes=5)
    search_outage = publish(db, clock, name="Search slow", components={search.code: PARTIAL})
    clock.advance(minutes=5)

    resolve(db, clock, payments)

    assert statuses(db, checkout, search) == ["operational", "partial_outage"]
    resolve(db, clock, search_outage)
    assert statuses(db, search) == ["operational"]


def test_an_incident_that_asked_for_the_status_a_component_already_had_still_holds_it(db, clock):
    checkout = add_component(db, clock, "Checkout")
    payments = publish(db, clock, components={checkout.code: MAJOR})
    refunds = publish(db, clock, name="Refunds failing", components={checkout.code: MAJOR})
    (first,) = public_incidents.updates_of(db, refunds)
    assert first.affected_components == []  # nothing changed, but refunds asked for it

    resolve(db, clock, payments)

    assert statuses(db, checkout) == ["major_outage"]
    update(db, clock, refunds, components={checkout.code: DEGRADED})
    update(db, clock, refunds)  # an update not naming the component keeps what it asked
    assert public_incidents.held_status(db, checkout) is DEGRADED
    resolve(db, clock, refunds)
    assert statuses(db, checkout) == ["operational"]


def test_a_resolved_incident_takes_only_a_postmortem_update(db, clock):
    public = publish(db, clock)
    with pytest.raises(InvalidInput) as early:
        resolve(db, clock, public, ended_at=at("10:05"))
    assert field_of(early.value) == "ended_at"
    with pytest.raises(InvalidInput) as backwards:
        resolve(db, clock, public, started_at=at("10:00"), ended_at=at("09:59"))
    assert field_of(backwards.value) == "started_at"
    for name in ("what_happened", "what_was_done"):
        with pytest.raises(InvalidInput) as empty:
            resolve(db, clock, public, **{name: " "})
        assert field_of(empty.value) == name
    resolve(db, clock, public)

    with pytest.raises(IllegalTransition):
        update(db, clock, public, PublicStatus.IDENTIFIED)
    with pytest.raises(IllegalTransition):
        resolve(db, clock, public)
    with pytest.raises(InvalidInput) as components:
        update(db, clock, public, PublicStatus.POSTMORTEM, components={"x": MAJOR})
    assert field_of(components.value) == "components"
    note = update(db, clock, public, PublicStatus.POSTMORTEM)
    assert (note.status, public.status) == ("postmortem", "postmortem")


def test_the_report_comes_after_resolving_with_every_part_and_is_kept_when_revised(db, clock):
    public = publish(db, clock)
    with pytest.raises(IllegalTransition):
        report(db, clock, public)
    resolve(db, clock, public)
    with pytest.raises(InvalidInput) as empty:
        report(db, clock, public, root_cause="  ")
    assert field_of(empty.value) == "root_cause"

    report(db, clock, public)
    assert public.status == "postmortem"
    assert public.report["prevention"].startswith("Changes to payment routing")
    published_at = public.report_published_at
    clock.advance(hours=2)
    report(db, clock, public, summary="Payments failed for 41 minutes.")
    assert public.report["summary"] == "Payments failed for 41 minutes."
    assert public.report_published_at == published_at


def test_maintenance_is_not_updated_resolved_or_reported_as_an_incident(db, clock):
    maintenance = publish(db, clock)
    maintenance.kind = "maintenance"
    for act in (update, resolve, report):
        with pytest.raises(Conflict, match="maintenance"):
            act(db, clock, maintenance)


def test_resolving_the_incident_prompts_for_the_closing_update_until_it_is_written(
    db, clock, as_responder
):
    ref = declare(as_responder)
    incident = get_incident(db, ref)
    assert not publishing.needs_closing_update(db, incident)  # nothing published
    public = publish(db, clock, incident)
    db.commit()
    assert not publishing.needs_closing_update(db, incident)  # still open inside
    clock.advance(minutes=20)
    resolve_internal(as_responder, ref)
    incident = get_incident(db, ref)
    assert publishing.needs_closing_update(db, incident)
    resolve(db, clock, public)
    assert not publishing.needs_closing_update(db, incident)


# --- Finding ----------------------------------------------------------------------------------


def test_public_incidents_are_found_by_code_and_listed_newest_first(db, clock):
    first = publish(db, clock)
    second = publish(db, clock, name="Search slow")
    resolve(db, clock, first)
    page = default_page(db)
    assert public_incidents.get_public_incident(db, second.code) is second
    for code in ("nope", "x" * 17, "a\x00b"):
        with pytest.raises(NotFound):
            public_incidents.get_public_incident(db, code)
    assert public_incidents.list_public_incidents(db, page) == [second, first]
    assert public_incidents.list_public_incidents(db, page, unresolved=True) == [second]
    assert public_incidents.list_public_incidents(db, page, status=PublicStatus.RESOLVED) == [first]
    assert public_incidents.list_public_incidents(db, page, before_id=second.id) == [first]
