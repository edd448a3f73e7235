"""Explain provider-cache misses: which layer of the cacheable prefix changed first, and where.

Each request is compared with the recent request of the same prefix family (tenant,
wire, model) that shares the longest prefix with it, which is the one a provider cache
would serve it from. The verdict goes to the ``x-layercache-prefix`` header (``stable``,
``new``, or ``changed:L1 tools[3]`` followed by ``; key=value`` details), to
``exchange.prefix_change`` for the metrics (stable/new/L0/L1/L2, and
``prefix_change_detail``), and to the log when something changed.

A conversation that extends an earlier one is stable; a new conversation on the same
system prompt and tools is stable too (its history could not have been cached yet).

Where a layer changed, ``exchange.prefix_where`` says where (the first differing block,
the byte offset in it, lengths and hashes, a volatile value such as a date); and on the
Anthropic fast path the provider is asked for its own diagnosis (``exchange.diagnosis``,
see :mod:`layercache_asgi.explain`), shown beside the proxy's and flagged where they disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import structlog

from .._exchange import Exchange, get_exchange
from .._logging import logs_at
from .._lru import LRU
from .._types import ASGIApp, Receive, Scope, Send
from ..explain import (
    BlockPrint,
    DiagnosedSend,
    Diagnosis,
    Where,
    chunk_print,
    field_of,
    first_block_difference,
    locate,
    part_texts,
    prints_of,
)
from ..prompt._facts import layers_of
from ..prompt._layers import Layers, key_digest
from ..prompt._state import PromptState, prompt_state

__all__ = ["ExplainMisses", "explain", "prefix_header"]

log = structlog.get_logger("layercache.prefix")

_HISTORY = 8  # recent requests remembered per family (bounded memory: families are an LRU too)
_TEXT_KEPT = 16_384  # bytes of a block's text kept for exact offsets, with log_prompts only


@dataclass
class _Seen:
    """A recent request of a family: its layers and blocks, and its answer's id once known."""

    layers: Layers
    prints: tuple[tuple[BlockPrint, ...], ...]  # the blocks of each part, aligned with layers.parts
    message_id: str | None = None

    @cached_property
    def blocks(self) -> tuple[BlockPrint, ...]:
        return tuple(block for part in self.prints for block in part)


def closest(current: Layers, history: Sequence[Layers]) -> int:
    """Index of the request in ``history`` sharing the longest L0-L2 prefix with ``current`` (newest wins ties)."""
    best, best_common = len(history) - 1, -1
    whole = current.boundary(2)
    for i in range(len(history) - 1, -1, -1):
        common = current.shared(history[i], through=2)
        if common > best_common:
            best, best_common = i, common
            if common >= whole:
                break  # shares all of it: no older request can share more (most requests stop here)
    return best


def _verdict(current: Layers, best: Layers) -> tuple[str, str]:
    mine, theirs = current.parts[: current.boundary(2)], best.parts[: best.boundary(2)]
    common = current.shared(best, through=2)
    if common >= len(mine) or common >= len(theirs):
        return "stable", "stable"  # one extends the other
    changed, old = mine[common], theirs[common]
    if changed.layer == 2 and common == current.boundary(1) == best.boundary(1):
        return "stable", "stable"  # a new conversation on an unchanged L0 + L1
    if changed.path != old.path and old.path.startswith("tools["):
        changed = old  # a tool was removed: name the tool, not what moved into its place
    layer = f"L{min(changed.layer, 2)}"
    return layer, f"changed:{layer} {changed.path}"


def explain(current: Layers, history: list[Layers]) -> tuple[str, str]:
    """``(cause, detail)``: cause is stable, new, L0, L1 or L2; detail the header's verdict."""
    if not history:
        return "new", "new"
    return _verdict(current, history[closest(current, history)])


def prefix_header(exchange: Exchange) -> str:
    """``x-layercache-prefix``: the verdict, then where (block, byte, volatile) and the provider's reason."""
    parts = [exchange.prefix_change_detail or "new"]
    where = exchange.prefix_where
    if where is not None:
        parts.append(f"block={where.path}")
        if where.offset is not None:
            parts.append(f"byte={where.offset}")
        if where.volatile:
            parts.append(f"volatile={where.volatile}")
    diagnosis = exchange.diagnosis
    if diagnosis is not None and diagnosis.reason is not None:
        parts.append(f"provider={diagnosis.reason}")
        if diagnosis.agrees is False:
            parts.append("disagree")
    return "; ".join(parts)


