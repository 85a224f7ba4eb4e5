"""Alert ingest throughput and page latency on PostgreSQL with the production server settings.

Starts `fireline serve --workers N` and `fireline worker` on a throw-away PostgreSQL database:
1. single events: wrk posts PagerDuty Events API v2 triggers to /v2/enqueue, each with a new
   dedup key, so every request opens an alert (after a warm-up, whose alerts count too);
2. batches: the same with Alertmanager webhooks of --batch alerts, each a new fingerprint;
3. after each, the integration's alerts in the database are counted against those accepted;
4. page latency: alerts sent at a steady rate to a service whose policy pages a user through a
   webhook to a receiver in this process, each timed from its 2xx answer to its page. (Phases
   1-2 use a service with no escalation policy: nothing pages there.)
During each timed run it reads the CPU time of the web processes and of their PostgreSQL
backends (/proc), and samples pg_stat_activity for backends waiting on a lock.

Targets (issue "alert ingest"): >= 3,000 durable alerts/s single, >= 15,000/s batched, every
accepted alert stored, p99 < 100 ms single, alert accepted -> first page delivered p99 < 1 s.
(Alertmanager, in memory, takes ~16,700 alerts/s singly and ~43,000/s in batches of 100 on this
2-core machine.) wrk, PostgreSQL and the server share the cores. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template

import httpx
import psycopg
from sqlalchemy.orm import Session

from fireline import migrate
from fireline.accounts import service as accounts
from fireline.accounts.principal import Actor
from fireline.config import normalise_database_url
from fireline.db import make_engine, make_session_factory, transaction
from fireline.models import (
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Integration,
    Role,
    Service,
)

ROOT = Path(__file__).resolve().parent.parent
FIRELINE = str(ROOT / ".venv" / "bin" / "fireline")
ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RATE_LIMIT = 10_000_000  # per minute: far above any rate here, so throughput is what is measured

# Each wrk thread numbers its requests; with the run's tag and the thread's id, keys are unique.
COUNTER_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  counter = 0
end
"""
SINGLE_LUA = Template("""
function request()
  counter = counter + 1
  local key = "$run-" .. id .. "-" .. counter
  return wrk.format(nil, nil, nil, '{"routing_key": "$key", "event_action": "trigger", '
    .. '"dedup_key": "' .. key .. '", "payload": {"summary": "Disk 95% full on db ' .. key
    .. '", "source": "db-' .. id .. '.prod", "severity": "critical"}}')
end
""")
BATCH_LUA = Template("""
function request()
  counter = counter + 1
  local alerts = {}
  for i = 1, $size do
    local fingerprint = "$run-" .. id .. "-" .. counter .. "-" .. i
    alerts[i] = '{"status": "firing", "labels": {"alertname": "HighLatency", "job": "web", '
      .. '"instance": "web-' .. i .. ':9100", "severity": "critical"}, "annotations": '
      .. '{"summary": "p99 above 2 s on ' .. fingerprint .. '"}, '
      .. '"startsAt": "2024-05-01T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z", '
      .. '"generatorURL": "http://prometheus:9090/graph", "fingerprint": "' .. fingerprint .. '"}'
  end
  return wrk.format(nil, nil, nil, '{"version": "4", "status": "firing", "receiver": "fireline", '
    .. '"groupLabels": {"alertname": "HighLatency"}, "commonLabels": {"alertname": "HighLatency"}, '
    .. '"commonAnnotations": {}, "externalURL": "http://alertmanager:9093", '
    .. '"groupKey": "$run-' .. id .. '-' .. counter .. '", "truncatedAlerts": 0, '
    .. '"alerts": [' .. table.concat(alerts, ", ") .. ']}')
end
""")


@dataclass(frozen=True)
class Door:
    """An integration as the bench uses it, outside any session."""

    id: int
    key: str


