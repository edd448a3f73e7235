"""Anthropic breakpoints on a Responses API request, for LiteLLM's Responses bridge.

A Responses request reaches Claude through ``litellm.aresponses``, which builds Anthropic
messages from the input items and carries a ``cache_control`` key set on an input item
(message, function call or output) or a tool onto the block it becomes. So the marks go
on items: the end of the stable prefix through L2 (the conversation so far) and through
L1 (tools, instructions, leading developer items), and the last tool. ``instructions``
cannot carry one; a mark after it (a developer item, the history) covers it anyway.
"""

from __future__ import annotations

from typing import Any

from .._exchange import Exchange
from ..prompt._layers import Layers
from .anthropic import MAX_BREAKPOINTS

__all__ = ["apply_anthropic_responses"]


def _markers(body: dict[str, Any]) -> int:
    items = body.get("input")
    holders = [*(body.get("tools") or []), *(items if isinstance(items, list) else [])]
    return sum(1 for item in holders if isinstance(item, dict) and "cache_control" in item)


def apply_anthropic_responses(exchange: Exchange, layers: Layers, through: int = 2) -> list[str]:
    """Mark input items and tools at the ends of layers up to ``through``; return the paths marked."""
    body = exchange.request.body
    budget = MAX_BREAKPOINTS - _markers(body)
    ttl = exchange.settings.caching.anthropic_ttl
    cc = {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": ttl}
    tools = [i for i, p in enumerate(layers.parts[: layers.boundary(1)]) if p.path.startswith("tools[")]
    candidates = [layers.boundary(2) - 1, layers.boundary(1) - 1, *tools[-1:]]
    marked: list[str] = []
    for index in dict.fromkeys(i for i in candidates if i >= 0 and layers.parts[i].layer <= through):
        path = layers.parts[index].path
        name, _, position = path.partition("[")
        if len(marked) >= budget or name not in ("input", "tools") or not position:
            continue
        item = body[name][int(position.rstrip("]"))]
        if isinstance(item, dict) and "cache_control" not in item:
            item["cache_control"] = dict(cc)
            marked.append(path)
    return marked
