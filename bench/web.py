"""How long the main web pages take to render for a signed-in person, on a busy incident.

For each database (SQLite; PostgreSQL too when it answers at BENCH_PG_ADMIN_URL), builds a
fresh database through the services: a SEV1 with its four roles filled and 1,000 timeline
entries (notes, decisions and a public update every half hour) over three hours, plus 24
other open incidents for the list and the dashboard. Then starts `fireline serve` (one process,
its embedded job worker running, as `make run` does), signs in through the sign-in form, and
asks for each page in turn, one request at a time: a warm-up, then --requests timed ones.

Prints, per page: p50 and p99 of the wall time the client saw (httpx on the same machine, over
loopback, so the client takes its share of the CPU), the server's own mean time for the same
requests (its /metrics histogram), the server process's CPU time per request (from /proc; it
includes the embedded worker's, and unlike wall time it is not inflated by other work on a busy
machine), and the page size. Target (issue "web application"): < 150 ms of server time per
page. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from fireline import migrate
from fireline.accounts import service as accounts
from fireline.accounts.principal import Actor
from fireline.clock import SystemClock
from fireline.config import normalise_database_url
from fireline.db import make_engine, make_session_factory, transaction
from fireline.incidents import roles, service, timeline
from fireline.models import Incident, Role, User
from fireline.response.reactions import after_change
from fireline.response.service import PUBLIC, UpdateParts, post_update

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "correct horse battery"  # noqa: S105 (a throw-away database's)
TIMELINE_ENTRIES = 1_000
OTHER_INCIDENTS = 24
TARGET_MS = 150
# The four roles a SEV1 fills, and who holds them.
RESPONDERS = {
    "commander": ("Cora Quinn", "cora@example.com"),
    "comms_lead": ("Lee Park", "lee@example.com"),
    "tech_lead": ("Tim Okafor", "tim@example.com"),
    "scribe": ("Sam Reyes", "sam@example.com"),
}


def pages(reference: str) -> dict[str, str]:
    """The pages timed, by the name printed for each."""
    return {
        "dashboard": "/",
        "incident page": f"/incidents/{reference}",
        "incident list": "/incidents",
        "declare page": "/incidents/new",
        "timeline partial": f"/incidents/{reference}/partials/timeline",
    }


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, label=f"{user.name} <{user.email}>", via="bench")


def add_people(session: Session, now: datetime) -> dict[str, User]:
    people = {}
    for role, (name, email) in RESPONDERS.items():
        people[role] = accounts.create_user(
            session,
            actor=Actor.system("bench"),
            now=now,
            email=email,
            name=name,
            role=Role.RESPONDER,
            password=PASSWORD,
        )
    return people


def add_busy_sev1(session: Session, people: dict[str, User], now: datetime) -> Incident:
    """A SEV1 declared three hours ago, its roles filled, with TIMELINE_ENTRIES entries since."""
    commander = people["commander"]
    started = now - timedelta(hours=3)
    incident = service.declare(
        session,
        actor=actor_of(commander),
        now=started,
        title="Checkout fails for EU customers",
        severity="SEV1",
        summary="Payments time out at the card processor for most EU traffic.",
        customer_impact="Most EU customers cannot pay.",
        commander=commander.id,
    )
    after_change(session, incident=incident, now=started)
    for offset, role in enumerate(("comms_lead", "tech_lead", "scribe"), start=1):
        roles.assign_role(
            session,
            actor=actor_of(commander),
            now=started + timedelta(seconds=offset),
            incident=incident,
            role=role,
            user_ref=people[role].id,
        )
    step = (now - started - timedelta(minutes=1)) / TIMELINE_ENTRIES
    writers = list(people.values())
    for number in range(TIMELINE_ENTRIES):
        at = started + timedelta(minutes=1) + step * number
        writer = writers[number % len(writers)]
        if number % 170 == 0:  # a public update about every half hour, as a SEV1 owes
            post_update(
                session,
                actor=actor_of(people["comms_lead"]),
                now=at,
                incident=incident,
                parts=UpdateParts(
                    audience=PUBLIC,
                    current_impact="Most EU customers cannot complete checkout.",
                    doing_now="Failing over to the secondary card processor.",
                    users_should="Retry in a few minutes; no double charges will occur.",
                ),
            )
            continue
        timeline.add_note(
            session,
            actor=actor_of(writer),
            now=at,
            incident=incident,
            kind="decision" if number % 25 == 0 else "note",
            body=f"Observation {number}: p99 latency at the processor is "
            f"{800 + number % 400} ms; error rate {number % 37} %.",
        )
    return incident


def add_other_incidents(session: Session, people: dict[str, User], now: datetime) -> None:
    for number in range(OTHER_INCIDENTS):
        reporter = people["tech_lead"]
        service.declare(
            session,
            actor=actor_of(reporter),
            now=now - timedelta(days=2) + timedelta(hours=number),
            title=f"Elevated errors on service {number}",
            severity=("SEV2", "SEV3", "SEV4")[number % 3],
            commander=reporter.id,
        )


def seed(database_url: str) -> str:
    """Fills the database; returns the busy SEV1's reference."""
    engine = make_engine(database_url, pool_size=1)
    now = SystemClock().now()
    with transaction(make_session_factory(engine)) as session:
        people = add_people(session, now)
        add_other_incidents(session, people, now)
        reference = add_busy_sev1(session, people, now).reference
    engine.dispose()
    return reference


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="fireline-bench-web-") as home:
        url = normalise_database_url(f"sqlite:///{Path(home) / 'fireline.db'}")
        migrate.upgrade(url)
        yield url


