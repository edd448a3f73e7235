"""Keeping the in-memory buckets in step with the database.

A bucket (the stored inputs of one tenant and exact key) is loaded on first use, topped
up with the rows other replicas stored (ids above its watermark; concurrent lookups of
one bucket share one top-up query) and reloaded in full now and then, which also picks
up rows committed out of id order and rows deleted elsewhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import numpy as np

from ..db import Database
from ._answers import NEW_ROWS, NEW_ROWS_AND_ANSWER, as_utc, utc_now
from ._index import Bucket, BucketKey, VectorIndex
from ._writer import EntryWriter

__all__ = ["BucketSync"]

# A full reload of a bucket picks up rows a replica committed out of id order and rows
# deleted elsewhere; between reloads, a lookup reads only ids above the watermark.
_RELOAD_SECONDS = 120.0

TopUp = tuple[int, dict[int, Sequence[Any]]]  # (rows added, answer columns by id)


class BucketSync:
    """Loads, tops up and reloads the buckets of ``index`` from the database."""

    def __init__(
        self,
        db: Database,
        index: VectorIndex,
        writer: EntryWriter,
        *,
        dim: int,
        spawn: Callable[[Coroutine[Any, Any, Any]], None],
    ) -> None:
        self.db, self.index, self.writer, self.dim = db, index, writer, dim
        self._spawn = spawn
        self._load_lock = asyncio.Lock()
        self._reloading: set[BucketKey] = set()
        self.top_ups: dict[BucketKey, asyncio.Task[TopUp]] = {}

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
        await self.shared_top_up(key, bucket)
        self.reload_now_and_then(key, bucket)
        return bucket

    def reload_now_and_then(self, key: BucketKey, bucket: Bucket) -> None:
        if time.monotonic() - bucket.loaded_at > _RELOAD_SECONDS and key not in self._reloading:
            self._reloading.add(key)
            self._spawn(self._reload(key))

    async def shared_top_up(self, key: BucketKey, bucket: Bucket) -> int:
        """Top ``bucket`` up; how many rows it gained."""
        # Lookups arriving while a top-up of their bucket runs wait for that one instead of
        # each sending its own: under load one query serves them all.
        task = self.top_ups.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self.top_up(bucket, *key))
            self.top_ups[key] = task
            task.add_done_callback(lambda done: self.top_ups.pop(key, None) if self.top_ups.get(key) is done else None)
            task.add_done_callback(_consume)
        added, _ = await asyncio.shield(task)
        return added

    async def top_up(self, bucket: Bucket, tenant: str, exact: str, *, also: int | None = None) -> TopUp:
        """Add the bucket's rows above its watermark; how many were new.

        With ``also`` (an id), that row is read too, and the answer columns of every row read
        come back by id: ``also`` is missing from them once it is deleted or expired.
        """
        params = {"tenant": tenant, "exact": exact, "after": bucket.watermark, "now": utc_now(), "entry_id": also}
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(NEW_ROWS if also is None else NEW_ROWS_AND_ANSWER, params)).all()
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

    async def _load(self, key: BucketKey) -> Bucket:
        bucket = Bucket(self.dim)
        await self.top_up(bucket, *key)
        for pending in self.writer.pending_in(key):  # written behind: not in the database yet
            bucket.add(pending.entry_id, pending.vector, pending.values["query_text"], pending.expires)
        return bucket

    async def _reload(self, key: BucketKey) -> None:
        try:
            self.index.put(key, await self._load(key))
        finally:
            self._reloading.discard(key)


def _consume(task: asyncio.Task[Any]) -> None:
    # Waiters see a failed top-up themselves; this keeps asyncio quiet when none is left.
    if not task.cancelled():
        task.exception()
