"""CLI fixtures. Server-side commands commit for real, so they get databases of their own (of the
kind under test, from `fresh_database`) instead of the rolled-back test transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fireline.app import create_app
from fireline.cli import remote
from fireline.config import Settings

from .helpers import Cli


@pytest.fixture(scope="module")
def cli_database(fresh_database):
    """A migrated database shared by one module's server-side tests; use unique names in it."""
    return fresh_database()


@pytest.fixture
def cli(cli_database) -> Cli:
    return Cli({"FIRELINE_DATABASE_URL": cli_database.url})


@pytest.fixture
def api_on(tmp_path: Path):
    """A TestClient for the web app on a given database, to check what the CLI did from outside."""
    clients: list[TestClient] = []

    def make(database_url: str) -> TestClient:
        settings = Settings(
            database_url=database_url, secret_key="test", data_dir=tmp_path, log_level="warning"
        )
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.app.state.engine.dispose()


@pytest.fixture
def remote_cli(app, monkeypatch):
    """`fireline incidents …` as a person, wired to the test app: the client factory returns a
    TestClient on the conftest app carrying the token the CLI read from FIRELINE_TOKEN. The CLI
    closes its client after each command, hence a new one per command, not the shared `client`."""
    urls: list[str] = []

    def make_client(url: str, token: str) -> TestClient:
        urls.append(url)
        return TestClient(
            app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"}
        )

    monkeypatch.setattr(remote, "make_client", make_client)

    def as_person(person) -> Cli:
        cli = Cli({"FIRELINE_URL": None, "FIRELINE_TOKEN": person.token if person else None})
        cli.urls = urls
        return cli

    return as_person
