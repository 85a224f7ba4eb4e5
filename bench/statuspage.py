"""The public status page under an outage-day spike: Fireline against nginx, same machine, same run.

Builds a throw-away PostgreSQL database with a status page as a busy company's looks on a bad
day: three component groups of four components each, 90 days of status history with an outage
every few days, an unresolved incident with four updates, 40 resolved incidents and an upcoming
maintenance. Starts `fireline serve --server granian --workers N` with the production settings of
the README (PostgreSQL, N = CPU cores, no embedded job worker, no access log; --server uvicorn to
compare), warms its public cache, and
saves what it serves at `/status` and `/api/v2/summary.json`. Starts nginx (Debian's package,
installed if missing) serving those saved copies as static files, with its stock settings plus
`worker_processes auto` and the access log off, so both sides do the same work per request.

Then, for each endpoint, wrk (2 threads, --connections) drives Fireline and nginx in turn for
--seconds each and prints requests/s, the ratio Fireline / nginx, and latency percentiles: once as
wrk asks by default (no compression), once with `Accept-Encoding: gzip` as every browser asks
(nginx then sends Fireline's own gzip copy, saved beside the plain one, by `gzip_static`).
Finally it measures freshness: posts a public update through the API and polls `/status` until
the update's words show, --probes times; prints the worst and the median delay.

Targets (issue "communications"): Fireline >= 0.4 x nginx for both endpoints with a warm cache,
and a new update visible on the page within 1 s of posting. For scale: nginx serves a 20 KB page
at about 70,000 requests/s on this 2-core machine, a bare Python ASGI app about 27,000. wrk, the
servers and PostgreSQL share the cores. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline import migrate
from fireline.accounts import service as accounts
from fireline.accounts.principal import Actor
from fireline.comms.codes import new_code
from fireline.config import normalise_database_url
from fireline.db import make_engine, make_session_factory, transaction
from fireline.models import (
    Component,
    ComponentGroup,
    ComponentStatusChange,
    PublicIncident,
    PublicUpdate,
    Role,
    StatusPage,
    public_incident_components,
)

ROOT = Path(__file__).resolve().parent.parent
FIRELINE = str(ROOT / ".venv" / "bin" / "fireline")
ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ENDPOINTS = ("/status", "/api/v2/summary.json")
TARGET_RATIO = 0.4
TARGET_FRESHNESS_S = 1.0
GROUPS = {
    "Core": ("API", "Dashboard", "Sign-in", "Webhooks"),
    "Data": ("Reporting", "Exports", "Search", "Imports"),
    "Messaging": ("Email delivery", "SMS delivery", "Push notifications", "Chat integrations"),
}
PARTS = {
    "current_impact": "Some customers see errors when loading dashboards.",
    "doing_now": "We are rolling back the last change to the reporting service.",
    "users_should": "Retry in a few minutes; exports already started will finish.",
}


def make_database() -> tuple[str, str]:
    name = f"fireline_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(normalise_database_url(url))
    return name, url


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_components(session: Session, page: StatusPage, now: datetime) -> list[Component]:
    start = now - timedelta(days=120)
    made: list[Component] = []
    for group_position, (group_name, names) in enumerate(GROUPS.items()):
        group = ComponentGroup(
            code=new_code(),
            page_id=page.id,
            name=group_name,
            position=group_position,
            created_at=start,
            updated_at=start,
        )
        session.add(group)
        session.flush()
        for position, name in enumerate(names):
            component = Component(
                code=new_code(),
                page_id=page.id,
                group_id=group.id,
                name=name,
                description=f"{name} for every customer.",
                position=position,
                status="operational",
                started_at=start,
                created_at=start,
                updated_at=start,
            )
            session.add(component)
            made.append(component)
    session.flush()
    return made


def add_history(
    session: Session, page: StatusPage, components: list[Component], now: datetime
) -> None:
    """Forty resolved incidents over 90 days, each taking a component down for a while."""
    for number in range(40):
        component = components[number % len(components)]
        began = now - timedelta(days=90) + timedelta(hours=53 * number + 7)
        ended = began + timedelta(minutes=20 + 11 * (number % 9))
        status = ("degraded_performance", "partial_outage", "major_outage")[number % 3]
        incident = add_incident(session, page, [component], began, name=f"{component.name} errors")
        incident.status, incident.resolved_at = "resolved", ended
        session.add_all(
            [
                ComponentStatusChange(component_id=component.id, status=status, at=began),
                ComponentStatusChange(component_id=component.id, status="operational", at=ended),
            ]
        )
        add_update(session, incident, "resolved", ended, "This incident has been resolved.")


def add_incident(
    session: Session, page: StatusPage, components: list[Component], at: datetime, *, name: str
) -> PublicIncident:
    incident = PublicIncident(
        code=new_code(),
        page_id=page.id,
        kind="incident",
        name=name,
        status="investigating",
        impact="major",
        started_at=at,
        report={},
        created_at=at,
        updated_at=at,
    )
    session.add(incident)
    session.flush()
    session.execute(
        public_incident_components.insert(),
        [{"public_incident_id": incident.id, "component_id": c.id} for c in components],
    )
    add_update(session, incident, "investigating", at, "We are investigating errors.")
    return incident


def add_update(
    session: Session, incident: PublicIncident, status: str, at: datetime, body: str
) -> None:
    session.add(
        PublicUpdate(
            code=new_code(),
            public_incident_id=incident.id,
            status=status,
            body=body,
            parts={},
            affected_components=[],
            display_at=at,
            created_at=at,
        )
    )


def seed(url: str) -> tuple[str, str]:
    """The page, its history, an ongoing incident; returns the incident's code and a token."""
    engine = make_engine(normalise_database_url(url), pool_size=1)
    now = datetime.now(UTC)
    try:
        with transaction(make_session_factory(engine)) as session:
            page = session.scalars(select(StatusPage).where(StatusPage.is_default)).one()
            page.name = "Acme Cloud"
            components = add_components(session, page, now)
            add_history(session, page, components, now)
            ongoing = add_incident(
                session, page, components[4:6], now - timedelta(hours=1), name="Slow reporting"
            )
            for minutes, status in ((40, "identified"), (20, "identified"), (5, "monitoring")):
                at = now - timedelta(minutes=minutes)
                add_update(session, ongoing, status, at, f"{PARTS['doing_now']} ({minutes} min)")
            for component in components[4:6]:
                component.status = "partial_outage"
                session.add(
                    ComponentStatusChange(
                        component_id=component.id, status="partial_outage", at=ongoing.started_at
                    )
                )
            maintenance = add_incident(
                session, page, components[:1], now + timedelta(days=2), name="Database upgrade"
            )
            maintenance.kind, maintenance.status, maintenance.impact = (
                "maintenance",
                "scheduled",
                "maintenance",
            )
            maintenance.scheduled_for = now + timedelta(days=2)
            maintenance.scheduled_until = now + timedelta(days=2, hours=2)
            user = accounts.create_user(
                session,
                actor=Actor.system("bench"),
                now=now,
                email="comms@example.com",
                name="Lee Park",
                role=Role.RESPONDER,
                password=secrets.token_urlsafe(16),
            )
            token = accounts.create_token(
                session, actor=Actor.system("bench"), now=now, user=user, name="bench"
            )
            return ongoing.code, token.secret
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{what} exited before it was ready")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit(f"{what} did not become ready within 90 s")


