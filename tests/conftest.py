"""Shared fixtures. Every database test runs on the database named by FIRELINE_TEST_DATABASE_URL
(PostgreSQL in `make test`'s second pass) or on a fresh SQLite file; the schema comes from the
migrations, applied from empty, never from create_all.

Each test runs inside a transaction that is rolled back, so tests see an empty, migrated database
(with the seeded severities) and never each other's rows."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from fireline import migrate
from fireline.accounts import service as accounts
from fireline.accounts.principal import Actor
from fireline.alerts import rulebook
from fireline.app import create_app
from fireline.clock import FakeClock
from fireline.config import Settings, normalise_database_url
from fireline.db import make_engine
from fireline.models import Role, User

pytest_plugins = ["notify_servers"]

TEST_DATABASE_URL = os.environ.get("FIRELINE_TEST_DATABASE_URL", "")


def is_postgres() -> bool:
    return TEST_DATABASE_URL.startswith(("postgres", "postgresql"))


@dataclass
class Database:
    url: str

    @property
    def dialect(self) -> str:
        return make_url(self.url).get_backend_name()


def _create_postgres_database(base_url: str, name: str) -> str:
    url = make_url(normalise_database_url(base_url))
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def fresh_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Database]]:
    """Makes empty databases of the kind under test, migrated to head; drops them afterwards."""
    made: list[str] = []

    def make() -> Database:
        if is_postgres():
            url = _create_postgres_database(
                TEST_DATABASE_URL, f"fireline_test_{uuid.uuid4().hex[:12]}"
            )
            made.append(url)
        else:
            path = tmp_path_factory.mktemp("db") / "fireline.db"
            url = normalise_database_url(f"sqlite:///{path}")
        migrate.upgrade(url)
        return Database(url=url)

    yield make
    for url in made:
        _drop_postgres_database(url)


@pytest.fixture(scope="session")
def database(fresh_database: Callable[[], Database]) -> Database:
    return fresh_database()


@pytest.fixture(scope="session")
def engine(database: Database) -> Iterator[Engine]:
    engine = make_engine(database.url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Commits inside the code under test become savepoint releases; the outer rollback undoes all.
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture(autouse=True)
def _fresh_rulebook() -> None:
    """Each test starts without the alert rules a previous test's rolled-back rows left cached."""
    rulebook.changed()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database.url,
        secret_key="test-secret",
        data_dir=tmp_path,
        log_level="warning",
        embedded_worker=False,
    )


@pytest.fixture
def app(
    settings: Settings, clock: FakeClock, engine: Engine, session_factory: sessionmaker[Session]
):
    application = create_app(settings, clock=clock, engine=engine)
    application.state.session_factory = session_factory
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class Person:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_person(db: Session, clock: FakeClock) -> Callable[..., Person]:
    """A user with an API token, in one line: make_person("responder", name="Ana")."""
    counter = iter(range(1, 10_000))

    def make(
        role: str = "responder",
        *,
        name: str | None = None,
        email: str | None = None,
        scopes: list[str] | None = None,
    ) -> Person:
        n = next(counter)
        user = accounts.create_user(
            db,
            actor=Actor.system("test"),
            now=clock.now(),
            email=email or f"{role}{n}@example.com",
            name=name or f"{role.title()} {n}",
            role=Role(role),
            password="correct horse battery",
        )
        issued = accounts.create_token(
            db, actor=Actor.system("test"), now=clock.now(), user=user, name="test", scopes=scopes
        )
        db.commit()
        return Person(user=user, token=issued.secret)

    return make


@pytest.fixture
def admin(make_person) -> Person:
    return make_person("admin", name="Ada Admin", email="ada@example.com")


@pytest.fixture
def responder(make_person) -> Person:
    return make_person("responder", name="Rita Responder", email="rita@example.com")


@pytest.fixture
def viewer(make_person) -> Person:
    return make_person("viewer", name="Vic Viewer", email="vic@example.com")


class Api:
    """A test client that acts as one person."""

    def __init__(self, client: TestClient, person: Person) -> None:
        self.client = client
        self.person = person

    def _call(self, method: str, path: str, **kwargs):
        headers = {**self.person.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self._call("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self._call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self._call("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs):
        return self._call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self._call("DELETE", path, **kwargs)


@pytest.fixture
def as_admin(client: TestClient, admin: Person) -> Api:
    return Api(client, admin)


@pytest.fixture
def as_responder(client: TestClient, responder: Person) -> Api:
    return Api(client, responder)


@pytest.fixture
def as_viewer(client: TestClient, viewer: Person) -> Api:
    return Api(client, viewer)
