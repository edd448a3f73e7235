"""Answer near-duplicate questions from the semantic cache; store new answers.

Runs after the prompt is canonical and trimmed, so lookup and store share one key.
A hit is answered here, in the client's wire format (JSON, or SSE when it asked for a
stream); a miss goes on down the stack and its answer is stored once complete. Any
fault of the cache degrades to an uncached request with a log line.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

import structlog

from .._exchange import Exchange, Saved, get_exchange
from .._types import ASGIApp, Receive, Scope, Send
from ..semantic._eligible import skip_reason
from ..semantic._key import CacheKey, cache_key
from ..wire._completion import Completion, Usage
from ..wire._dispatch import render_body, render_stream
from ..wire._respond import send_json, start_sse

if TYPE_CHECKING:
    from .._config import SemanticCacheSettings
    from ..semantic._index import Vector
    from ..semantic._service import SemanticCacheService
    from ..semantic._store import StoredAnswer

__all__ = ["CACHE_HEADER", "SKIPPED_HEADER", "SemanticCache"]

CACHE_HEADER = "x-layercache-cache"
SKIPPED_HEADER = "x-layercache-cache-skipped"  # why a bypass: one of SKIP_REASONS
# Only whole answers are worth replaying: not cut off by a length limit or a filter.
_COMPLETE = frozenset({"stop", "tool_calls", "end_turn", "stop_sequence", "tool_use"})

log = structlog.get_logger("layercache.semantic")


class SemanticCache:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is None:
            await self.app(scope, receive, send)
            return
        service: SemanticCacheService | None = exchange.runtime.semantic
        settings = exchange.settings.caching.semantic
        reason = _skip_reason(exchange, service, settings)
        key = None
        if reason is None and service is not None:
            key = cache_key(exchange, service.namespace)
            reason = "not_a_question" if key is None else None
        if service is None or key is None:
            _mark(exchange, "bypass", reason or "unavailable")
            await self.app(scope, receive, send)
            return
        await _Lookup(self.app, exchange, service, settings, key).run(scope, receive, send)


def _skip_reason(
    exchange: Exchange, service: SemanticCacheService | None, settings: SemanticCacheSettings
) -> str | None:
    """Why this request neither reads nor writes the cache (checked before any key is made, so
    exact repeats and identical concurrent requests are left alone too), or None."""
    ext = exchange.request.ext
    if ext.lc_bypass_cache or ext.lc_skip_semantic_cache:
        return "client"
    if not settings.enabled:
        return "disabled"
    if service is None or not service.ready:
        return "unavailable"
    return skip_reason(exchange.request, settings)


def _mark(exchange: Exchange, result: str, skipped: str | None = None) -> None:
    exchange.outcome.cache = result
    exchange.response_headers[CACHE_HEADER] = result
    if skipped is not None:
        exchange.semantic_skip = skipped
        exchange.response_headers[SKIPPED_HEADER] = skipped


class _Lookup:
    """One request's trip through the cache (per-request state stays off the middleware)."""

    def __init__(
        self,
        app: ASGIApp,
        exchange: Exchange,
        service: SemanticCacheService,
        settings: SemanticCacheSettings,
        key: CacheKey,
    ) -> None:
        self.app, self.exchange, self.service, self.settings, self.key = app, exchange, service, settings, key

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = self.exchange
        try:
            vector, answer, exchange.semantic_trace = await self.service.lookup(self.key, self.settings)
        except Exception as exc:
            log.warning("semantic_lookup_failed", request_id=exchange.request_id, error=type(exc).__name__)
            _mark(exchange, "bypass", "error")
            await self.app(scope, receive, send)
            return
        if answer is not None:
            await self._hit(answer, send)
            return
        flights = self.service.flights
        flight = flights.join(self.key.flight)
        deadline = time.monotonic() + self.settings.single_flight_wait_seconds
        while not flight.leader:
            shared = await flights.wait(flight, deadline - time.monotonic())
            if shared is not None:
                exchange.notes["semantic_shared_flight"] = True
                exchange.saved = Saved(replace(shared.usage))
                await _answer(exchange, shared, send)
                return
            if not flight.leader_left or time.monotonic() >= deadline:
                await self._miss(scope, receive, send, vector)
                return
            flight = flights.join(self.key.flight)  # the leader's client left: lead, or follow who does
        remote = None
        coord = exchange.runtime.coord
        if coord is not None:  # another replica may be asking the same upstream
            from ..coord._flight import answer_elsewhere

            remote, answer = await answer_elsewhere(coord.claims, self.service, self.key, self.settings, deadline)
            if answer is not None:
                flights.land(flight, Completion.from_dict(answer.response))
                await self._hit(answer, send)
                return
        stored: Completion | None = None
        try:
            stored = await self._miss(scope, receive, send, vector)
        finally:
            flights.land(flight, stored, leader_left=exchange.client_closed)
            if remote is not None and coord is not None:
                from ..coord._flight import landed

                landed(coord.claims, self.service, remote, stored is not None)

    async def _hit(self, answer: StoredAnswer, send: Send) -> None:
        exchange = self.exchange
        exchange.notes["semantic_entry_id"] = answer.entry_id
        exchange.notes["semantic_similarity"] = round(answer.similarity, 4)
        usage = Usage(uncached_input=answer.input_tokens, output=answer.output_tokens)
        exchange.saved = Saved(usage, answer.cost_usd or None)
        await _answer(exchange, Completion.from_dict(answer.response), send)

    async def _miss(self, scope: Scope, receive: Receive, send: Send, vector: Vector) -> Completion | None:
        """Go upstream; store the answer if it is whole. Returns what was stored."""
        exchange = self.exchange
        _mark(exchange, "miss")
        await self.app(scope, receive, send)
        ext = exchange.request.ext
        ttl = self.settings.default_ttl if ext.lc_cache_ttl is None else ext.lc_cache_ttl
        completion = exchange.outcome.completion
        if ttl <= 0 or not _storable(exchange, completion):
            return None
        assert completion is not None
        try:
            queued = self.service.remember(self.key, vector, completion, ttl)
        except Exception as exc:
            log.warning("semantic_store_failed", request_id=exchange.request_id, error=type(exc).__name__)
            return None
        if not queued:
            log.warning("semantic_store_skipped", request_id=exchange.request_id, reason="write backlog full")
        exchange.notes["semantic_stored"] = queued
        return completion


