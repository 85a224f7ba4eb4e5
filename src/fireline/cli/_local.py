"""Server-side commands: one transaction each on the database named by FIRELINE_DATABASE_URL.

Database, model and web imports are deferred to the functions that need them, so that commands
talking to a remote server (and `--help`) start quickly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

from fireline.cli._output import fail

if TYPE_CHECKING:
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session

    from fireline.accounts.principal import Actor
    from fireline.config import Settings


def load_settings() -> Settings:
    """Settings from FIRELINE_* variables; a bad value ends the command naming the variable."""
    from pydantic import ValidationError

    from fireline.config import Settings

    try:
        return Settings()
    except ValidationError as error:
        fail(
            "Invalid configuration.",
            [
                ("FIRELINE_" + "_".join(str(part) for part in item["loc"]).upper(), item["msg"])
                for item in error.errors()
            ],
        )


def cli_actor() -> Actor:
    """Who the audit log names for changes made from the server's command line."""
    from fireline.accounts.principal import Actor

    return Actor.system("cli")


def now() -> datetime:
    return datetime.now(UTC)


def display_url(database_url: str) -> str:
    """The database URL with any password hidden, fit to show in messages."""
    from sqlalchemy.engine import make_url

    return make_url(database_url).render_as_string(hide_password=True)


def database_problem(settings: Settings, error: DBAPIError) -> NoReturn:
    reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    fail(
        f"Cannot use the database at {display_url(settings.database_url)}: {reason}",
        [("hint", "check FIRELINE_DATABASE_URL, and run `fireline db upgrade` to migrate it")],
    )


def apply_migrations(settings: Settings, revision: str = "head") -> None:
    """Bring the database up to `revision`, or explain why that cannot be done."""
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    from fireline import migrate

    try:
        migrate.upgrade(settings.database_url, revision)
    except CommandError as error:
        fail(f"Cannot migrate to {revision!r}: {error}", code=2)
    except DBAPIError as error:
        database_problem(settings, error)


def revisions(settings: Settings) -> tuple[str | None, str | None]:
    """The database's current migration revision and the latest one in this code."""
    from sqlalchemy.exc import DBAPIError

    from fireline import migrate
    from fireline.db import make_engine

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        return migrate.current_revision(engine), migrate.head_revision()
    except DBAPIError as error:
        database_problem(settings, error)
    finally:
        engine.dispose()


@contextmanager
def unit_of_work(settings: Settings | None = None) -> Iterator[Session]:
    """A session whose work is committed when the block ends and rolled back if it fails.

    Domain errors (a duplicate email, an unknown team…) and an unreachable or unmigrated database
    end the command with a clear message on stderr and exit status 1, never a traceback."""
    from sqlalchemy.exc import DBAPIError

    from fireline.db import make_engine, make_session_factory, transaction
    from fireline.errors import AppError

    settings = settings or load_settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
    except AppError as error:
        fail(error.detail, [(problem.field, problem.message) for problem in error.errors])
    except DBAPIError as error:
        database_problem(settings, error)
    finally:
        engine.dispose()
