"""Public ids: random and opaque, so public URLs and JSON reveal neither row ids nor counts."""

from __future__ import annotations

import secrets


def new_code() -> str:
    """Twelve lowercase hex digits, like Statuspage's ids."""
    return secrets.token_hex(6)


def new_token() -> str:
    """A secret for links a subscriber follows (confirm, unsubscribe)."""
    return secrets.token_urlsafe(32)
