"""A pluggable second-stage verifier: asked about the candidates the guard passes or is unsure of.

The guard is rules over words; a cross-encoder (a model that reads both questions together,
such as a duplicate-question classifier) judges meaning. It is slower, so it is asked only
about candidates that already cleared the similarity threshold, and only those that
``caching.semantic.verifier.when`` names. Anything with an async
``verify(query, candidate) -> score`` fits :class:`Verifier`; the shipped one runs an ONNX
cross-encoder (:mod:`._cross_encoder`).

A verifier that cannot load or fails degrades to the guard alone: a log line, a metric,
and the guard's verdict stands.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import structlog

if TYPE_CHECKING:
    from .._config import VerifierSettings

__all__ = ["Verifier", "VerifierSlot", "asks_verifier"]

log = structlog.get_logger("layercache.semantic")


@runtime_checkable
class Verifier(Protocol):
    """Scores whether a stored question asks the same as the new one."""

    async def load(self) -> None:
        """Load the model (off the event loop); raise when it cannot be used."""

    async def verify(self, query: str, candidate: str) -> float:
        """A score in [0, 1]: how surely ``candidate``'s answer also answers ``query``."""

    async def close(self) -> None:
        """Release the model."""


def asks_verifier(when: str, guard_passed: bool, guard_unsure: bool) -> bool:
    """Whether the verifier is asked about a candidate the guard judged so.

    ``pass``: only candidates the guard passed (the verifier may veto them); ``unsure``: only
    those the guard refused for want of knowing (the verifier may let them through); ``always``:
    both. What the guard refuses outright (numbers, negation, names...) stays refused.
    """
    if guard_passed:
        return when in ("pass", "always")
    return guard_unsure and when in ("unsure", "always")


class VerifierSlot:
    """The verifier of one semantic cache: loaded on first use in the background, given up
    (guard only, logged once) when it cannot load."""

    def __init__(self, verifier: Verifier | None, settings: VerifierSettings) -> None:
        self.verifier = verifier
        self.settings = settings
        self.failed: str | None = None  # why it is not used: set once loading failed
        self._loading: asyncio.Task[None] | None = None

    @property
    def configured(self) -> bool:
        return self.verifier is not None

    def start_loading(self) -> None:
        """Begin loading in the background (at start-up), so the first lookup rarely waits for it."""
        if self.verifier is not None and self._loading is None:
            self._loading = asyncio.get_running_loop().create_task(self.verifier.load())
            self._loading.add_done_callback(_consume)

    async def score(self, query: str, candidate: str) -> tuple[float | None, str]:
        """(the verifier's score, "ok"), or (None, "unavailable") when it could not load, or
        (None, "error") when it failed on this pair (both logged)."""
        verifier = self.verifier
        if verifier is None or self.failed is not None:
            return None, "unavailable"
        if self._loading is None:
            self._loading = asyncio.get_running_loop().create_task(verifier.load())
        try:
            await asyncio.shield(self._loading)
        except Exception as exc:
            if self.failed is None:
                self.failed = type(exc).__name__
                log.warning(
                    "semantic_verifier_unavailable",
                    error=type(exc).__name__,
                    detail=str(exc)[:200],
                    effect="the guard alone judges candidates",
                )
            return None, "unavailable"
        try:
            return float(await verifier.verify(query, candidate)), "ok"
        except Exception as exc:  # one failed pair: the guard's verdict stands for it
            log.warning("semantic_verifier_failed", error=type(exc).__name__)  # the text may quote the pair
            return None, "error"

    async def close(self) -> None:
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
            with contextlib.suppress(BaseException):
                await self._loading
        if self.verifier is not None:
            with contextlib.suppress(Exception):
                await self.verifier.close()


def _consume(task: asyncio.Task[None]) -> None:
    # A failed load is logged when a lookup first needs the verifier; this keeps asyncio quiet.
    if not task.cancelled():
        task.exception()
