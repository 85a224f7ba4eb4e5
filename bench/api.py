"""Declare-and-read benchmark of the JSON API on PostgreSQL with the production server settings.

Starts `fireline serve --workers N` against a throw-away PostgreSQL database, then drives it with
64 concurrent connections from wrk: first declaring incidents (POST /api/v1/incidents), then
reading them (GET /api/v1/incidents/{ref}) and listing (GET /api/v1/incidents?limit=50). Prints
throughput and latency percentiles for each phase.
Targets (issue 2): >= 1,000 creations/s, and p99 < 50 ms for reads at 64 concurrent clients.

wrk runs on the same machine as the server and PostgreSQL and takes some CPU from them; the
figures are therefore a floor for what the server does on a machine of its own.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from fireline import migrate
from fireline.accounts import service as accounts
from fireline.accounts.principal import Actor
from fireline.clock import SystemClock
from fireline.db import make_engine, make_session_factory, transaction
from fireline.models import Role

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def make_database() -> tuple[str, str]:
    name = f"fireline_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade("postgresql+psycopg://" + url.split("://", 1)[1])
    return name, url


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_token(url: str) -> str:
    engine = make_engine("postgresql+psycopg://" + url.split("://", 1)[1], pool_size=1)
    with transaction(make_session_factory(engine)) as session:
        user = accounts.create_user(
            session,
            actor=Actor.system("bench"),
            now=SystemClock().now(),
            email="bench@example.com",
            name="Bench",
            role=Role.RESPONDER,
            password=None,
        )
        secret = accounts.create_token(
            session, actor=Actor.system("bench"), now=SystemClock().now(), user=user, name="bench"
        ).secret
    engine.dispose()
    return secret


DECLARE_LUA = """
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = '{{"title": "Checkout errors ' .. counter .. '", "severity": "SEV2"}}'
  return wrk.format(nil, "/api/v1/incidents", nil, body)
end
"""

READ_LUA = """
wrk.headers["Authorization"] = "Bearer {token}"
request = function()
  return wrk.format("GET", "/api/v1/incidents/INC-" .. math.random(1, {count}))
end
"""

LIST_LUA = """
wrk.headers["Authorization"] = "Bearer {token}"
"""


@dataclass
class Figures:
    requests_per_second: float
    percentiles_ms: dict[str, float]
    requests: int
    errors: int


def _ms(text: str) -> float:
    value = float(text.rstrip("usm"))
    if text.endswith("us"):
        return value / 1000
    if text.endswith("ms"):
        return value
    if text.endswith("m"):
        return value * 60_000
    return value * 1000


def run_wrk(url: str, script: str, *, seconds: int, connections: int, threads: int) -> Figures:
    """Drive `url` with wrk (C, event-driven): the load generator costs little of the CPU."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        output = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "--timeout",
                "10s",
                "-s",
                handle.name,
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        Path(handle.name).unlink()
    percentiles = {
        match.group(1): _ms(match.group(2))
        for match in re.finditer(r"^\s*(50|75|90|99)%\s+(\S+)\s*$", output, re.M)
    }
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)$", output, re.M)
    if socket_errors:
        print(f"  wrk socket errors: {socket_errors.group(1)}")
    return Figures(
        requests_per_second=float(rate.group(1)) if rate else 0.0,
        percentiles_ms=percentiles,
        requests=int(total.group(1)) if total else 0,
        errors=int(errors.group(1)) if errors else 0,
    )


def report(name: str, figures: Figures) -> None:
    p = figures.percentiles_ms
    print(
        f"{name:<14} {figures.requests:>7} requests  {figures.requests_per_second:8.1f}/s   "
        f"p50 {p.get('50', 0):6.1f} ms   p90 {p.get('90', 0):6.1f} ms   "
        f"p99 {p.get('99', 0):6.1f} ms   errors {figures.errors}"
    )


def count_incidents(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT count(*) FROM incidents").fetchone()
    return int(row[0]) if row else 0


def drive(base_url: str, database_url: str, token: str, seconds: int, concurrency: int) -> None:
    api = f"{base_url}/api/v1/incidents"
    common = {"connections": concurrency, "threads": 2}
    run_wrk(api, DECLARE_LUA.format(token=token), seconds=3, **common)  # warm-up
    report("declare", run_wrk(api, DECLARE_LUA.format(token=token), seconds=seconds, **common))
    count = count_incidents(database_url)
    read_script = READ_LUA.format(token=token, count=count)
    report("read one", run_wrk(base_url, read_script, seconds=seconds, **common))
    report(
        "list 50",
        run_wrk(f"{api}?limit=50", LIST_LUA.format(token=token), seconds=seconds, **common),
    )
    print(f"({count} incidents in the database at the end of the declare phase)")


def wait_until_ready(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the server exited before it was ready")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    sys.exit("the server did not become ready within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=20, help="per phase")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/api.py needs wrk: apt-get install wrk (make bench does it)")

    name, url = make_database()
    server = None
    try:
        token = make_token(url)
        env = {
            **os.environ,
            "FIRELINE_DATABASE_URL": url,
            "FIRELINE_ACCESS_LOG": "false",
            "FIRELINE_LOG_LEVEL": "warning",
            # pool + overflow (as many again) per process stays within max_connections (100).
            "FIRELINE_DB_POOL_SIZE": str(max(4, args.concurrency // (2 * args.workers))),
        }
        command = [
            str(ROOT / ".venv" / "bin" / "fireline"),
            "serve",
            "--no-migrate",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
        ]
        server = subprocess.Popen(command, env=env, cwd=ROOT)
        base_url = f"http://127.0.0.1:{args.port}"
        wait_until_ready(base_url, server)
        print(
            f"bench/api.py: PostgreSQL, {args.workers} web processes, "
            f"{args.concurrency} concurrent clients, "
            f"{os.cpu_count()} cores shared with the load generator"
        )
        drive(base_url, url, token, args.seconds, args.concurrency)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        drop_database(name)


if __name__ == "__main__":
    main()
