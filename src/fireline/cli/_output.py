"""How the CLI talks to people: results on stdout, messages and errors on stderr."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fireline.clock import as_utc

# For tables. It looks sys.stdout up at print time, so a test runner's capture is honoured.
out = Console(highlight=False)


def say(message: str) -> None:
    """A result line on stdout, printed exactly as given (no markup, no wrapping)."""
    typer.echo(message)


def note(message: str) -> None:
    """A message for the person at the terminal, on stderr so stdout stays parseable."""
    typer.echo(message, err=True)


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def fail(message: str, problems: Iterable[tuple[str, str]] = (), *, code: int = 1) -> NoReturn:
    """Print `Error: message` and each `field: problem` to stderr, then exit with `code`."""
    note(f"Error: {message}")
    for field, problem in problems:
        note(f"  {field}: {problem}")
    raise typer.Exit(code)


def field_problems(errors: Any) -> list[tuple[str, str]]:
    """The (field, message) pairs of a problem+json `errors` list, skipping anything malformed."""
    if not isinstance(errors, list):
        return []
    return [
        (str(item.get("field", "")), str(item.get("message", "")))
        for item in errors
        if isinstance(item, Mapping)
    ]


def when(value: str | datetime | None) -> str:
    """A timestamp as `2026-01-05 10:00 UTC` (naive ones are UTC already), or `—` when unset."""
    if value is None or value == "":
        return "—"
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{as_utc(instant):%Y-%m-%d %H:%M} UTC"


def add_row(table: Table, *values: str) -> None:
    """A table row shown literally: brackets in titles or names are not Rich markup."""
    table.add_row(*(Text(value) for value in values))
