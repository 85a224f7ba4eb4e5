"""Server-side commands: users, tokens, teams and services, straight into the database."""

from __future__ import annotations

import json

from fireline.cli import users

from .helpers import Cli, unique_email

PASSWORD = "correct horse battery"


def _users(cli) -> list[dict]:
    result = cli("users", "list", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_users_create_prompts_for_a_hidden_confirmed_password_that_then_signs_in(
    cli, cli_database, api_on, monkeypatch
):
    monkeypatch.setattr(users, "stdin_is_tty", lambda: True)
    email = unique_email("ana")
    answers = f"too short\ntoo short\n{PASSWORD}\n{PASSWORD}\n"

    result = cli("users", "create", "--email", email, "--name", "Ana Ops", stdin=answers)

    assert result.exit_code == 0, result.output
    assert "Password" in result.output
    assert "Repeat for confirmation" in result.output
    assert "at least 10 characters" in result.stderr
    assert PASSWORD not in result.output  # typed blind, never echoed
    assert f"Created {email} (Ana Ops, responder)." in result.stdout
    login = api_on(cli_database.url).post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert login.json()["user"]["role"] == "responder"


def test_mismatched_confirmation_asks_again(cli, monkeypatch):
    monkeypatch.setattr(users, "stdin_is_tty", lambda: True)
    email = unique_email()
    answers = f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n"

    result = cli(
        "users", "create", "--email", email, "--name", "Bo", "--role", "viewer", stdin=answers
    )

    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert {"email": email, "role": "viewer"}.items() <= next(
        user for user in _users(cli) if user["email"] == email
    ).items()


def test_a_duplicate_email_is_refused_clearly(cli):
    email = unique_email("dup")
    first = cli("users", "create", "--email", email, "--name", "One", "--password", PASSWORD)
    assert first.exit_code == 0, first.output

    again = cli("users", "create", "--email", email.upper(), "--name", "Two", "--no-password")

    assert again.exit_code == 1
    assert f"Error: A user with email {email} already exists." in again.stderr
    assert "Traceback" not in again.output
    assert [user["name"] for user in _users(cli) if user["email"] == email] == ["One"]


def test_without_a_terminal_a_password_choice_is_required(cli):
    email = unique_email()
    result = cli("users", "create", "--email", email, "--name", "Bot")

    assert result.exit_code == 2
    assert "--no-password" in result.stderr
    assert email not in {user["email"] for user in _users(cli)}


def test_bad_input_is_a_usage_error(cli):
    bad_email = cli("users", "create", "--email", "not-an-email", "--name", "X", "--no-password")
    bad_role = cli("users", "create", "--email", unique_email(), "--name", "X", "--role", "boss")
    short = cli("users", "create", "--email", unique_email(), "--name", "X", "--password", "short")

    assert bad_email.exit_code == 2
    assert "--email" in bad_email.stderr
    assert bad_role.exit_code == 2
    assert short.exit_code == 1
    assert "password: must be at least 10 characters long" in short.stderr


def test_tokens_create_prints_only_a_token_that_works_against_the_api(cli, cli_database, api_on):
    email = unique_email("bot")
    made = cli("users", "create", "--email", email, "--name", "Deploy Bot", "--no-password")
    assert made.exit_code == 0, made.output
    assert "fireline tokens create" in made.stderr

    result = cli("tokens", "create", "--user", email, "--name", "ci", "--scope", "incidents:read")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    token = lines[0]
    assert token.startswith("fl_")
    assert " " not in token
    assert "shown only this once" in result.stderr
    api = api_on(cli_database.url)
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["email"] == email
    assert me.json()["permissions"] == ["incidents:read"]


def test_tokens_for_unknown_users_or_beyond_their_role_are_refused(cli):
    email = unique_email("viewer")
    cli("users", "create", "--email", email, "--name", "V", "--role", "viewer", "--no-password")

    unknown = cli("tokens", "create", "--user", "nobody@example.com", "--name", "x")
    beyond = cli("tokens", "create", "--user", email, "--name", "x", "--scope", "users:admin")

    assert unknown.exit_code == 1
    assert unknown.stdout == ""
    assert "No user with email nobody@example.com" in unknown.stderr
    assert beyond.exit_code == 1
    assert beyond.stdout == ""
    assert "scopes: users:admin exceed(s) what a viewer may do" in beyond.stderr


def test_services_and_teams_are_created_and_listed(cli):
    suffix = unique_email("").split("@")[0].strip("-")
    team = cli("teams", "create", "--name", f"Payments {suffix}")
    assert team.exit_code == 0, team.output
    team_slug = f"payments-{suffix}"
    assert f"Created team {team_slug}" in team.stdout

    created = cli(
        "services", "create", "--name", f"Checkout {suffix}", "--tier", "1",
        "--owner-team", team_slug, "--runbook-url", "https://wiki.example.com/checkout",
        "--description", "Takes the money",
    )  # fmt: skip

    assert created.exit_code == 0, created.output
    assert f"Created service checkout-{suffix}" in created.stdout
    listed = cli("services", "list", "--json")
    assert listed.exit_code == 0, listed.output
    service = next(
        item for item in json.loads(listed.stdout) if item["slug"] == f"checkout-{suffix}"
    )
    assert service["tier"] == 1
    assert service["owner_team"]["slug"] == team_slug
    assert service["runbook_url"] == "https://wiki.example.com/checkout"
    assert service["description"] == "Takes the money"
    teams = json.loads(cli("teams", "list", "--json").stdout)
    assert team_slug in {item["slug"] for item in teams}
    table = cli("services", "list")
    assert f"checkout-{suffix}" in table.stdout


def test_service_mistakes_are_explained(cli):
    suffix = unique_email("").split("@")[0].strip("-")
    assert cli("services", "create", "--name", f"Search {suffix}").exit_code == 0

    duplicate = cli("services", "create", "--name", f"Search {suffix}", "--json")
    no_team = cli("services", "create", "--name", f"Cart {suffix}", "--owner-team", "ghosts")
    bad_slug = cli("services", "create", "--name", "X", "--slug", "Not A Slug")
    bad_tier = cli("services", "create", "--name", "X", "--tier", "4")

    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.stderr
    assert duplicate.stdout == ""
    assert no_team.exit_code == 1
    assert "owner_team: no team 'ghosts'" in no_team.stderr
    assert bad_slug.exit_code == 2
    assert bad_tier.exit_code == 2
    slugs = {item["slug"] for item in json.loads(cli("services", "list", "--json").stdout)}
    assert f"cart-{suffix}" not in slugs


def test_an_unreachable_database_is_reported_without_a_traceback():
    cli = Cli({"FIRELINE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/fireline"})
    result = cli("users", "list")

    assert result.exit_code == 1
    assert "Cannot use the database at postgresql+psycopg://nobody@127.0.0.1:1/fireline" in (
        result.stderr
    )
    assert "fireline db upgrade" in result.stderr
    assert "Traceback" not in result.output
