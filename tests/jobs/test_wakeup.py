"""An idle worker's wait: a lost or unreachable LISTEN connection degrades to polling."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from fireline.db import make_engine
from fireline.jobs import wakeup

ON_POSTGRES = os.environ.get("FIRELINE_TEST_DATABASE_URL", "").startswith("postgres")


def test_sqlite_is_polled_and_postgresql_listened_to():
    assert isinstance(wakeup.for_database(make_url("sqlite+pysqlite:///x.db")), wakeup.Polling)
    postgres = make_url("postgresql+psycopg://fireline@db.internal/fireline")
    assert isinstance(wakeup.for_database(postgres), wakeup.Notifications)


def test_a_worker_that_cannot_reach_postgresql_to_listen_waits_out_the_poll_interval():
    waiter = wakeup.Notifications(make_url("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    stop = threading.Event()

    waiter.open()
    waiter.wait(stop, timeout=0.01)  # tries again, then polls

    assert not waiter.listening
    waiter.close()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: LISTEN/NOTIFY")
def test_a_lost_listen_connection_is_reopened_on_the_next_wait(database):
    waiter = wakeup.Notifications(make_url(database.url))
    stop = threading.Event()
    waiter.open()
    assert waiter.listening
    engine = make_engine(database.url, pool_size=1)
    try:
        with engine.begin() as connection:
            # What a database restart or a network cut does to the listening connection.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            )
    finally:
        engine.dispose()

    waiter.wait(stop, timeout=0.2)
    lost = not waiter.listening
    waiter.wait(stop, timeout=0.2)

    assert lost
    assert waiter.listening
    waiter.close()
    assert not waiter.listening