@dataclass(frozen=True)
class Figures:
    requests: int  # completed, whatever their status
    non_2xx: int
    seconds: float
    latency_ms: dict[str, float]  # "50", "90", "99", "max"
    socket_errors: str

    @property
    def accepted(self) -> int:
        return self.requests - self.non_2xx


@dataclass
class Usage:
    """What the server did during a run: CPU seconds, and lock waits sampled twice a second."""

    web_cpu: float = 0.0
    db_cpu: float = 0.0
    active: list[int] = field(default_factory=list)
    locked: list[int] = field(default_factory=list)
    waiting_on: Counter[str] = field(default_factory=Counter)


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


def add_integration(session: Session, service: Service, kind: str, now: datetime) -> Door:
    integration = Integration(
        service_id=service.id,
        name=f"{service.name} {kind}",
        type=kind,
        key=secrets.token_hex(16),
        mapping={},
        rate_limit_per_minute=RATE_LIMIT,
        created_at=now,
        updated_at=now,
    )
    session.add(integration)
    session.flush()
    return Door(id=integration.id, key=integration.key)


def set_up(url: str, receiver_url: str) -> tuple[Door, Door, Door]:
    """Single-event and Alertmanager integrations of a service with no escalation policy, and
    one of a service whose policy pages a user at a webhook pointing at `receiver_url`."""
    engine = make_engine(normalise_database_url(url), pool_size=1)
    now = datetime.now(UTC)
    with transaction(make_session_factory(engine)) as session:
        user = accounts.create_user(
            session,
            actor=Actor.system("bench"),
            now=now,
            email="oncall@example.com",
            name="On Call",
            role=Role.RESPONDER,
            password=None,
        )
        session.add(
            ContactMethod(
                user_id=user.id,
                transport="webhook",
                target=receiver_url,
                events=[],
                created_at=now,
                updated_at=now,
            )
        )
        policy = EscalationPolicy(name="Bench", created_at=now, updated_at=now)
        level = EscalationLevel(position=1, delay_minutes=30)
        level.targets = [EscalationTarget(user_id=user.id)]
        policy.levels = [level]
        session.add(policy)
        session.flush()
        quiet, paged = (
            Service(name=slug.title(), slug=slug, tier=1, created_at=now, updated_at=now)
            for slug in ("quiet", "paged")
        )
        paged.escalation_policy_id = policy.id
        session.add_all([quiet, paged])
        session.flush()
        doors = (
            add_integration(session, quiet, "pagerduty", now),
            add_integration(session, quiet, "alertmanager", now),
            add_integration(session, paged, "pagerduty", now),
        )
    engine.dispose()
    return doors


def _ms(text: str) -> float:
    value = float(text.rstrip("usmh"))
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
    return value * units[text.lstrip("0123456789.")]


