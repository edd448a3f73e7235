"""Anthropic: ``cache_control`` breakpoints at the end of L0, L1 and L2.

Where they go, in order of value (at most 4 in a request, counting the client's own and
a top-level ``cache_control``):

1. the end of the stable prefix through L2 (the conversation so far);
2. the end of the stable prefix through L1 (tools and system, in Anthropic's order);
3. the previous L2 end of the same conversation, when the conversation grew by more
   than 20 blocks since (Anthropic looks back only 20 blocks from a breakpoint);
4. the end of L0 and the end of the tools, when they differ from the above.

A client's marker is never rewritten (a block it marked already is a breakpoint), and
an added marker takes the configured TTL unless that would break Anthropic's order with
the client's markers (1h entries before 5m ones): after a client's 5m marker it is 5m,
and before a client's 1h marker it is 1h only if 1h is configured (otherwise none).

Automatic caching (a top-level ``cache_control``: Anthropic breakpoints the last block and
moves it as the conversation grows) takes one of the 4 slots. The proxy's markers before it
cost no extra premium (that prefix is written anyway) and let other sessions share the
system prompt and tools, so they are added whatever the reuse plan says. When the proxy put
enhancements into the newest turn, the automatic breakpoint would write a prefix no later
request repeats: the top-level field is dropped and the layer markers do the caching.

Works on both wires: OpenAI-format requests reach Anthropic through LiteLLM, which reads
``cache_control`` on tools, content parts, tool calls and tool messages.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any

from .._exchange import Exchange
from .._types import Wire
from ..prompt._layers import Layers, has_markers, key_digest, part_value
from ..prompt._state import PromptState, SessionMark

__all__ = ["LOOKBACK_BLOCKS", "MAX_BREAKPOINTS", "apply_anthropic", "count_markers"]

MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
_UNMARKABLE = frozenset({"thinking", "redacted_thinking"})


def _markers_in(item: Any) -> int:
    if isinstance(item, dict):
        return int("cache_control" in item) + sum(_markers_in(v) for k, v in item.items() if k != "cache_control")
    if isinstance(item, list):
        return sum(_markers_in(v) for v in item)
    return 0


def count_markers(body: dict[str, Any]) -> int:
    """Breakpoints the client already placed. A top-level ``cache_control`` (Anthropic's automatic
    caching, which marks the last block) takes one of the four slots too."""
    top = int(body.get("cache_control") is not None)
    return top + sum(_markers_in(body.get(k)) for k in ("tools", "system", "messages") if has_markers(body.get(k)))


def _ttls_in(item: Any) -> list[str]:
    """The TTLs of the client's markers inside ``item``."""
    if isinstance(item, dict):
        marker = item.get("cache_control")
        own = [str(marker.get("ttl") or "5m")] if isinstance(marker, dict) else []
        return own + [t for k, v in item.items() if k != "cache_control" for t in _ttls_in(v)]
    if isinstance(item, list):
        return [t for v in item for t in _ttls_in(v)]
    return []


def _ttl_at(index: int, client: list[list[str]], wanted: str) -> str | None:
    """The TTL of a marker added at part ``index`` that keeps Anthropic's order (1h entries
    before 5m ones, across tools, system, messages) with the client's markers; None when
    none does. ``client``: the TTLs of the client's markers per part, the automatic one last."""
    before = {t for ttls in client[: index + 1] for t in ttls}  # a marker in the same part comes first
    after = {t for ttls in client[index + 1 :] for t in ttls}
    ttl = "5m" if "5m" in before else wanted
    return None if ttl != "1h" and "1h" in after else ttl


def _markable_block(blocks: list[Any]) -> dict[str, Any] | None:
    for block in reversed(blocks):
        if not isinstance(block, dict) or block.get("type") in _UNMARKABLE:
            continue
        if block.get("type") == "text" and not block.get("text"):
            continue
        return block
    return None


def _mark_content(holder: dict[str, Any], key: str, cc: dict[str, str]) -> bool:
    content = holder.get(key)
    if isinstance(content, str):
        if not content:
            return False
        holder[key] = [{"type": "text", "text": content, "cache_control": cc}]
        return True
    block = _markable_block(content) if isinstance(content, list) else None
    if block is None or "cache_control" in block:  # the client's breakpoint is there already
        return False
    block["cache_control"] = cc
    return True


