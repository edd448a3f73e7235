"""Write-behind for new cache entries: batched inserts, one transaction each, off the request path.

A miss hands its answer over and is done; one writer task drains the queue, so at most
one insert transaction per process is open at a time (SQLite has one writer: concurrent
per-request commits mostly waited on each other's locks). Whatever queued while a batch
was being written goes into the next one, so an idle writer adds no delay.

A batch that fails is retried row by row after a short pause, so one bad row (or a brief
outage) does not take the rest of the batch with it; rows that still fail are dropped
with a log line: the proxy keeps serving, and the answer is fetched upstream again later.
When the first rows fail alone too, the database is taken to be down and the batch is
dropped whole rather than row by row.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import insert

from ..db import Database, SemanticEntry, metadata
from ._index import BucketKey, Vector

__all__ = ["EntryWriter", "PendingEntry", "outside_request"]

log = structlog.get_logger("layercache.semantic")

# Rows per insert transaction.
MAX_BATCH_ROWS = 256
# Beyond this many unwritten entries (the database is down or far behind), new ones are dropped.
MAX_QUEUED = 10_000
# Pause before a failed batch is retried row by row.
_RETRY_PAUSE_SECONDS = 0.2
# A failed batch whose first rows all fail alone again is given up whole.
_FAILURES_MEANING_DOWN = 3
# Provisional ids remembered after their row is written, for lookups that were under way.
_RENAMED_KEPT = 4096


def outside_request() -> contextvars.Context:
    """A context for a background task started while serving a request: the app's, not the request's.

    A task copies the context it was created in; its log lines must not name the request
    that happened to start it.
    """
    context = contextvars.copy_context()
    context.run(structlog.contextvars.unbind_contextvars, "request_id")
    return context


@dataclass
class PendingEntry:
    """An answer accepted for storing; ``entry_id`` is provisional (negative) until it is written."""

    entry_id: int
    key: BucketKey
    values: dict[str, Any]  # the row's columns
    vector: Vector
    expires: float  # epoch seconds


class EntryWriter:
    """Writes queued entries in batches; ``written`` learns each row's id, ``dropped`` the rows given up.

    ``pending`` holds the entries not written yet, by provisional id.
    """

    def __init__(
        self,
        db: Database,
        *,
        written: Callable[[list[tuple[PendingEntry, int]]], Awaitable[None]],
        dropped: Callable[[list[PendingEntry]], None],
    ) -> None:
        self.db = db
        self._written = written
        self._dropped = dropped
        self.pending: dict[int, PendingEntry] = {}
        self._renamed: OrderedDict[int, int] = OrderedDict()  # provisional id -> real id
        self._last_id = 0
        self._queue: list[PendingEntry] = []
        self._task: asyncio.Task[None] | None = None
        self._submitted = 0
        self._settled = 0  # written or given up
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    def submit(self, key: BucketKey, values: dict[str, Any], vector: Vector, expires: float) -> PendingEntry | None:
        """Queue a row (``values``: its columns); None, and nothing queued, when the backlog is full."""
        if len(self._queue) >= MAX_QUEUED:
            return None
        self._last_id -= 1
        entry = PendingEntry(self._last_id, key, values, vector, expires)
        self.pending[entry.entry_id] = entry
        self._queue.append(entry)
        self._submitted += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain(), context=outside_request())
        return entry

    def written_id(self, provisional: int) -> int | None:
        """The real id of a row written under ``provisional`` (None: unknown, or given up)."""
        return self._renamed.get(provisional)

    def pending_in(self, key: BucketKey) -> Iterator[PendingEntry]:
        return (entry for entry in self.pending.values() if entry.key == key)

    async def flush(self) -> None:
        """Return once everything queued before this call is written (or given up)."""
        if self._settled >= self._submitted or self._task is None or self._task.done():
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((self._submitted, future))
        await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH_ROWS], self._queue[MAX_BATCH_ROWS:]
                await self._write(batch)
                self._settled += len(batch)
                self._wake(everyone=False)
        finally:
            self._settled = self._submitted - len(self._queue)
            self._wake(everyone=True)

    async def _write(self, batch: list[PendingEntry]) -> None:
        try:
            done = [*zip(batch, await self._insert(batch), strict=True)]
        except Exception as exc:
            log.warning("semantic_store_retrying", rows=len(batch), error=type(exc).__name__, detail=str(exc)[:200])
            await asyncio.sleep(_RETRY_PAUSE_SECONDS)
            done = await self._one_by_one(batch)
        for entry, entry_id in done:
            self.pending.pop(entry.entry_id, None)
            self._renamed[entry.entry_id] = entry_id
        while len(self._renamed) > _RENAMED_KEPT:
            self._renamed.popitem(last=False)
        try:
            await self._written(done)
        except Exception as exc:  # upkeep after a write (the size cap) must not stop the writer
            log.warning("semantic_store_upkeep_failed", error=type(exc).__name__, detail=str(exc)[:200])

    def _wake(self, *, everyone: bool) -> None:
        waiting = []
        for target, future in self._waiters:
            if everyone or target <= self._settled:
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((target, future))
        self._waiters = waiting

    async def _one_by_one(self, batch: list[PendingEntry]) -> list[tuple[PendingEntry, int]]:
        done: list[tuple[PendingEntry, int]] = []
        failed: list[PendingEntry] = []
        error = ""
        for i, entry in enumerate(batch):
            if not done and len(failed) >= _FAILURES_MEANING_DOWN:
                failed += batch[i:]  # not a bad row: the database is down; try the next batch later
                break
            try:
                done.append((entry, (await self._insert([entry]))[0]))
            except Exception as exc:
                failed.append(entry)
                error = f"{type(exc).__name__}: {str(exc)[:200]}"
        if failed:
            log.warning("semantic_store_failed", rows=len(failed), stored=len(done), error=error)
            for entry in failed:
                self.pending.pop(entry.entry_id, None)
            self._dropped(failed)
        return done

    async def _insert(self, batch: list[PendingEntry]) -> list[int]:
        """The rows' new ids, in ``batch`` order: one multi-row INSERT ... RETURNING, one transaction."""
        table = metadata.tables[SemanticEntry.__tablename__]
        statement = insert(table).returning(table.c.id, table.c.tenant, table.c.exact_key, table.c.query_text)
        async with self.db.engine.begin() as conn:
            returned = (await conn.execute(statement, [entry.values for entry in batch])).all()
        # RETURNING order is not guaranteed (asking SQLAlchemy to sort makes SQLite insert row by
        # row), so rows are matched back by their key; equal keys take their ids in insertion order.
        ids: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for entry_id, tenant, exact, query in sorted(returned):
            ids[(tenant, exact, query)].append(entry_id)
        return [ids[(*entry.key, entry.values["query_text"])].pop(0) for entry in batch]
