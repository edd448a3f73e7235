"""The enhancement registry: a name → an async function that returns what to add at L3."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._exchange import Exchange

__all__ = ["Addition", "Enhancement", "EnhancementRegistry"]


@dataclass
class Addition:
    """What one enhancement contributes: instruction text placed at L3, request parameters to set
    (only where the client has not set them)."""

    text: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


Enhancement = Callable[["Exchange", dict[str, Any]], Awaitable[Addition]]


class EnhancementRegistry:
    """Named enhancements. Each app builds its own (no module-global state):

    ``registry = default_registry(); registry.register("terse", terse)`` and pass it to the
    stage: ``Middleware(Enhance, registry=registry)``.
    """

    def __init__(self, enhancements: dict[str, Enhancement] | None = None) -> None:
        self._enhancements: dict[str, Enhancement] = dict(enhancements or {})

    def register(self, name: str, enhancement: Enhancement) -> None:
        self._enhancements[name] = enhancement

    def get(self, name: str) -> Enhancement | None:
        return self._enhancements.get(name)

    def names(self) -> list[str]:
        return sorted(self._enhancements)
