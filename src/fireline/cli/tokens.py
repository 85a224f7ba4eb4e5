"""`fireline tokens`: issue API tokens, directly in the database."""

from __future__ import annotations

from typing import Annotated

import typer

from fireline.cli._local import cli_actor, now, unit_of_work
from fireline.cli._output import fail, note, say

app = typer.Typer(help="Issue API tokens (acts on the database directly).", no_args_is_help=True)


@app.command()
def create(
    user: Annotated[str, typer.Option(metavar="EMAIL", help="Whose token: their email or id.")],
    name: Annotated[
        str, typer.Option(metavar="NAME", help="What the token is for, e.g. `laptop` or `ci`.")
    ],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SCOPE",
            help="A permission to grant, e.g. incidents:write; repeat for several. "
            "All of the user's permissions when omitted.",
        ),
    ] = None,
) -> None:
    """Create an API token and print it alone on stdout, so `TOKEN=$(fireline tokens create …)`
    captures it. It is shown once: store it now."""
    from fireline.accounts.service import create_token, find_user

    with unit_of_work() as session:
        owner = find_user(session, user)
        if not owner.is_active:
            fail(f"{owner.email} is deactivated; a token for them would not work.")
        issued = create_token(
            session, actor=cli_actor(), now=now(), user=owner, name=name, scopes=scope
        )
        email, scopes = owner.email, list(issued.token.scopes)
    note(f"Created token {name!r} for {email} with {', '.join(scopes) or 'no scopes'}.")
    note("It is shown only this once; use it as `Authorization: Bearer <token>` or FIRELINE_TOKEN.")
    say(issued.secret)
