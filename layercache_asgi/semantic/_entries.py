"""Listing and deleting semantic cache entries (the management API and the dashboard)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select

from ..db import Database, SemanticEntry
from ._store import as_utc, utc_now

__all__ = ["EntryFilter", "delete_entries", "list_entries"]


@dataclass
class EntryFilter:
    """Which entries an operation touches; an unset field matches everything."""

    entry_id: int | None = None
    model: str | None = None
    tenant: str | None = None
    search: str | None = None  # substring of the cached question
    include_expired: bool = False

    def clauses(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.entry_id is not None:
            clauses.append(SemanticEntry.id == self.entry_id)
        if self.model is not None:
            clauses.append(SemanticEntry.model == self.model)
        if self.tenant is not None:
            clauses.append(SemanticEntry.tenant == self.tenant)
        if self.search:
            escaped = self.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append(SemanticEntry.query_text.ilike(f"%{escaped}%", escape="\\"))
        if not self.include_expired:
            clauses.append(SemanticEntry.expires_at > utc_now())
        return clauses


async def list_entries(
    db: Database, where: EntryFilter, *, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page newest first). Never includes a credential: tenants are hashes."""
    clauses = where.clauses()
    async with db.session() as session:
        total = int((await session.execute(select(func.count(SemanticEntry.id)).where(*clauses))).scalar_one())
        rows = (
            await session.execute(
                select(
                    SemanticEntry.id,
                    SemanticEntry.model,
                    SemanticEntry.tenant,
                    SemanticEntry.query_text,
                    SemanticEntry.created_at,
                    SemanticEntry.expires_at,
                    SemanticEntry.last_hit_at,
                    SemanticEntry.hit_count,
                    SemanticEntry.input_tokens,
                    SemanticEntry.output_tokens,
                )
                .where(*clauses)
                .order_by(SemanticEntry.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ).all()
    return total, [
        {
            "id": row.id,
            "model": row.model,
            "tenant": row.tenant,
            "query": row.query_text,
            "created_at": as_utc(row.created_at).isoformat(),
            "expires_at": as_utc(row.expires_at).isoformat(),
            "last_hit_at": as_utc(row.last_hit_at).isoformat(),
            "hits": row.hit_count,
            "input_tokens": row.input_tokens,
            "output_tokens": row.output_tokens,
        }
        for row in rows
    ]


async def delete_entries(db: Database, where: EntryFilter) -> set[int]:
    """Delete the matching entries (expired ones too); returns their ids."""
    where.include_expired = True
    clauses = where.clauses()
    async with db.session() as session:
        ids = set((await session.execute(select(SemanticEntry.id).where(*clauses))).scalars())
        if ids:
            await session.execute(delete(SemanticEntry).where(*clauses, SemanticEntry.id.in_(ids)))
            await session.commit()
    return ids
