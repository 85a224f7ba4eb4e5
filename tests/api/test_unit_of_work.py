"""The request's unit of work gives its connection back however the request ends."""

from __future__ import annotations

from types import SimpleNamespace

import anyio
import pytest
from sqlalchemy import text

from fireline.api.deps import _db_session
from fireline.db import make_engine, make_session_factory


@pytest.fixture
def pool_engine(database):
    engine = make_engine(database.url, pool_size=2)
    yield engine
    engine.dispose()


def request_for(engine):
    factory = make_session_factory(engine)
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(session_factory=factory)))


def test_a_client_hanging_up_mid_request_does_not_leak_the_connection(pool_engine):
    async def request_cancelled_while_the_route_runs() -> None:
        unit = _db_session(request_for(pool_engine))
        session = await unit.__anext__()
        session.execute(text("SELECT 1"))
        assert pool_engine.pool.checkedout() == 1
        with anyio.CancelScope() as scope:
            scope.cancel()
            # FastAPI throws the cancellation into the dependency when the client goes away.
            with pytest.raises(anyio.get_cancelled_exc_class()):
                await unit.athrow(anyio.get_cancelled_exc_class()())

    anyio.run(request_cancelled_while_the_route_runs)
    assert pool_engine.pool.checkedout() == 0


def test_a_route_that_succeeds_commits_and_gives_the_connection_back(pool_engine):
    async def request_that_succeeds() -> None:
        unit = _db_session(request_for(pool_engine))
        session = await unit.__anext__()
        session.execute(text("SELECT 1"))
        with pytest.raises(StopAsyncIteration):
            await unit.__anext__()

    anyio.run(request_that_succeeds)
    assert pool_engine.pool.checkedout() == 0
