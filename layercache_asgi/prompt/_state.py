"""Shared state of the prompt engine, one per app: what recent requests looked like.

Everything here is bounded (least recently used entries are forgotten) and lives in
the process; a restart only costs one explanation or one extra breakpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .._lru import LRU

__all__ = ["AppBound", "PromptState", "SessionMark", "prompt_state"]

T = TypeVar("T")


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
    # Parts owned by modules above this one (Gemini handles, reuse estimator, learned minimums,
    # few-shot examples), keyed by the class that makes them: see part().
    _parts: dict[Callable[[], Any], Any] = field(default_factory=dict)

    def part(self, make: Callable[[], T]) -> T:
        """The app's one ``make()`` (made on first use): ``state.part(GeminiHandles)``.

        Typed by its maker, so this low module need not import the modules that own each part.
        """
        try:
            return self._parts[make]  # type: ignore[no-any-return]
        except KeyError:
            made = self._parts[make] = make()
            return made


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