def run_wrk(url: str, script: str, *, seconds: int, connections: int) -> Figures:
    """Drive `url` with wrk (C, event-driven): the load generator costs little of the CPU."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
        command += ["--timeout", "10s", "-s", handle.name, url]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    finally:
        Path(handle.name).unlink()
    latency = {
        match.group(1): _ms(match.group(2))
        for match in re.finditer(r"^\s*(50|90|99)%\s+(\S+)\s*$", output, re.MULTILINE)
    }
    worst = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output)
    total = re.search(r"(\d+) requests in ([\d.]+\w+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)$", output, re.MULTILINE)
    if worst is None or total is None or len(latency) < 3:
        sys.exit(f"could not read wrk's output:\n{output}")
    return Figures(
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        seconds=_ms(total.group(2)) / 1000,
        latency_ms={**latency, "max": _ms(worst.group(1))},
        socket_errors=socket_errors.group(1) if socket_errors else "none",
    )


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (those gone since are left out)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def web_pids(serve: int) -> list[int]:
    children = Path(f"/proc/{serve}/task/{serve}/children").read_text().split()
    return [serve, *map(int, children)]


@contextmanager
def watching(url: str, serve: int) -> Iterator[Usage]:
    """The CPU the web processes and the database's backends use within the block, and how many
    backends wait on a lock (and in which statement), sampled twice a second."""
    usage, stop = Usage(), threading.Event()
    with psycopg.connect(url, autocommit=True) as connection:
        activity = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s"
        own = connection.info.backend_pid
        backends = [row[0] for row in connection.execute(f"SELECT pid {activity}", (own,))]

        def sample() -> None:
            while not stop.wait(0.5):
                rows = connection.execute(
                    f"SELECT wait_event_type, left(query, 60) {activity} AND state = 'active'",
                    (own,),
                ).fetchall()
                usage.active.append(len(rows))
                usage.locked.append(sum(kind == "Lock" for kind, _ in rows))
                usage.waiting_on.update(query for kind, query in rows if kind == "Lock")

        web, db = cpu_seconds(web_pids(serve)), cpu_seconds(backends)
        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            yield usage
        finally:
            stop.set()
            sampler.join()
            usage.web_cpu = cpu_seconds(web_pids(serve)) - web
            usage.db_cpu = cpu_seconds(backends) - db


def report(name: str, figures: Figures, per_request: int, usage: Usage) -> float:
    """Prints the run's figures; returns its accepted alerts per second."""
    alerts = figures.accepted * per_request
    rate, ms = alerts / figures.seconds, figures.latency_ms
    print(
        f"{name:<9} {rate:7.0f} alerts/s {figures.requests / figures.seconds:6.0f} requests/s  "
        f"p50 {ms['50']:6.1f}  p90 {ms['90']:6.1f}  p99 {ms['99']:6.1f}  max {ms['max']:6.1f} ms"
        f"  non-2xx {figures.non_2xx}  socket errors: {figures.socket_errors}"
    )
    per_alert = (usage.web_cpu + usage.db_cpu) / max(alerts, 1)
    print(
        f"  CPU per alert: web {usage.web_cpu / max(alerts, 1) * 1000:.2f} ms + PostgreSQL "
        f"{usage.db_cpu / max(alerts, 1) * 1000:.2f} ms (CPU alone would allow "
        f"{(os.cpu_count() or 1) / max(per_alert, 1e-9):,.0f} alerts/s on {os.cpu_count()} cores)"
    )
    if usage.active:
        locked, active = (sum(samples) / len(samples) for samples in (usage.locked, usage.active))
        print(f"  backends waiting on a lock: {locked:.1f} of {active:.1f} active on average")
        for query, count in usage.waiting_on.most_common(2):
            print(f"    {count / len(usage.locked):5.1f} in: {query}…")
    return rate


def stored_alerts(url: str, integration: Door) -> int:
    """The integration's alerts, once requests still in the server when wrk stopped are done."""
    last, deadline = -1, time.monotonic() + 60
    with psycopg.connect(url) as connection:
        while time.monotonic() < deadline:
            row = connection.execute(
                "SELECT count(*) FROM alerts WHERE integration_id = %s", (integration.id,)
            ).fetchone()
            count = int(row[0]) if row else 0
            if count == last:
                return count
            last = count
            time.sleep(1)
    return last


def load_phase(
    target: str, url: str, serve: int, integration: Door, args: argparse.Namespace, *, batch: int
) -> tuple[Figures, float, bool]:
    """Warm-up then timed wrk run, of single events or (`batch` > 0) Alertmanager batches;
    returns the timed run's figures, its alerts/s, and whether every alert accepted in either
    run is in the database."""
    per_request = batch or 1
    connections = args.batch_connections if batch else args.connections
    runs: list[Figures] = []
    for run, seconds in (("warmup", args.warmup), ("timed", args.seconds)):
        tag = f"{run}-{uuid.uuid4().hex[:6]}"
        body = BATCH_LUA if batch else SINGLE_LUA
        script = COUNTER_LUA + body.substitute(run=tag, key=integration.key, size=batch)
        with watching(url, serve) as usage:
            runs.append(run_wrk(target, script, seconds=seconds, connections=connections))
        stored = stored_alerts(url, integration)  # lets the server finish what wrk left
    rate = report(f"batch {batch}" if batch else "single", runs[1], per_request, usage)
    accepted = sum(figures.accepted for figures in runs) * per_request
    print(f"  stored: {stored} of {accepted} accepted", end="")
    if stored < accepted:
        print(f"   *** SHORTFALL: {accepted - stored} accepted alerts are NOT in the database ***")
    elif stored > accepted:
        # wrk stops with up to a request per connection unanswered, which the server finishes.
        print(f" (+{stored - accepted} sent but unanswered when wrk stopped)")
    else:
        print()
    return runs[1], rate, stored >= accepted