@contextmanager
def fireline(url: str, workers: int, server_name: str, home: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "FIRELINE_DATABASE_URL": url,
        "FIRELINE_SECRET_KEY": "bench",
        "FIRELINE_DATA_DIR": str(home),
        "FIRELINE_EMBEDDED_WORKER": "false",
        "FIRELINE_ACCESS_LOG": "false",
        "FIRELINE_LOG_LEVEL": "warning",
        "FIRELINE_BASE_URL": f"http://127.0.0.1:{port}",
    }
    command = [FIRELINE, "serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--server", server_name]
    with (home / "fireline.log").open("ab") as log:
        server = subprocess.Popen(command, env=env, cwd=home, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/readyz", server, "fireline serve")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


NGINX_CONF = """
worker_processes auto;
pid {home}/nginx.pid;
error_log {home}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {home}/tmp;
    proxy_temp_path {home}/tmp;
    fastcgi_temp_path {home}/tmp;
    uwsgi_temp_path {home}/tmp;
    scgi_temp_path {home}/tmp;
    types {{ text/html html; application/json json; }}
    server {{
        listen 127.0.0.1:{port};
        root {home}/site;
        charset utf-8;
        charset_types application/json;
        gzip_static on;
        location = /status {{ try_files /status.html =404; }}
    }}
}}
"""


def ensure_nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        install = ["apt-get", "install", "-y", "nginx-light"]
        if subprocess.run(install, check=False, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], check=False, capture_output=True)
            subprocess.run([*install[:-1], "nginx"], check=True, capture_output=True)
        found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found