def _storable(exchange: Exchange, completion: Completion | None) -> bool:
    outcome = exchange.outcome
    return (
        completion is not None
        and outcome.status == 200
        and outcome.error is None
        and completion.finish_reason in _COMPLETE
        and bool(completion.text or completion.tool_calls)
    )


async def _answer(exchange: Exchange, cached: Completion, send: Send) -> None:
    """Send a cached answer in the client's wire format, reporting zero upstream usage."""
    request = exchange.request
    completion = replace(
        cached,
        usage=Usage(),
        id="",
        tool_calls=[replace(call, id=_fresh_id(call.id)) for call in cached.tool_calls],
    )
    _mark(exchange, "hit")
    outcome = exchange.outcome
    outcome.status, outcome.completion, outcome.provider = 200, completion, ""
    headers = exchange.header_list()
    if request.stream:
        include_usage = bool((request.body.get("stream_options") or {}).get("include_usage"))
        events = render_stream(request.wire, completion, model=request.model, include_usage=include_usage)
        await start_sse(send, 200, headers)
        await send({"type": "http.response.body", "body": b"".join(events), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    await send_json(send, 200, render_body(request.wire, completion, model=request.model), headers)


def _fresh_id(old: str) -> str:
    # Tool call ids must be unique per answer; keep the provider's prefix (call_, toolu_).
    prefix = old.split("_", 1)[0] + "_" if "_" in old else "call_"
    return prefix + uuid.uuid4().hex[:24]
