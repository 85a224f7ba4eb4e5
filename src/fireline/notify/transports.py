"""Sending rendered messages: email over SMTP, signed JSON webhooks, Slack-format webhooks.

Each sender makes one attempt and returns an `Outcome`; none raises for a delivery problem,
because the caller (the delivery service) only has to record the attempt and decide, from
`Outcome.permanent`, whether another one could help.

Webhook signatures
------------------
Every webhook request is a POST with a JSON body and these headers:

    X-Fireline-Delivery: 1234           the delivery's id; the same on every retry, so
                                        receivers can ignore a delivery they already have
    X-Fireline-Event: obligation.missed
    X-Fireline-Timestamp: 1767607200    when this attempt was sent, in Unix seconds
    X-Fireline-Signature: v1=9f86d0…    only when the webhook has a signing secret

The signature is `v1=` followed by the lower-case hex HMAC-SHA256, keyed with the secret (its
UTF-8 bytes), of the timestamp header's text, a full stop, and the request body exactly as
received:

    v1=hex(HMAC-SHA256(key=secret, message=timestamp + "." + body))

To check a request, compute the same over the raw body (before parsing the JSON), compare it
with the header in constant time, and refuse a timestamp more than five minutes away from your
clock. The timestamp is inside the signature, so a captured request cannot be replayed later
with a fresh one. `verify` in this module does exactly that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

import httpx

from fireline import __version__
from fireline.clock import as_utc
from fireline.config import Settings
from fireline.notify.targets import allowed_addresses, check_email, check_url

EMAIL_NOT_CONFIGURED = "Email is not configured: set FIRELINE_SMTP_HOST."
USER_AGENT = f"Fireline/{__version__}"
SIGNATURE_VERSION = "v1"
_SNIPPET_LIMIT = 200
# Enough of an error page to quote; a receiver cannot make Fireline download more than this.
_READ_LIMIT = 4096
# A 4xx answer normally means the request itself is wrong, except these, which say "later".
_RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Outcome:
    """How one delivery attempt went. `status_code` is the HTTP status or the SMTP reply code
    when the server answered; `error` is a short sentence for the delivery log (it never holds
    a secret or a webhook URL, whose path often is one); `permanent` says that retrying cannot
    help: the target is invalid or the server refused the message for good."""

    ok: bool
    status_code: int | None = None
    error: str | None = None
    permanent: bool = False


def send_email(
    settings: Settings, *, to: str, message: dict[str, Any], message_id: str | None = None
) -> Outcome:
    """Send a rendered email (`subject`, `text`, `html`) to one address over the configured
    SMTP server. Pass the same `message_id` on every retry of a delivery, so a mail client
    recognises a duplicate when a retry follows an attempt that did arrive."""
    if not settings.smtp_host:
        return Outcome(ok=False, error=EMAIL_NOT_CONFIGURED)
    try:
        recipient = check_email(to)
        email = _compose_email(settings, to=recipient, message=message, message_id=message_id)
    except ValueError as error:
        return Outcome(ok=False, error=str(error), permanent=True)
    try:
        _submit(settings, email, recipient)
    except OSError as error:  # smtplib's own errors are OSErrors too
        return _smtp_failure(error, settings=settings, recipient=recipient)
    return Outcome(ok=True, status_code=250)


def post_webhook(
    settings: Settings,
    *,
    url: str,
    message: dict[str, Any],
    secret: str | None,
    delivery_id: int,
    event: str,
    now: datetime,
) -> Outcome:
    """POST a rendered webhook document, signed with `secret` when there is one (see the module
    docstring for the headers and the signature scheme)."""
    body = _json_bytes(message)
    timestamp = int(as_utc(now).timestamp())
    headers = {
        "X-Fireline-Delivery": str(delivery_id),
        "X-Fireline-Event": event,
        "X-Fireline-Timestamp": str(timestamp),
    }
    if secret:
        headers["X-Fireline-Signature"] = sign(secret, timestamp, body)
    return _post(settings, url=url, body=body, headers=headers)


def post_slack(settings: Settings, *, url: str, message: dict[str, Any]) -> Outcome:
    """POST a rendered Slack payload to an incoming-webhook URL (Slack's or Mattermost's). Slack
    explains a refusal in the body (`invalid_payload`, `no_service`); the error quotes it."""
    return _post(settings, url=url, body=_json_bytes(message), headers={})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Fireline-Signature value for `body` sent at `timestamp` (Unix seconds)."""
    return _signature(secret, str(timestamp), body)


