"""A stored answer as a lookup hands it back, and the request path's queries that read it.

The statements are built once, at import: building a SQLAlchemy statement costs more than
running it, and a hit runs one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, or_, select

from ..db import SemanticEntry
from ._index import Candidate
from ._writer import PendingEntry

__all__ = [
    "ANSWER",
    "NEW_ROWS",
    "NEW_ROWS_AND_ANSWER",
    "StoredAnswer",
    "answer_of_pending",
    "answer_of_row",
    "as_utc",
    "utc_now",
]


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


# A bucket's rows above its watermark (what other replicas stored since it was last read).
NEW_ROWS = (
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
ANSWER = select(*_ANSWER_COLUMNS).where(
    SemanticEntry.id == bindparam("entry_id"), SemanticEntry.expires_at > bindparam("now")
)
# A lookup whose best match is already in memory checks that it still exists and reads its
# answer in the same round trip as the bucket's new rows.
NEW_ROWS_AND_ANSWER = select(
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


def answer_of_row(row: Sequence[Any], candidate: Candidate) -> StoredAnswer:
    """The answer of ``candidate`` from a row of the answer columns."""
    return StoredAnswer(candidate.entry_id, candidate.similarity, candidate.query, dict(row[0]), *row[1:4])


def answer_of_pending(entry: PendingEntry, candidate: Candidate) -> StoredAnswer:
    """The answer of ``candidate`` from an entry still waiting to be written."""
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
