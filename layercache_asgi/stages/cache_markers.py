"""Mark the cacheable prefix for the provider the request goes to, when the reads pay for it.

One adapter per provider in :mod:`layercache_asgi.markers`: Anthropic gets
``cache_control`` breakpoints, OpenAI a ``prompt_cache_key`` (client markers stripped),
Gemini a CachedContent. Other providers cache automatically: nothing to do.
``lc_bypass_cache`` requests pass untouched, the client's own markers included.

A marker costs a write premium, so :func:`~layercache_asgi.markers.plan.plan_markers`
decides per request which layers may be marked (a one-shot prefix is not); the header
``x-layercache-markers`` says what was decided. A prefix below the model's minimum is
marked only down to one step below it (a probe: too short, it costs nothing; cached, it
teaches the model's real minimum), and after an Anthropic answer the usage it reports
moves the learned minimum (:mod:`layercache_asgi.prompt._learned_minimums`).

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
from ..markers.gemini import apply_gemini
from ..markers.openai import apply_openai
from ..markers.plan import MarkPlan, leave, plan_markers
from ..markers.responses import apply_anthropic_responses
from ..prompt._facts import layers_of, prefix_check, prefix_check_of, prefix_tokens
from ..prompt._layers import Layers
from ..prompt._learned_minimums import learned_minimums, probe_floor
from ..prompt._prefix_minimums import min_prefix_tokens
from ..prompt._state import prompt_state
from ..prompt._tokens import count_prefix
from ..upstream._providers import Deployment
from ..upstream._target import chain_of

__all__ = ["InjectCacheMarkers"]

log = structlog.get_logger("layercache.markers")


class InjectCacheMarkers:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is None or exchange.request.ext.lc_bypass_cache:
            await self.app(scope, receive, send)
            return
        chain = await chain_of(exchange)
        plan = plan_markers(exchange, layers_of(exchange), chain[0]) if chain else None
        try:
            if chain and plan is not None:
                exchange.marker_plan = plan
                exchange.response_headers["x-layercache-markers"] = plan.reason
                await self._mark(exchange, layers_of(exchange), chain)
            await self.app(scope, receive, send)
        finally:
            if plan is not None:
                leave(exchange, plan)
        await _learn(exchange)

    async def _mark(self, exchange: Exchange, layers: Layers, chain: list[Deployment]) -> None:
        if len(chain) > 1:
            pristine = copy.deepcopy(exchange.request.body)

            async def retarget(deployment: Deployment) -> None:
                exchange.request.body = copy.deepcopy(pristine)
                for note in ("cache_markers", "marker_probe"):
                    exchange.notes.pop(note, None)
                exchange.gemini_cached_content = exchange.prompt_cache_key = None
                exchange.prompt_cache_retention = None
                await _mark_for(exchange, layers, deployment, first=False)

            exchange.retarget = retarget
        await _mark_for(exchange, layers, chain[0], first=True)


async def _too_short(exchange: Exchange, layers: Layers, target: Deployment, first: bool) -> bool:
    """Below the probe floor: nothing could be cached, leave the request as the client wrote it."""
    if first:  # checked once for the first deployment (by PrefixThreshold when it runs)
        checked = await prefix_check_of(exchange)
        tokens, minimum = checked.tokens, checked.minimum
    else:
        counted = await prefix_check(exchange, layers, target)
        tokens, minimum = counted if counted is not None else (None, None)
    if tokens is None or minimum is None or tokens >= minimum:
        return False
    if tokens < probe_floor(minimum):
        return True
    exchange.notes["marker_probe"] = True
    return False


async def _mark_for(exchange: Exchange, layers: Layers, target: Deployment, *, first: bool) -> None:
    try:
        await _apply(exchange, layers, target, first)
    except Exception as exc:  # a fallback is tried unmarked rather than not at all
        if first:
            raise
        log.warning("markers_failed", deployment=target.name, error=type(exc).__name__)


async def _apply(exchange: Exchange, layers: Layers, target: Deployment, first: bool) -> None:
    plan = exchange.marker_plan or MarkPlan(2, "always")
    if target.provider == "anthropic":
        if await _too_short(exchange, layers, target, first):
            return
        if exchange.request.wire == "responses":  # marks on input items, for LiteLLM's bridge
            exchange.notes["cache_markers"] = apply_anthropic_responses(exchange, layers, plan.through)
            return
        marked = apply_anthropic(exchange, layers, prompt_state(exchange), plan.through)
        exchange.notes["cache_markers"] = marked
        exchange.notes["marked_target"] = target
    elif target.provider == "openai":
        apply_openai(exchange, layers, target)
    elif target.provider == "gemini":
        if plan.through < 1:
            return  # a CachedContent for a prefix not expected back: implicit caching only
        try:
            tokens = await prefix_tokens(exchange, layers, target.model, through=1)
        except Exception as exc:  # no count, no explicit cache: implicit caching still applies
            log.warning("prefix_count_failed", error=type(exc).__name__, model=target.model)
            return
        name = await apply_gemini(exchange, layers, target, tokens, trial=plan.reason == "trial")
        if name is not None:
            exchange.gemini_cached_content = name


async def _learn(exchange: Exchange) -> None:
    """Move the model's learned minimum on the usage of an answer to a request we marked."""
    target = exchange.notes.get("marked_target")
    completion = exchange.outcome.completion
    marked = exchange.notes.get("cache_markers")
    if (
        not isinstance(target, Deployment)
        or completion is None
        or not marked
        or exchange.outcome.deployment
        not in (
            "",
            target.name,
        )
    ):
        return
    usage = completion.usage
    table = min_prefix_tokens(target.provider, target.upstream_model)
    if usage.input_total == 0 or table is None:
        return
    try:
        layers = layers_of(exchange)
        paths = [p.path for p in layers.parts]
        deepest = max(paths.index(path) for path in marked if path in paths)
        # Usually the prefix the marker decision counted: one memo lookup, no tokenizer.
        tokens = await count_prefix(target.model, layers, exchange.request.body, deepest + 1)
    except Exception as exc:  # no count, nothing learned
        log.warning("prefix_count_failed", error=type(exc).__name__, model=target.model)
        return
    minimums = learned_minimums(exchange)
    await minimums.load(exchange)
    learned = minimums.observe(target.provider, target.upstream_model, table, tokens, usage)
    if learned is not None:
        await minimums.store(exchange, learned)
