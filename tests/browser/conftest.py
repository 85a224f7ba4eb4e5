"""Browser tests: Debian's Chromium, driven by Playwright, against a real `fireline serve`.

One server runs for the whole session, on a fresh migrated SQLite file with the embedded job
worker, and the people below already in it. Each test gets a new browser context (its own
cookies), so signing in is part of what a test does. They run in the SQLite pass of `make test`
only: the server is the same code whatever the database, and the PostgreSQL pass covers that.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from fireline import migrate
from fireline.accounts import service as accounts
from fireline.accounts.principal import Actor
from fireline.clock import SystemClock
from fireline.config import normalise_database_url
from fireline.db import make_engine, make_session_factory, transaction
from fireline.incidents import service
from fireline.models import Role
from fireline.response.reactions import after_change
from fireline.response.triggers import Trigger

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright's own downloads are not used
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "src" / "fireline" / "web" / "static" / "vendor" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"
# Long enough for a loaded CI machine, short enough that a broken page fails quickly.
WAIT_MS = 10_000


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    role: Role


ADMIN = Person("Ada Admin", "ada@example.com", Role.ADMIN)
# One responder for each of the four roles a SEV1 needs filled.
CORA = Person("Cora Quinn", "cora@example.com", Role.RESPONDER)  # incident commander
LEE = Person("Lee Park", "lee@example.com", Role.RESPONDER)  # communications lead
TIM = Person("Tim Okafor", "tim@example.com", Role.RESPONDER)  # technical lead
SAM = Person("Sam Reyes", "sam@example.com", Role.RESPONDER)  # scribe
PEOPLE = (ADMIN, CORA, LEE, TIM, SAM)


@dataclass(frozen=True)
class LiveServer:
    url: str
    database_url: str


def _why_not_runnable() -> str | None:
    test_database = os.environ.get("FIRELINE_TEST_DATABASE_URL", "")
    if test_database.startswith(("postgres", "postgresql")):
        return "browser tests run in the SQLite pass only; FIRELINE_TEST_DATABASE_URL is PostgreSQL"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing; `make browser` (run by `make test`) installs it"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _add_people(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    with transaction(make_session_factory(engine)) as session:
        for person in PEOPLE:
            accounts.create_user(
                session,
                actor=Actor.system("browser-tests"),
                now=SystemClock().now(),
                email=person.email,
                name=person.name,
                role=person.role,
                password=PASSWORD,
            )
    engine.dispose()


def _wait_until_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited before it was ready:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server was not ready within 30 s:\n{log.read_text()[-3000:]}")


@dataclass(frozen=True)
class _Started:
    process: subprocess.Popen[bytes]
    url: str
    database_url: str
    log: Path


@pytest.fixture(scope="session")
def _server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Started]:
    """`fireline serve` starting on a free port and a fresh SQLite database holding PEOPLE;
    live_server waits for it, so Chromium starts while the server does."""
    reason = _why_not_runnable()
    if reason:
        pytest.skip(reason)
    home = tmp_path_factory.mktemp("live-server")
    database_url = normalise_database_url(f"sqlite:///{home / 'fireline.db'}")
    migrate.upgrade(database_url)
    _add_people(database_url)
    port = _free_port()
    env = {
        **os.environ,
        "FIRELINE_DATABASE_URL": database_url,
        "FIRELINE_SECRET_KEY": "browser-tests",
        "FIRELINE_DATA_DIR": str(home),
        "FIRELINE_EMBEDDED_WORKER": "true",
        "FIRELINE_BASE_URL": f"http://127.0.0.1:{port}",
        "FIRELINE_LOG_LEVEL": "warning",
        "FIRELINE_ACCESS_LOG": "false",
    }
    command = [
        *(sys.executable, "-c", "from fireline.cli import main; main()"),
        *("serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(port)),
    ]
    log = home / "server.log"
    with log.open("wb") as output:
        # cwd: the temporary directory, so a developer's .env never configures the test server.
        process = subprocess.Popen(command, env=env, cwd=home, stdout=output, stderr=output)  # noqa: S603
    try:
        yield _Started(process, f"http://127.0.0.1:{port}", database_url, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def live_server(_server: _Started) -> LiveServer:
    """The server, once /readyz says it serves."""
    _wait_until_ready(_server.url, _server.process, _server.log)
    return LiveServer(url=_server.url, database_url=_server.database_url)


@pytest.fixture
def declared(live_server: LiveServer) -> Callable[..., str]:
    """Declares an incident straight through the service, for tests about what comes after;
    returns its reference. declared("Search is stale", severity="SEV3", commander=CORA)."""

    def declare(title: str, *, severity: str, commander: Person) -> str:
        engine = make_engine(live_server.database_url, pool_size=1)
        now = SystemClock().now()
        with transaction(make_session_factory(engine)) as session:
            user = accounts.find_user(session, commander.email)
            actor = Actor(user_id=user.id, label=f"{user.name} <{user.email}>", via="test")
            incident = service.declare(
                session, actor=actor, now=now, title=title, severity=severity, commander=user.id
            )
            # What the API runs after declaring: clocks, playbooks, automation rules.
            after_change(session, incident=incident, now=now, trigger=Trigger.INCIDENT_DECLARED)
            reference = incident.reference
        engine.dispose()
        return reference

    return declare


@pytest.fixture(scope="session")
def playwright(_server: _Started) -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    expect.set_options(timeout=WAIT_MS)
    yield chromium
    chromium.close()


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[], Page]]:
    """Opens a page in a browser context of its own: another person at another computer."""
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB"
        )
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


def sign_in(page: Page, email: str) -> None:
    """Sign in through the sign-in form and land on the dashboard."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Active incidents")).to_be_visible()


