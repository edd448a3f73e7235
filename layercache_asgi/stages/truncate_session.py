"""Drop the oldest L2 turns so the prompt fits ``caching.max_session_tokens``.

Only whole turns go (a turn starts at a user message that is not a tool result, so an
assistant's tool calls stay with their results); L0, L1 and L4 are never dropped. In an
agent loop L4 is only the tool results: the turn holding the calls they answer (the
task, the assistant's thinking and tool calls) is kept with them.

The cut is chosen among *checkpoints*: turn starts where the running token count of the
history passes a multiple of half the *room*, the limit minus L0/L1. Both depend only on
what clients resend unchanged, not on the length of the newest message, and the history
only grows, so the cut only moves forward: it stays put (and so does the cached prefix)
until the history has grown by about half the room, then jumps to a later checkpoint.

An agent works inside one long turn (task, then call, results, call, results ...). When
every earlier turn is gone and that turn alone is still too long, its oldest tool rounds go
the same way (each call with its results; the task and the calls L4 answers stay), by the
same checkpoints. When even that does not fit, the request goes as small as it can and says
so: ``x-layercache-truncation: over-budget`` and the ``layercache_session_over_budget``
counter.
"""

from __future__ import annotations

import structlog

from .._exchange import Exchange, get_exchange
from .._types import ASGIApp, Receive, Scope, Send
from ..prompt._facts import layers_of
from ..prompt._layers import Layers, is_tool_result, part_value, stratify, tool_rounds, turn_groups
from ..prompt._tokens import count_parts
from ..upstream._target import target_of

__all__ = ["TruncateSession", "choose_cut"]

log = structlog.get_logger("layercache.truncate")


def choose_cut(history: list[int], newest: int, room: int) -> int:
    """How many leading ``history`` groups (tokens each) to drop so that what is left plus
    ``newest`` fits ``room``, preferring stable checkpoints; all of them when nothing fits."""
    remaining = sum(history) + newest
    if remaining <= room:
        return 0
    step = max(room // 2, 1)
    running = 0
    first_fit = len(history)
    for i, tokens in enumerate(history):
        if remaining <= room:
            if i == 0 or running // step > (running - history[i - 1]) // step:
                return i
            first_fit = min(first_fit, i)
        running += tokens
        remaining -= tokens
    return first_fit


class TruncateSession:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if (
            exchange is not None
            and exchange.settings.caching.max_session_tokens is not None
            and not exchange.request.ext.lc_bypass_cache
        ):
            try:
                await self._truncate(exchange, layers_of(exchange), exchange.settings.caching.max_session_tokens)
            except Exception as exc:  # counting failed: send the session whole rather than fail
                log.warning("truncate_failed", error=type(exc).__name__)
        await self.app(scope, receive, send)

    async def _truncate(self, exchange: Exchange, layers: Layers, limit: int) -> None:
        request = exchange.request
        target = await target_of(exchange)
        if target is None:
            return
        groups = turn_groups(request.wire, request.messages, layers.messages_in(2))
        newest = layers.messages_in(4)
        current: list[int] = []  # the agent turn L4's tool results belong to
        if groups and newest and is_tool_result(request.wire, request.messages[newest[0]]):
            groups, current = groups[:-1], groups[-1]  # the turn that made the calls L4 answers goes with L4
        counts = await count_parts(target.model, [(p.digest, part_value(request.body, p.path)) for p in layers.parts])
        by_path = {p.path: n for p, n in zip(layers.parts, counts, strict=True)}
        key = request.messages_key  # "input" on the Responses API
        history = [sum(by_path[f"{key}[{i}]"] for i in group) for group in groups]
        stable = sum(n for p, n in zip(layers.parts, counts, strict=True) if p.layer <= 1)
        room = limit - stable
        rest = sum(counts) - stable - sum(history)  # L4 and the turn it belongs to
        cut = choose_cut(history, rest, room)
        dropped = {i for group in groups[:cut] for i in group}
        left = sum(history[cut:]) + rest
        if left > room and current:
            # Every earlier turn is gone and the agent's own turn is still too long: drop its oldest
            # tool rounds (calls with their results), keeping the task and the calls L4 answers.
            _opening, rounds = tool_rounds(request.wire, request.messages, current)
            sizes = [sum(by_path[f"{key}[{i}]"] for i in r) for r in rounds[:-1]]
            pinned = rest - sum(sizes)
            inner = choose_cut(sizes, pinned, room)
            dropped |= {i for r in rounds[:inner] for i in r}
            left = sum(sizes[inner:]) + pinned
        if left > room:
            exchange.session_over_budget = True
            exchange.response_headers["x-layercache-truncation"] = "over-budget"
            log.info("session_over_budget", limit=limit, tokens=stable + left)
        if not dropped:
            return
        request.body[key] = [m for i, m in enumerate(request.messages) if i not in dropped]
        hints = {i - sum(1 for d in dropped if d < i): layer for i, layer in layers.hints.items() if i not in dropped}
        exchange.layers = stratify(request.wire, request.body, hints, layers.system_hints)
        exchange.notes["truncated_messages"] = len(dropped)
        exchange.response_headers["x-layercache-truncated"] = str(len(dropped))
        log.info("session_truncated", dropped_messages=len(dropped), dropped_turns=cut, limit=limit)
