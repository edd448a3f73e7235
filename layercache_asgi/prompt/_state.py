"""Shared state of the prompt engine, one per app: what recent requests looked like.

Everything here is bounded (least recently used entries are forgotten) and lives in
the process; a restart only costs one explanation or one extra breakpoint.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from .._lru import LRU

__all__ = ["AppBound", "PromptState", "SessionMark", "prompt_state"]


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
    # block digest -> chunk hashes (and, with log_prompts, the text): where in a block a change starts
    chunks: LRU[str, Any] = field(default_factory=lambda: LRU(10_000))
    texts: LRU[str, bytes] = field(default_factory=lambda: LRU(1_000))
    diagnostics_refused: set[str] = field(default_factory=set)  # deployments that refused `diagnostics`
    gemini: Any = None  # the Gemini CachedContent handles (markers.gemini)
    reuse: Any = None  # prefix families seen, for the marker decision (prompt._reuse)
    minimums: Any = None  # minimum prefix sizes learned per model (prompt._learned_minimums)
    embedder: Any = None  # dynamic_few_shot's own embedder when the semantic cache has none
    few_shot: Any = None  # the loaded examples and their embeddings
    few_shot_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class _Holder(Protocol):
    @property
    def prompt_state(self) -> PromptState: ...


class AppBound(Protocol):
    """Anything bound to a running app (an Exchange is): it reaches the app's prompt state."""

    @property
    def runtime(self) -> _Holder: ...


def prompt_state(exchange: AppBound) -> PromptState:
    """The app's prompt state (``exchange.runtime.prompt_state``, made with the runtime)."""
    return exchange.runtime.prompt_state
