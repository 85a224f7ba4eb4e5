"""Real servers for notification tests: an SMTP server and a webhook receiver on 127.0.0.1.

Transports are tested against these rather than against mocks, so a test sees what a mail
server or a chat server would see: the bytes on the wire, the headers, the SMTP replies.

Fixtures (loaded for every test by `pytest_plugins` in conftest.py):

    smtp_server       a started SmtpServer; `.messages` lists what arrived (`.received`
                      adds the envelopes), `.reject_next(count, code=...)` makes it refuse,
                      `.settings()` points Fireline's Settings at it.
    webhook_receiver  a started WebhookReceiver; `.url("/hook")` is where to post,
                      `.requests` lists what arrived, `.script([500, 500, 200])` scripts
                      its replies, `.secret = "…"` makes it check X-Fireline-Signature
                      (and `.now = clock.now` the timestamp's freshness too),
                      `.settings()` points Settings at it (private targets allowed).

Both are context managers too, for a test that needs a second one or other options:
`with SmtpServer(login=("fireline", "s3cret")) as server: …`.
"""

from __future__ import annotations

import email.policy
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from http import HTTPStatus
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from fireline.config import Settings
from fireline.notify.transports import verify

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nothing listens on right now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


# --- SMTP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedEmail:
    """One message the SMTP server accepted: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, content_type: str) -> str:
        """The decoded body of the first part of this type (`text/plain`, `text/html`)."""
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return str(part.get_content())  # type: ignore[attr-defined]
        raise LookupError(f"no {content_type} part")


@dataclass
class _Refusal:
    code: int
    reason: str
    stage: Literal["rcpt", "data"]


class _Handler:
    """aiosmtpd's handler hooks: refuse while refusals are queued, otherwise keep the message."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, _smtp: SMTP, _session: Session, envelope: Envelope, address: str, _options: list[str]
    ) -> str:
        refusal = self.server._take_refusal("rcpt")
        if refusal:
            return f"{refusal.code} {refusal.reason}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _smtp: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        refusal = self.server._take_refusal("data")
        if refusal:
            return f"{refusal.code} {refusal.reason}"
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        received = ReceivedEmail(
            mail_from=str(envelope.mail_from), rcpt_tos=list(envelope.rcpt_tos), message=parsed
        )
        with self.server._lock:
            self.server.received.append(received)
        return "250 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 and a free port, collecting what it accepts.

    With `login=(user, password)` it offers AUTH over plain text (fine on loopback) and
    refuses other credentials with 535."""

    def __init__(self, *, login: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.received: list[ReceivedEmail] = []
        self._refusals: list[_Refusal] = []
        self._lock = threading.Lock()
        options: dict[str, Any] = {}
        if login:
            options = {"authenticator": _Authenticator(*login), "auth_require_tls": False}
        self._controller = Controller(_Handler(self), hostname=HOST, port=self.port, **options)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        """The accepted messages alone, in arrival order (`received` adds their envelopes)."""
        with self._lock:
            return [received.message for received in self.received]

    def reject_next(
        self,
        count: int = 1,
        *,
        code: int = 550,
        reason: str = "5.1.1 Mailbox unavailable",
        stage: Literal["rcpt", "data"] = "rcpt",
    ) -> None:
        """Refuse the next `count` messages with `code` (451 for "try later", 550 for "never"),
        at RCPT TO (a refused recipient) or after DATA (a refused message)."""
        with self._lock:
            self._refusals.extend(_Refusal(code, reason, stage) for _ in range(count))

    def settings(self, **overrides: Any) -> Settings:
        """Settings that send email here, unencrypted and without login."""
        values: dict[str, Any] = {
            "smtp_host": HOST,
            "smtp_port": self.port,
            "smtp_security": "none",
            "smtp_from": "Fireline <fireline@example.com>",
            "smtp_timeout": 5.0,
        }
        return Settings(**(values | overrides))

    def _take_refusal(self, stage: str) -> _Refusal | None:
        with self._lock:
            if self._refusals and self._refusals[0].stage == stage:
                return self._refusals.pop(0)
            return None


@dataclass(frozen=True)
class _Authenticator:
    user: str
    password: str

    def __call__(
        self, _smtp: SMTP, _session: Session, _envelope: Envelope, _mechanism: str, data: Any
    ) -> AuthResult:
        genuine = isinstance(data, LoginPassword) and (
            data.login.decode(),
            data.password.decode(),
        ) == (self.user, self.password)
        # handled=False: aiosmtpd then answers 535 itself.
        return AuthResult(success=genuine, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running SMTP server for one test."""
    with SmtpServer() as server:
        yield server


