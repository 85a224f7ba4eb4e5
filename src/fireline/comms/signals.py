"""Telling readers' caches that a page changed.

Every write a status-page reader can see calls page_changed() in the same transaction: it
raises the page's version, and each web process, which polls the versions a few times a second
(comms/cache.py), rebuilds its copy of that page once the transaction has committed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from fireline.models import StatusPage

# Called after a commit that changed pages, with their ids, in the process that wrote them, so
# that process's own cache refreshes at once instead of at its next poll (comms/cache.py).
_listeners: list[Callable[[frozenset[int]], None]] = []


def page_changed(session: Session, page_id: int) -> None:
    """Mark the page changed; readers see the change once the transaction commits."""
    session.execute(
        update(StatusPage)
        .where(StatusPage.id == page_id)
        .values(version=StatusPage.version + 1)
        .execution_options(synchronize_session=False)
    )
    changed: set[int] = session.info.setdefault("fireline.pages_changed", set())
    changed.add(page_id)


def listen(callback: Callable[[frozenset[int]], None]) -> None:
    """Call `callback` with the ids of the pages a commit in this process changed."""
    _listeners.append(callback)


def unlisten(callback: Callable[[frozenset[int]], None]) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    """After a commit: tell this process's listeners which pages it changed."""
    changed = session.info.pop("fireline.pages_changed", None)
    if changed:
        for callback in list(_listeners):
            callback(frozenset(changed))


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop("fireline.pages_changed", None)
