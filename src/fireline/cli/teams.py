"""`fireline teams`: the teams that own services, directly in the database."""

from __future__ import annotations

from typing import Annotated

import typer

from fireline.cli._local import cli_actor, now, unit_of_work
from fireline.cli._output import add_row, echo_json, note, out, say

app = typer.Typer(help="Add and list teams (acts on the database directly).", no_args_is_help=True)


@app.command()
def create(
    name: Annotated[
        str, typer.Option(metavar="NAME", help="Team name; its slug is derived from it.")
    ],
    description: Annotated[
        str, typer.Option(metavar="TEXT", help="What the team looks after.")
    ] = "",
) -> None:
    """Add a team. Use its slug with `fireline services create --owner-team`."""
    from fireline.accounts.service import create_team

    with unit_of_work() as session:
        team = create_team(
            session, actor=cli_actor(), now=now(), name=name, description=description
        )
        slug, team_name = team.slug, team.name
    say(f"Created team {slug} ({team_name}).")


@app.command("list")
def list_teams(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List teams and their members."""
    from rich.table import Table

    from fireline.accounts.schemas import TeamOut, UserOut
    from fireline.accounts.service import list_teams as all_teams

    with unit_of_work() as session:
        teams = [
            TeamOut(
                id=team.id,
                slug=team.slug,
                name=team.name,
                description=team.description,
                members=[UserOut.model_validate(member.user) for member in team.members],
            )
            for team in all_teams(session)
        ]
    if as_json:
        echo_json([team.model_dump(mode="json") for team in teams])
        return
    if not teams:
        note("No teams yet. Add one with `fireline teams create`.")
        return
    table = Table("Slug", "Name", "Members", "Description")
    for team in teams:
        members = ", ".join(member.email for member in team.members) or "—"
        add_row(table, team.slug, team.name, members, team.description or "—")
    out.print(table)
