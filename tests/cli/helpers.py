"""Running the CLI in-process, for the tests in this package."""

from __future__ import annotations

import uuid

from typer.testing import CliRunner

from fireline.cli import app as cli_app


class Cli:
    """Runs `fireline …` in-process with the given environment."""

    def __init__(self, env: dict[str, str | None] | None = None) -> None:
        self.runner = CliRunner()
        self.env = env or {}
        self.urls: list[str] = []  # the servers remote commands connected to

    def __call__(self, *args: str, stdin: str | None = None):
        return self.runner.invoke(cli_app, list(args), input=stdin, env=self.env)


def unique_email(prefix: str = "person") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