@contextmanager
def nginx(saved: dict[str, tuple[bytes, bytes]], home: Path) -> Iterator[str]:
    binary = ensure_nginx()
    port = free_port()
    (home / "tmp").mkdir()
    for path, (body, gzipped) in saved.items():
        target = home / "site" / ("status.html" if path == "/status" else path.lstrip("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        target.with_name(target.name + ".gz").write_bytes(gzipped)
    for folder in (home, *(p for p in (home / "site").rglob("*") if p.is_dir()), home / "site"):
        folder.chmod(0o755)  # nginx's workers run as an unprivileged user
    for file in (home / "site").rglob("*"):
        if file.is_file():
            file.chmod(0o644)
    conf = home / "nginx.conf"
    conf.write_text(NGINX_CONF.format(home=home, port=port))
    server = subprocess.Popen([binary, "-c", str(conf), "-g", "daemon off;"])
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/status", server, "nginx")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass(frozen=True)
class Figures:
    per_second: float
    non_2xx: int
    latency_ms: dict[str, float]


def _ms(text: str) -> float:
    value = float(text.rstrip("usmh"))
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
    return value * units[text.lstrip("0123456789.")]


def run_wrk(url: str, *, seconds: int, connections: int, gzip: bool = False) -> Figures:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if gzip:
        command[1:1] = ["-H", "Accept-Encoding: gzip"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    latency = {
        match.group(1): _ms(match.group(2))
        for match in re.finditer(r"^\s*(50|99)%\s+(\S+)\s*$", output, re.MULTILINE)
    }
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if rate is None or len(latency) < 2:
        sys.exit(f"could not read wrk's output:\n{output}")
    return Figures(float(rate.group(1)), int(non_2xx.group(1)) if non_2xx else 0, latency)


def ensure_wrk() -> None:
    if shutil.which("wrk") is None:
        install = ["apt-get", "install", "-y", "wrk"]
        if subprocess.run(install, check=False, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], check=False, capture_output=True)
            subprocess.run(install, check=True, capture_output=True)


def fetch_both(url: str) -> tuple[bytes, bytes]:
    """The document as Fireline sends it plain and gzipped (its own gzip copy, byte for byte)."""
    plain = httpx.get(url, timeout=30, headers={"Accept-Encoding": "identity"}).content
    with httpx.stream("GET", url, timeout=30, headers={"Accept-Encoding": "gzip"}) as answer:
        if answer.headers.get("content-encoding") != "gzip":
            sys.exit(f"{url} did not answer gzip when asked")
        gzipped = b"".join(answer.iter_raw())
    return plain, gzipped


def freshness(base: str, code: str, token: str, probes: int) -> list[float]:
    """Seconds from each update's 201 to the first /status that shows its words."""
    delays: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=10) as client:
        for probe in range(probes):
            marker = f"Probe {probe} {secrets.token_hex(4)}"
            answer = client.post(
                f"{base}/api/v1/public-incidents/{code}/updates",
                headers=headers,
                json={"status": "monitoring", **PARTS, "current_impact": marker},
            )
            posted = time.monotonic()
            if answer.status_code != 201:
                sys.exit(f"posting an update failed: {answer.status_code} {answer.text[:300]}")
            while marker not in client.get(f"{base}/status").text:
                if time.monotonic() - posted > 30:
                    sys.exit("the update did not show on /status within 30 s")
                time.sleep(0.01)
            delays.append(time.monotonic() - posted)
            time.sleep(0.3)  # updates minutes apart in life; here, just not back to back
    return delays


def verdict(target: str, met: bool, figure: str) -> None:
    print(f"  {'met' if met else 'NOT met'}: {target} ({figure})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk run per endpoint and server")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--probes", type=int, default=10, help="updates timed for freshness")
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    args = parser.parse_args()
    ensure_wrk()
    ensure_nginx()
    name, url = make_database()
    try:
        code, token = seed(url)
        with tempfile.TemporaryDirectory(prefix="fireline-bench-status-") as tmp:
            home = Path(tmp)
            print(f"Fireline: --server {args.server} --workers {args.workers}")
            with fireline(url, args.workers, args.server, home) as base:
                saved = {path: fetch_both(f"{base}{path}") for path in ENDPOINTS}
                for path, (body, gzipped) in saved.items():
                    print(f"{path}: {len(body):,} bytes ({len(gzipped):,} gzipped)")
                with nginx(saved, home) as static:
                    rates: dict[str, float] = {}
                    for path, gzip in ((p, z) for z in (False, True) for p in ENDPOINTS):
                        label = f"{path}{' (gzip)' if gzip else ''}"
                        load = {"seconds": args.seconds, "connections": args.connections}
                        ours = run_wrk(base + path, gzip=gzip, **load)
                        theirs = run_wrk(static + path, gzip=gzip, **load)
                        rates[label] = ours.per_second / theirs.per_second
                        print(
                            f"{label}: Fireline {ours.per_second:,.0f}/s "
                            f"(p50 {ours.latency_ms['50']:.1f} ms, p99 {ours.latency_ms['99']:.1f}"
                            f" ms, non-2xx {ours.non_2xx}); nginx {theirs.per_second:,.0f}/s "
                            f"(p50 {theirs.latency_ms['50']:.1f} ms, p99 "
                            f"{theirs.latency_ms['99']:.1f} ms); ratio {rates[label]:.2f}"
                        )
                delays = freshness(base, code, token, args.probes)
            print(
                f"new update visible after: median {statistics.median(delays) * 1000:.0f} ms, "
                f"worst {max(delays) * 1000:.0f} ms over {len(delays)} updates"
            )
            for path, ratio in rates.items():
                verdict(f"{path} >= {TARGET_RATIO} x nginx", ratio >= TARGET_RATIO, f"{ratio:.2f}")
            verdict(
                f"update visible within {TARGET_FRESHNESS_S:.0f} s",
                max(delays) <= TARGET_FRESHNESS_S,
                f"worst {max(delays) * 1000:.0f} ms",
            )
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
