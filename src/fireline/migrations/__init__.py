"""Alembic migrations, shipped in the package so `fireline db upgrade` works wherever installed."""
