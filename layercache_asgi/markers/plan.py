"""Which layers a request's markers may end, so they never cost more than going direct.

A marker pays its write premium on the first request and earns on later reads
(:mod:`layercache_asgi.prompt._reuse`). Per request, deepest layer first:

- L2 (the conversation so far) when there is history: a session continues;
- L1 (tools, static context) when a template supplied it, or the L0 + L1 family's
  expected reads pay (seen recently, often, or in flight right now);
- L0 (the system prompt) when the L0 family's reads pay (shared by requests whose tools vary);
- Gemini: a CachedContent that lives only a few minutes when that much storage pays ("trial";
  extended to the configured lifetime when the family comes back);
- nothing otherwise: the request goes as the client sent it ("deferred"). The family is now
  known, so its next request is marked: one read missed per family at most.

Markers the client placed itself, and a top-level ``cache_control``, are written anyway; a
proxy marker at or before them adds no premium and is placed whatever the plan says.
OpenAI has no write premium (a ``prompt_cache_key`` costs nothing): always marked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._types import MarkPlan
from ..prompt._layers import Layers, key_digest
from ..prompt._reuse import ANTHROPIC_PREMIUM, ReuseEstimator, gemini_premium, pays
from ..prompt._state import prompt_state
from ._gemini_ttl import TRIAL_SECONDS as TRIAL

if TYPE_CHECKING:
    from .._exchange import Exchange
    from ..upstream._providers import Deployment

__all__ = ["MarkPlan", "leave", "plan_markers"]


def _estimator(exchange: Exchange) -> ReuseEstimator:
    return prompt_state(exchange).part(ReuseEstimator)


def _cost(exchange: Exchange, target: Deployment) -> tuple[float, float] | None:
    """(write premium, TTL seconds) of a marker for ``target``; None when marking is free."""
    caching = exchange.settings.caching
    if target.provider == "anthropic":
        ttl = caching.anthropic_ttl
        return ANTHROPIC_PREMIUM[ttl], 3600.0 if ttl == "1h" else 300.0
    if target.provider == "gemini":
        seconds = float(caching.gemini_cache_ttl_seconds)
        return gemini_premium(target.upstream_model, seconds), seconds
    return None


def plan_markers(exchange: Exchange, layers: Layers, target: Deployment) -> MarkPlan:
    """Decide, then count the request in its families (call :func:`leave` when it is done)."""
    cost = _cost(exchange, target)
    if cost is None or not exchange.settings.caching.mark_only_when_reused:
        return MarkPlan(2, "always")
    premium, ttl = cost
    estimator, tenant = _estimator(exchange), exchange.tenant
    keys = [(k, key_digest(tenant, target.model, k, layers.prefix_digest(k))) for k in (1, 0) if layers.boundary(k) > 0]
    plan = MarkPlan(-1, "deferred")
    if layers.boundary(2) > layers.boundary(1):
        plan = MarkPlan(2, "session")
    elif exchange.template:
        plan = MarkPlan(1, "template")
    else:
        for layer, key in keys:
            reads = estimator.expected_reads(key, tenant, ttl)
            if pays(reads, premium):
                known = estimator.families.get(key)
                reason = "in-flight" if known and known.in_flight else "repeats" if known else "prior"
                plan = MarkPlan(layer, reason)
                break
            if layer == 1 and target.provider == "gemini" and pays(reads, gemini_premium(target.upstream_model, TRIAL)):
                plan = MarkPlan(1, "trial")  # a few minutes of storage pay: a short-lived CachedContent
                break
    for _, key in keys:
        estimator.arrive(key, tenant, ttl)
    return MarkPlan(plan.through, plan.reason, tuple(key for _, key in keys))


def leave(exchange: Exchange, plan: MarkPlan) -> None:
    estimator = _estimator(exchange)
    for key in plan.families:
        estimator.leave(key)
