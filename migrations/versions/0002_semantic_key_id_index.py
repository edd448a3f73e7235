"""Semantic entries: index (tenant, exact_key, id), so a bucket's top-up reads only new rows.

A lookup reads the rows of one (tenant, exact key) bucket above the id it has seen. On
Postgres an index on (tenant, exact_key) alone made that read filter every row of the
bucket; with ``id`` in the index it is a range scan. (SQLite indexes already end in the
rowid, which ``id`` is.)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_semantic_entries_key_id", "semantic_entries", ["tenant", "exact_key", "id"])
    op.drop_index("ix_semantic_entries_key", table_name="semantic_entries")


def downgrade() -> None:
    op.create_index("ix_semantic_entries_key", "semantic_entries", ["tenant", "exact_key"])
    op.drop_index("ix_semantic_entries_key_id", table_name="semantic_entries")
