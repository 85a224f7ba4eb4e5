"""Scheduled maintenance on the fake clock (Monday 2026-01-05, 10:00 UTC): the database upgrade
is announced for 12:00-14:00; subscribers are reminded at 11:00, the worker starts it at 12:00
(Checkout goes under maintenance) and completes it at 14:00. Rescheduled or cancelled, the old
timers do nothing; maintenance never shows as an outage."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from fireline.accounts.principal import Actor
from fireline.comms import maintenance as maintenances
from fireline.comms import public_incidents
from fireline.errors import IllegalTransition, InvalidInput, NotFound
from fireline.jobs.handlers import default_handlers, quick_kinds
from fireline.jobs.worker import Worker
from fireline.models import Job, PublicIncident, PublicStatus

from .test_publishing import (
    BASE,
    LEE,
    MAJOR,
    add_component,
    at,
    default_page,
    field_of,
    parts,
    publish,
    resolve,
    statuses,
)

ADMIN = Actor(user_id=None, label="Ada Admin <ada@example.com>", via="test")


@pytest.fixture
def worker(session_factory, clock, settings) -> Worker:
    return Worker(
        session_factory, clock=clock, handlers=default_handlers(settings), worker_id="maint"
    )


@pytest.fixture
def reminded(monkeypatch) -> list[str]:
    told: list[str] = []
    monkeypatch.setattr(
        maintenances.notifications,
        "maintenance_reminder",
        lambda _session, **kwargs: told.append(kwargs["maintenance"].code),
    )
    return told


def drain(worker: Worker) -> None:
    """Run every job due now, and those they queue, until none is left."""
    for _ in range(20):
        if worker.run_once() == 0:
            return
    pytest.fail("jobs kept coming")


def schedule(db, clock, affected, **fields) -> PublicIncident:
    arguments = {
        "name": "Database upgrade",
        "scheduled_for": at("12:00"),
        "scheduled_until": at("14:00"),
        "components": [component.code for component in affected],
        "parts": parts(
            current_impact="Checkout may be slow or unavailable for a few minutes.",
            doing_now="We are upgrading the payments database.",
            users_should="Plan payments outside the window.",
        ),
        **fields,
    }
    made = maintenances.schedule_maintenance(
        db, actor=LEE, now=clock.now(), base_url=BASE, page=default_page(db), **arguments
    )
    db.commit()
    return made


def fresh(db, maintenance: PublicIncident) -> PublicIncident:
    db.expire_all()
    return db.get_one(PublicIncident, maintenance.id)


def move_to(clock, worker, hhmm: str) -> None:
    clock.set(at(hhmm))
    drain(worker)


def texts(db, maintenance) -> list[str]:
    db.expire_all()
    return [u.body for u in public_incidents.updates_of(db, maintenance)]


def test_scheduling_announces_it_and_sets_its_reminder_start_and_end(db, clock):
    checkout = add_component(db, clock, "Checkout")
    maintenance = schedule(db, clock, [checkout])

    assert (maintenance.kind, maintenance.status, maintenance.impact) == (
        "maintenance",
        "scheduled",
        "maintenance",
    )
    assert [c.code for c in public_incidents.components_of(db, maintenance)] == [checkout.code]
    assert statuses(db, checkout) == ["operational"]  # nothing changes before it starts
    (announced,) = public_incidents.updates_of(db, maintenance)
    assert announced.status == "scheduled"
    jobs = db.scalars(select(Job).where(Job.kind.like("comms.maintenance%"))).all()
    assert sorted((job.kind, job.run_at.replace(tzinfo=UTC)) for job in jobs) == [
        ("comms.maintenance_end", at("14:00")),
        ("comms.maintenance_reminder", at("11:00")),
        ("comms.maintenance_start", at("12:00")),
    ]
    assert {maintenances.START_JOB, maintenances.END_JOB} <= quick_kinds()


def test_the_window_runs_itself_reminder_start_and_end(db, clock, worker, reminded):
    checkout = add_component(db, clock, "Checkout")
    maintenance = schedule(db, clock, [checkout])

    move_to(clock, worker, "10:59")
    assert reminded == []
    move_to(clock, worker, "11:00")
    assert reminded == [maintenance.code]
    assert fresh(db, maintenance).reminded_at.replace(tzinfo=UTC) == at("11:00")

    move_to(clock, worker, "11:59")
    assert fresh(db, maintenance).status == "scheduled"
    move_to(clock, worker, "12:00")
    started = fresh(db, maintenance)
    assert started.status == "in_progress"
    assert started.started_at.replace(tzinfo=UTC) == at("12:00")
    assert statuses(db, checkout) == ["under_maintenance"]
    assert texts(db, maintenance)[0].startswith("Scheduled maintenance is in progress")
    (in_progress, _) = public_incidents.updates_of(db, maintenance)
    assert in_progress.affected_components[0]["new_status"] == "under_maintenance"

    move_to(clock, worker, "14:00")
    ended = fresh(db, maintenance)
    assert ended.status == "completed"
    assert ended.resolved_at.replace(tzinfo=UTC) == at("14:00")
    assert statuses(db, checkout) == ["operational"]
    assert texts(db, maintenance)[0] == maintenances.COMPLETED_NOTE
    assert reminded == [maintenance.code]  # once


def test_rescheduled_the_old_timers_do_nothing_and_new_ones_run(db, clock, worker, reminded):
    checkout = add_component(db, clock, "Checkout")
    maintenance = schedule(db, clock, [checkout])
    clock.set(at("10:30"))
    maintenances.reschedule_maintenance(
        db,
        actor=LEE,
        now=clock.now(),
        maintenance=fresh(db, maintenance),
        scheduled_for=at("13:00"),
        scheduled_until=at("15:00"),
    )
    db.commit()

    move_to(clock, worker, "11:00")
    assert reminded == []  # the 11:00 reminder was for a 12:00 start
    move_to(clock, worker, "12:00")
    assert reminded == [maintenance.code]
    assert fresh(db, maintenance).status == "scheduled"
    move_to(clock, worker, "13:00")
    assert fresh(db, maintenance).status == "in_progress"
    move_to(clock, worker, "14:00")
    assert fresh(db, maintenance).status == "in_progress"  # the old end is stale
    move_to(clock, worker, "15:00")
    assert fresh(db, maintenance).status == "completed"
    assert statuses(db, checkout) == ["operational"]


def test_a_running_maintenance_can_be_extended_but_not_moved(db, clock, worker):
    checkout = add_component(db, clock, "Checkout")
    maintenance = schedule(db, clock, [checkout], remind_minutes=None)
    move_to(clock, worker, "12:30")
    running = fresh(db, maintenance)
    for field, change in (
        ("scheduled_for", {"scheduled_for": at("13:00")}),
        ("remind_minutes", {"remind_minutes": 10}),
        ("scheduled_until", {"scheduled_until": at("12:15")}),
    ):
        with pytest.raises(InvalidInput) as refused:
            maintenances.reschedule_maintenance(
                db, actor=LEE, now=clock.now(), maintenance=running, **change
            )
        assert field_of(refused.value) == field
    maintenances.reschedule_maintenance(
        db, actor=LEE, now=clock.now(), maintenance=running, scheduled_until=at("16:00")
    )
    db.commit()
    move_to(clock, worker, "14:00")
    assert fresh(db, maintenance).status == "in_progress"
    move_to(clock, worker, "16:00")
    assert fresh(db, maintenance).status == "completed"


def test_cancelled_it_completes_with_the_reason_and_its_timers_do_nothing(
    db, clock, worker, reminded
):
    checkout = add_component(db, clock, "Checkout")
    maintenance = schedule(db, clock, [checkout])
    cancelled = maintenances.cancel_maintenance(
        db,
        actor=LEE,
        now=clock.now(),
        base_url=BASE,
        maintenance=fresh(db, maintenance),
        note="The vendor postponed the upgrade.",
    )
    db.commit()
    assert cancelled.body == (
        "This scheduled maintenance has been cancelled. The vendor postponed the upgrade."
    )
    assert cancelled.status == "completed"

    for hhmm in ("11:00", "12:00", "14:00"):
        move_to(clock, worker, hhmm)
    assert reminded == []
    assert statuses(db, checkout) == ["operational"]
    assert len(texts(db, maintenance)) == 2
    with pytest.raises(IllegalTransition):
        maintenances.cancel_maintenance(
            db, actor=LEE, now=clock.now(), base_url=BASE, maintenance=fresh(db, maintenance),
            note="Again.",
        )  # fmt: skip
    with pytest.raises(InvalidInput) as empty:
        maintenances.cancel_maintenance(
            db, actor=LEE, now=clock.now(), base_url=BASE, maintenance=maintenance, note=" "
        )
    assert field_of(empty.value) == "note"


def test_without_automatic_transitions_people_move_it_forward_and_never_back(db, clock, worker):
    checkout = add_component(db, clock, "Checkout")
    maintenance = schedule(db, clock, [checkout], auto_transition=False, remind_minutes=None)
    move_to(clock, worker, "12:00")
    assert fresh(db, maintenance).status == "scheduled"

    def post(status):
        posted = maintenances.update_maintenance(
            db,
            actor=LEE,
            now=clock.now(),
            base_url=BASE,
            maintenance=fresh(db, maintenance),
            parts=parts(),
            status=status,
        )
        db.commit()
        return posted

    post(PublicStatus.IN_PROGRESS)
    assert statuses(db, checkout) == ["under_maintenance"]
    post(None)  # an update that keeps the status
    post(PublicStatus.VERIFYING)
    assert statuses(db, checkout) == ["under_maintenance"]
    with pytest.raises(IllegalTransition):
        post(PublicStatus.IN_PROGRESS)
    with pytest.raises(InvalidInput) as incident_status:
        post(PublicStatus.MONITORING)
    assert field_of(incident_status.value) == "status"
    move_to(clock, worker, "14:00")
    assert fresh(db, maintenance).status == "verifying"  # no automatic end either
    done = post(PublicStatus.COMPLETED)
    assert done.affected_components[0]["new_status"] == "operational"
    with pytest.raises(IllegalTransition):
        post(None)

    with pytest.raises(IllegalTransition):
        maintenances.reschedule_maintenance(
            db, actor=LEE, now=clock.now(), maintenance=fresh(db, maintenance), name="Later"
        )


def test_turning_automatic_transitions_back_on_starts_a_window_already_open(db, clock, worker):
    checkout = add_component(db, clock, "Checkout")
    maintenance = schedule(db, clock, [checkout], auto_transition=False)
    move_to(clock, worker, "12:10")
    maintenances.reschedule_maintenance(
        db, actor=LEE, now=clock.now(), maintenance=fresh(db, maintenance), auto_transition=True
    )
    db.commit()
    drain(worker)
    assert fresh(db, maintenance).status == "in_progress"


def test_an_incident_holding_a_component_outlasts_the_maintenance(db, clock, worker):
    checkout = add_component(db, clock, "Checkout")
    maintenance = schedule(db, clock, [checkout], remind_minutes=None)
    move_to(clock, worker, "12:00")
    outage = publish(db, clock, components={checkout.code: MAJOR})
    db.commit()
    move_to(clock, worker, "14:00")
    assert fresh(db, maintenance).status == "completed"
    assert statuses(db, checkout) == ["major_outage"]  # the incident still holds it
    resolve(db, clock, db.get_one(PublicIncident, outage.id))
    assert statuses(db, checkout) == ["operational"]


def test_an_incident_resolved_during_maintenance_leaves_it_under_maintenance(db, clock, worker):
    checkout = add_component(db, clock, "Checkout")
    outage = publish(db, clock, components={checkout.code: MAJOR})
    schedule(db, clock, [checkout], remind_minutes=None)
    move_to(clock, worker, "12:00")
    assert statuses(db, checkout) == ["major_outage"]  # worse than maintenance: it stays
    resolve(db, clock, db.get_one(PublicIncident, outage.id))
    assert statuses(db, checkout) == ["under_maintenance"]


def test_each_timer_acts_once_and_only_for_the_instant_it_was_set_for(db, clock):
    maintenance = schedule(db, clock, [])
    clock.set(at("11:00"))
    remind = {"maintenance_id": maintenance.id, "now": clock.now(), "base_url": BASE}
    assert not maintenances.remind_due(db, at=at("10:30"), **remind)
    assert maintenances.remind_due(db, at=at("11:00"), **remind)
    assert not maintenances.remind_due(db, at=at("11:00"), **remind)
    clock.set(at("12:00"))
    start = {"maintenance_id": maintenance.id, "now": clock.now(), "base_url": BASE}
    assert not maintenances.end_due(db, at=at("14:00"), **start)  # not started yet
    assert maintenances.start_due(db, at=at("12:00"), **start)
    assert not maintenances.start_due(db, at=at("12:00"), **start)
    assert not maintenances.end_due(db, at=at("13:00"), **start)
    assert maintenances.end_due(db, at=at("14:00"), **start)
    assert not maintenances.start_due(db, maintenance_id=10**6, at=at("12:00"), now=clock.now(),
                                      base_url=BASE)  # fmt: skip


def test_a_reminder_too_late_to_give_is_not_set(db, clock):
    maintenance = schedule(db, clock, [], scheduled_for=at("10:30"), scheduled_until=at("11:00"))
    jobs = db.scalars(select(Job).where(Job.kind.like("comms.maintenance%"))).all()
    kinds = [job.kind for job in jobs if job.payload["public_incident_id"] == maintenance.id]
    assert sorted(kinds) == ["comms.maintenance_end", "comms.maintenance_start"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": " "}, "name"),
        ({"scheduled_for": at("10:00")}, "scheduled_for"),
        ({"scheduled_until": at("12:00")}, "scheduled_until"),
        ({"remind_minutes": 0}, "remind_minutes"),
        ({"remind_minutes": 7 * 24 * 60 + 1}, "remind_minutes"),
        ({"parts": parts(doing_now=" ")}, "doing_now"),
        ({"components": ["nope"]}, "components[0]"),
    ],
)
def test_bad_input_is_refused_naming_the_field(db, clock, fields, field):
    with pytest.raises(InvalidInput) as refused:
        schedule(db, clock, [], **fields)
    assert field_of(refused.value) == field


def test_rescheduling_checks_the_new_window_and_name(db, clock):
    maintenance = schedule(db, clock, [])
    for change, field in (
        ({"scheduled_until": at("11:00")}, "scheduled_until"),
        ({"scheduled_for": at("09:00")}, "scheduled_for"),
        ({"name": "  "}, "name"),
    ):
        with pytest.raises(InvalidInput) as refused:
            maintenances.reschedule_maintenance(
                db, actor=ADMIN, now=clock.now(), maintenance=maintenance, **change
            )
        assert field_of(refused.value) == field
    maintenances.reschedule_maintenance(
        db, actor=ADMIN, now=clock.now(), maintenance=maintenance, name="DB upgrade",
        clear_reminder=True,
    )  # fmt: skip
    assert (maintenance.name, maintenance.remind_minutes) == ("DB upgrade", None)
    assert maintenance.scheduled_until.replace(tzinfo=UTC) - timedelta(hours=2) == at("12:00")


def test_a_maintenance_is_not_an_incident_to_move(db, clock):
    incident = publish(db, clock)
    with pytest.raises(NotFound):
        maintenances.update_maintenance(
            db, actor=LEE, now=clock.now(), base_url=BASE, maintenance=incident, parts=parts(),
            status=PublicStatus.COMPLETED,
        )  # fmt: skip


def test_a_maintenance_only_scheduled_holds_nothing(db, clock):
    checkout = add_component(db, clock, "Checkout")
    schedule(db, clock, [checkout], remind_minutes=None)
    outage = publish(db, clock, components={checkout.code: MAJOR})
    resolve(db, clock, outage)
    assert statuses(db, checkout) == ["operational"]
