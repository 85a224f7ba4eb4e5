"""Cursor pagination: opaque cursors that continue a listing after the last item seen."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from fireline.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_MAX_ID = 2**31 - 1  # an INTEGER primary key never exceeds this; larger ids are forged cursors


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _encode(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_cursor() from None


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and int(value) <= _MAX_ID


def _bad_cursor() -> InvalidInput:
    return InvalidInput.on("cursor", "is not a cursor this API returned")


def encode_id_cursor(last_id: int) -> str:
    return _encode(f"id:{last_id}")


def decode_id_cursor(cursor: str | None) -> int | None:
    """The id after which the next page starts, or None for the first page."""
    if not cursor:
        return None
    kind, _, value = _decode(cursor).partition(":")
    if kind != "id" or not _is_id(value):
        raise _bad_cursor()
    return int(value)


def encode_time_cursor(instant: datetime, last_id: int) -> str:
    return _encode(f"at:{instant.isoformat()}|{last_id}")


def decode_time_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (instant, id) position after which the next page starts, or None for the first page."""
    if not cursor:
        return None
    kind, _, value = _decode(cursor).partition(":")
    instant, _, last_id = value.rpartition("|")
    if kind != "at" or not _is_id(last_id):
        raise _bad_cursor()
    try:
        return datetime.fromisoformat(instant), int(last_id)
    except ValueError:
        raise _bad_cursor() from None
