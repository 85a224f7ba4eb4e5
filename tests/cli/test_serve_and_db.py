"""`fireline serve` and `fireline db`, each on a database of its own."""

from __future__ import annotations

import gc
import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from alembic import command
from fastapi import FastAPI

from fireline import migrate
from fireline.cli import serve

from .helpers import Cli

ADMIN_LINE = re.compile(
    r"^Created the first admin: admin@example\.com / (\S+) — sign in and change it\.$", re.M
)


@pytest.fixture
def uvicorn_calls(monkeypatch) -> list[tuple[object, dict]]:
    calls: list[tuple[object, dict]] = []
    monkeypatch.setattr(serve, "run_uvicorn", lambda app, **options: calls.append((app, options)))
    return calls


def _empty(fresh_database):
    """A database with no tables at all, as on a first install."""
    database = fresh_database()
    command.downgrade(migrate.alembic_config(database.url), "base")
    return database


def test_db_current_and_upgrade_bring_an_empty_database_to_head(fresh_database):
    database = _empty(fresh_database)
    cli = Cli({"FIRELINE_DATABASE_URL": database.url})
    head = migrate.head_revision()

    before = cli("db", "current")
    upgraded = cli("db", "upgrade")
    after = cli("db", "current")
    again = cli("db", "upgrade")

    assert before.exit_code == 0, before.output
    assert "Current revision: (none" in before.stdout
    assert f"Head revision:    {head}" in before.stdout
    assert "Behind: run `fireline db upgrade`." in before.stdout
    assert upgraded.exit_code == 0, upgraded.output
    assert f"is at revision {head}." in upgraded.stdout
    assert f"Current revision: {head}" in after.stdout
    assert "Up to date." in after.stdout
    assert again.exit_code == 0
    assert f"is at revision {head}." in again.stdout


def test_db_upgrade_to_an_unknown_revision_is_refused(fresh_database):
    cli = Cli({"FIRELINE_DATABASE_URL": fresh_database().url})

    result = cli("db", "upgrade", "--revision", "no-such-revision")

    assert result.exit_code == 2
    assert "Cannot migrate to 'no-such-revision'" in result.stderr
    assert "Traceback" not in result.output


def test_serve_migrates_creates_the_first_admin_once_and_starts_uvicorn(
    fresh_database, api_on, uvicorn_calls
):
    database = _empty(fresh_database)
    cli = Cli(
        {
            "FIRELINE_DATABASE_URL": database.url,
            "FIRELINE_HOST": "0.0.0.0",  # noqa: S104 - only handed to the fake uvicorn
            "FIRELINE_PORT": "9123",
            "FIRELINE_WORKERS": None,
        }
    )

    first = cli("serve")
    second = cli("serve", "--port", "9124")

    assert first.exit_code == 0, first.output
    found = ADMIN_LINE.findall(first.stdout)
    assert len(found) == 1
    assert second.exit_code == 0, second.output
    assert "Created the first admin" not in second.output
    login = api_on(database.url).post(
        "/api/v1/auth/login", json={"email": "admin@example.com", "password": found[0]}
    )
    assert login.status_code == 200, login.text
    assert login.json()["user"]["role"] == "admin"
    (app, options), (_, options_again) = uvicorn_calls
    assert isinstance(app, FastAPI)
    assert app.state.settings.database_url == database.url
    assert options == {"host": "0.0.0.0", "port": 9123, "log_level": "info", "access_log": True}  # noqa: S104
    assert options_again["port"] == 9124


def test_serve_without_migrating_an_empty_database_explains_what_to_do(
    fresh_database, uvicorn_calls
):
    cli = Cli({"FIRELINE_DATABASE_URL": _empty(fresh_database).url})

    result = cli("serve", "--no-migrate")

    assert result.exit_code == 1
    assert "Cannot use the database" in result.stderr
    assert "fireline db upgrade" in result.stderr
    assert "Traceback" not in result.output
    assert uvicorn_calls == []


def test_several_workers_use_the_app_factory_and_sqlite_gets_a_warning(
    fresh_database, uvicorn_calls, monkeypatch
):
    database = fresh_database()
    cli = Cli({"FIRELINE_DATABASE_URL": database.url, "FIRELINE_WORKERS": "2"})

    from_env = cli("serve")
    from_option = cli("serve", "--workers", "3", "--host", "127.0.0.2")

    assert from_env.exit_code == 0, from_env.output
    assert from_option.exit_code == 0, from_option.output
    (target, options), (_, more) = uvicorn_calls
    assert target == "fireline.cli.serve:production_app"
    assert options["factory"] is True
    assert options["workers"] == 2
    assert more["workers"] == 3
    assert more["host"] == "127.0.0.2"
    on_sqlite = database.dialect == "sqlite"
    assert ("Warning: 2 workers on SQLite" in from_env.stderr) == on_sqlite
    assert ("use PostgreSQL" in from_option.stderr) == on_sqlite

    monkeypatch.setenv("FIRELINE_DATABASE_URL", database.url)
    gc.unfreeze()
    app = serve.production_app()
    try:
        assert isinstance(app, FastAPI)
        assert app.state.settings.database_url == database.url
        assert gc.get_freeze_count() > 10_000  # the start-up heap, out of the collector's way
    finally:
        gc.unfreeze()
        app.state.engine.dispose()


