"""`fireline integrations`: where monitoring tools send alerts, directly in the database.

`create` and `rotate-key` print the key alone on stdout, so `KEY=$(fireline integrations create
…)` works; what else there is to say goes to stderr."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from fireline.cli._local import cli_actor, load_settings, now, unit_of_work
from fireline.cli._output import add_row, echo_json, note, out, say

app = typer.Typer(
    help="Add and list the integrations monitoring tools send alerts through (acts on the "
    "database directly).",
    no_args_is_help=True,
)


class Kind(StrEnum):
    PAGERDUTY = "pagerduty"
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    WEBHOOK = "webhook"


@app.command()
def create(
    *,
    service: Annotated[str, typer.Option(metavar="SERVICE", help="Slug or id of the service.")],
    kind: Annotated[Kind, typer.Option("--type", help="What speaks to it.")],
    name: Annotated[str, typer.Option(metavar="NAME", help="e.g. `Prometheus production`.")],
) -> None:
    """Add an integration and print its key (alone, for `KEY=$(…)`)."""
    from fireline.alerts import integrations
    from fireline.models import IntegrationType

    settings = load_settings()
    with unit_of_work(settings) as session:
        integration = integrations.create_integration(
            session,
            actor=cli_actor(),
            now=now(),
            service=integrations.find_service(session, service),
            kind=IntegrationType(kind.value),
            name=name.strip(),
        )
        urls = integrations.integration_urls(settings, integration)
        key = integration.key
    say(key)
    for endpoint in urls:
        note(f"{endpoint.purpose}: {endpoint.url}")


@app.command("list")
def list_integrations(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the integrations, with their keys."""
    from rich.table import Column, Table

    from fireline.alerts import integrations
    from fireline.api.pagination import MAX_LIMIT

    settings = load_settings()
    rows: list[dict[str, object]] = []
    with unit_of_work(settings) as session:
        after: int | None = None
        while True:
            page = integrations.list_integrations(session, after_id=after, limit=MAX_LIMIT)
            rows.extend(
                {
                    "id": item.id,
                    "name": item.name,
                    "type": item.type,
                    "service": item.service.slug,
                    "key": item.key,
                    "enabled": item.enabled,
                    "urls": [e.url for e in integrations.integration_urls(settings, item)],
                }
                for item in page
            )
            if len(page) < MAX_LIMIT:
                break
            after = page[-1].id
    if as_json:
        echo_json(rows)
        return
    if not rows:
        note("No integrations yet. Add one with `fireline integrations create`.")
        return
    # The key is what people copy from here: never cut short, whatever the terminal's width.
    table = Table(
        Column("Id", no_wrap=True),
        "Name",
        "Type",
        "Service",
        Column("Key", no_wrap=True, min_width=32),
        "Enabled",
    )
    for row in rows:
        add_row(
            table,
            str(row["id"]),
            str(row["name"]),
            str(row["type"]),
            str(row["service"]),
            str(row["key"]),
            "yes" if row["enabled"] else "no",
        )
    out.print(table)


@app.command("rotate-key")
def rotate_key(
    integration_id: Annotated[int, typer.Argument(metavar="ID", help="The integration's id.")],
) -> None:
    """Give an integration a new key and print it; the old key stops working now."""
    from fireline.alerts import integrations

    with unit_of_work() as session:
        integration = integrations.get_integration(session, integration_id)
        key = integrations.rotate_key(
            session, actor=cli_actor(), now=now(), integration=integration
        )
    say(key)
    note("The old key no longer works: update the tool's configuration.")
