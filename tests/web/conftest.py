"""Web pages through the test client, signed in the way a browser is: a session cookie from the
sign-in form, and the CSRF token the pages carry."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"  # what make_person gives everyone


@dataclass
class Browser:
    """A signed-in person's browser: follows no redirects, remembers its cookie."""

    client: TestClient
    csrf_token: str

    def get(self, path: str, **kwargs):
        return self.client.get(path, follow_redirects=False, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        form = {"csrf_token": self.csrf_token, **(data or {})}
        return self.client.post(path, data=form, follow_redirects=False, **kwargs)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


@pytest.fixture
def sign_in(app):
    def make(person) -> Browser:
        client = TestClient(app, raise_server_exceptions=False)
        signed = client.post(
            "/login",
            data={"email": person.user.email, "password": PASSWORD, "next": "/"},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        home = client.get("/")
        assert home.status_code == 200, home.text
        return Browser(client=client, csrf_token=csrf_of(home.text))

    return make


@pytest.fixture
def browser_responder(sign_in, responder) -> Browser:
    return sign_in(responder)


@pytest.fixture
def browser_admin(sign_in, admin) -> Browser:
    return sign_in(admin)
