"""`fireline db`: apply and inspect database migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from fireline.cli._local import apply_migrations, display_url, load_settings, revisions
from fireline.cli._output import say

app = typer.Typer(
    help="Apply and inspect database migrations (FIRELINE_DATABASE_URL).", no_args_is_help=True
)


@app.command()
def upgrade(
    revision: Annotated[
        str, typer.Option(metavar="REV", help="Revision to migrate to; `head` is the latest.")
    ] = "head",
) -> None:
    """Apply pending migrations. Safe to run again: an up-to-date database is left alone."""
    settings = load_settings()
    apply_migrations(settings, revision)
    at, head = revisions(settings)
    say(f"Database {display_url(settings.database_url)} is at revision {at or '(none)'}.")
    if at != head:
        say(f"The latest revision is {head}.")


@app.command()
def current() -> None:
    """Show the database's revision and the latest one this version of Fireline knows."""
    settings = load_settings()
    at, head = revisions(settings)
    say(f"Current revision: {at or '(none — the database is empty)'}")
    say(f"Head revision:    {head or '(none)'}")
    say("Up to date." if at == head else "Behind: run `fireline db upgrade`.")
