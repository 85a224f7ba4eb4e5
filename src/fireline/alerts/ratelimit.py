"""Per-key rate limits for alert ingest: a token bucket per integration key, in process memory.

Each key may send `per_minute` events a minute on average, in bursts of up to a minute's worth.
The buckets live in each web process (a limit is per process, not global): it protects the
database from a monitoring tool gone into a loop, and needs no shared state to do that.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime


@dataclass
class _Bucket:
    tokens: float
    updated: datetime


class RateLimiter:
    """Token buckets by key; thread-safe, since sync routes run in a thread pool."""

    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, *, cost: int, per_minute: int, now: datetime) -> bool:
        """Take `cost` events from the key's bucket; False (taking nothing) when it lacks them."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(tokens=float(per_minute), updated=now)
            elapsed = max((now - bucket.updated).total_seconds(), 0.0)
            bucket.tokens = min(float(per_minute), bucket.tokens + elapsed * per_minute / 60)
            bucket.updated = now
            cost = min(cost, per_minute)  # a batch bigger than the bucket may pass when it is full
            if bucket.tokens < cost:
                return False
            bucket.tokens -= cost
            return True
