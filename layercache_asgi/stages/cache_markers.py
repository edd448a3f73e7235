"""Mark the cacheable prefix for the provider the request goes to.

One adapter per provider in :mod:`layercache_asgi.markers`: Anthropic gets
``cache_control`` breakpoints, OpenAI a ``prompt_cache_key`` (client markers stripped),
Gemini a CachedContent. Other providers cache automatically: nothing to do. No
breakpoints are added when the whole cacheable prefix is below the model's minimum.
``lc_bypass_cache`` requests pass untouched, the client's own markers included.
"""

from __future__ import annotations

import structlog

from .._exchange import Exchange, get_exchange
from .._layers import Layers
from .._prompt_state import prompt_state
from .._target import target_of
from .._types import ASGIApp, Receive, Scope, Send
from ..markers.anthropic import apply_anthropic
from ..markers.gemini import apply_gemini
from ..markers.openai import apply_openai
from .prefix_threshold import prefix_tokens

__all__ = ["InjectCacheMarkers"]

log = structlog.get_logger("layercache.markers")


class InjectCacheMarkers:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is not None and isinstance(exchange.layers, Layers) and not exchange.request.ext.lc_bypass_cache:
            await self._mark(exchange, exchange.layers)
        await self.app(scope, receive, send)

    async def _mark(self, exchange: Exchange, layers: Layers) -> None:
        target = await target_of(exchange)
        if target is None:
            return
        if target.provider == "anthropic":
            if exchange.notes.get("prefix_below_minimum"):
                return  # nothing could be cached: leave the request as the client wrote it
            marked = apply_anthropic(exchange, layers, prompt_state(exchange))
            exchange.notes["cache_markers"] = marked
        elif target.provider == "openai":
            apply_openai(exchange, layers)
        elif target.provider == "gemini":
            try:
                tokens = await prefix_tokens(exchange, layers, target.model, through=1)
            except Exception as exc:  # no count, no explicit cache: implicit caching still applies
                log.warning("prefix_count_failed", error=type(exc).__name__, model=target.model)
                return
            name = await apply_gemini(exchange, layers, target, tokens)
            if name is not None:
                exchange.notes["gemini_cached_content"] = name
