"""Engines and units of work: SQLite set up the way Fireline relies on, all-or-nothing commits."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from fireline.clock import FakeClock
from fireline.db import make_engine, make_session_factory, transaction
from fireline.models import Team


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'nested' / 'dir' / 'fireline.db'}")
    yield engine
    engine.dispose()


def make_team(name: str) -> Team:
    now = FakeClock().now()
    return Team(name=name, slug=name.lower(), description="", created_at=now, updated_at=now)


def team_names(session) -> list[str]:
    return list(session.scalars(select(Team.name).order_by(Team.name)))


# --- SQLite -------------------------------------------------------------------------------------


def test_a_sqlite_database_is_created_with_its_directory(sqlite_engine, tmp_path):
    with sqlite_engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert (tmp_path / "nested" / "dir" / "fireline.db").exists()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_enforced(sqlite_engine):
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_every_pooled_sqlite_connection_gets_the_same_settings(sqlite_engine):
    """The pragmas are per connection, so each new connection must get them, not just the first."""
    results = []

    def check() -> None:
        with sqlite_engine.connect() as connection:
            results.append(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())

    threads = [threading.Thread(target=check) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [1, 1, 1]


def test_sqlite_refuses_a_row_that_points_at_nothing(sqlite_engine):
    with sqlite_engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))"
        )

    with pytest.raises(IntegrityError, match="FOREIGN KEY"), sqlite_engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO child (parent_id) VALUES (42)")


def test_a_sqlite_transaction_takes_the_write_lock_when_it_begins(sqlite_engine):
    """BEGIN IMMEDIATE: a second writer waits at BEGIN rather than failing half-way through."""
    with sqlite_engine.connect() as first:
        first.begin()
        # The write lock is held although nothing was written yet: no other writer may start.
        second = sqlite3.connect(sqlite_engine.url.database, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                second.execute("BEGIN IMMEDIATE")
        finally:
            second.close()
        first.rollback()


# --- transaction() ------------------------------------------------------------------------------


def test_a_unit_of_work_commits_when_it_ends_normally(session_factory, db):
    with transaction(session_factory) as session:
        session.add(make_team("Payments"))

    assert team_names(db) == ["Payments"]


class Boom(Exception):
    pass


def test_a_unit_of_work_rolls_back_everything_when_it_raises(session_factory, db):
    seen_inside: list[str] = []

    def add_a_team_then_fail() -> None:
        with transaction(session_factory) as session:
            session.add(make_team("Payments"))
            session.flush()  # the row is in the database, inside the transaction
            seen_inside.extend(team_names(session))
            raise Boom

    with pytest.raises(Boom):
        add_a_team_then_fail()

    assert seen_inside == ["Payments"]
    assert team_names(db) == []


def test_a_failed_commit_is_rolled_back_and_raised(session_factory, db):
    with transaction(session_factory) as session:
        session.add(make_team("Payments"))

    def add_two_teams_one_taken() -> None:
        with transaction(session_factory) as session:
            session.add(make_team("Search"))
            session.add(make_team("Payments"))  # the name is taken

    with pytest.raises(IntegrityError):
        add_two_teams_one_taken()

    assert team_names(db) == ["Payments"]


def test_a_unit_of_work_on_a_real_engine_commits_for_other_connections_to_see(sqlite_engine):
    with sqlite_engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    factory = make_session_factory(sqlite_engine)

    with transaction(factory) as session:
        session.execute(text("INSERT INTO notes (body) VALUES ('kept')"))

    def insert_then_fail() -> None:
        with transaction(factory) as session:
            session.execute(text("INSERT INTO notes (body) VALUES ('dropped')"))
            raise Boom

    with pytest.raises(Boom):
        insert_then_fail()

    with sqlite_engine.connect() as connection:
        bodies = connection.execute(text("SELECT body FROM notes")).scalars().all()
    assert bodies == ["kept"]
