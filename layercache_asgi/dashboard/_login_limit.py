"""A limit on failed authentications per client address, so no key can be guessed at speed.

Used for dashboard logins and, through ``_auth.AuthGuard``, for every route that checks a
key. In memory and per app: a restart forgets it. On PostgreSQL each failure is also announced to
the other replicas (``on_failure``, set by ``coord``), which ``record`` it: they share one limit. The
address comes from ``_forwarded.client_address``: the connection's peer, or the client a
proxy in ``proxy.trusted_proxies`` names in ``X-Forwarded-For``.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from .._lru import LRU

__all__ = ["LoginLimiter"]


class LoginLimiter:
    """After ``limit`` failures within ``window`` seconds, an address must wait until the oldest ages out."""

    def __init__(
        self,
        *,
        limit: int = 5,
        window: float = 60.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        # Bounded: a flood of addresses evicts the least recently failing ones, never grows memory.
        self._failures: LRU[str, deque[float]] = LRU(max_clients)
        self.on_failure: Callable[[str], None] | None = None  # tells the other replicas

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.get(client) or deque(maxlen=self.limit)
        horizon = self.clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int:
        """Seconds ``client`` must wait before trying again; 0 when it may try now."""
        failures = self._recent(client)
        if len(failures) < self.limit:
            return 0
        return max(1, math.ceil(failures[0] + self.window - self.clock()))

    def failed(self, client: str) -> None:
        self.record(client)
        if self.on_failure is not None:
            self.on_failure(client)

    def record(self, client: str) -> None:
        """Count a failure (one seen here, or announced by another replica)."""
        failures = self._recent(client)
        failures.append(self.clock())
        self._failures.put(client, failures)

    def succeeded(self, client: str) -> None:
        self._failures.pop(client)

    def __len__(self) -> int:
        return len(self._failures)