class ExplainMisses:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is None or exchange.request.ext.lc_bypass_cache:
            await self.app(scope, receive, send)
            return
        seen = self._explain(exchange, layers_of(exchange))
        diagnosis = exchange.diagnosis
        if diagnosis is not None:
            send = DiagnosedSend(send, diagnosis, lambda: prefix_header(exchange))
        await self.app(scope, receive, send)
        outcome = exchange.outcome
        answered = outcome.completion.id if outcome.completion is not None else ""
        if diagnosis is not None and diagnosis.sent and outcome.provider == "anthropic" and answered.startswith("msg_"):
            seen.message_id = answered  # Anthropic keeps this request's fingerprint under it
        if diagnosis is not None and diagnosis.agrees is False and logs_at("layercache.prefix"):
            log.info(
                "prefix_verdicts_differ",
                model=exchange.request.model,
                proxy=exchange.prefix_change_detail,
                provider=diagnosis.reason,
            )

    def _explain(self, exchange: Exchange, layers: Layers) -> _Seen:
        state = prompt_state(exchange)
        request = exchange.request
        key = key_digest(exchange.tenant, request.wire, request.model)
        history: list[_Seen] = state.families.get(key) or []
        if not exchange.settings.logging.log_prompts and len(state.texts):
            state.texts = LRU(state.texts.size)  # log_prompts was turned off: forget the texts kept under it
        reference = history[closest(layers, [s.layers for s in history])] if history else None
        # Remembered without the part values, which would keep every request body alive.
        seen = _Seen(layers.without_values(), _prints(layers, request.body, reference))
        cause, detail = _verdict(layers, reference.layers) if reference is not None else ("new", "new")
        exchange.prefix_change, exchange.prefix_change_detail = cause, detail
        blocks = seen.blocks
        index = first_block_difference(blocks, reference.blocks) if reference is not None else None
        if reference is not None and index is not None and cause in ("L0", "L1", "L2"):
            exchange.prefix_where = _where(layers, seen, reference.blocks, request.body, index, state)
        self._ask_provider(exchange, reference, index, blocks)
        exchange.response_headers["x-layercache-prefix"] = prefix_header(exchange)
        if cause not in ("stable", "new") and logs_at("layercache.prefix"):
            where = exchange.prefix_where.describe() if exchange.prefix_where else detail.partition(" ")[2]
            log.info("prefix_changed", model=request.model, layer=cause, where=where)
        _remember_blocks(state, layers, seen, request.body, keep_text=exchange.settings.logging.log_prompts)
        state.families.put(key, [*history[-(_HISTORY - 1) :], seen])
        return seen

    def _ask_provider(
        self, exchange: Exchange, reference: _Seen | None, index: int | None, blocks: tuple[BlockPrint, ...]
    ) -> None:
        request = exchange.request
        client_asked = "diagnostics" in request.body
        if request.wire != "anthropic" or not (client_asked or exchange.settings.caching.provider_diagnostics):
            return
        diverged = None
        if reference is not None and index is not None:
            block = blocks[index] if index < len(blocks) else reference.blocks[index]
            diverged = field_of(block.path)
        previous = reference.message_id if reference is not None else None
        if client_asked:
            previous = _client_reference(request.body)
        exchange.diagnosis = Diagnosis(
            previous_id=previous,
            client_asked=client_asked,
            proxy_field=diverged,
            beta=exchange.settings.caching.provider_diagnostics_beta,
        )


def _client_reference(body: dict[str, Any]) -> str | None:
    """The answer id a client's own ``diagnostics`` names (None: it only opted in)."""
    asked = body.get("diagnostics")
    found = asked.get("previous_message_id") if isinstance(asked, dict) else None
    return found if isinstance(found, str) else None


def _prints(layers: Layers, body: dict[str, Any], reference: _Seen | None) -> tuple[tuple[BlockPrint, ...], ...]:
    """The blocks of each part. A session repeats the parts of its previous turn: those (same path,
    same content digest) take the earlier request's prints, and only the parts after are read."""
    same = layers.shared(reference.layers) if reference is not None else 0
    reused = reference.prints[:same] if reference is not None else ()
    fresh = (prints_of(_texts_of(layers, body, i)) for i in range(same, len(layers.parts)))
    return (*reused, *fresh)


def _texts_of(layers: Layers, body: dict[str, Any], part: int) -> list[tuple[str, bytes]]:
    """The texts of one part's blocks, read only where needed (a new part, a changed block)."""
    return part_texts(layers.parts[part].path, layers.value(part, body))


def _where(
    layers: Layers, seen: _Seen, previous: tuple[BlockPrint, ...], body: dict[str, Any], index: int, state: PromptState
) -> Where:
    current = seen.blocks
    mine = current[index] if index < len(current) else None
    theirs = previous[index] if index < len(previous) else None
    if mine is not None and theirs is not None and mine.path != theirs.path and theirs.path.startswith("tools["):
        mine = None  # a tool was removed: point at it
    text = None
    if mine is not None:
        start = 0
        for part, prints in enumerate(seen.prints):
            if index < start + len(prints):
                texts = _texts_of(layers, body, part)
                # Printed by an earlier request, the part may since have had a marker put on its string
                # content (one block either way): then the block's text is there, as the only one.
                text = texts[index - start][1] if len(texts) == len(prints) else None
                break
            start += len(prints)
    chunks = state.chunks.get(theirs.digest) if theirs is not None else None
    old_text = state.texts.get(theirs.digest) if theirs is not None else None
    return locate(mine, theirs, text, chunks, old_text)


def _remember_blocks(state: PromptState, layers: Layers, seen: _Seen, body: dict[str, Any], *, keep_text: bool) -> None:
    """Chunk hashes of each block not yet known (blocks repeat turn after turn: most are, and
    their texts are not read again)."""
    unknown = state.chunks.touch(block.digest for block in seen.blocks)
    if keep_text:
        unknown |= {block.digest for block in seen.blocks if block.digest not in state.texts}
    if not unknown:
        return
    for part, prints in enumerate(seen.prints):
        if not any(block.digest in unknown for block in prints):
            continue
        texts = _texts_of(layers, body, part)
        if len(texts) != len(prints):
            continue
        for block, (_path, text) in zip(prints, texts, strict=True):
            if state.chunks.get(block.digest) is None:
                state.chunks.put(block.digest, chunk_print(text))
            if keep_text and block.digest not in state.texts:
                state.texts.put(block.digest, text[:_TEXT_KEPT])