def postgres_answers() -> bool:
    try:
        psycopg.connect(ADMIN_URL, connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"fireline_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        url = normalise_database_url(ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
        migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int


@contextmanager
def running_server(database_url: str) -> Iterator[Server]:
    """`fireline serve` on a free port, until the block ends."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="fireline-bench-serve-") as home:
        env = {
            **os.environ,
            "FIRELINE_DATABASE_URL": database_url,
            "FIRELINE_SECRET_KEY": "bench",
            "FIRELINE_DATA_DIR": home,
            "FIRELINE_ACCESS_LOG": "false",
            "FIRELINE_LOG_LEVEL": "warning",
        }
        command = [
            *(sys.executable, "-c", "from fireline.cli import main; main()"),
            *("serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(port)),
        ]
        server = subprocess.Popen(command, env=env, cwd=home)
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_ready(base_url, server)
            yield Server(base_url, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)


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
        time.sleep(0.2)
    sys.exit("the server did not become ready within 60 s")


def server_seconds(client: httpx.Client) -> tuple[float, float]:
    """Total seconds and count of the GET pages the server has answered (not /metrics)."""
    total = count = 0.0
    families = text_string_to_metric_families(client.get("/metrics").text)
    for family in families:
        if family.name != "fireline_http_request_duration_seconds":
            continue
        for sample in family.samples:
            labels = sample.labels
            if labels.get("method") != "GET" or labels.get("route") in ("/metrics", "/readyz"):
                continue
            if sample.name.endswith("_sum"):
                total += sample.value
            elif sample.name.endswith("_count"):
                count += sample.value
    return total, count


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used (user + system), from /proc: unlike wall time, what other
    work on the machine does not inflate. NaN where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class PageFigures:
    wall_ms: list[float]
    server_mean_ms: float
    server_cpu_ms: float
    size_kb: float
    failures: int


def time_page(client: httpx.Client, server: Server, path: str, requests: int) -> PageFigures:
    for _ in range(10):  # warm-up: templates compiled, connections opened, caches filled
        client.get(path)
    before_total, before_count = server_seconds(client)
    before_cpu = cpu_seconds(server.pid)
    wall_ms, failures, size = [], 0, 0
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        wall_ms.append((time.perf_counter() - started) * 1000)
        failures += response.status_code != 200
        size = len(response.content)
    after_cpu = cpu_seconds(server.pid)
    after_total, after_count = server_seconds(client)
    counted = max(after_count - before_count, 1)
    return PageFigures(
        wall_ms=wall_ms,
        server_mean_ms=(after_total - before_total) / counted * 1000,
        server_cpu_ms=(after_cpu - before_cpu) / requests * 1000,
        size_kb=size / 1024,
        failures=failures,
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@contextmanager
def signed_in_client(base_url: str) -> Iterator[httpx.Client]:
    """A client holding the session cookie the sign-in form sets, as a browser would."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        email = RESPONDERS["commander"][1]
        signed = client.post("/login", data={"email": email, "password": PASSWORD, "next": "/"})
        if signed.status_code != 303:
            sys.exit(f"signing in failed: {signed.status_code} {signed.text[:300]}")
        yield client


def bench(kind: str, database_url: str, requests: int) -> None:
    started = time.perf_counter()
    reference = seed(database_url)
    print(
        f"\n{kind}: {reference} (SEV1, {TIMELINE_ENTRIES:,} timeline entries) and "
        f"{OTHER_INCIDENTS} other open incidents, seeded in {time.perf_counter() - started:.1f} s"
    )
    with running_server(database_url) as server, signed_in_client(server.base_url) as client:
        print(
            f"  {'page':<17} {'p50 ms':>7} {'p99 ms':>7} {'server ms':>10} {'server CPU ms':>14} "
            f"{'size KB':>8}"
        )
        for name, path in pages(reference).items():
            probe = client.get(path)
            if probe.status_code == 404:
                print(f"  {name:<17} not present ({path} answers 404)")
                continue
            figures = time_page(client, server, path, requests)
            p50 = statistics.median(figures.wall_ms)
            p99 = percentile(figures.wall_ms, 0.99)
            flag = "" if figures.server_mean_ms < TARGET_MS else f"  over the {TARGET_MS} ms target"
            failed = f"  {figures.failures} non-200 answers" if figures.failures else ""
            print(
                f"  {name:<17} {p50:7.1f} {p99:7.1f} {figures.server_mean_ms:10.1f} "
                f"{figures.server_cpu_ms:14.1f} {figures.size_kb:8.1f}{flag}{failed}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql (skipped when it does not answer)",
    )
    args = parser.parse_args()
    print(
        f"bench/web.py: one `fireline serve` process; one client on the same machine "
        f"({os.cpu_count()} cores), one request at a time. Target: < {TARGET_MS} ms server time."
    )
    kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    if "sqlite" in kinds:
        with sqlite_database() as url:
            bench("SQLite", url, args.requests)
    if "postgresql" in kinds:
        if not postgres_answers():
            print(f"\nPostgreSQL: skipped, nothing answers at {ADMIN_URL}")
            return
        with postgres_database() as url:
            bench("PostgreSQL", url, args.requests)


if __name__ == "__main__":
    main()
