"""`fireline services`: the service catalog, directly in the database."""

from __future__ import annotations

from typing import Annotated

import typer

from fireline.cli import _choices
from fireline.cli._local import cli_actor, now, unit_of_work
from fireline.cli._output import add_row, echo_json, note, out, say

app = typer.Typer(
    help="Add and list services incidents can affect (acts on the database directly).",
    no_args_is_help=True,
)


@app.command()
def create(
    *,
    name: Annotated[str, typer.Option(metavar="NAME", help="Human name, e.g. `Checkout API`.")],
    slug: Annotated[
        str | None,
        typer.Option(
            metavar="SLUG",
            help="Short id used in the API [default: from the name]",
            callback=_choices.slug,
        ),
    ] = None,
    description: Annotated[str, typer.Option(metavar="TEXT", help="What it does.")] = "",
    tier: Annotated[
        int, typer.Option(metavar="1-3", min=1, max=3, help="1 is the most critical.")
    ] = 2,
    owner_team: Annotated[
        str | None,
        typer.Option(metavar="SLUG", help="Slug of the team that owns it.", show_default=False),
    ] = None,
    runbook_url: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Where its runbook lives.", callback=_choices.http_url),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the service as JSON.")] = False,
) -> None:
    """Add a service to the catalog."""
    from fireline.catalog.schemas import ServiceOut
    from fireline.catalog.service import create_service

    with unit_of_work() as session:
        created = ServiceOut.of(
            create_service(
                session,
                actor=cli_actor(),
                now=now(),
                name=name.strip(),
                slug=slug,
                description=description,
                owner_team=owner_team,
                tier=tier,
                runbook_url=runbook_url,
            )
        )
    if as_json:
        echo_json(created.model_dump(mode="json"))
    else:
        say(f"Created service {created.slug} ({created.name}, tier {created.tier}).")


@app.command("list")
def list_services(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the service catalog."""
    from rich.table import Column, Table

    from fireline.catalog.schemas import ServiceOut
    from fireline.catalog.service import list_services as all_services

    with unit_of_work() as session:
        items = [ServiceOut.of(item) for item in all_services(session)]
    if as_json:
        echo_json([item.model_dump(mode="json") for item in items])
        return
    if not items:
        note("No services yet. Add one with `fireline services create`.")
        return
    table = Table(Column("Slug", no_wrap=True), "Name", "Tier", "Owner", "Runbook")
    for item in items:
        owner = item.owner_team.slug if item.owner_team else "—"
        add_row(table, item.slug, item.name, str(item.tier), owner, item.runbook_url or "—")
    out.print(table)