def test_serve_puts_the_start_up_heap_beyond_the_collector_before_serving(
    fresh_database, monkeypatch
):
    frozen: list[int] = []

    def run(_app: object, **_options: object) -> None:
        frozen.append(gc.get_freeze_count())
        gc.unfreeze()  # the test process goes on making and dropping apps

    monkeypatch.setattr(serve, "run_uvicorn", run)
    gc.unfreeze()

    result = Cli({"FIRELINE_DATABASE_URL": fresh_database().url})("serve")

    assert result.exit_code == 0, result.output
    assert frozen[0] > 10_000  # modules, routes, templates and mappings built at start-up


def test_reload_and_several_workers_do_not_mix(fresh_database, uvicorn_calls):
    cli = Cli({"FIRELINE_DATABASE_URL": fresh_database().url})

    result = cli("serve", "--reload", "--workers", "2")

    assert result.exit_code == 2
    assert "--reload" in result.stderr
    assert uvicorn_calls == []


def test_reload_serves_one_process_through_the_factory(fresh_database, uvicorn_calls):
    cli = Cli({"FIRELINE_DATABASE_URL": fresh_database().url, "FIRELINE_WORKERS": "4"})

    result = cli("serve", "--reload", "--no-migrate")

    assert result.exit_code == 0, result.output
    [(target, options)] = uvicorn_calls
    assert target == "fireline.cli.serve:production_app"
    assert options["reload"] is True
    assert options["workers"] == 1
    assert "Warning" not in result.stderr


@pytest.fixture
def granian_calls(monkeypatch) -> list[tuple[str, dict]]:
    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        serve, "run_granian", lambda target, **options: calls.append((target, options))
    )
    return calls


def test_granian_serves_the_factory_of_one_process_or_of_several(
    fresh_database, granian_calls, uvicorn_calls
):
    cli = Cli({"FIRELINE_DATABASE_URL": fresh_database().url, "FIRELINE_SERVER": "granian"})

    single = cli("serve", "--no-migrate", "--port", "9125")
    several = cli("serve", "--no-migrate", "--workers", "2", "--host", "0.0.0.0")  # noqa: S104

    assert single.exit_code == 0, single.output
    assert several.exit_code == 0, several.output
    assert uvicorn_calls == []
    (one, one_options), (many, many_options) = granian_calls
    assert one == "fireline.cli.serve:single_app"
    assert (one_options["port"], one_options["workers"]) == (9125, 1)
    assert one_options["log_access"] is True
    assert many == "fireline.cli.serve:production_app"
    assert (many_options["address"], many_options["workers"]) == ("0.0.0.0", 2)  # noqa: S104


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (("--server", "gunicorn"), "--server must be uvicorn or granian"),
        (("--server", "granian", "--reload"), "--reload runs uvicorn"),
    ],
)
def test_servers_fireline_cannot_run_are_refused(
    fresh_database, granian_calls, uvicorn_calls, arguments, said
):
    result = Cli({"FIRELINE_DATABASE_URL": fresh_database().url})("serve", *arguments)

    assert result.exit_code == 2
    assert said in result.stderr
    assert granian_calls == uvicorn_calls == []


def test_granian_really_serves_the_status_page_and_stops_on_sigterm(fresh_database, tmp_path):
    """Two granian workers on a real port: the app factory, the lifespan (the public cache's
    poller) and the fast path all work under it, and SIGTERM stops it."""
    database = fresh_database()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "FIRELINE_DATABASE_URL": database.url,
        "FIRELINE_SECRET_KEY": "test",
        "FIRELINE_DATA_DIR": str(tmp_path),
        "FIRELINE_LOG_LEVEL": "warning",
    }
    command_line = [sys.executable, "-c", "from fireline.cli import main; main()", "serve"]
    command_line += ["--no-migrate", "--server", "granian", "--workers", "2", "--port", str(port)]
    server = subprocess.Popen(command_line, env=env, cwd=tmp_path)  # noqa: S603 - our own CLI
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "granian exited before serving"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "granian did not answer within 60 s"
                time.sleep(0.2)
        page = httpx.get(f"{base}/status", timeout=10)
        summary = httpx.get(f"{base}/api/v2/summary.json", timeout=10)
        again = httpx.get(
            f"{base}/api/v2/summary.json", headers={"If-None-Match": summary.headers["etag"]}
        )
    finally:
        server.send_signal(signal.SIGTERM)
        stopped = server.wait(timeout=30)
    assert page.status_code == 200
    assert "Service status" in page.text
    assert summary.json()["page"]["name"] == "Service status"
    assert again.status_code == 304
    assert stopped == 0