# --- Webhooks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A scripted reply: a status, a body, and headers (a `Location` for a redirect)."""

    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering, to outlast a client's timeout


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the receiver got, and the status it answered with."""

    method: str
    path: str
    headers: HTTPMessage  # case-insensitive: request.headers["x-fireline-event"]
    body: bytes
    status: int
    signature_valid: bool | None  # None when the receiver had no secret to check with

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 and a free port, recording each request.

    It answers 200 "ok" unless scripted with `script([...])`. With `secret` set it checks
    X-Fireline-Signature with `transports.verify`, as the README tells receivers to, and
    answers 401 "bad signature" to a request whose signature is missing or wrong (recorded
    with `signature_valid=False`).

    `now` is the receiver's clock for the freshness check. Left as None, only the signature is
    checked (senders in tests date requests by a fake clock, far from the real time); set it
    to the test's `clock.now` to check the timestamp too."""

    def __init__(self, *, secret: str | None = None) -> None:
        self.secret = secret
        self.now: Callable[[], datetime] | None = None
        self.requests: list[ReceivedRequest] = []
        self._script: list[Answer] = []
        self._lock = threading.Lock()
        self._server = _QuietServer((HOST, 0), _handler_for(self))
        self.port = int(self._server.server_address[1])
        # A short poll interval, so stopping the server (after every test) is quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def url(self, path: str = "/hook", *, host: str = HOST) -> str:
        return f"http://{host}:{self.port}{path}"

    def script(self, answers: Iterable[int | Answer]) -> None:
        """Reply to the next requests in this order (`script([500, 500, 200])`: fail twice,
        then succeed); once the script runs out, 200 "ok" again."""
        with self._lock:
            self._script.extend(a if isinstance(a, Answer) else Answer(a) for a in answers)

    def settings(self, **overrides: Any) -> Settings:
        """Settings that may call this receiver: private targets allowed, a short timeout."""
        values: dict[str, Any] = {"webhook_allow_private_targets": True, "webhook_timeout": 5.0}
        return Settings(**(values | overrides))

    def _respond(self, method: str, path: str, headers: HTTPMessage, body: bytes) -> Answer:
        valid = None
        if self.secret is not None:
            timestamp = headers.get("X-Fireline-Timestamp", "")
            valid = verify(
                self.secret,
                signature=headers.get("X-Fireline-Signature", ""),
                timestamp=timestamp,
                body=body,
                now=self.now() if self.now else _sent_at(timestamp),
            )
        with self._lock:
            if valid is False:
                answer = Answer(401, "bad signature")
            elif self._script:
                answer = self._script.pop(0)
            else:
                answer = Answer(200, "ok")
            self.requests.append(ReceivedRequest(method, path, headers, body, answer.status, valid))
        return answer


def _sent_at(timestamp: str) -> datetime:
    """The instant a request says it was sent, so that only its signature decides."""
    if timestamp.isascii() and timestamp.isdigit():
        return datetime.fromtimestamp(int(timestamp), UTC)
    return datetime.now(UTC)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up waiting (a timeout test) is expected, not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            answer = receiver._respond("POST", self.path, self.headers, body)
            time.sleep(answer.delay)
            payload = answer.body.encode()
            self.send_response(answer.status, HTTPStatus(answer.status).phrase)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            pass  # keep test output quiet

    return Handler


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A running webhook receiver for one test."""
    with WebhookReceiver() as receiver:
        yield receiver
