"""Group commit for alert ingest: events from concurrent requests share one transaction.

A monitoring storm sends thousands of small requests a second. Applying each in its own
transaction would spend most of the time on per-transaction work (a commit is a disk flush).
Instead each request hands its body to the process's batcher and waits; the batcher takes
everything waiting, applies it in one transaction with `ingest_many`, commits, and only then
answers each request. So an answer of 2xx still means "stored", and under load each commit
carries many events. While one batch commits the next gathers: a quiet system answers at once,
a busy one in bigger batches.

One submission's problem (an unknown key, a body that does not parse, a key over its rate
limit) is that request's answer alone. Should a whole batch fail to apply, each submission is
applied again on its own, so one bad event cannot take its neighbours down with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from fireline.alerts.events import AlertEvent, InvalidEvent
from fireline.alerts.ingest import ingest_many
from fireline.alerts.ratelimit import RateLimiter
from fireline.clock import Clock
from fireline.config import Settings
from fireline.db import transaction
from fireline.errors import AppError, NotFound
from fireline.models import Integration, IntegrationType

MAX_BATCH_EVENTS = 2000


class IntegrationDisabled(AppError):
    status = 403
    title = "Integration disabled"
    slug = "integration-disabled"


class TooManyEvents(AppError):
    status = 429
    title = "Too many events"
    slug = "rate-limited"


@dataclass(frozen=True)
class Accepted:
    """What a submission did: each event's dedup key, and how many alerts it opened."""

    dedup_keys: list[str]
    created: int


Parse = Callable[[Integration], Sequence[AlertEvent]]


@dataclass
class _Submission:
    key: str
    kind: IntegrationType | None
    parse: Parse
    size: int  # events it is expected to carry, for sizing batches before parsing
    future: asyncio.Future[Accepted]


class IngestBatcher:
    """One per web process (kept on app.state); `submit` from request handlers."""

    def __init__(
        self,
        *,
        sessions: Callable[[], sessionmaker[Session]],
        settings: Callable[[], Settings],
        clock: Clock,
        consumers: int,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self._consumers = consumers
        self._limiter = RateLimiter()
        self._queue: asyncio.Queue[_Submission] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def submit(
        self, key: str, kind: IntegrationType | None, parse: Parse, *, size: int = 1
    ) -> Accepted:
        """Apply the events `parse` reads (given the integration `key` names), in a batch with
        whatever else is waiting; returns once they are committed, or raises the AppError or
        InvalidEvent that is this submission's answer."""
        queue = self._ensure_running()
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        await queue.put(_Submission(key=key, kind=kind, parse=parse, size=size, future=future))
        return await future

    def _ensure_running(self) -> asyncio.Queue[_Submission]:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop:
            # First use, or a new event loop (a test client's): start consumers on this one.
            self._loop = loop
            self._queue = asyncio.Queue()
            self._tasks = [
                loop.create_task(self._consume(self._queue)) for _ in range(self._consumers)
            ]
        return self._queue

    async def _consume(self, queue: asyncio.Queue[_Submission]) -> None:
        while True:
            batch = [await queue.get()]
            events = batch[0].size
            while events < MAX_BATCH_EVENTS and not queue.empty():
                submission = queue.get_nowait()
                batch.append(submission)
                events += submission.size
            try:
                results = await anyio.to_thread.run_sync(self._apply_isolating_failures, batch)
            except BaseException as error:  # cancelled while applying: answer, then stop
                results = [error] * len(batch)
                self._answer(batch, results)
                raise
            self._answer(batch, results)

    @staticmethod
    def _answer(batch: list[_Submission], results: list[Accepted | BaseException]) -> None:
        for submission, result in zip(batch, results, strict=True):
            if submission.future.done():  # the client went away
                continue
            if isinstance(result, asyncio.CancelledError):
                submission.future.cancel()
            elif isinstance(result, BaseException):
                submission.future.set_exception(result)
            else:
                submission.future.set_result(result)

    def _apply_isolating_failures(self, batch: list[_Submission]) -> list[Accepted | BaseException]:
        try:
            return self._apply(batch)
        except Exception as error:  # noqa: BLE001 - retried submission by submission below
            if len(batch) == 1:
                return [error]  # that request's answer (a 500)
        results: list[Accepted | BaseException] = []
        for submission in batch:
            try:
                results.extend(self._apply([submission]))
            except Exception as error:  # noqa: BLE001 - that request's answer (a 500)
                results.append(error)
        return results

    def _apply(self, batch: list[_Submission]) -> list[Accepted | BaseException]:
        now = self._clock.now()
        settings = self._settings()
        with transaction(self._sessions()) as session:
            integrations = _integrations(session, {s.key for s in batch})
            answers: list[Accepted | BaseException | list[AlertEvent]] = []
            pairs: list[tuple[Integration, AlertEvent]] = []
            for submission in batch:
                try:
                    integration = _usable(integrations.get(submission.key), submission.kind)
                    events = list(submission.parse(integration))
                    self._take(integration, settings, len(events), now)
                except (AppError, InvalidEvent) as problem:
                    answers.append(problem)
                    continue
                answers.append(events)
                pairs.extend((integration, event) for event in events)
            outcomes = iter(ingest_many(session, events=pairs, now=now))
            results: list[Accepted | BaseException] = []
            for answer in answers:
                if isinstance(answer, BaseException | Accepted):
                    results.append(answer)
                    continue
                mine = [next(outcomes) for _ in answer]
                results.append(
                    Accepted(
                        dedup_keys=[outcome.dedup_key for outcome in mine],
                        created=sum(outcome.created for outcome in mine),
                    )
                )
        return results

    def _take(self, integration: Integration, settings: Settings, cost: int, now: datetime) -> None:
        per_minute = integration.rate_limit_per_minute or settings.ingest_rate_limit_per_minute
        if not self._limiter.allow(
            integration.key, cost=max(cost, 1), per_minute=per_minute, now=now
        ):
            raise TooManyEvents(
                detail=f"This key may send {per_minute} events a minute; retry in a few seconds."
            )


def usable_integration(
    session: Session, key: str, kind: IntegrationType | None = None
) -> Integration:
    """The enabled integration `key` names (of `kind`, when given), with its service; NotFound
    or IntegrationDisabled otherwise."""
    return _usable(_integrations(session, {key}).get(key), kind)


def _integrations(session: Session, keys: set[str]) -> dict[str, Integration]:
    rows = session.scalars(
        select(Integration)
        .where(Integration.key.in_(keys))
        .options(joinedload(Integration.service))
    )
    return {integration.key: integration for integration in rows}


def _usable(integration: Integration | None, kind: IntegrationType | None) -> Integration:
    if integration is None or (kind is not None and integration.type != kind):
        what = f"{kind.value} integration" if kind is not None else "integration"
        raise NotFound(detail=f"No {what} has this key.")
    if not integration.enabled:
        raise IntegrationDisabled(detail=f"The integration “{integration.name}” is disabled.")
    return integration


def batcher_of(state: Any) -> IngestBatcher:
    """The app's batcher, made on first use (app.state holds it)."""
    batcher: IngestBatcher | None = getattr(state, "ingest_batcher", None)
    if batcher is None:
        settings: Settings = state.settings
        batcher = state.ingest_batcher = IngestBatcher(
            sessions=lambda: state.session_factory,
            settings=lambda: state.settings,
            clock=state.clock,
            # SQLite writes one transaction at a time: a second consumer would only wait.
            consumers=1 if settings.is_sqlite else 2,
        )
    return batcher
