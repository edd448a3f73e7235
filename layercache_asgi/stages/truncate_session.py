"""Drop the oldest L2 turns so the prompt fits ``caching.max_session_tokens``.

Only whole turns go (a turn starts at a user message that is not a tool result, so an
assistant's tool calls stay with their results); L0, L1 and L4 are never dropped.

The cut is chosen among *checkpoints*: turn starts where the running token count from
the start of L2 passes a multiple of half the L2 budget. Checkpoints depend only on the
history before them, which clients resend unchanged, so successive turns of a
conversation keep the same cut (and the same cached prefix) until the history has grown
by about half the budget; then the cut moves once.
"""

from __future__ import annotations

import structlog

from .._exchange import Exchange, get_exchange
from .._layers import Layers, part_value, stratify, turn_groups
from .._target import target_of
from .._tokens import count_parts
from .._types import ASGIApp, Receive, Scope, Send

__all__ = ["TruncateSession", "choose_cut"]

log = structlog.get_logger("layercache.truncate")


def choose_cut(group_tokens: list[int], budget: int) -> int:
    """How many leading groups to drop so the rest fits ``budget``, preferring stable checkpoints."""
    total = sum(group_tokens)
    if total <= budget:
        return 0
    if budget <= 0:
        return len(group_tokens)
    step = max(budget // 2, 1)
    running = 0
    fallback = len(group_tokens)
    for i, tokens in enumerate(group_tokens):
        remaining = total - running
        checkpoint = i == 0 or running // step > (running - group_tokens[i - 1]) // step
        if remaining <= budget:
            if checkpoint:
                return i
            fallback = min(fallback, i)
        running += tokens
    return fallback


class TruncateSession:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if (
            exchange is not None
            and isinstance(exchange.layers, Layers)
            and exchange.settings.caching.max_session_tokens is not None
            and not exchange.request.ext.lc_bypass_cache
        ):
            try:
                await self._truncate(exchange, exchange.layers, exchange.settings.caching.max_session_tokens)
            except Exception as exc:  # counting failed: send the session whole rather than fail
                log.warning("truncate_failed", error=type(exc).__name__)
        await self.app(scope, receive, send)

    async def _truncate(self, exchange: Exchange, layers: Layers, limit: int) -> None:
        request = exchange.request
        target = await target_of(exchange)
        if target is None:
            return
        groups = turn_groups(request.wire, request.messages, layers.messages_in(2))
        if not groups:
            return
        counts = await count_parts(target.model, [(p.digest, part_value(request.body, p.path)) for p in layers.parts])
        by_path = {p.path: n for p, n in zip(layers.parts, counts, strict=True)}
        key = request.messages_key  # "input" on the Responses API
        group_tokens = [sum(by_path[f"{key}[{i}]"] for i in group) for group in groups]
        fixed = sum(counts) - sum(group_tokens)
        cut = choose_cut(group_tokens, limit - fixed)
        if cut == 0:
            return
        dropped = {i for group in groups[:cut] for i in group}
        request.body[key] = [m for i, m in enumerate(request.messages) if i not in dropped]
        hints = {i - sum(1 for d in dropped if d < i): layer for i, layer in layers.hints.items() if i not in dropped}
        exchange.layers = stratify(request.wire, request.body, hints, layers.system_hints)
        exchange.notes["truncated_messages"] = len(dropped)
        exchange.response_headers["x-layercache-truncated"] = str(len(dropped))
        log.info("session_truncated", dropped_messages=len(dropped), dropped_turns=cut, limit=limit)
