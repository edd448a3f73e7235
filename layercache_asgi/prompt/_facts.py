"""What stages learn about the prompt and hand each other, computed on first use.

``layers_of`` and ``prefix_check_of`` return what ``Stratify`` and ``PrefixThreshold`` set
on the exchange, and compute (and keep) it when that stage was dropped from the stack, so
every stage does its job whichever others run. Stages import these, never each other.
"""

from __future__ import annotations

import structlog

from .._errors import ProxyError
from .._exchange import Exchange, PrefixCheck
from ..upstream._providers import Deployment
from ..upstream._target import target_of
from ._layers import Layers, stratify
from ._learned_minimums import minimum_of
from ._tokens import count_prefix

__all__ = ["layers_of", "prefix_check", "prefix_check_of", "prefix_tokens", "restratify", "stratify_exchange"]

log = structlog.get_logger("layercache.prefix")

_NOTHING_TO_COMPARE = PrefixCheck()


def stratify_exchange(exchange: Exchange) -> Layers:
    """Layers from the body, the template's hints and the client's ``lc_layer_hints`` (which win)."""
    request = exchange.request
    count = len(request.messages)
    for index in request.ext.lc_layer_hints:
        if not 0 <= index < count:
            raise ProxyError(
                400,
                f"lc_layer_hints: message index {index} is out of range (0-{count - 1})",
                param="lc_layer_hints",
            )
    hints = {**exchange.layer_hints, **request.ext.lc_layer_hints}
    return stratify(request.wire, request.body, hints, dict(exchange.system_layer_hints))


def layers_of(exchange: Exchange) -> Layers:
    """The request's layers: those Stratify set, or stratified now and kept."""
    if exchange.layers is None:
        exchange.layers = stratify_exchange(exchange)
    return exchange.layers


def restratify(exchange: Exchange) -> Layers:
    """Recompute the layers after a stage changed the body (same hints)."""
    if exchange.layers is None:
        return layers_of(exchange)
    request, old = exchange.request, exchange.layers
    exchange.layers = stratify(request.wire, request.body, old.hints, old.system_hints)
    return exchange.layers


async def prefix_tokens(exchange: Exchange, layers: Layers, model: str, through: int = 2) -> int:
    """Tokens of the stable prefix through layer ``through``, memoised per prefix and per part."""
    return await count_prefix(model, layers, exchange.request.body, layers.boundary(through))


async def prefix_check(exchange: Exchange, layers: Layers, target: Deployment) -> tuple[int, int] | None:
    """``(prefix tokens, the target's minimum)``; None when there is no prefix, no known
    minimum, or the count failed (a tokenizer problem must not fail the request)."""
    if layers.boundary(2) == 0:
        return None  # no system, context or history: nothing is meant to be cached, nothing to warn about
    minimum = await minimum_of(exchange, target)
    if minimum is None:
        return None
    try:
        tokens = await prefix_tokens(exchange, layers, target.model)
    except Exception as exc:
        log.warning("prefix_count_failed", error=type(exc).__name__, model=target.model)
        return None
    return tokens, minimum


async def prefix_check_of(exchange: Exchange) -> PrefixCheck:
    """The prefix against the first deployment's minimum: checked once, on first use.

    ``lc_bypass_cache`` requests and models that do not resolve have nothing to compare."""
    if exchange.prefix is not None:
        return exchange.prefix
    checked = _NOTHING_TO_COMPARE
    if not exchange.request.ext.lc_bypass_cache:
        target = await target_of(exchange)
        counted = await prefix_check(exchange, layers_of(exchange), target) if target is not None else None
        if counted is not None:
            checked = PrefixCheck(*counted)
    exchange.prefix = checked
    return checked
