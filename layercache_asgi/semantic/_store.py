"""Semantic cache entries in the database, with an in-memory vector index in front.

Lookups read only the rows of one (tenant, exact key) bucket; the index keeps those
vectors in memory between requests and tops them up with rows other replicas stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select, update

from .._completion import Completion
from ..db import Database, SemanticEntry
from ._index import Bucket, Candidate, Vector, VectorIndex

__all__ = ["SemanticStore", "StoredAnswer", "as_utc", "utc_now"]

# A full reload of a bucket picks up rows a replica committed out of id order and rows
# deleted elsewhere; between reloads, a lookup reads only ids above the watermark.
_RELOAD_SECONDS = 120.0
# Above this many rows the matrix product moves off the event loop.
_OFF_LOOP_ROWS = 4096
# Hit counts and LRU times are written in batches, at most this long after the hit.
_HIT_FLUSH_SECONDS = 0.5


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

    # -- lookup ---------------------------------------------------------------------------

    async def candidates(
        self, tenant: str, exact: str, vector: Vector, threshold: float, limit: int = 8
    ) -> list[Candidate]:
        """Stored inputs of this bucket at or above ``threshold``, most similar first."""
        bucket = await self._bucket(tenant, exact)
        now = time.time()
        if bucket.size > _OFF_LOOP_ROWS:
            return await asyncio.to_thread(bucket.search, vector, threshold, now, limit)
        return bucket.search(vector, threshold, now, limit)

    async def fetch(self, candidate: Candidate) -> StoredAnswer | None:
        """The candidate's stored answer, or None (and forgotten) if it expired or was deleted."""
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(
                        SemanticEntry.response,
                        SemanticEntry.input_tokens,
                        SemanticEntry.output_tokens,
                        SemanticEntry.cost_usd,
                    ).where(SemanticEntry.id == candidate.entry_id, SemanticEntry.expires_at > utc_now())
                )
            ).first()
        if row is None:
            self.index.remove_ids({candidate.entry_id})
            return None
        return StoredAnswer(
            candidate.entry_id, candidate.similarity, candidate.query, dict(row[0]), row[1], row[2], row[3]
        )

    def record_hit(self, entry_id: int) -> None:
        """Count the hit and refresh its LRU time, batched so a hit never waits on a database write."""
        self._pending_hits[entry_id] += 1
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

    async def _bucket(self, tenant: str, exact: str) -> Bucket:
        key = (tenant, exact)
        bucket = self.index.get(key)
        if bucket is None:
            async with self._load_lock:
                bucket = self.index.get(key)
                if bucket is None:
                    bucket = Bucket(self.dim)
                    await self._top_up(bucket, tenant, exact)
                    self.index.put(key, bucket)
                    return bucket
        await self._top_up(bucket, tenant, exact)
        if time.monotonic() - bucket.loaded_at > _RELOAD_SECONDS and key not in self._reloading:
            self._reloading.add(key)
            self._spawn(self._reload(key))
        return bucket

    async def _reload(self, key: tuple[str, str]) -> None:
        try:
            fresh = Bucket(self.dim)
            await self._top_up(fresh, *key)
            self.index.put(key, fresh)
        finally:
            self._reloading.discard(key)

    async def _top_up(self, bucket: Bucket, tenant: str, exact: str) -> None:
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(
                        SemanticEntry.id, SemanticEntry.query_text, SemanticEntry.embedding, SemanticEntry.expires_at
                    )
                    .where(
                        SemanticEntry.tenant == tenant,
                        SemanticEntry.exact_key == exact,
                        SemanticEntry.id > bucket.watermark,
                        SemanticEntry.expires_at > utc_now(),
                    )
                    .order_by(SemanticEntry.id)
                )
            ).all()
        for entry_id, query, blob, expires_at in rows:
            vector = np.frombuffer(blob, dtype=np.float32)
            if vector.shape[0] == self.dim:  # rows from another embedding model are skipped
                bucket.add(entry_id, vector, query, as_utc(expires_at).timestamp())
            bucket.watermark = max(bucket.watermark, entry_id)

    # -- store ----------------------------------------------------------------------------

    async def add(
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
    ) -> int:
        now = utc_now()
        entry = SemanticEntry(
            tenant=tenant,
            model=model,
            exact_key=exact,
            query_text=query,
            embedding=np.asarray(vector, dtype=np.float32).tobytes(),
            response=completion.to_dict(),
            input_tokens=completion.usage.input_total,
            output_tokens=completion.usage.output,
            cost_usd=cost_usd,
            hit_count=0,
            created_at=now,
            last_hit_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
        async with self.db.session() as session:
            session.add(entry)
            await session.commit()
        bucket = self.index.get((tenant, exact))
        if bucket is not None:  # without moving the watermark: rows of other replicas may still be below it
            bucket.add(entry.id, vector, query, entry.expires_at.timestamp())
        return entry.id

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
        task = asyncio.get_running_loop().create_task(coro)
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
            await self.flush_hits()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
