"""Contract tests: Fireline as its real peers meet it, over the network.

One Fireline server runs for the session: the production app factory under uvicorn, on a fresh
migrated database of the kind under test (SQLite or PostgreSQL; these tests run in both passes),
with the system clock. It serves TLS with a throw-away certificate, because PagerDuty's client
refuses any base URL but https:// (and a production Fireline sits behind TLS too); the peers are
told to trust that certificate. Each test module that needs one gets its own Alertmanager.

The peers keep their own time (Alertmanager waits and flushes on real timers), so a test waits
for what it expects with `eventually`, within a bound, and never asserts on durations.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from alerts.helpers import add_integration, add_service
from notify_servers import free_port
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fireline.clock import SystemClock
from fireline.db import make_engine, make_session_factory, transaction
from fireline.models import Alert, Integration

T = TypeVar("T")

# Long enough for a loaded CI machine; the peers usually answer within two seconds.
WAIT_SECONDS = 20.0
STARTUP_SECONDS = 30.0
POLL_SECONDS = 0.1
ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")  # Debian's prometheus-alertmanager


def eventually(read: Callable[[], T], until: Callable[[T], bool], *, what: str) -> T:
    """What `read` returns once `until` holds of it; fails naming `what` and the last value seen
    when it does not within WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        seen = read()
        if until(seen):
            return seen
        if time.monotonic() > deadline:
            pytest.fail(f"expected {what} within {WAIT_SECONDS:.0f} s; last saw {_shown(seen)}")
        time.sleep(POLL_SECONDS)


def _shown(seen: object) -> str:
    if isinstance(seen, list) and all(isinstance(item, Alert) for item in seen):
        return (
            "["
            + ", ".join(f"{a.summary!r} {a.status}, seen {a.occurrences} times" for a in seen)
            + "]"
        )
    return repr(seen)


# --- Fireline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveFireline:
    url: str
    database_url: str
    certificate: Path  # self-signed for 127.0.0.1; peers trust it as their CA

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.certificate)


@pytest.fixture(scope="session")
def live_fireline(
    fresh_database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveFireline]:
    """Fireline serving https://127.0.0.1:<port> on a fresh migrated database."""
    home = tmp_path_factory.mktemp("contract-fireline")
    certificate, key = _self_signed_certificate(home)
    port = free_port()
    server = LiveFireline(f"https://127.0.0.1:{port}", fresh_database().url, certificate)
    env = {
        **os.environ,
        "FIRELINE_DATABASE_URL": server.database_url,
        "FIRELINE_SECRET_KEY": "contract-tests",
        "FIRELINE_DATA_DIR": str(home),
        "FIRELINE_BASE_URL": server.url,
        "FIRELINE_LOG_LEVEL": "warning",
    }
    command = [
        *(sys.executable, "-m", "uvicorn", "--factory", "fireline.cli.serve:production_app"),
        *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"),
        *("--ssl-certfile", str(certificate), "--ssl-keyfile", str(key)),
    ]
    with _running("Fireline", command, home, env=env) as (process, log):
        _wait_until_ready("Fireline", f"{server.url}/readyz", process, log, server.ssl_context())
        yield server


@pytest.fixture(scope="session")
def fireline_db(live_fireline: LiveFireline) -> Iterator[sessionmaker[Session]]:
    """Sessions on the live server's database, for setting up and for reading what it stored."""
    engine = make_engine(live_fireline.database_url, pool_size=2)
    yield make_session_factory(engine)
    engine.dispose()


def new_integration(fireline_db: sessionmaker[Session], *, kind: str) -> Integration:
    """A service of its own with one integration of this kind, committed for the server to see."""
    now = SystemClock().now()
    with transaction(fireline_db) as session:
        service = add_service(session, now, slug=f"shop-{secrets.token_hex(4)}")
        return add_integration(session, now, service, kind=kind)


def alerts_of(fireline_db: sessionmaker[Session], integration: Integration) -> list[Alert]:
    """The alerts that came in through this integration so far, oldest first."""
    with fireline_db() as session:
        query = select(Alert).where(Alert.integration_id == integration.id).order_by(Alert.id)
        return list(session.scalars(query))