def verify(
    secret: str,
    *,
    signature: str,
    timestamp: str,
    body: bytes,
    now: datetime,
    tolerance: timedelta = timedelta(minutes=5),
) -> bool:
    """Whether a received request is genuine and recent: what a receiver does with the
    X-Fireline-Signature and X-Fireline-Timestamp header values and the raw body. False, never
    an exception, for a malformed header, a timestamp further than `tolerance` from `now` in
    either direction, or a signature that does not match."""
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    age = as_utc(now).timestamp() - int(timestamp)
    if abs(age) > tolerance.total_seconds():
        return False
    expected = _signature(secret, timestamp, body).encode()
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


def _signature(secret: str, timestamp: str, body: bytes) -> str:
    signed = timestamp.encode("ascii") + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def _compose_email(
    settings: Settings, *, to: str, message: dict[str, Any], message_id: str | None
) -> EmailMessage:
    try:
        subject, text, html = (str(message[part]) for part in ("subject", "text", "html"))
    except KeyError as missing:
        raise ValueError(f"The stored email has no {missing.args[0]}; render it again.") from None
    email = EmailMessage()
    email["From"] = settings.smtp_from
    email["To"] = to
    # A header is one line; rendering already ensures it, and a line break here would raise.
    email["Subject"] = " ".join(subject.split())
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = _message_id(message_id, settings.smtp_from)
    # RFC 3834: out-of-office responders must not answer automated mail.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    # Headers the sender asked for, as `headers` in the message (a subscriber email's RFC 8058
    # List-Unsubscribe and List-Unsubscribe-Post). One line each, and never one set above.
    extra: dict[str, Any] = message.get("headers") or {}
    for name, value in extra.items():
        line = f"{name}{value}"
        if name in email or "\r" in line or "\n" in line or ":" in name:
            raise ValueError(f"The stored email has a header that cannot be sent: {name}.")
        email[name] = str(value)
    return email


def _message_id(given: str | None, sender: str) -> str:
    if given:
        given = given.strip()
        return given if given.startswith("<") else f"<{given}>"
    # Named after the sender's domain, so the local host name (often meaningless in a
    # container, and slow to look up) never appears.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "fireline.invalid"
    return make_msgid(domain=domain)


def _submit(settings: Settings, email: EmailMessage, recipient: str) -> None:
    """One SMTP conversation: connect, secure it as configured, log in if configured, send."""
    connection: smtplib.SMTP
    if settings.smtp_security == "tls":
        connection = smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=settings.smtp_timeout,
            context=ssl.create_default_context(),
        )
    else:
        connection = smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout
        )
    with connection:
        if settings.smtp_security == "starttls":
            connection.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            connection.login(settings.smtp_username, settings.smtp_password)
        connection.send_message(email, to_addrs=[recipient])


def _smtp_failure(error: OSError, *, settings: Settings, recipient: str) -> Outcome:
    """What a failed SMTP conversation means: a refusal carries the server's reply code and
    is final when that code is 5xx; anything else (no connection, a timeout) may pass."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return _smtp_refusal(code, reply, doing=f"refused {recipient}")
    if isinstance(error, smtplib.SMTPResponseException):
        login = isinstance(error, smtplib.SMTPAuthenticationError)
        doing = "refused the SMTP login" if login else "refused the message"
        return _smtp_refusal(error.smtp_code, error.smtp_error, doing=doing)
    return Outcome(ok=False, error=_smtp_trouble(error, settings))


def _smtp_trouble(error: OSError, settings: Settings) -> str:
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        # The server lacks what the settings ask for: STARTTLS, or AUTH (which many servers
        # offer only once the connection is encrypted), or SMTPUTF8 for an international address.
        detail = str(error).rstrip(".")
        hint = " Check FIRELINE_SMTP_SECURITY." if "STARTTLS" in detail or "AUTH" in detail else ""
        return f"The SMTP server {server}: {detail}.{hint}"
    if isinstance(error, smtplib.SMTPException):  # disconnected mid-conversation, and the like
        return f"The SMTP conversation with {server} failed: {error}"
    if isinstance(error, TimeoutError):
        return f"The SMTP server {server} did not answer within {settings.smtp_timeout:g} s."
    if isinstance(error, ssl.SSLError):
        return f"TLS with the SMTP server {server} failed: {error}"
    return f"Could not connect to the SMTP server {server}: {error.strerror or error}."


def _smtp_refusal(code: int, reply: bytes | str, *, doing: str) -> Outcome:
    """An SMTP rejection: 5xx is final, 4xx (greylisting, a full queue) asks to try later."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return Outcome(
        ok=False,
        status_code=code if code > 0 else None,
        error=f"The mail server {doing}: {code} {_snippet(text)}",
        permanent=500 <= code < 600,
    )


