"""Semantic cache entries in the database, with an in-memory vector index in front.

Lookups read only the rows of one (tenant, exact key) bucket; the index keeps those
vectors in memory between requests and tops them up with rows other replicas stored
(concurrent lookups of one bucket share one top-up query). New entries are written
behind (see ``_writer``): they join the index at once under a provisional negative id,
answered from memory until their row is written and the id becomes the real one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, bindparam, delete, func, or_, select, update

from ..db import Database, SemanticEntry
from ..wire._completion import Completion
from ._index import Bucket, BucketKey, Candidate, Vector, VectorIndex
from ._writer import EntryWriter, PendingEntry, outside_request

__all__ = ["SemanticStore", "StoredAnswer", "as_utc", "utc_now"]

# A full reload of a bucket picks up rows a replica committed out of id order and rows
# deleted elsewhere; between reloads, a lookup reads only ids above the watermark.
_RELOAD_SECONDS = 120.0
# Above this many rows the matrix product moves off the event loop.
_OFF_LOOP_ROWS = 4096
# Hit counts and LRU times are written in batches, at most this long after the hit.
_HIT_FLUSH_SECONDS = 0.5
# How long closing waits for queued entries to be written.
_CLOSE_FLUSH_SECONDS = 10.0

# The request path's queries, built once: building a statement costs more than running it.
_NEW_ROWS = (
    select(SemanticEntry.id, SemanticEntry.query_text, SemanticEntry.embedding, SemanticEntry.expires_at)
    .where(
        SemanticEntry.tenant == bindparam("tenant"),
        SemanticEntry.exact_key == bindparam("exact"),
        SemanticEntry.id > bindparam("after"),
        SemanticEntry.expires_at > bindparam("now"),
    )
    .order_by(SemanticEntry.id)
)
_ANSWER_COLUMNS = (
    SemanticEntry.response,
    SemanticEntry.input_tokens,
    SemanticEntry.output_tokens,
    SemanticEntry.cost_usd,
)
_ANSWER = select(*_ANSWER_COLUMNS).where(
    SemanticEntry.id == bindparam("entry_id"), SemanticEntry.expires_at > bindparam("now")
)
# A lookup whose best match is already in memory checks that it still exists and reads its
# answer in the same round trip as the bucket's new rows.
_NEW_ROWS_AND_ANSWER = select(
    SemanticEntry.id, SemanticEntry.query_text, SemanticEntry.embedding, SemanticEntry.expires_at, *_ANSWER_COLUMNS
).where(
    or_(
        and_(
            SemanticEntry.tenant == bindparam("tenant"),
            SemanticEntry.exact_key == bindparam("exact"),
            SemanticEntry.id > bindparam("after"),
        ),
        SemanticEntry.id == bindparam("entry_id"),
    ),
    SemanticEntry.expires_at > bindparam("now"),
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass
class StoredAnswer:
    entry_id: int
    similarity: float
    query: str
    response: dict[str, Any]
    input_tokens: int
    output_tokens: int
    cost_usd: float


class SemanticStore:
    def __init__(self, db: Database, *, max_entries: int, dim: int) -> None:
        self.db = db
        self.max_entries = max_entries
        self.dim = dim
        self.index = VectorIndex(max_rows=max(2 * max_entries, 1000))
        self._load_lock = asyncio.Lock()
        self._reloading: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pending_hits: Counter[int] = Counter()
        self._flush_scheduled = False
        self._top_ups: dict[BucketKey, asyncio.Task[tuple[int, dict[int, Sequence[Any]]]]] = {}
        self._written_since_cap = 0
        self._writer = EntryWriter(db, written=self._on_written, dropped=self._on_dropped)

    # -- lookup ---------------------------------------------------------------------------

    async def lookup(
        self, tenant: str, exact: str, vector: Vector, threshold: float, accept: Callable[[str], bool]
    ) -> StoredAnswer | None:
        """The most similar answer at or above ``threshold`` whose question ``accept`` takes.

        With the bucket in memory, the best match found there is checked (still stored?) and
        its answer read in the same query that tops the bucket up: one round trip per hit.
        """
        key = (tenant, exact)
        bucket = self.index.get(key)
        if bucket is None:
            bucket = await self.bucket(tenant, exact)
            return await self._pick(bucket, vector, threshold, accept, {})
        guess = await self._first(bucket, vector, threshold, accept)
        rows: dict[int, Sequence[Any]] = {}
        gone = False
        if guess is None or guess.entry_id < 0:  # nothing to check in the database
            added = await self._shared_top_up(key, bucket)
        else:
            added, rows = await self._top_up(bucket, tenant, exact, also=guess.entry_id)
            gone = guess.entry_id not in rows  # deleted (by a replica or the API) or expired meanwhile
            if gone:
                self.index.remove_ids({guess.entry_id})
        self._reload_now_and_then(key, bucket)
        if added or gone:  # new rows may match better; a vanished match may have a runner-up
            return await self._pick(bucket, vector, threshold, accept, rows)
        if guess is None:
            return None
        row = rows.get(guess.entry_id)
        return _stored(row, guess) if row is not None else await self.fetch(guess)

    async def _first(
        self, bucket: Bucket, vector: Vector, threshold: float, accept: Callable[[str], bool]
    ) -> Candidate | None:
        for candidate in await self.candidates(bucket, vector, threshold):
            if accept(candidate.query):
                return candidate
        return None

    async def _pick(
        self,
        bucket: Bucket,
        vector: Vector,
        threshold: float,
        accept: Callable[[str], bool],
        rows: dict[int, Sequence[Any]],
    ) -> StoredAnswer | None:
        for candidate in await self.candidates(bucket, vector, threshold):
            if not accept(candidate.query):
                continue
            row = rows.get(candidate.entry_id)
            answer = _stored(row, candidate) if row is not None else await self.fetch(candidate)
            if answer is not None:
                return answer
        return None

    async def candidates(self, bucket: Bucket, vector: Vector, threshold: float, limit: int = 8) -> list[Candidate]:
        """Stored inputs of ``bucket`` at or above ``threshold``, most similar first."""
        now = time.time()
        if bucket.size > _OFF_LOOP_ROWS:
            return await asyncio.to_thread(bucket.search, vector, threshold, now, limit)
        return bucket.search(vector, threshold, now, limit)

    async def fetch(self, candidate: Candidate) -> StoredAnswer | None:
        """The candidate's stored answer, or None (and forgotten) if it expired or was deleted."""
        if candidate.entry_id < 0:  # stored by this process, maybe not written yet
            pending = self._writer.pending.get(candidate.entry_id)
            if pending is not None:
                return _answer_of(pending, candidate) if pending.expires > time.time() else None
            written = self._writer.written_id(candidate.entry_id)
            if written is None:
                return None  # given up by the writer
            candidate = Candidate(written, candidate.similarity, candidate.query)
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(_ANSWER, {"entry_id": candidate.entry_id, "now": utc_now()})).first()
        if row is None:
            self.index.remove_ids({candidate.entry_id})
            return None
        return _stored(row, candidate)

    def record_hit(self, entry_id: int) -> None:
        """Count the hit and refresh its LRU time, batched so a hit never waits on a database write."""
        self._pending_hits[self._writer.written_id(entry_id) or entry_id] += 1
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._spawn(self._flush_hits_later())

    async def _flush_hits_later(self) -> None:
        try:
            await asyncio.sleep(_HIT_FLUSH_SECONDS)
        finally:
            self._flush_scheduled = False
        await self.flush_hits()

    async def flush_hits(self) -> None:
        pending, self._pending_hits = self._pending_hits, Counter()
        for entry_id in [i for i in pending if i < 0]:  # rows not written yet: counted once they are
            count = pending.pop(entry_id)
            if entry_id in self._writer.pending:
                self._pending_hits[entry_id] += count
        if not pending:
            return
        now = utc_now()
        async with self.db.session() as session:
            for entry_id, count in pending.items():
                await session.execute(
                    update(SemanticEntry)
                    .where(SemanticEntry.id == entry_id)
                    .values(hit_count=SemanticEntry.hit_count + count, last_hit_at=now)
                )
            await session.commit()

    async def bucket(self, tenant: str, exact: str) -> Bucket:
        """The in-memory bucket of (tenant, exact key), loaded or topped up from the database."""
        key = (tenant, exact)
        bucket = self.index.get(key)
        if bucket is None:
            async with self._load_lock:
                bucket = self.index.get(key)
                if bucket is None:
                    bucket = await self._load(key)
                    self.index.put(key, bucket)
                    return bucket
        await self._shared_top_up(key, bucket)
        self._reload_now_and_then(key, bucket)
        return bucket

    def _reload_now_and_then(self, key: BucketKey, bucket: Bucket) -> None:
        if time.monotonic() - bucket.loaded_at > _RELOAD_SECONDS and key not in self._reloading:
            self._reloading.add(key)
            self._spawn(self._reload(key))

    async def _shared_top_up(self, key: BucketKey, bucket: Bucket) -> int:
        """Top ``bucket`` up; how many rows it gained."""
        # Lookups arriving while a top-up of their bucket runs wait for that one instead of
        # each sending its own: under load one query serves them all.
        task = self._top_ups.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._top_up(bucket, *key))
            self._top_ups[key] = task
            task.add_done_callback(
                lambda done: self._top_ups.pop(key, None) if self._top_ups.get(key) is done else None
            )
            task.add_done_callback(_consume)
        added, _ = await asyncio.shield(task)
        return added

    async def _load(self, key: BucketKey) -> Bucket:
        bucket = Bucket(self.dim)
        await self._top_up(bucket, *key)
        for pending in self._writer.pending_in(key):  # written behind: not in the database yet
            bucket.add(pending.entry_id, pending.vector, pending.values["query_text"], pending.expires)
        return bucket

    async def _reload(self, key: BucketKey) -> None:
        try:
            self.index.put(key, await self._load(key))
        finally:
            self._reloading.discard(key)

    async def _top_up(
        self, bucket: Bucket, tenant: str, exact: str, *, also: int | None = None
    ) -> tuple[int, dict[int, Sequence[Any]]]:
        """Add the bucket's rows above its watermark; how many were new.

        With ``also`` (an id), that row is read too, and the answer columns of every row read
        come back by id: ``also`` is missing from them once it is deleted or expired.
        """
        params = {"tenant": tenant, "exact": exact, "after": bucket.watermark, "now": utc_now(), "entry_id": also}
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(_NEW_ROWS if also is None else _NEW_ROWS_AND_ANSWER, params)).all()
        added = 0
        for row in rows:
            entry_id, query, blob, expires_at = row[:4]
            if entry_id == also and entry_id <= bucket.watermark:
                continue  # the row checked, known already
            vector = np.frombuffer(blob, dtype=np.float32)
            if vector.shape[0] == self.dim:  # rows from another embedding model are skipped
                added += bucket.add(entry_id, vector, query, as_utc(expires_at).timestamp())
            bucket.watermark = max(bucket.watermark, entry_id)
        return added, {row[0]: row[4:] for row in rows} if also is not None else {}

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
            if entry.entry_id in self._pending_hits:
                self._pending_hits[entry_id] += self._pending_hits.pop(entry.entry_id)
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
        async with self.db.session() as session:
            result = await session.execute(delete(SemanticEntry).where(SemanticEntry.expires_at <= utc_now()))
            await session.commit()
        self.index.drop_expired(time.time())
        return int(getattr(result, "rowcount", 0) or 0)

    async def enforce_cap(self) -> int:
        """Delete the least recently used entries beyond ``max_entries``."""
        await self.flush_hits()
        async with self.db.session() as session:
            count = int((await session.execute(select(func.count(SemanticEntry.id)))).scalar_one())
            excess = count - self.max_entries
            if excess <= 0:
                return 0
            oldest = (
                select(SemanticEntry.id)
                .order_by(SemanticEntry.last_hit_at, SemanticEntry.id)
                .limit(excess)
                .scalar_subquery()
            )
            ids = set((await session.execute(select(SemanticEntry.id).where(SemanticEntry.id.in_(oldest)))).scalars())
            ordered = sorted(ids)
            for start in range(0, len(ordered), 500):  # bounded parameter lists
                chunk = ordered[start : start + 500]
                await session.execute(delete(SemanticEntry).where(SemanticEntry.id.in_(chunk)))
            await session.commit()
        self.index.remove_ids(ids)
        return len(ids)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro, context=outside_request())
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            import structlog

            structlog.get_logger("layercache.semantic").warning(
                "semantic_background_task_failed", error=type(task.exception()).__name__
            )

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.flush(), _CLOSE_FLUSH_SECONDS)
        with contextlib.suppress(Exception):
            await self.flush_hits()
        tasks = [*self._tasks, *self._top_ups.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _stored(row: Sequence[Any], candidate: Candidate) -> StoredAnswer:
    """The answer of ``candidate`` from a row of the answer columns."""
    return StoredAnswer(candidate.entry_id, candidate.similarity, candidate.query, dict(row[0]), *row[1:4])


def _answer_of(entry: PendingEntry, candidate: Candidate) -> StoredAnswer:
    values = entry.values
    return StoredAnswer(
        entry.entry_id,
        candidate.similarity,
        candidate.query,
        dict(values["response"]),
        values["input_tokens"],
        values["output_tokens"],
        values["cost_usd"],
    )


def _consume(task: asyncio.Task[Any]) -> None:
    # Waiters see a failed top-up themselves; this keeps asyncio quiet when none is left.
    if not task.cancelled():
        task.exception()
