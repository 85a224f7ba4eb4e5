"""Talking to a running Fireline server over its JSON API, as the owner of FIRELINE_TOKEN."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn

import httpx

from fireline.cli._output import fail, field_problems

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 15.0


def make_client(url: str, token: str) -> httpx.Client:
    """The HTTP client every remote command uses. Tests replace this to talk to a test app."""
    return httpx.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=TIMEOUT_SECONDS,
    )


def server_url() -> str:
    url = (os.environ.get("FIRELINE_URL") or DEFAULT_URL).strip().rstrip("/")
    if not url.lower().startswith(("http://", "https://")):
        fail(f"FIRELINE_URL must start with http:// or https://, e.g. {DEFAULT_URL}; got {url!r}.")
    return url


def _token() -> str:
    token = os.environ.get("FIRELINE_TOKEN", "").strip()
    if not token:
        fail(
            "FIRELINE_TOKEN is not set.",
            [
                (
                    "hint",
                    (
                        "on the server run `fireline tokens create --user YOU@EXAMPLE.COM "
                        "--name cli`, then `export FIRELINE_TOKEN=<the token>`"
                    ),
                )
            ],
        )
    return token


# What to tell someone when a field named in an API error is set by a command-line option.
Hints = Mapping[str, str]


class Api:
    """The JSON API of one server, for the length of one command."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        self.client = client
        self.url = url

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        hints: Hints | None = None,
    ) -> Any:
        """Send one request and return the decoded JSON body of a successful response.

        A problem response prints `Error: <detail>` and each field's message on stderr and exits
        with status 1; so does a server that cannot be reached, with a hint instead of a
        traceback. `hints` names the option that sets a field the server complains about."""
        try:
            response = self.client.request(method, path, json=json, params=params)
        except httpx.TransportError as error:
            reason = str(error).rstrip(".") or type(error).__name__
            fail(
                f"Cannot reach Fireline at {self.url}: {reason}. Is `fireline serve` running?",
                [("hint", "set FIRELINE_URL to the server's address if it runs elsewhere")],
            )
        if response.is_error:
            _problem(response, self.url, hints or {})
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            fail(f"{self.url} did not answer with JSON: is FIRELINE_URL a Fireline server?")


@contextmanager
def connect() -> Iterator[Api]:
    """A connection to FIRELINE_URL as the owner of FIRELINE_TOKEN, closed when the block ends."""
    url, token = server_url(), _token()
    try:
        client = make_client(url, token)
    except httpx.InvalidURL as error:
        fail(f"FIRELINE_URL is not a usable URL ({url!r}): {error}")
    try:
        yield Api(client, url)
    finally:
        client.close()


def call(
    method: str,
    path: str,
    *,
    json: Any = None,
    params: Mapping[str, Any] | None = None,
    hints: Hints | None = None,
) -> Any:
    """One request on a connection of its own; see Api.call."""
    with connect() as api:
        return api.call(method, path, json=json, params=params, hints=hints)


def _problem(response: httpx.Response, url: str, hints: Hints) -> NoReturn:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "detail" not in body:
        fail(f"{url} answered {response.status_code} {response.reason_phrase}.")
    listed = field_problems(body.get("errors"))
    detail = str(body["detail"])
    if listed and detail == "; ".join(f"{field}: {message}" for field, message in listed):
        detail = str(body.get("title") or "Invalid input")  # the list below says it all
    problems = [
        (field, f"{message} ({hints[field]})" if field in hints else message)
        for field, message in listed
    ]
    if response.status_code == 401:
        problems.append(("hint", "check FIRELINE_TOKEN; create a new token if it was revoked"))
    fail(detail, problems)
