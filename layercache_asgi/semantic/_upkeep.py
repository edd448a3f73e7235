"""Deleting expired entries and the least recently used ones beyond the size cap."""

from __future__ import annotations

import time

from sqlalchemy import delete, func, select

from ..db import Database, SemanticEntry
from ._answers import utc_now
from ._index import VectorIndex

__all__ = ["delete_beyond_cap", "delete_expired"]

_DELETE_CHUNK = 500  # ids per DELETE: bounded parameter lists


async def delete_expired(db: Database, index: VectorIndex) -> int:
    """Delete expired rows (and drop them from memory); how many rows went."""
    async with db.session() as session:
        result = await session.execute(delete(SemanticEntry).where(SemanticEntry.expires_at <= utc_now()))
        await session.commit()
    index.drop_expired(time.time())
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_beyond_cap(db: Database, index: VectorIndex, max_entries: int) -> int:
    """Delete the least recently used rows beyond ``max_entries``; how many went."""
    async with db.session() as session:
        count = int((await session.execute(select(func.count(SemanticEntry.id)))).scalar_one())
        excess = count - max_entries
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
        for start in range(0, len(ordered), _DELETE_CHUNK):
            chunk = ordered[start : start + _DELETE_CHUNK]
            await session.execute(delete(SemanticEntry).where(SemanticEntry.id.in_(chunk)))
        await session.commit()
    index.remove_ids(ids)
    return len(ids)
