"""The semantic cache as the runtime holds it: embedder, store, guard and single flight together."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import structlog

from .._config import SemanticCacheSettings, VerifierSettings
from ..db import Database
from ..wire._completion import Completion
from ._cross_encoder import OnnxCrossEncoder
from ._embedder import Embedder, EmbedderUnavailable
from ._flight import SingleFlight
from ._guard import LEARN_ROUNDS, Guard
from ._index import Vector
from ._judge import Judge, LookupTrace
from ._key import CacheKey
from ._lexicon import current_lexicon
from ._store import SemanticStore, StoredAnswer
from ._thresholds import resolve_thresholds, resolve_weighing
from ._verifier import Verifier, VerifierSlot

__all__ = ["SemanticCacheService"]

log = structlog.get_logger("layercache.semantic")


class SemanticCacheService:
    """Started by :func:`start_semantic_cache`; ``runtime.semantic`` while the cache is usable."""

    def __init__(
        self, db: Database, embedder: Embedder, settings: SemanticCacheSettings, *, verifier: Verifier | None = None
    ) -> None:
        """``verifier``: a :class:`Verifier` of your own; by default the ONNX cross-encoder that
        ``settings.verifier.model_path`` names, or none."""
        self.db = db
        self.embedder = embedder
        self.settings = settings
        self.store: SemanticStore | None = None  # created once the model is loaded and its size known
        self.flights = SingleFlight()
        self.guard = Guard(embedder)
        self.verifier = VerifierSlot(verifier or _verifier(settings.verifier), settings.verifier)
        self.namespace = embedder.model_name + (f"@{Path(embedder.model_path).name}" if embedder.model_path else "")
        self._purger: asyncio.Task[None] | None = None
        self._loader: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        """False while the model is loading, and for good once it failed to load."""
        return self.store is not None and self.embedder.available

    async def start(self) -> bool:
        """Load the model (waiting up to ``model_load_wait_seconds``) and start the purge loop.

        False when the model cannot load: the cache is off and the proxy serves uncached.
        """
        self._loader = asyncio.get_running_loop().create_task(self._load())
        current_lexicon()  # starts reading the guard's word table in a background thread
        self._loader.add_done_callback(_consume)
        # A model read from a folder loads in bounded time: start-up waits for it. One fastembed
        # fetches by name may retry an unreachable hub for a minute: it loads in the background.
        wait = self.settings.model_load_wait_seconds if self.embedder.model_path else 0.0
        # A timeout leaves the model loading in the background; a failure was logged by the embedder.
        with contextlib.suppress(TimeoutError, EmbedderUnavailable):
            await asyncio.wait_for(asyncio.shield(self._loader), wait)
        if self._loader.done() and self._loader.exception() is not None:
            return False
        if not self._loader.done():
            log.info(
                "semantic_cache_waiting",
                model=self.embedder.model_path or self.embedder.model_name,
                waiting_for="the embedding model to load"
                + ("" if self.embedder.model_path else " (fastembed downloads it if it is not in its cache)"),
                effect="requests are proxied uncached until it is ready",
            )
        self._purger = asyncio.get_running_loop().create_task(self._purge_loop())
        self.verifier.start_loading()
        return True

    async def _load(self) -> None:
        await self.embedder.load()
        assert self.embedder.dim is not None
        self.store = SemanticStore(self.db, max_entries=self.settings.max_entries, dim=self.embedder.dim)

    async def embed_query(self, text: str) -> Vector:
        rows = await self.embedder.embed([text])
        vector: Vector = rows[0]
        return vector

    async def lookup(
        self, key: CacheKey, settings: SemanticCacheSettings
    ) -> tuple[Vector, StoredAnswer | None, LookupTrace]:
        """The query's vector, the best stored answer at or above the threshold that the guard (and
        the verifier, where asked) accepts, and what the lookup saw on the way."""
        store = self._store()
        vector = await self.embed_query(key.query)
        threshold, word_cut = resolve_thresholds(settings)
        weighing = resolve_weighing(settings)
        guard = self.guard
        judge = Judge(
            key.query,
            settings,
            (lambda new, stored: guard.check(new, stored, word_cut, weighing)) if settings.guard else None,
            self.verifier,
        )
        trace = judge.trace
        answer = await store.lookup(key.tenant, key.exact, vector, threshold, judge.accept, trace.saw)
        for _ in range(LEARN_ROUNDS):  # words (or texts) the guard has no vectors for yet: embed, look again
            needs = trace.needs() if answer is None else []
            if not needs:
                break
            try:
                await self.guard.learn(needs)
            except EmbedderUnavailable:  # without them the guard refuses: a miss
                break
            answer = await store.lookup(key.tenant, key.exact, vector, threshold, judge.accept, trace.saw)
        if answer is not None:
            store.record_hit(answer.entry_id)
        return vector, answer, trace

    def remember(self, key: CacheKey, vector: Vector, completion: Completion, ttl: int) -> bool:
        """Store the answer (written behind; lookups see it at once). False when it could not be queued."""
        entry_id = self._store().add(
            tenant=key.tenant,
            model=key.model,
            exact=key.exact,
            query=key.query,
            vector=vector,
            completion=completion,
            ttl=ttl,
        )
        return entry_id is not None

    @property
    def pending_writes(self) -> int:
        """Answers written behind and not in the database yet."""
        return self.store.pending_writes if self.store is not None else 0

    async def flush(self) -> None:
        """Wait until the answers stored so far are in the database (before listing or deleting entries)."""
        if self.store is not None:
            await self.store.flush()

    def forget(self, entry_ids: set[int] | None = None) -> None:
        """Drop deleted entries from the in-memory index (None: all of them)."""
        if self.store is None:
            return
        if entry_ids is None:
            self.store.index.clear()
        else:
            self.store.index.remove_ids(entry_ids)

    def _store(self) -> SemanticStore:
        if self.store is None:
            raise EmbedderUnavailable("the embedding model is not loaded yet")
        return self.store

    async def _purge_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.purge_interval_seconds)
            if self.store is None:
                continue
            try:
                purged = await self.store.purge_expired()
                evicted = await self.store.enforce_cap()
            except Exception as exc:  # a database hiccup must not end the loop
                log.warning("semantic_purge_failed", error=type(exc).__name__, detail=str(exc)[:200])
                continue
            if purged or evicted:
                log.info("semantic_purged", expired=purged, evicted=evicted)

    async def close(self) -> None:
        for task in (self._purger, self._loader):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if self.store is not None:
            await self.store.close()
        await self.verifier.close()
        await self.embedder.close()


def _verifier(settings: VerifierSettings) -> Verifier | None:
    # Built here, loaded on first use (off the event loop): construction does no I/O.
    if settings.model_path is None:
        return None
    return OnnxCrossEncoder(settings.model_path, max_length=settings.max_length)


def _consume(task: asyncio.Task[Any]) -> None:
    # A failed load was already logged by the embedder; reading the exception keeps asyncio quiet.
    if not task.cancelled():
        task.exception()
