"""Hit counts and LRU times, written in batches so a hit never waits on a database write."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import update

from ..db import Database, SemanticEntry
from ._answers import utc_now
from ._writer import EntryWriter

__all__ = ["HitCounter"]

# Hit counts and LRU times are written at most this long after the hit.
_HIT_FLUSH_SECONDS = 0.5


class HitCounter:
    def __init__(self, db: Database, writer: EntryWriter, spawn: Callable[[Coroutine[Any, Any, Any]], None]) -> None:
        self.db, self.writer = db, writer
        self._spawn = spawn
        self._pending: Counter[int] = Counter()
        self._flush_scheduled = False

    def record(self, entry_id: int) -> None:
        """Count a hit of ``entry_id`` (its provisional id while it is not written yet)."""
        self._pending[self.writer.written_id(entry_id) or entry_id] += 1
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._spawn(self._flush_later())

    def renamed(self, provisional: int, entry_id: int) -> None:
        """The entry's row was written: its hits so far count for the real id."""
        if provisional in self._pending:
            self._pending[entry_id] += self._pending.pop(provisional)

    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(_HIT_FLUSH_SECONDS)
        finally:
            self._flush_scheduled = False
        await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, Counter()
        for entry_id in [i for i in pending if i < 0]:  # rows not written yet: counted once they are
            count = pending.pop(entry_id)
            if entry_id in self.writer.pending:
                self._pending[entry_id] += count
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
