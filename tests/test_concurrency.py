"""Two people acting on one incident at the same moment: nothing is lost, and there is never more
than one commander. Each worker has its own database session and transaction, as two web
processes would; on PostgreSQL the incident row lock orders them, on SQLite the write lock."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fireline.accounts import service as accounts
from fireline.accounts.principal import Actor
from fireline.clock import FakeClock
from fireline.db import make_engine, make_session_factory, transaction
from fireline.incidents import service as incidents
from fireline.models import Role, RoleAssignment, TimelineEntry

WORKERS = 6


@pytest.fixture(scope="module")
def committed_engine(fresh_database) -> Iterator[Engine]:
    """A database of its own: these tests commit for real."""
    engine = make_engine(fresh_database().url, pool_size=WORKERS + 2)
    yield engine
    engine.dispose()


def run_together(work: list[Callable[[], None]]) -> list[BaseException]:
    barrier = threading.Barrier(len(work))
    failures: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures


@pytest.fixture(scope="module")
def team(committed_engine: Engine):
    factory = make_session_factory(committed_engine)
    clock = FakeClock()
    with transaction(factory) as session:
        people = [
            accounts.create_user(
                session,
                actor=Actor.system("test"),
                now=clock.now(),
                email=f"concurrent{n}@example.com",
                name=f"Responder {n}",
                role=Role.RESPONDER,
                password=None,
            )
            for n in range(WORKERS)
        ]
        ids = [person.id for person in people]
    return factory, clock, ids


def declare(factory, clock, severity: str) -> int:
    with transaction(factory) as session:
        return incidents.declare(
            session,
            actor=Actor.system("test"),
            now=clock.now(),
            title="Payments slow",
            severity=severity,
        ).id


def entries(session: Session, incident_id: int, kind: str) -> list[TimelineEntry]:
    query = select(TimelineEntry).where(
        TimelineEntry.incident_id == incident_id, TimelineEntry.kind == kind
    )
    return list(session.scalars(query.order_by(TimelineEntry.id)))


def test_concurrent_severity_changes_are_all_applied_one_after_the_other(team):
    factory, clock, user_ids = team
    incident_id = declare(factory, clock, "SEV3")
    targets = ["SEV1", "SEV2", "SEV4", "SEV1", "SEV2", "SEV4"]

    def change_to(target: str, user_id: int) -> Callable[[], None]:
        def job() -> None:
            with transaction(factory) as session:
                incident = incidents.get_incident(session, incident_id, for_update=True)
                if incident.severity.key != target:
                    incidents.change_severity(
                        session,
                        actor=Actor(user_id=user_id, label=f"user {user_id}", via="test"),
                        now=clock.now(),
                        incident=incident,
                        severity=target,
                    )

        return job

    failures = run_together([change_to(t, u) for t, u in zip(targets, user_ids, strict=True)])
    assert failures == []
    with transaction(factory) as session:
        changes = [entry.details for entry in entries(session, incident_id, "severity_change")]
        final = incidents.get_incident(session, incident_id).severity.key
    # Each change starts where the previous one ended: no change was made from a stale read.
    assert changes[0]["from"] == "SEV3"
    for earlier, later in itertools.pairwise(changes):
        assert later["from"] == earlier["to"]
    assert changes[-1]["to"] == final
    assert len(changes) >= 3


def test_concurrent_commander_assignments_hand_over_one_by_one(team):
    factory, clock, user_ids = team
    incident_id = declare(factory, clock, "SEV1")

    def make_commander(user_id: int) -> Callable[[], None]:
        def job() -> None:
            with transaction(factory) as session:
                incident = incidents.get_incident(session, incident_id, for_update=True)
                incidents.assign_role(
                    session,
                    actor=Actor(user_id=user_id, label=f"user {user_id}", via="test"),
                    now=clock.now(),
                    incident=incident,
                    role="commander",
                    user_ref=user_id,
                )

        return job

    failures = run_together([make_commander(user_id) for user_id in user_ids])
    assert failures == []
    with transaction(factory) as session:
        history = list(
            session.scalars(
                select(RoleAssignment)
                .where(
                    RoleAssignment.incident_id == incident_id, RoleAssignment.role == "commander"
                )
                .order_by(RoleAssignment.id)
            )
        )
        handoffs = [entry.details for entry in entries(session, incident_id, "role_change")]
    assert len(history) == WORKERS
    assert [a.ended_at is None for a in history].count(True) == 1
    assert sorted(a.user_id for a in history) == sorted(user_ids)
    # Every hand-off names the commander who really held the role just before.
    assert handoffs[0]["previous_user_id"] is None
    for earlier, later in itertools.pairwise(handoffs):
        assert later["previous_user_id"] == earlier["user_id"]
