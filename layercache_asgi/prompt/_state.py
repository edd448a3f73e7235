"""Shared state of the prompt engine, one per app: what recent requests looked like.

Everything here is bounded (least recently used entries are forgotten) and lives in
the process; a restart only costs one explanation or one extra breakpoint.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._lru import LRU

if TYPE_CHECKING:
    from .._exchange import Exchange
    from .._runtime import Runtime

__all__ = ["PromptState", "SessionMark", "prompt_state", "start_prompt_state"]


@dataclass(frozen=True)
class SessionMark:
    """Where the last L2 breakpoint of a conversation was put (Anthropic's lookback is 20 blocks)."""

    part_index: int
    prefix_digest: str  # digest of the parts up to and including that part
    block_end: int  # blocks in the prefix up to and including that part


@dataclass
class PromptState:
    sessions: LRU[str, SessionMark] = field(default_factory=lambda: LRU(10_000))
    # prefix family -> recent requests' layers (newest last), for explaining misses
    families: LRU[str, list[Any]] = field(default_factory=lambda: LRU(500))
    gate: Any = None  # the warm-up gate's in-flight registry (stages.warmup_gate)
    gemini: Any = None  # the Gemini CachedContent handles (markers.gemini)
    embedder: Any = None  # dynamic_few_shot's own embedder when the semantic cache has none
    few_shot: Any = None  # the loaded examples and their embeddings
    few_shot_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def prompt_state(exchange: Exchange) -> PromptState:
    """The app's prompt state; created on demand when the starter did not run (custom runtimes)."""
    state = exchange.runtime.prompt_state
    if not isinstance(state, PromptState):
        state = PromptState()
        exchange.runtime.prompt_state = state
    return state


async def start_prompt_state(runtime: Runtime) -> None:
    runtime.prompt_state = PromptState()
