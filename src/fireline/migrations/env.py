"""Alembic environment: runs migrations against the URL handed over by fireline.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from fireline.config import get_settings, normalise_database_url
from fireline.db import make_engine
from fireline.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(normalise_database_url(url), pool_size=1)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


run_migrations_online()
