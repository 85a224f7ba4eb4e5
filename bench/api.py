"""Declare-and-read benchmark of the JSON API on PostgreSQL with the production server settings.

Starts `fireline serve --workers N` against a throw-away PostgreSQL database, then drives it with
64 concurrent clients: first declaring incidents (POST /api/v1/incidents), then reading them
(GET /api/v1/incidents/{ref}). Prints throughput and latency percentiles for each phase.
Targets (issue 2): >= 1,000 creations/s, and p99 < 50 ms for reads at 64 concurrent clients.

The load generator runs on the same machine as the server and takes CPU from it; the figures are
therefore a floor for what the server does on a machine of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
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


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


Request = tuple[str, str, dict[str, object] | None]


async def run_phase(
    client: httpx.AsyncClient, requests: list[Request], concurrency: int
) -> tuple[float, list[float], list[dict[str, object]]]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(requests)):
        queue.put_nowait(index)
    latencies: list[float] = []
    bodies: list[dict[str, object]] = [{} for _ in requests]
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while not queue.empty():
            index = queue.get_nowait()
            method, path, body = requests[index]
            started = time.perf_counter()
            response = await client.request(method, path, json=body)
            latencies.append(time.perf_counter() - started)
            if response.status_code >= 400:
                failures += 1
            else:
                bodies[index] = response.json()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if failures:
        print(f"  !! {failures} requests failed")
    return elapsed, latencies, bodies


def report(name: str, elapsed: float, latencies: list[float]) -> None:
    ms = [sample * 1000 for sample in latencies]
    print(
        f"{name:<10} {len(ms):>6} requests in {elapsed:6.2f} s = {len(ms) / elapsed:8.1f}/s   "
        f"p50 {statistics.median(ms):6.1f} ms   p99 {percentile(ms, 0.99):6.1f} ms   "
        f"max {max(ms):6.1f} ms"
    )


async def drive(base_url: str, token: str, creates: int, reads: int, concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=30
    ) as client:
        warmup: list[Request] = [
            ("POST", "/api/v1/incidents", {"title": f"Warm-up {n}", "severity": "SEV3"})
            for n in range(200)
        ]
        await run_phase(client, warmup, concurrency)
        declare = [
            ("POST", "/api/v1/incidents", {"title": f"Checkout errors {n}", "severity": "SEV2"})
            for n in range(creates)
        ]
        elapsed, latencies, bodies = await run_phase(client, declare, concurrency)
        report("declare", elapsed, latencies)
        refs = [str(body.get("reference")) for body in bodies if body]
        read = [("GET", f"/api/v1/incidents/{refs[n % len(refs)]}", None) for n in range(reads)]
        elapsed, latencies, _ = await run_phase(client, read, concurrency)
        report("read", elapsed, latencies)
        listing = [("GET", "/api/v1/incidents?limit=50", None) for _ in range(reads // 5)]
        elapsed, latencies, _ = await run_phase(client, listing, concurrency)
        report("list(50)", elapsed, latencies)


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
    parser.add_argument("--creates", type=int, default=3000)
    parser.add_argument("--reads", type=int, default=5000)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    name, url = make_database()
    server = None
    try:
        token = make_token(url)
        env = {
            **os.environ,
            "FIRELINE_DATABASE_URL": url,
            "FIRELINE_ACCESS_LOG": "false",
            "FIRELINE_LOG_LEVEL": "warning",
            "FIRELINE_DB_POOL_SIZE": str(max(4, args.concurrency // args.workers)),
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
        asyncio.run(drive(base_url, token, args.creates, args.reads, args.concurrency))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        drop_database(name)


if __name__ == "__main__":
    main()