def _json_bytes(message: dict[str, Any]) -> bytes:
    # Compact and UTF-8: these exact bytes are what is signed and sent.
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def _post(settings: Settings, *, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` as JSON to `url` once, after checking where it would go.

    The name is resolved here and the connection made to a checked address (with the name
    still in the Host header and in TLS), so the answer the check saw is the address called:
    a name that resolves to a public address for the check and a private one for the request
    gets nowhere. Proxies from the environment are ignored for the same reason."""
    allow_private = settings.webhook_allow_private_targets
    try:
        target = httpx.URL(check_url(url, allow_private=allow_private))
    except ValueError as error:
        return Outcome(ok=False, error=str(error), permanent=True)
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        addresses = allowed_addresses(target.host, port, allow_private=allow_private)
    except ValueError as error:
        return Outcome(ok=False, error=str(error), permanent=True)
    except OSError as error:
        reason = error.strerror or str(error)
        return Outcome(ok=False, error=f"Could not look up {target.host}: {reason}.")
    headers = {
        **headers,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": target.netloc.decode("ascii"),
    }
    return _call(settings, target=target, addresses=addresses, body=body, headers=headers)


def _call(
    settings: Settings,
    *,
    target: httpx.URL,
    addresses: list[str],
    body: bytes,
    headers: dict[str, str],
) -> Outcome:
    """POST to the first of `addresses` that accepts a connection, as `target`'s host."""
    host = target.host
    outcome = Outcome(ok=False, error=f"{host} has no address to connect to.")
    with httpx.Client(
        timeout=settings.webhook_timeout, follow_redirects=False, trust_env=False
    ) as client:
        for address in addresses:
            try:
                with client.stream(
                    "POST",
                    target.copy_with(host=address),
                    content=body,
                    headers=headers,
                    extensions={"sni_hostname": host},
                ) as response:
                    return _judge(response, host=host, snippet=_read_snippet(response))
            except httpx.ConnectError as error:
                # Try the name's next address, as a browser would; report the last failure.
                reason = _reason(error)
                outcome = Outcome(ok=False, error=f"Could not connect to {host}: {reason}.")
            except httpx.TimeoutException:
                timeout = f"{settings.webhook_timeout:g} s"
                return Outcome(ok=False, error=f"{host} did not answer within {timeout}.")
            except httpx.HTTPError as error:
                return Outcome(ok=False, error=f"The request to {host} failed: {_reason(error)}.")
    return outcome


def _judge(response: httpx.Response, *, host: str, snippet: str) -> Outcome:
    """The outcome an HTTP answer means: 2xx delivered; 3xx and most 4xx final; the rest later."""
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(ok=True, status_code=status)
    answered = f"{host} answered {status} {response.reason_phrase}".rstrip()
    if 300 <= status < 400:
        # Only where it points, not the full URL: the path of a chat webhook is its secret.
        where = _redirect_origin(response.headers.get("Location", ""))
        error = f"{answered}, a redirect to {where}; configure the final URL instead."
        return Outcome(ok=False, status_code=status, error=error, permanent=True)
    permanent = 400 <= status < 500 and status not in _RETRYABLE_CLIENT_ERRORS
    error = f"{answered}: {snippet}" if snippet else answered
    return Outcome(ok=False, status_code=status, error=error, permanent=permanent)


def _redirect_origin(location: str) -> str:
    try:
        url = httpx.URL(location)
    except httpx.InvalidURL:
        return "another URL"
    return f"{url.scheme}://{url.host}/…" if url.host else "another URL"


def _read_snippet(response: httpx.Response) -> str:
    received = b""
    for chunk in response.iter_bytes():
        received += chunk
        if len(received) >= _READ_LIMIT:
            break
    return _snippet(received.decode("utf-8", "replace"))


def _snippet(text: str) -> str:
    """Up to 200 characters of a server's answer, on one line."""
    line = " ".join(text.split())
    return line if len(line) <= _SNIPPET_LIMIT else line[: _SNIPPET_LIMIT - 1] + "…"


def _reason(error: httpx.HTTPError) -> str:
    return _snippet(str(error)) or type(error).__name__
