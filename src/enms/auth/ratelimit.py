"""Token-bucket rate limits per caller and kind of request, kept in this process's memory.

A caller is its key or user when it has one, else its client address. Each (kind, caller)
bucket holds up to ``limit`` requests and refills at ``limit`` per minute: a burst of
``limit`` passes, then one more every ``60 / limit`` seconds. A refused request learns how
long to wait (``Retry-After``). With several server processes each keeps its own buckets, so
the effective limit is per process (put a shared limiter in the proxy in front if that
matters).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from enms.core.config_auth import RateLimitSettings

Kind = Literal["requests", "training", "imports", "logins"]
#: Buckets idle this long are full again and are dropped (memory stays bounded by the
#: callers active in the last few minutes).
_IDLE_SECONDS = 300.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """The buckets of one application."""

    def __init__(
        self, settings: RateLimitSettings, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits: dict[Kind, int] = {
            "requests": settings.requests_per_minute,
            "training": settings.training_per_minute,
            "imports": settings.imports_per_minute,
            "logins": settings.logins_per_minute,
        }
        self._monotonic = monotonic
        self._buckets: dict[tuple[Kind, str], _Bucket] = {}
        self._lock = threading.Lock()
        self._last_sweep = monotonic()

    def take(self, kind: Kind, caller: str) -> float | None:
        """Spend one request of ``caller``'s ``kind`` bucket: None if allowed, else the
        seconds to wait before the next one would be.

        >>> ticks = iter([0.0, 0.0, 0.0, 0.0, 30.0])
        >>> limiter = RateLimiter(RateLimitSettings(training_per_minute=2), lambda: next(ticks))
        >>> [limiter.take("training", "key:a") for _ in range(3)]
        [None, None, 30.0]
        >>> limiter.take("training", "key:a") is None  # 30 s later: one token back
        True
        """
        limit = self.limits[kind]
        if limit <= 0:
            return None
        rate = limit / 60.0
        now = self._monotonic()
        with self._lock:
            self._sweep(now)
            bucket = self._buckets.get((kind, caller))
            if bucket is None:
                bucket = self._buckets[(kind, caller)] = _Bucket(float(limit), now)
            bucket.tokens = min(float(limit), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / rate

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < _IDLE_SECONDS:
            return
        self._last_sweep = now
        for key in [k for k, b in self._buckets.items() if now - b.updated > _IDLE_SECONDS]:
            del self._buckets[key]


def retry_after_header(wait: float) -> str:
    """``Retry-After`` in whole seconds, rounded up (at least 1).

    >>> retry_after_header(0.2), retry_after_header(6.0001)
    ('1', '7')
    """
    return str(max(1, math.ceil(wait - 1e-9)))
