"""Semantic cache entries in the database, with an in-memory vector index in front.

Lookups read only the rows of one (tenant, exact key) bucket; the index keeps those
vectors in memory between requests and tops them up with rows other replicas stored
(see ``_buckets``). New entries are written behind (see ``_writer``): they join the
index at once under a provisional negative id, answered from memory until their row is
written and the id becomes the real one. Hits are counted in batches (``_hits``);
expiry and the size cap are in ``_upkeep``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import structlog

from ..db import Database
from ..wire._completion import Completion
from ._answers import ANSWER, StoredAnswer, answer_of_pending, answer_of_row, as_utc, utc_now
from ._buckets import BucketSync
from ._hits import HitCounter
from ._index import Bucket, Candidate, Vector, VectorIndex
from ._upkeep import delete_beyond_cap, delete_expired
from ._writer import EntryWriter, PendingEntry, outside_request

__all__ = ["SemanticStore", "StoredAnswer", "as_utc", "utc_now"]

log = structlog.get_logger("layercache.semantic")

# Whether a candidate's question asks the same (the guard, maybe a verifier: see ``_judge``).
Accept = Callable[[Candidate], Awaitable[bool]]
Saw = Callable[[float | None], None] | None

# Above this many rows the matrix product moves off the event loop.
_OFF_LOOP_ROWS = 4096
# How long closing waits for queued entries to be written.
_CLOSE_FLUSH_SECONDS = 10.0


class SemanticStore:
    def __init__(self, db: Database, *, max_entries: int, dim: int) -> None:
        self.db = db
        self.max_entries = max_entries
        self.dim = dim
        self.index = VectorIndex(max_rows=max(2 * max_entries, 1000))
        self._tasks: set[asyncio.Task[Any]] = set()
        self._written_since_cap = 0
        self._writer = EntryWriter(db, written=self._on_written, dropped=self._on_dropped)
        self._buckets = BucketSync(db, self.index, self._writer, dim=dim, spawn=self._spawn)
        self._hits = HitCounter(db, self._writer, self._spawn)

    # -- lookup ---------------------------------------------------------------------------

    async def lookup(
        self,
        tenant: str,
        exact: str,
        vector: Vector,
        threshold: float,
        accept: Accept,
        saw: Saw = None,
    ) -> StoredAnswer | None:
        """The most similar answer at or above ``threshold`` whose candidate ``accept`` takes.

        With the bucket in memory, the best match found there is checked (still stored?) and
        its answer read in the same query that tops the bucket up: one round trip per hit.
        ``saw`` learns the nearest similarity in the bucket, whatever the threshold.
        """
        key = (tenant, exact)
        bucket = self.index.get(key)
        if bucket is None:
            bucket = await self.bucket(tenant, exact)
            return await self._pick(bucket, vector, threshold, accept, {}, saw)
        guess = await self._first(bucket, vector, threshold, accept, saw)
        rows: dict[int, Sequence[Any]] = {}
        gone = False
        if guess is None or guess.entry_id < 0:  # nothing to check in the database
            # Only this app writes (a SQLite file it alone holds): the bucket in memory is complete.
            added = await self._buckets.shared_top_up(key, bucket) if self.db.shared() else 0
        else:
            added, rows = await self._buckets.top_up(bucket, tenant, exact, also=guess.entry_id)
            gone = guess.entry_id not in rows  # deleted (by a replica or the API) or expired meanwhile
            if gone:
                self.index.remove_ids({guess.entry_id})
        self._buckets.reload_now_and_then(key, bucket)
        if added or gone:  # new rows may match better; a vanished match may have a runner-up
            return await self._pick(bucket, vector, threshold, accept, rows, saw)
        if guess is None:
            return None
        row = rows.get(guess.entry_id)
        return answer_of_row(row, guess) if row is not None else await self.fetch(guess)

    async def _first(
        self, bucket: Bucket, vector: Vector, threshold: float, accept: Accept, saw: Saw
    ) -> Candidate | None:
        for candidate in await self.candidates(bucket, vector, threshold, saw=saw):
            if await accept(candidate):
                return candidate
        return None

    async def _pick(
        self,
        bucket: Bucket,
        vector: Vector,
        threshold: float,
        accept: Accept,
        rows: dict[int, Sequence[Any]],
        saw: Saw,
    ) -> StoredAnswer | None:
        for candidate in await self.candidates(bucket, vector, threshold, saw=saw):
            if not await accept(candidate):
                continue
            row = rows.get(candidate.entry_id)
            answer = answer_of_row(row, candidate) if row is not None else await self.fetch(candidate)
            if answer is not None:
                return answer
        return None

    async def candidates(
        self, bucket: Bucket, vector: Vector, threshold: float, limit: int = 8, *, saw: Saw = None
    ) -> list[Candidate]:
        """Stored inputs of ``bucket`` at or above ``threshold``, most similar first."""
        now = time.time()
        if bucket.size > _OFF_LOOP_ROWS:
            # The rows are read here, on the loop: the thread must not see a bucket the loop is changing.
            found, nearest = await asyncio.to_thread(bucket.rows().scan, vector, threshold, now, limit)
        else:
            found, nearest = bucket.scan(vector, threshold, now, limit)
        if saw is not None:
            saw(nearest)
        return found

    async def fetch(self, candidate: Candidate) -> StoredAnswer | None:
        """The candidate's stored answer, or None (and forgotten) if it expired or was deleted."""
        if candidate.entry_id < 0:  # stored by this process, maybe not written yet
            pending = self._writer.pending.get(candidate.entry_id)
            if pending is not None:
                return answer_of_pending(pending, candidate) if pending.expires > time.time() else None
            written = self._writer.written_id(candidate.entry_id)
            if written is None:
                return None  # given up by the writer
            candidate = Candidate(written, candidate.similarity, candidate.query)
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(ANSWER, {"entry_id": candidate.entry_id, "now": utc_now()})).first()
        if row is None:
            self.index.remove_ids({candidate.entry_id})
            return None
        return answer_of_row(row, candidate)

    def record_hit(self, entry_id: int) -> None:
        """Count the hit and refresh its LRU time, batched so a hit never waits on a database write."""
        self._hits.record(entry_id)

    async def flush_hits(self) -> None:
        await self._hits.flush()

    async def bucket(self, tenant: str, exact: str) -> Bucket:
        """The in-memory bucket of (tenant, exact key), loaded or topped up from the database."""
        return await self._buckets.bucket(tenant, exact)

    # -- store ----------------------------------------------------------------------------

    def add(
        self,
        *,
        tenant: str,
        model: str,
        exact: str,
        query: str,
        vector: Vector,
        completion: Completion,
        ttl: int,
        cost_usd: float = 0.0,
    ) -> int | None:
        """Queue a new entry; lookups see it at once. Its provisional id, or None when the backlog is full."""
        now = utc_now()
        expires_at = now + timedelta(seconds=ttl)
        values = {
            "tenant": tenant,
            "model": model,
            "exact_key": exact,
            "query_text": query,
            "embedding": np.asarray(vector, dtype=np.float32).tobytes(),
            "response": completion.to_dict(),
            "input_tokens": completion.usage.input_total,
            "output_tokens": completion.usage.output,
            "cost_usd": cost_usd,
            "hit_count": 0,
            "created_at": now,
            "last_hit_at": now,
            "expires_at": expires_at,
        }
        entry = self._writer.submit((tenant, exact), values, vector, expires_at.timestamp())
        if entry is None:
            return None
        bucket = self.index.get(entry.key)
        if bucket is not None:
            bucket.add(entry.entry_id, vector, query, entry.expires)
        return entry.entry_id

    @property
    def pending_writes(self) -> int:
        """Answers accepted but not yet in the database (what a crash would lose)."""
        return len(self._writer.pending)

    async def flush(self) -> None:
        """Wait until the entries queued so far are in the database."""
        await self._writer.flush()

    async def _on_written(self, done: list[tuple[PendingEntry, int]]) -> None:
        for entry, entry_id in done:
            self._hits.renamed(entry.entry_id, entry_id)
            bucket = self.index.get(entry.key)
            if bucket is not None:  # without moving the watermark: rows of other replicas may still be below it
                bucket.rename(entry.entry_id, entry_id)
        self._written_since_cap += len(done)
        if self._written_since_cap >= max(1, self.max_entries // 100):
            self._written_since_cap = 0
            await self.enforce_cap()

    def _on_dropped(self, entries: list[PendingEntry]) -> None:
        self.index.remove_ids({entry.entry_id for entry in entries})

    # -- upkeep ---------------------------------------------------------------------------

    async def purge_expired(self) -> int:
        return await delete_expired(self.db, self.index)

    async def enforce_cap(self) -> int:
        """Delete the least recently used entries beyond ``max_entries``."""
        await self.flush_hits()
        return await delete_beyond_cap(self.db, self.index, self.max_entries)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro, context=outside_request())
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("semantic_background_task_failed", error=type(task.exception()).__name__)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.flush(), _CLOSE_FLUSH_SECONDS)
        with contextlib.suppress(Exception):
            await self.flush_hits()
        tasks = [*self._tasks, *self._buckets.top_ups.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
