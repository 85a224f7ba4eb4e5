"""How an idle worker waits for work: LISTEN/NOTIFY on PostgreSQL, a plain timed wait on SQLite.

Either way the wait ends by `timeout` at the latest (jobs that become due later, such as timers
and retries, are found by polling) and soon after `stop` is set."""

from __future__ import annotations

import threading
import time
from typing import Protocol

import psycopg
import structlog
from sqlalchemy.engine import URL

from fireline.jobs.queue import CHANNEL

# How often a LISTENing worker looks at its stop event: psycopg cannot be woken from another thread.
STOP_CHECK_SECONDS = 0.25

log = structlog.get_logger()


class Wakeup(Protocol):
    def open(self) -> None:
        """Start listening; called before the worker first looks for jobs, so none is missed."""
        ...

    def wait(self, stop: threading.Event, timeout: float) -> None:
        """Return when work may be waiting, `timeout` seconds have passed, or `stop` is set."""
        ...

    def close(self) -> None: ...


class Polling:
    """SQLite: nothing can signal across processes, so wait out the poll interval."""

    def open(self) -> None:
        pass

    def wait(self, stop: threading.Event, timeout: float) -> None:
        stop.wait(timeout)

    def close(self) -> None:
        pass


class Notifications:
    """PostgreSQL: `LISTEN fireline_jobs` on a connection of its own, outside the pool, in
    autocommit mode (a notification is delivered between transactions, never inside one)."""

    def __init__(self, url: URL) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    def open(self) -> None:
        # A database that is down now is retried on the next wait; polling covers the gap.
        connection = None
        try:
            connection = psycopg.connect(self._conninfo, autocommit=True)
            connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as error:
            log.warning("job_listen_unavailable", error=str(error))
            if connection is not None:
                connection.close()
            return
        self._connection = connection

    @property
    def listening(self) -> bool:
        return self._connection is not None

    def wait(self, stop: threading.Event, timeout: float) -> None:
        if self._connection is None:
            # Notifications sent while not listening are lost, so after reconnecting return at
            # once and let the worker look for what it may have missed.
            self.open()
            if self._connection is None:
                stop.wait(timeout)
            return
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                for _ in self._connection.notifies(
                    timeout=min(remaining, STOP_CHECK_SECONDS), stop_after=1
                ):
                    return
            except psycopg.Error as error:
                log.warning("job_listen_lost", error=str(error))
                self.close()
                stop.wait(max(deadline - time.monotonic(), 0))
                return

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.close()
            except psycopg.Error:
                log.warning("job_listen_close_failed")


def for_database(url: URL) -> Wakeup:
    """The way to wait on the database at `url`."""
    return Notifications(url) if url.get_backend_name() == "postgresql" else Polling()
