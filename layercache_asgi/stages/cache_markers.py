"""Mark the cacheable prefix for the provider the request goes to.

One adapter per provider in :mod:`layercache_asgi.markers`: Anthropic gets
``cache_control`` breakpoints, OpenAI a ``prompt_cache_key`` (client markers stripped),
Gemini a CachedContent. Other providers cache automatically: nothing to do. No
breakpoints are added when the whole cacheable prefix is below the model's minimum.
``lc_bypass_cache`` requests pass untouched, the client's own markers included.

Markers fit one provider only (a Gemini request even leaves out what its CachedContent
holds), so when fallbacks are configured the unmarked body is kept and re-marked for
whichever deployment the route fails over to.
"""

from __future__ import annotations

import copy

import structlog

from .._exchange import Exchange, get_exchange
from .._types import ASGIApp, Receive, Scope, Send
from ..markers.anthropic import apply_anthropic
from ..markers.gemini import GEMINI_CACHED_CONTENT, apply_gemini
from ..markers.openai import PROMPT_CACHE_KEY, apply_openai
from ..markers.responses import apply_anthropic_responses
from ..prompt._facts import layers_of, prefix_check, prefix_check_of, prefix_tokens
from ..prompt._layers import Layers
from ..prompt._state import prompt_state
from ..upstream._providers import Deployment
from ..upstream._target import chain_of

__all__ = ["InjectCacheMarkers"]

log = structlog.get_logger("layercache.markers")


class InjectCacheMarkers:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is not None and not exchange.request.ext.lc_bypass_cache:
            await self._mark(exchange, layers_of(exchange))
        await self.app(scope, receive, send)

    async def _mark(self, exchange: Exchange, layers: Layers) -> None:
        chain = await chain_of(exchange)
        if not chain:
            return
        if len(chain) > 1:
            pristine = copy.deepcopy(exchange.request.body)

            async def retarget(deployment: Deployment) -> None:
                exchange.request.body = copy.deepcopy(pristine)
                for note in ("cache_markers", GEMINI_CACHED_CONTENT, PROMPT_CACHE_KEY):
                    exchange.notes.pop(note, None)
                await _mark_for(exchange, layers, deployment, first=False)

            exchange.retarget = retarget
        await _mark_for(exchange, layers, chain[0], first=True)


async def _below_minimum(exchange: Exchange, layers: Layers, target: Deployment, first: bool) -> bool:
    if first:  # checked once for the first deployment (by PrefixThreshold when it runs)
        return (await prefix_check_of(exchange)).below
    counted = await prefix_check(exchange, layers, target)
    return counted is not None and counted[0] < counted[1]


async def _mark_for(exchange: Exchange, layers: Layers, target: Deployment, *, first: bool) -> None:
    try:
        await _apply(exchange, layers, target, first)
    except Exception as exc:  # a fallback is tried unmarked rather than not at all
        if first:
            raise
        log.warning("markers_failed", deployment=target.name, error=type(exc).__name__)


async def _apply(exchange: Exchange, layers: Layers, target: Deployment, first: bool) -> None:
    if target.provider == "anthropic":
        if await _below_minimum(exchange, layers, target, first):
            return  # nothing could be cached: leave the request as the client wrote it
        if exchange.request.wire == "responses":  # marks on input items, for LiteLLM's bridge
            exchange.notes["cache_markers"] = apply_anthropic_responses(exchange, layers)
            return
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
            exchange.notes[GEMINI_CACHED_CONTENT] = name
