"""Check that the cacheable prefix (L0 to L2) reaches the provider's minimum.

Below it the provider caches nothing, so the request says so: an info log, the header
``x-layercache-prefix-below-minimum: <tokens>/<minimum>``, and
``exchange.notes["prefix_below_minimum"]`` (which the metrics turn into a counter).
Counting uses LiteLLM's tokenizer off the event loop; a failure only skips the check.
"""

from __future__ import annotations

import structlog

from .._exchange import Exchange, get_exchange
from .._layers import Layers, part_value
from .._prefix_minimums import min_prefix_tokens
from .._providers import Deployment
from .._target import target_of
from .._tokens import count_parts
from .._types import ASGIApp, Receive, Scope, Send

__all__ = ["PrefixThreshold", "prefix_check", "prefix_tokens"]

log = structlog.get_logger("layercache.prefix")


async def prefix_tokens(exchange: Exchange, layers: Layers, model: str, through: int = 2) -> int:
    """Tokens of the stable prefix through layer ``through``, memoised per part."""
    body = exchange.request.body
    parts = [(p.digest, part_value(body, p.path)) for p in layers.parts[: layers.boundary(through)]]
    return sum(await count_parts(model, parts))


class PrefixThreshold:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is not None and isinstance(exchange.layers, Layers) and not exchange.request.ext.lc_bypass_cache:
            await self._check(exchange, exchange.layers)
        await self.app(scope, receive, send)

    async def _check(self, exchange: Exchange, layers: Layers) -> None:
        target = await target_of(exchange)
        if target is None:
            return
        counted = await prefix_check(exchange, layers, target)
        if counted is None:
            return
        tokens, minimum = counted
        exchange.notes["prefix_tokens"] = tokens
        exchange.notes["prefix_minimum"] = minimum
        if tokens < minimum:
            exchange.notes["prefix_below_minimum"] = True
            exchange.response_headers["x-layercache-prefix-below-minimum"] = f"{tokens}/{minimum}"
            log.info("prefix_below_minimum", model=exchange.request.model, tokens=tokens, minimum=minimum)


async def prefix_check(exchange: Exchange, layers: Layers, target: Deployment) -> tuple[int, int] | None:
    """``(prefix tokens, the target's minimum)``; None when there is no prefix, no known
    minimum, or the count failed (a tokenizer problem must not fail the request)."""
    if layers.boundary(2) == 0:
        return None  # no system, context or history: nothing is meant to be cached, nothing to warn about
    minimum = min_prefix_tokens(
        target.provider,
        target.upstream_model,
        exchange.settings.caching.min_prefix_tokens,
        alias=exchange.request.model,
    )
    if minimum is None:
        return None
    try:
        tokens = await prefix_tokens(exchange, layers, target.model)
    except Exception as exc:
        log.warning("prefix_count_failed", error=type(exc).__name__, model=target.model)
        return None
    return tokens, minimum
