"""Idempotency-Key: a create repeated with the same key returns the first result, not a copy."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from fireline.accounts.principal import Principal
from fireline.errors import IdempotencyMismatch, InvalidInput
from fireline.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


def request_fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps([method, path, payload], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_idempotent(
    session: Session,
    *,
    principal: Principal,
    key: str | None,
    method: str,
    path: str,
    payload: Any,
    now: datetime,
    create: Callable[[], dict[str, Any]],
    status_code: int = 201,
) -> JSONResponse:
    """Run `create` once per (user, key); later calls with the key get the stored response."""
    if key is None:
        return JSONResponse(create(), status_code=status_code)
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput.on("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} characters")
    fingerprint = request_fingerprint(method, path, payload)
    stored = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == principal.user_id, IdempotencyRecord.key == key
        )
    )
    if stored is not None:
        if stored.request_hash != fingerprint:
            raise IdempotencyMismatch(
                detail="This Idempotency-Key was already used for a different request; "
                "use a new key for a new request."
            )
        return JSONResponse(
            stored.response_body,
            status_code=stored.status_code,
            headers={"Idempotent-Replayed": "true"},
        )
    body = create()
    # Stored in the same transaction as the created rows: both land, or neither does. A racing
    # duplicate fails on the unique key at commit and is answered as a conflict.
    session.add(
        IdempotencyRecord(
            user_id=principal.user_id,
            key=key,
            method=method,
            path=path,
            request_hash=fingerprint,
            status_code=status_code,
            response_body=json.loads(json.dumps(body, default=str)),
            created_at=now,
        )
    )
    session.flush()
    return JSONResponse(body, status_code=status_code)
