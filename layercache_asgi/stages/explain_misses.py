"""Explain provider-cache misses: which layer of the cacheable prefix changed first, and where.

Each request is compared with the recent request of the same prefix family (tenant,
wire, model) that shares the longest prefix with it, which is the one a provider cache
would serve it from. The verdict goes to the ``x-layercache-prefix`` header
(``stable``, ``new``, or ``changed:L1 tools[3]``), to ``exchange.prefix_change`` for the
metrics (``prefix_change``: stable/new/L0/L1/L2, and ``prefix_change_detail``), and to
the log when something changed.

A conversation that extends an earlier one is stable; a new conversation on the same
system prompt and tools is stable too (its history could not have been cached yet).
"""

from __future__ import annotations

import structlog

from .._exchange import Exchange, get_exchange
from .._types import ASGIApp, Receive, Scope, Send
from ..prompt._facts import layers_of
from ..prompt._layers import Layers, Part, digest
from ..prompt._state import prompt_state

__all__ = ["ExplainMisses", "explain"]

log = structlog.get_logger("layercache.prefix")

_HISTORY = 8  # recent requests remembered per family (bounded memory: families are an LRU too)


def _common(current: tuple[Part, ...], previous: tuple[Part, ...]) -> int:
    for i, (mine, theirs) in enumerate(zip(current, previous, strict=False)):
        if mine.digest != theirs.digest or mine.path != theirs.path:
            return i
    return min(len(current), len(previous))


def explain(current: Layers, history: list[Layers]) -> tuple[str, str]:
    """``(cause, detail)``: cause is stable, new, L0, L1 or L2; detail the header value."""
    if not history:
        return "new", "new"
    mine = current.parts[: current.boundary(2)]
    best, best_common = history[-1], -1
    for previous in reversed(history):
        common = _common(mine, previous.parts[: previous.boundary(2)])
        if common > best_common:
            best, best_common = previous, common
    theirs = best.parts[: best.boundary(2)]
    if best_common >= len(mine) or best_common >= len(theirs):
        return "stable", "stable"  # one extends the other
    changed, old = mine[best_common], theirs[best_common]
    if changed.layer == 2 and best_common == current.boundary(1) == best.boundary(1):
        return "stable", "stable"  # a new conversation on an unchanged L0 + L1
    if changed.path != old.path and old.path.startswith("tools["):
        changed = old  # a tool was removed: name the tool, not what moved into its place
    layer = f"L{min(changed.layer, 2)}"
    return layer, f"changed:{layer} {changed.path}"


class ExplainMisses:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is not None and not exchange.request.ext.lc_bypass_cache:
            self._explain(exchange, layers_of(exchange))
        await self.app(scope, receive, send)

    def _explain(self, exchange: Exchange, layers: Layers) -> None:
        families = prompt_state(exchange).families
        key = digest(exchange.tenant, exchange.request.wire, exchange.request.model)
        history: list[Layers] = families.get(key) or []
        cause, detail = explain(layers, history)
        exchange.prefix_change, exchange.prefix_change_detail = cause, detail
        exchange.response_headers["x-layercache-prefix"] = detail
        if cause not in ("stable", "new"):
            log.info("prefix_changed", model=exchange.request.model, layer=cause, where=detail.partition(" ")[2])
        families.put(key, [*history[-(_HISTORY - 1) :], layers])