def _mark(body: dict[str, Any], wire: Wire, path: str, cc: dict[str, str]) -> bool:
    name, _, index = path.partition("[")
    if name == "system" and not index:
        return _mark_content(body, "system", cc)
    item = body[name][int(index.rstrip("]"))]
    if not isinstance(item, dict) or "cache_control" in item:
        return False
    if name == "tools" or (name == "system" and item.get("text")):
        item["cache_control"] = cc
        return True
    if name != "messages":
        return False
    if wire == "openai":
        if item.get("tool_calls"):
            if "cache_control" in item["tool_calls"][-1]:
                return False
            item["tool_calls"][-1]["cache_control"] = cc
            return True
        if item.get("role") in ("tool", "function") and isinstance(item.get("content"), str):
            item["cache_control"] = cc  # LiteLLM carries it onto the tool_result block
            return True
    return _mark_content(item, "content", cc)


def _session_key(exchange: Exchange, layers: Layers) -> str:
    start = layers.boundary(1)
    first = layers.parts[start].digest if start < len(layers.parts) else ""
    return key_digest(exchange.tenant, exchange.request.model, layers.prefix_digest(1), first)


def _candidates(layers: Layers, ends: list[int], mark: SessionMark | None) -> list[int]:
    last = [layers.boundary(k) - 1 for k in (2, 1)]
    extra: list[int] = []
    if mark is not None and 0 <= mark.part_index < last[0]:
        same = layers.head_digest(mark.part_index + 1) == mark.prefix_digest
        if same and ends[last[0]] - mark.block_end > LOOKBACK_BLOCKS:
            extra.append(mark.part_index)
    tools = [i for i, p in enumerate(layers.parts[: layers.boundary(1)]) if p.path.startswith("tools[")]
    ordered = [*last, *extra, layers.boundary(0) - 1, *(tools[-1:])]
    return [i for i in dict.fromkeys(ordered) if i >= 0]


def _automatic_wasted(exchange: Exchange, layers: Layers) -> bool:
    """A top-level ``cache_control`` breakpoints the last block: the newest turn, which here
    carries the proxy's enhancements (L3) that later requests never repeat. That write is never
    read; the proxy's layer markers cache every reusable prefix for less."""
    enhanced = bool(exchange.enhancements) or any(p.layer == 3 for p in layers.parts)
    return exchange.request.body.get("cache_control") is not None and enhanced


def apply_anthropic(exchange: Exchange, layers: Layers, state: PromptState, through: int = 2) -> list[str]:
    """Add breakpoints at the ends of layers up to ``through`` (and anywhere the client's own
    breakpoints pay the write already); return the paths marked."""
    body = exchange.request.body
    if _automatic_wasted(exchange, layers):
        exchange.notes["automatic_cache_control"] = body.pop("cache_control")
    existing = count_markers(body)
    budget = MAX_BREAKPOINTS - existing
    if budget <= 0 or not layers.parts:
        return []
    # The TTLs of the client's markers in each part: read only when it marked parts at all, and
    # then walked only where a marker is.
    client: list[list[str]] = [[] for _ in layers.parts]
    if existing > (body.get("cache_control") is not None):
        values = (part_value(body, p.path) for p in layers.parts)
        client = [_ttls_in(v) if has_markers(v) else [] for v in values]
    if body.get("cache_control") is not None:
        client.append(_ttls_in({"cache_control": body["cache_control"]}))  # on the last block, after all parts
    # A prefix ending at or before the client's last breakpoint is written anyway: marking it is free.
    free_until = max((i for i, ttls in enumerate(client) if ttls), default=-1)
    ends = list(accumulate(p.blocks for p in layers.parts))
    key = _session_key(exchange, layers)
    marked: list[str] = []
    for index in _candidates(layers, ends, state.sessions.get(key)):
        if len(marked) == budget:
            break
        if layers.parts[index].layer > through and index > free_until:
            continue
        ttl = _ttl_at(index, client, exchange.settings.caching.anthropic_ttl)
        if ttl is None:
            continue
        cc = {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": ttl}
        path = layers.parts[index].path
        if _mark(body, exchange.request.wire, path, cc):
            marked.append(path)
    end = layers.boundary(2) - 1
    if end >= layers.boundary(1) and (through >= 2 or end <= free_until):
        prefix = layers.head_digest(end + 1)
        state.sessions.put(key, SessionMark(end, prefix, ends[end]))
    return marked
