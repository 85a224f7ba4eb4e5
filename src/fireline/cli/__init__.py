"""The `fireline` command line.

Server-side commands (serve, worker, db, jobs, users, tokens, services, teams) act on the
database named by FIRELINE_DATABASE_URL, one transaction each, recorded in the audit log as the
CLI (`worker` runs until stopped, one transaction per job). Incident commands talk to a running
server at FIRELINE_URL with the API token in FIRELINE_TOKEN.
"""

from __future__ import annotations

from typing import Annotated

import typer

from fireline import __version__
from fireline.cli import (
    alerts,
    database,
    incidents,
    integrations,
    jobs,
    oncall,
    playbooks,
    serve,
    services,
    teams,
    tokens,
    users,
)

# Registers status, severity, assign, note and resolve on `incidents.app`.
from fireline.cli import incident_changes as _incident_changes  # noqa: F401

app = typer.Typer(
    name="fireline",
    help="Fireline: self-hostable incident management.\n\n"
    "Run the server with `fireline serve`. Respond to incidents from anywhere with "
    "`fireline incidents …` (set FIRELINE_URL and FIRELINE_TOKEN).",
    epilog="Server-side commands use FIRELINE_DATABASE_URL (default: sqlite:///./var/fireline.db).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fireline {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Fireline: self-hostable incident management."""


app.command(rich_help_panel="Server")(serve.serve)
app.command(rich_help_panel="Server")(jobs.worker)
app.add_typer(jobs.app, name="jobs", rich_help_panel="Server")
app.add_typer(database.app, name="db", rich_help_panel="Server")
app.add_typer(users.app, name="users", rich_help_panel="Server")
app.add_typer(tokens.app, name="tokens", rich_help_panel="Server")
app.add_typer(teams.app, name="teams", rich_help_panel="Server")
app.add_typer(services.app, name="services", rich_help_panel="Server")
app.add_typer(integrations.app, name="integrations", rich_help_panel="Server")
app.add_typer(incidents.app, name="incidents", rich_help_panel="Respond")
app.add_typer(playbooks.app, name="playbooks", rich_help_panel="Respond")
app.add_typer(oncall.app, name="oncall", rich_help_panel="Respond")
app.add_typer(alerts.app, name="alerts", rich_help_panel="Respond")


def main() -> None:
    """Entry point of the `fireline` script."""
    app(prog_name="fireline")
