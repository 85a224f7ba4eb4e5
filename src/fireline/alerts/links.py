"""Signed links in a page: acknowledge or resolve an alert without signing in.

The link carries the alert, the person paged, the action and an expiry, signed with HMAC-SHA256
under the server's secret key; changing any of them breaks the signature. Following the link
(GET) shows a page with one button, and only pressing it (POST) acts: mail scanners and link
previews fetch links by themselves, and must not acknowledge a page nobody has read.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from fireline.config import Settings

ACTIONS = ("acknowledge", "resolve")
LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class SignedAction:
    alert_id: int
    user_id: int
    action: str
    expires: int  # Unix seconds


def _signature(settings: Settings, claim: SignedAction) -> str:
    message = f"alert-action:{claim.alert_id}:{claim.user_id}:{claim.action}:{claim.expires}"
    key = settings.resolved_secret_key().encode()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def action_url(settings: Settings, alert_id: int, user_id: int, action: str, now: datetime) -> str:
    """The link that lets `user_id` take `action` on the alert until a week from `now`."""
    claim = SignedAction(
        alert_id=alert_id,
        user_id=user_id,
        action=action,
        expires=int((now + LIFETIME).timestamp()),
    )
    query = urlencode(
        {"user": user_id, "expires": claim.expires, "signature": _signature(settings, claim)}
    )
    return f"{settings.base_url.rstrip('/')}/alerts/{alert_id}/{action}?{query}"


class BadLink(Exception):
    """The link was altered, has expired, or names an unknown action; the message says which."""


def verify(
    settings: Settings,
    *,
    alert_id: int,
    user_id: int,
    action: str,
    expires: int,
    signature: str,
    now: datetime,
) -> SignedAction:
    """The action the link grants, or BadLink saying why it grants nothing."""
    if action not in ACTIONS:
        raise BadLink("This link names no action Fireline knows.")
    claim = SignedAction(alert_id=alert_id, user_id=user_id, action=action, expires=expires)
    if not hmac.compare_digest(_signature(settings, claim), signature):
        raise BadLink("This link is not one Fireline sent, or it was changed on the way.")
    if datetime.fromtimestamp(expires, UTC) <= now:
        raise BadLink("This link has expired. Open the alert in Fireline instead.")
    return claim