def _self_signed_certificate(home: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is missing; the contract tests need it for a TLS certificate")
    certificate, key = home / "certificate.pem", home / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            openssl,
            *("req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


# --- Prometheus Alertmanager ------------------------------------------------------------------


@dataclass(frozen=True)
class Alertmanager:
    """A running Alertmanager whose one receiver is a Fireline integration."""

    url: str
    integration: Integration

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """What Prometheus does on each evaluation: post the rule's alerts to API v2."""
        response = httpx.post(f"{self.url}/api/v2/alerts", json=alerts, trust_env=False)
        response.raise_for_status()

    def fingerprints(self, alertname: str) -> dict[str, str]:
        """Alertmanager's fingerprint of each alert of this name, by its instance label."""
        found = self._get("/api/v2/alerts", alertname)
        return {alert["labels"]["instance"]: alert["fingerprint"] for alert in found}

    def groups(self, alertname: str) -> list[list[str]]:
        """The instances in each of Alertmanager's groups of alerts of this name."""
        found = self._get("/api/v2/alerts/groups", alertname)
        return [sorted(alert["labels"]["instance"] for alert in group["alerts"]) for group in found]

    def _get(self, path: str, alertname: str) -> list[dict[str, Any]]:
        matcher = {"filter": f'alertname="{alertname}"'}
        response = httpx.get(f"{self.url}{path}", params=matcher, trust_env=False)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found


@pytest.fixture(scope="module")
def alertmanager(
    live_fireline: LiveFireline,
    fireline_db: sessionmaker[Session],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Alertmanager]:
    """A real Alertmanager delivering to a new Alertmanager integration of Fireline."""
    if not ALERTMANAGER.exists():
        pytest.skip(f"{ALERTMANAGER} is missing; `make contract` (run by `make test`) installs it")
    integration = new_integration(fireline_db, kind="alertmanager")
    home = tmp_path_factory.mktemp("alertmanager")
    config = home / "alertmanager.yml"
    config.write_text(_alertmanager_config(live_fireline, integration))
    address = f"127.0.0.1:{free_port()}"
    command = [
        str(ALERTMANAGER),
        f"--config.file={config}",
        f"--storage.path={home / 'data'}",
        f"--web.listen-address={address}",
        "--cluster.listen-address=",  # no gossip: it would bind port 9094
    ]
    with _running("Alertmanager", command, home) as (process, log):
        _wait_until_ready("Alertmanager", f"http://{address}/-/ready", process, log)
        yield Alertmanager(url=f"http://{address}", integration=integration)


def _alertmanager_config(live_fireline: LiveFireline, integration: Integration) -> str:
    """The configuration (JSON is YAML): group by rule, flush a second after a change, re-send
    an unchanged group only after an hour, and tell Fireline when alerts resolve."""
    webhook = {
        "url": f"{live_fireline.url}/integrations/alertmanager/{integration.key}",
        "send_resolved": True,
        "http_config": {"tls_config": {"ca_file": str(live_fireline.certificate)}},
    }
    route = {
        "receiver": "fireline",
        "group_by": ["alertname"],
        "group_wait": "1s",
        "group_interval": "1s",
        "repeat_interval": "1h",
    }
    receivers = [{"name": "fireline", "webhook_configs": [webhook]}]
    return json.dumps({"route": route, "receivers": receivers}, indent=2)


# --- Processes --------------------------------------------------------------------------------


@contextmanager
def _running(
    name: str, command: list[str], home: Path, *, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """The process and its log (<home>/<name>.log); terminated, then killed, on leaving."""
    log = home / f"{name.lower()}.log"
    with log.open("wb") as output:
        # cwd: the temporary directory, so a developer's .env never configures the server.
        process = subprocess.Popen(command, env=env, cwd=home, stdout=output, stderr=output)  # noqa: S603
    try:
        yield process, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(
    name: str,
    url: str,
    process: subprocess.Popen[bytes],
    log: Path,
    verify: ssl.SSLContext | bool = True,
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(verify=verify, trust_env=False, timeout=1) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"{name} exited before it was ready:\n{log.read_text()[-3000:]}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(POLL_SECONDS)
    pytest.fail(f"{name} was not ready within {STARTUP_SECONDS:.0f} s:\n{log.read_text()[-3000:]}")