class Receiver(ThreadingHTTPServer):
    """A webhook receiver: the monotonic time each page's headline first arrived."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), PageHandler)
        self.arrivals: dict[str, float] = {}
        self.lock = threading.Lock()


class PageHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        arrived = time.monotonic()
        document = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        with self.server.lock:
            self.server.arrivals.setdefault(document.get("headline", ""), arrived)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - its signature
        pass


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def page_phase(base_url: str, receiver: Receiver, paged: Door, args: argparse.Namespace) -> float:
    """Sends alerts at a steady rate and times each from its 2xx answer to its page; returns
    the p99 in seconds (infinite when an accepted alert was not paged)."""
    answered: dict[str, float] = {}
    tag, count = uuid.uuid4().hex[:6], int(args.page_rate * args.page_seconds)
    start = time.monotonic()
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for n in range(count):
            time.sleep(max(0.0, start + n / args.page_rate - time.monotonic()))
            summary = f"Checkout 5xx above 2% ({tag} #{n})"
            event = {"summary": summary, "source": "lb-1", "severity": "critical"}
            response = client.post(
                "/v2/enqueue",
                json={"routing_key": paged.key, "event_action": "trigger", "payload": event},
            )
            if response.is_success:
                answered[f"[CRITICAL] {summary}"] = time.monotonic()
    sent_rate = count / (time.monotonic() - start)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not answered.keys() <= receiver.arrivals.keys():
        time.sleep(0.1)
    waits = [receiver.arrivals[h] - at for h, at in answered.items() if h in receiver.arrivals]
    missing = len(answered) - len(waits)
    print(
        f"pages     {len(waits)} of {len(answered)} accepted alerts paged, sent at "
        f"{sent_rate:.1f}/s" + (f"   *** {missing} NOT paged within 30 s ***" if missing else "")
    )
    if not waits:
        return float("inf")
    p50, p99, worst = (percentile(waits, share) * 1000 for share in (0.5, 0.99, 1.0))
    print(f"  accepted -> page received  p50 {p50:6.1f}  p99 {p99:6.1f}  max {worst:6.1f} ms")
    return float("inf") if missing else p99 / 1000


def start_processes(
    url: str, args: argparse.Namespace, home: str, log: Path
) -> list[subprocess.Popen[bytes]]:
    """`fireline serve` with production settings, then the job workers."""
    busiest = max(args.connections, args.batch_connections)
    env = {
        **os.environ,
        "FIRELINE_DATABASE_URL": url,
        "FIRELINE_SECRET_KEY": "bench",
        "FIRELINE_DATA_DIR": home,
        "FIRELINE_EMBEDDED_WORKER": "false",
        "FIRELINE_ACCESS_LOG": "false",
        "FIRELINE_LOG_LEVEL": "warning",
        "FIRELINE_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",  # the receiver is on loopback
        # pool + overflow (as many again) per process stays within max_connections (100).
        "FIRELINE_DB_POOL_SIZE": str(max(4, busiest // (2 * args.workers))),
    }
    serve = [FIRELINE, "serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(args.port)]
    commands = [[*serve, "--workers", str(args.workers)]]
    commands += [[FIRELINE, "worker"]] * args.job_workers
    with log.open("ab") as output:
        return [
            subprocess.Popen(command, env=env, cwd=home, stdout=output, stderr=output)
            for command in commands
        ]


def wait_until_ready(base_url: str, url: str, processes: list[subprocess.Popen[bytes]]) -> None:
    """Returns once the server answers /readyz and every job worker listens for jobs."""
    deadline = time.monotonic() + 90
    with psycopg.connect(url, autocommit=True) as connection:
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in processes):
                sys.exit("a Fireline process exited before it was ready")
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            ).fetchone()
            try:
                ready = httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready and row is not None and row[0] >= len(processes) - 1:
                return
            time.sleep(0.3)
    sys.exit("the server or the workers did not become ready within 90 s")


def verdict(target: str, met: bool, figure: str) -> None:
    print(f"  {target:<40} {figure:>12}   {'met' if met else 'NOT met'}")


def run(args: argparse.Namespace, home: str, log: Path) -> None:
    name, url = make_database()
    processes: list[subprocess.Popen[bytes]] = []
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        single, batched, paged = set_up(url, f"http://127.0.0.1:{receiver.server_port}/page")
        processes = start_processes(url, args, home, log)
        base_url = f"http://127.0.0.1:{args.port}"
        wait_until_ready(base_url, url, processes)
        print(
            f"bench/ingest.py: PostgreSQL, {args.workers} web processes + {args.job_workers} job "
            f"worker(s) on {os.cpu_count()} cores shared with PostgreSQL and wrk (2 threads); "
            f"{args.connections} connections for single events, {args.batch_connections} for "
            f"batches of {args.batch}; {args.warmup} s warm-up + {args.seconds} s each. "
            f"Integration rate limits raised to {RATE_LIMIT:,}/min: throughput is measured, "
            f"not the limit. Load average {os.getloadavg()[0]:.1f} at the start."
        )
        serve = processes[0].pid
        first, single_rate, single_ok = load_phase(
            f"{base_url}/v2/enqueue", url, serve, single, args, batch=0
        )
        target = f"{base_url}/integrations/alertmanager/{batched.key}"
        _, batch_rate, batch_ok = load_phase(target, url, serve, batched, args, batch=args.batch)
        page_p99 = page_phase(base_url, receiver, paged, args)
        print(f"targets (load average {os.getloadavg()[0]:.1f} at the end)")
        verdict("single events >= 3,000 alerts/s", single_rate >= 3000, f"{single_rate:.0f}/s")
        verdict(
            f"batches of {args.batch} >= 15,000 alerts/s",
            batch_rate >= 15000,
            f"{batch_rate:.0f}/s",
        )
        stored = single_ok and batch_ok
        verdict("every accepted alert stored", stored, "yes" if stored else "NO")
        p99 = first.latency_ms["99"]
        verdict("single events p99 < 100 ms", p99 < 100, f"{p99:.1f} ms")
        verdict("accepted -> first page p99 < 1 s", page_p99 < 1, f"{page_p99 * 1000:.0f} ms")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        receiver.shutdown()
        drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="web processes")
    parser.add_argument("--job-workers", type=int, default=1, help="`fireline worker` processes")
    parser.add_argument("--connections", type=int, default=64, help="for single events")
    parser.add_argument("--batch-connections", type=int, default=16)
    parser.add_argument("--batch", type=int, default=100, help="alerts per Alertmanager call")
    parser.add_argument("--seconds", type=int, default=15, help="per phase, after the warm-up")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--page-rate", type=float, default=20.0, help="alerts/s while paging")
    parser.add_argument("--page-seconds", type=int, default=10)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/ingest.py needs wrk: apt-get install wrk")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as home:
        log = Path(home) / "fireline.log"
        try:
            run(args, home, log)
        finally:
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            errors = [line for line in lines if re.search(r"Traceback|ERROR|Error\b", line)]
            if errors:
                print(
                    f"server and worker log: {len(errors)} error lines; the first:",
                    *errors[:5],
                    sep="\n  ",
                )
    print(f"(took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
