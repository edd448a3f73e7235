"""Hold requests whose new cacheable prefix is already being written by an in-flight request.

A provider cache entry becomes readable only once the response that writes it has
started, so N concurrent requests sharing a new prefix would all pay the write price.
The first one (the leader) goes ahead; the others wait until its response starts (at
most ``caching.warmup_wait_seconds``), then go and read: 1 write + N-1 reads. A leader
whose client leaves hands over: the first follower to wake leads in its place.

Prefixes are keyed by tenant, deployment and the digest of the prefix through L2 and
through L1 (the ends the markers cache). A prefix whose writer has started is "warm"
for the provider's TTL and never waits. ``lc_warmup: false`` turns the gate off for a
request; prefixes below the provider's minimum are never gated (nothing is cached), nor
requests whose markers were deferred (a one-shot prefix: nothing is written to wait for).

Replicas on one PostgreSQL database gate together: a replica's leader also claims its
prefixes there (``coord/_claims.py``, one round trip, none for a prefix known warm), and
waits, with the requests queued behind it, while another replica writes one of them.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import structlog

from .._exchange import Exchange, get_exchange
from .._lru import LRU
from .._types import ASGIApp, Message, Receive, Scope, Send
from ..prompt._facts import layers_of, prefix_check_of
from ..prompt._layers import key_digest
from ..prompt._prefix_minimums import min_prefix_tokens
from ..upstream._target import target_of

if TYPE_CHECKING:
    from ..coord import Coordinator
    from ..coord._claims import ClaimOutcome

__all__ = ["WarmupGate", "WarmupRegistry"]

log = structlog.get_logger("layercache.warmup")


class WarmupRegistry:
    """Per app: prefixes being written (with the event their leader sets) and prefixes known warm."""

    def __init__(self) -> None:
        self.inflight: dict[str, _Claim] = {}
        self.warm: LRU[str, float] = LRU(20_000)  # key -> monotonic time it stops being warm

    def is_warm(self, key: str, now: float) -> bool:
        until = self.warm.get(key)
        return until is not None and until > now


class _Claim(asyncio.Event):
    """Set when the leader's response starts or it gives up; ``abandoned`` if its client left."""

    abandoned = False


class WarmupGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The stage's own state: each app builds its stack (on start), so each app has its own
        # registry, and a restarted app starts with none in flight.
        self.registry = WarmupRegistry()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        keys = await self._keys(exchange) if exchange is not None else []
        if exchange is None or not keys:
            await self.app(scope, receive, send)
            return
        registry = self.registry
        ttl = 3600.0 if exchange.settings.caching.anthropic_ttl == "1h" else 300.0
        deadline = time.monotonic() + exchange.settings.caching.warmup_wait_seconds
        leading: list[str] = []
        started = _Claim()
        coord = exchange.runtime.coord
        remote: ClaimOutcome | None = None
        try:
            while True:  # again when the leader's client left: the first follower back takes over
                wait_for = self._claim(registry, keys, ttl, leading, started)
                if wait_for is None or not await self._wait(exchange, wait_for, deadline):
                    break
            if leading and coord is not None:  # the other replicas may be writing it
                remote = await self._across_replicas(exchange, coord, registry, leading, started, deadline, ttl)
            if leading and "warmup" not in exchange.notes:
                exchange.notes["warmup"] = "leader"

            async def send_and_release(message: Message) -> None:
                if message["type"] == "http.response.start" and not started.is_set():
                    if message.get("status", 500) < 400:
                        until = time.monotonic() + ttl
                        for key in leading:
                            registry.warm.put(key, until)
                        if remote is not None and coord is not None:
                            coord.claims.started(remote, ttl)
                    self._release(registry, leading, started)
                await send(message)

            await self.app(scope, receive, send_and_release)
        finally:
            if not started.is_set():  # its client left: a follower takes over rather than all of them writing
                started.abandoned = exchange.client_closed
            if (
                coord is not None
                and remote is not None
                and remote.won
                and not any(registry.is_warm(k, time.monotonic()) for k in remote.won)
            ):
                coord.claims.release(remote)  # failed or left: the other replicas go
            self._release(registry, leading, started)

    async def _across_replicas(
        self,
        exchange: Exchange,
        coordinator: Coordinator,
        registry: WarmupRegistry,
        leading: list[str],
        started: _Claim,
        deadline: float,
        ttl: float,
    ) -> ClaimOutcome | None:
        """Claim ``leading`` in the database (one round trip); wait while another replica writes one of them.

        None when this replica holds none of them: it goes as a reader, and so do the requests
        here that were waiting for it. A database that fails leaves the gate per replica.
        """
        coordinator.applier.registries.add(registry)  # so it hears of prefixes made warm on other replicas
        claims = coordinator.claims
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                outcome: ClaimOutcome = await claims.claim(leading, exchange.settings.caching.warmup_wait_seconds)
        except Exception as exc:
            log.warning("warmup_claim_failed", error=type(exc).__name__)
            return None
        if outcome.signal is not None:
            began = time.perf_counter()
            try:
                limit = min(deadline - time.monotonic(), outcome.expires_in)
                await asyncio.wait_for(outcome.signal.wait(), max(0.0, limit))
                exchange.notes["warmup"] = "follower"
            except TimeoutError:
                exchange.notes["warmup"] = "timeout"
                log.info("warmup_wait_timed_out", seconds=exchange.settings.caching.warmup_wait_seconds, remote=True)
            finally:
                claims.done_waiting(leading, outcome.signal)
            _waited(exchange, began)
        warm = outcome.warm or (outcome.signal is not None and outcome.signal.warm)
        if outcome.won or not warm:
            return outcome  # it writes what it holds (or its writer elsewhere failed): it leads here as before
        until = time.monotonic() + ttl
        for key in leading:
            registry.warm.put(key, until)
        self._release(registry, leading, started)  # the requests here waiting for this one read too
        leading.clear()
        return None

    @staticmethod
    def _claim(
        registry: WarmupRegistry, keys: list[str], ttl: float, leading: list[str], mine: _Claim
    ) -> _Claim | None:
        """Lead the prefixes nobody writes, deepest first; the claim to wait for, if another writes one."""
        now = time.monotonic()
        for key in keys:
            if registry.is_warm(key, now):
                registry.warm.put(key, now + ttl)  # a read refreshes the provider's TTL
                return None
            holder = registry.inflight.get(key)
            if holder is mine:
                continue
            if holder is not None:
                return holder
            leading.append(key)
            registry.inflight[key] = mine
        return None

    async def _keys(self, exchange: Exchange) -> list[str]:
        ext = exchange.request.ext
        wait = exchange.settings.caching.warmup_wait_seconds
        if not ext.lc_warmup or ext.lc_bypass_cache or wait <= 0:
            return []
        plan = exchange.marker_plan
        if plan is not None and plan.deferred:
            return []
        layers = layers_of(exchange)
        if layers.boundary(1) == 0 or (await prefix_check_of(exchange)).below:
            return []
        target = await target_of(exchange)
        if target is None or min_prefix_tokens(target.provider, target.upstream_model) is None:
            return []
        levels = (2, 1) if layers.boundary(2) > layers.boundary(1) else (1,)
        return [key_digest(exchange.tenant, target.model, layers.prefix_digest(k)) for k in levels]

    async def _wait(self, exchange: Exchange, leader: _Claim, deadline: float) -> bool:
        """Wait for the leader's response to start; True when its client left first (claim again)."""
        began = time.perf_counter()
        try:
            await asyncio.wait_for(leader.wait(), max(0.0, deadline - time.monotonic()))
            exchange.notes["warmup"] = "follower"
        except TimeoutError:
            exchange.notes["warmup"] = "timeout"
            log.info("warmup_wait_timed_out", seconds=exchange.settings.caching.warmup_wait_seconds)
        _waited(exchange, began)
        if leader.abandoned and time.monotonic() < deadline:
            del exchange.notes["warmup"]
            return True
        return False

    @staticmethod
    def _release(registry: WarmupRegistry, keys: list[str], started: _Claim) -> None:
        if started.is_set():
            return
        started.set()
        for key in keys:
            if registry.inflight.get(key) is started:
                del registry.inflight[key]


def _waited(exchange: Exchange, began: float) -> None:
    """Add the wait since ``began`` (perf_counter) to the request's notes and its wait header."""
    waited = exchange.notes.get("warmup_wait_seconds", 0.0) + time.perf_counter() - began
    exchange.notes["warmup_wait_seconds"] = waited
    exchange.response_headers["x-layercache-warmup-wait-ms"] = str(round(waited * 1000))