def screenshot(page: Page, name: str) -> Path:
    """The whole page as test-artifacts/screenshots/<name>.png, for people reviewing a change."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


# Counts the page's requests in flight (htmx uses XMLHttpRequest) and the live stream's events,
# so a step waits for the page to be still rather than for a fixed time.
_WATCH_THE_PAGE = """
(() => {
  const live = {pending: 0, opened: 0, changes: 0};
  window.__live = live;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    live.pending += 1;
    // htmx settles a swap 20 ms after the response; count the request until then.
    this.addEventListener("loadend", () => setTimeout(() => { live.pending -= 1; }, 50));
    return send.apply(this, args);
  };
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("open", () => { live.opened += 1; });
      this.addEventListener("changed", () => { live.changes += 1; });
    }
  };
})();
"""


def watched(page: Page) -> Page:
    """The page, counting its requests and live-stream events from the next navigation on."""
    page.add_init_script(_WATCH_THE_PAGE)
    return page


def live_changes(page: Page) -> int:
    """How many `changed` events the watched page's live stream has delivered so far."""
    return int(page.evaluate("() => window.__live.changes"))


def wait_for_live_stream(page: Page) -> None:
    page.wait_for_function("() => window.__live.opened > 0")


def settle(page: Page, *, changes_seen: int | None = None) -> None:
    """Wait until no request of the watched page is in flight and, given the count of live
    events seen before a change, until the stream has announced that change too: a section
    refreshed late would otherwise replace a form being filled in."""
    if changes_seen is None:
        page.wait_for_function("() => window.__live.pending === 0")
    else:
        page.wait_for_function(
            "seen => window.__live.changes > seen && window.__live.pending === 0", arg=changes_seen
        )


BLOCKING_IMPACTS = ("serious", "critical")


def assert_accessible(page: Page) -> None:
    """Run axe-core on the page as it stands; fail listing every serious or critical violation."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make install` copies it from node_modules/axe-core")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=AXE)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        pytest.fail(f"axe found on {page.url}:\n" + "\n".join(map(_describe, blocking)))


def _describe(violation: dict) -> str:
    lines = [f"- [{violation['impact']}] {violation['id']}: {violation['help']}"]
    for node in violation["nodes"][:5]:
        target = " ".join(map(str, node["target"]))
        summary = node.get("failureSummary", "").replace("\n", " ")
        lines.append(f"    at {target}: {summary}")
    if len(violation["nodes"]) > 5:
        lines.append(f"    … and {len(violation['nodes']) - 5} more")
    lines.append(f"    see {violation['helpUrl']}")
    return "\n".join(lines)
