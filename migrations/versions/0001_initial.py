"""Initial schema: semantic cache entries, prompt templates, Gemini cache handles, metric snapshots.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "semantic_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("exact_key", sa.String(length=64), nullable=False),
        sa.Column("query_text", sa.Text(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("hit_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_hit_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_semantic_entries")),
    )
    op.create_index("ix_semantic_entries_key", "semantic_entries", ["tenant", "exact_key"])
    op.create_index("ix_semantic_entries_expires_at", "semantic_entries", ["expires_at"])
    op.create_index("ix_semantic_entries_model", "semantic_entries", ["model"])
    op.create_index("ix_semantic_entries_last_hit_at", "semantic_entries", ["last_hit_at"])

    op.create_table(
        "prompt_templates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("system", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("tools", sa.JSON(), nullable=True),
        sa.Column("enhancements", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_templates")),
        sa.UniqueConstraint("name", "version", name="uq_prompt_templates_name_version"),
    )

    op.create_table(
        "gemini_cache_handles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("prefix_hash", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("cache_name", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gemini_cache_handles")),
        sa.UniqueConstraint("prefix_hash", name=op.f("uq_gemini_cache_handles_prefix_hash")),
    )

    op.create_table(
        "metric_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replica", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_snapshots")),
    )
    op.create_index("ix_metric_snapshots_taken_at", "metric_snapshots", ["taken_at"])


def downgrade() -> None:
    op.drop_index("ix_metric_snapshots_taken_at", table_name="metric_snapshots")
    op.drop_table("metric_snapshots")
    op.drop_table("gemini_cache_handles")
    op.drop_table("prompt_templates")
    op.drop_index("ix_semantic_entries_last_hit_at", table_name="semantic_entries")
    op.drop_index("ix_semantic_entries_model", table_name="semantic_entries")
    op.drop_index("ix_semantic_entries_expires_at", table_name="semantic_entries")
    op.drop_index("ix_semantic_entries_key", table_name="semantic_entries")
    op.drop_table("semantic_entries")
