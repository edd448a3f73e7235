"""The enhancement registry: a name → an async function that returns what to add at L3."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._exchange import Exchange

__all__ = ["Addition", "Enhancement", "EnhancementRegistry"]


@dataclass
class Addition:
    """What one enhancement contributes: instruction text placed at L3, request parameters to set
    (only where the client has not set them), or why it added nothing (``skipped``, told to the
    client in the ``x-layercache-enhancement-skipped`` header)."""

    text: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None


Enhancement = Callable[["Exchange", dict[str, Any]], Awaitable[Addition]]


@dataclass(frozen=True)
class _Entry:
    enhancement: Enhancement
    options: frozenset[str] | None  # the option keys it takes; None: it checks its own
    excludes: frozenset[str]


class EnhancementRegistry:
    """Named enhancements. Each app builds its own (no module-global state):

    ``registry = default_registry(); registry.register("terse", terse, options=["words"])`` and
    pass it to the stage: ``Middleware(Enhance, registry=registry)``.
    """

    def __init__(self, enhancements: Mapping[str, Enhancement] | None = None) -> None:
        self._entries: dict[str, _Entry] = {}
        for name, enhancement in (enhancements or {}).items():
            self.register(name, enhancement)

    def register(
        self,
        name: str,
        enhancement: Enhancement,
        *,
        options: Iterable[str] | None = None,
        excludes: Iterable[str] = (),
    ) -> None:
        """Add ``enhancement`` as ``name``. ``options``: the option keys it takes (any other is
        refused; None leaves checking to the enhancement). ``excludes``: enhancements whose
        instructions contradict this one's, refused in the same request."""
        allowed = frozenset(options) if options is not None else None
        self._entries[name] = _Entry(enhancement, allowed, frozenset(excludes))

    def get(self, name: str) -> Enhancement | None:
        entry = self._entries.get(name)
        return entry.enhancement if entry is not None else None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def check(self, specs: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Raise ValueError naming the first problem of ``(name, options)`` pairs: an unknown
        enhancement, an option it does not take, or two enhancements that contradict each other."""
        names = [name for name, _ in specs]
        for name, options in specs:
            entry = self._entries.get(name)
            if entry is None:
                raise ValueError(f"unknown enhancement '{name}' (known: {', '.join(self.names())})")
            unknown = sorted(set(options) - entry.options) if entry.options is not None else []
            if unknown:
                takes = ", ".join(sorted(entry.options or ())) or "none"
                raise ValueError(f"enhancement '{name}' has no option '{unknown[0]}' (options: {takes})")
        for i, name in enumerate(names):
            for other in names[i + 1 :]:
                a, b = self._entries[name], self._entries[other]
                if other in a.excludes or name in b.excludes:
                    raise ValueError(f"enhancements '{name}' and '{other}' contradict each other; use one of them")
