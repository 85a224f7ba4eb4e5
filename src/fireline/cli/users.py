"""`fireline users`: create and list accounts, directly in the database."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from fireline.cli import _choices
from fireline.cli._local import cli_actor, now, unit_of_work
from fireline.cli._output import add_row, echo_json, fail, note, out, say, when

app = typer.Typer(
    help="Create and list people (acts on the database directly).", no_args_is_help=True
)


def stdin_is_tty() -> bool:
    """True when someone can answer a prompt. Tests replace this."""
    return sys.stdin.isatty()


def _prompt_password(minimum: int) -> str:
    while True:
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) >= minimum:
            return password
        note(f"Use at least {minimum} characters.")


@app.command()
def create(
    email: Annotated[
        str,
        typer.Option(
            metavar="EMAIL",
            help="Sign-in email (unique).",
            callback=_choices.email,
            show_default=False,
        ),
    ],
    name: Annotated[str, typer.Option(metavar="NAME", help="Full name, as shown on incidents.")],
    role: Annotated[
        _choices.RoleChoice, typer.Option(case_sensitive=False, help="What they may do.")
    ] = _choices.RoleChoice.RESPONDER,
    password: Annotated[
        str | None,
        typer.Option(
            metavar="PASSWORD",
            help="At least 10 characters. Prompted for when omitted at a terminal.",
        ),
    ] = None,
    no_password: Annotated[
        bool,
        typer.Option("--no-password", help="No password: a token-only account, e.g. for bots."),
    ] = False,
) -> None:
    """Create a user. Prompts for the password (hidden, twice) unless --password or --no-password.

    Passwords given with --password end up in shell history; prefer the prompt.
    """
    from fireline.accounts.service import MIN_PASSWORD_LENGTH, create_user
    from fireline.models import Role

    if password is not None and no_password:
        fail("Give either --password or --no-password, not both.", code=2)
    if password is None and not no_password:
        if not stdin_is_tty():
            fail(
                "No password given and there is no terminal to ask for one.",
                [("hint", "pass --password, or --no-password for a token-only user")],
                code=2,
            )
        password = _prompt_password(MIN_PASSWORD_LENGTH)
    with unit_of_work() as session:
        user = create_user(
            session,
            actor=cli_actor(),
            now=now(),
            email=email,
            name=name,
            role=Role(role.value),
            password=password,
        )
        email, name, role_name = user.email, user.name, user.role
    say(f"Created {email} ({name}, {role_name}).")
    if password is None:
        note(f"No password set: give them a token with `fireline tokens create --user {email}`.")


@app.command("list")
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every user, active or not."""
    from rich.table import Table

    from fireline.accounts.schemas import UserOut
    from fireline.accounts.service import list_users as all_users

    with unit_of_work() as session:
        users = [UserOut.model_validate(user) for user in all_users(session)]
    if as_json:
        echo_json([user.model_dump(mode="json") for user in users])
        return
    if not users:
        note("No users yet. Create one with `fireline users create`.")
        return
    table = Table("ID", "Email", "Name", "Role", "Active", "Created")
    for user in users:
        add_row(
            table,
            str(user.id),
            user.email,
            user.name,
            user.role.value,
            "yes" if user.is_active else "no",
            when(user.created_at),
        )
    out.print(table)
