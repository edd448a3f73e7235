"""ASGI type aliases, kept here so every module spells them the same way, and the records
stages hand each other (re-exported by ``_exchange``), here so components can read them
without depending on the Exchange."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .wire._completion import Completion, Usage

__all__ = ["ASGIApp", "MarkPlan", "Message", "Outcome", "PrefixCheck", "Receive", "Saved", "Scope", "Send", "Wire"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The client's wire format: OpenAI chat completions, Anthropic messages, or the OpenAI Responses API.
Wire = Literal["openai", "anthropic", "responses"]


@dataclass
class Outcome:
    """What happened upstream (or instead of upstream), filled by the stage that answered."""

    status: int = 0
    completion: Completion | None = None
    provider: str = ""
    deployment: str = ""
    cache: str = "miss"  # hit | miss | bypass
    upstream_seconds: float = 0.0
    failovers: int = 0
    error: str | None = None


@dataclass(frozen=True)
class PrefixCheck:
    """The cacheable prefix (L0 to L2) against the first deployment's minimum; both None when
    there was nothing to compare (no prefix, no known minimum, or the count failed)."""

    tokens: int | None = None
    minimum: int | None = None

    @property
    def below(self) -> bool:
        return self.tokens is not None and self.minimum is not None and self.tokens < self.minimum


@dataclass(frozen=True)
class Saved:
    """What the original call of a semantic cache answer used and cost: a hit avoided all of it."""

    usage: Usage
    cost_usd: float | None = None


@dataclass(frozen=True)
class MarkPlan:
    """Which layers a request's proxy markers may end (:func:`markers.plan.plan_markers` decides)."""

    through: int  # the deepest layer whose end may carry a proxy marker; -1: none
    reason: str  # session | template | in-flight | repeats | prior | trial | deferred | always
    families: tuple[str, ...] = ()  # registered as in flight until the answer is done

    @property
    def deferred(self) -> bool:
        return self.through < 0
