"""Claims across replicas: who writes a new prefix first, the others waiting for its start signal.

A claim is a row of ``coord_claims`` taken with one ``INSERT ... ON CONFLICT DO UPDATE``
that returns the row as it ends up: the caller holds the key when the row names it, the key
is warm when its state says so, and otherwise another replica is writing it. The row
expires after the wait bound while ``writing`` (a replica killed mid-claim holds nobody up
longer than that) and after the provider's cache TTL once ``warm``.

Rows rather than advisory locks: an advisory lock lives as long as the session that took
it, so holding one across a request would pin a pooled connection per in-flight prefix,
and a lock cannot carry "warm until"; a row needs one round trip, and expires by itself.

The start signal is a notification (``warm``, or ``released`` when the holder failed); a
waiter that misses it (the listener reconnecting) waits no longer than the wait bound.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import structlog

from ._notify import notify

__all__ = ["ClaimOutcome", "Claims", "Signal"]

log = structlog.get_logger("layercache.coord")

# One statement: take every free or expired key, and read back each row as it ends up.
_CLAIM = """
INSERT INTO coord_claims AS c (key, holder, state, expires_at)
SELECT k, :holder, 'writing', now() + make_interval(secs => :wait) FROM unnest(CAST(:keys AS text[])) AS k
ON CONFLICT (key) DO UPDATE SET
    holder = CASE WHEN c.expires_at <= now() THEN excluded.holder ELSE c.holder END,
    state = CASE WHEN c.expires_at <= now() THEN excluded.state ELSE c.state END,
    expires_at = CASE WHEN c.expires_at <= now() THEN excluded.expires_at ELSE c.expires_at END
RETURNING key, holder, state, EXTRACT(EPOCH FROM (expires_at - now()))
"""
_WARM = """
UPDATE coord_claims SET state = 'warm', expires_at = now() + make_interval(secs => :ttl)
WHERE key = ANY(CAST(:keys AS text[])) AND holder = :holder
"""
_RELEASE = "DELETE FROM coord_claims WHERE key = ANY(CAST(:keys AS text[])) AND holder = :holder"


class Signal(asyncio.Event):
    """Set when the replica writing a key started (``warm``) or gave up."""

    warm = False


@dataclass
class ClaimOutcome:
    """What a claim found: the keys now held, and whether any is warm or written elsewhere."""

    holder: str
    won: list[str] = field(default_factory=list)
    warm: bool = False
    # Set when the replica writing one of the keys started (or gave up); with how long to wait at most.
    signal: Signal | None = None
    expires_in: float = 0.0


class Claims:
    """One per replica: takes claims, publishes start signals, and wakes the waiters of remote ones."""

    def __init__(self, engine: Any, replica: str) -> None:
        self.engine = engine
        self.replica = replica
        self._signals: dict[str, Signal] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def claim(self, keys: list[str], wait_seconds: float) -> ClaimOutcome:
        """One round trip. Raises on a database error (the caller goes ahead on its own)."""
        from sqlalchemy import text

        outcome = ClaimOutcome(holder=f"{self.replica}:{uuid.uuid4().hex[:12]}")
        signal = Signal()
        ordered = sorted(keys)  # one lock order for every replica: no deadlock between two claims
        for key in ordered:  # before asking: the signal may come before the answer does
            self._signals.setdefault(key, signal)
        try:
            params = {"keys": ordered, "holder": outcome.holder, "wait": float(wait_seconds)}
            async with self.engine.begin() as conn:
                rows = (await conn.execute(text(_CLAIM), params)).all()
        except BaseException:
            self._forget(ordered, signal)
            raise
        for key, holder, state, expires_in in rows:
            if holder == outcome.holder:
                outcome.won.append(key)
            elif state == "warm":
                outcome.warm = True
            elif outcome.signal is None:
                outcome.signal = self._signals.get(key)
                outcome.expires_in = max(0.0, float(expires_in))
        if outcome.warm or outcome.signal is None:
            self._forget(ordered, signal)
        return outcome

    def done_waiting(self, keys: list[str], signal: Signal | None) -> None:
        if signal is not None:
            self._forget(sorted(keys), signal)

    def started(self, outcome: ClaimOutcome, ttl: float) -> None:
        """The holder's response started: mark its keys warm and signal the waiters (in the background)."""
        if outcome.won:
            self._spawn(self._finish(outcome, _WARM, {"ttl": float(ttl)}, "warm"))

    def release(self, outcome: ClaimOutcome) -> None:
        """The holder failed or its client left: free its keys so waiters go (in the background)."""
        if outcome.won:
            self._spawn(self._finish(outcome, _RELEASE, {}, "released"))

    def signalled(self, keys: list[str], *, warm: bool) -> None:
        """A ``warm`` or ``released`` notification: wake whoever waits for these keys here."""
        for key in keys:
            signal = self._signals.pop(key, None)
            if signal is not None:
                signal.warm = signal.warm or warm
                signal.set()

    async def _finish(self, outcome: ClaimOutcome, statement: str, params: dict[str, Any], kind: str) -> None:
        from sqlalchemy import text

        params = {**params, "keys": outcome.won, "holder": outcome.holder}
        try:
            async with self.engine.begin() as conn:
                await conn.execute(text(statement), params)
                await notify(conn, {"k": kind, "o": self.replica, "keys": outcome.won, "ttl": params.get("ttl")})
        except Exception as exc:  # waiters time out at the bound instead
            log.warning("coord_claim_update_failed", kind=kind, error=type(exc).__name__)

    def _forget(self, keys: list[str], signal: Signal) -> None:
        for key in keys:
            if self._signals.get(key) is signal:
                del self._signals[key]

    def _spawn(self, coro: Any) -> None:
        self.keep(asyncio.get_running_loop().create_task(coro))

    def keep(self, task: asyncio.Task[None]) -> None:
        """Hold a background task until it ends (closing waits for it briefly)."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
