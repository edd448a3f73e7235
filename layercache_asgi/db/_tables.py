"""The database tables (SQLAlchemy 2 declarative). Alembic migrations in ``migrations/`` mirror these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, Integer, LargeBinary, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "GeminiCacheHandle",
    "LearnedMinimum",
    "MetricSnapshot",
    "PromptTemplate",
    "SemanticEntry",
    "metadata",
]

# Stable constraint names on every backend (Alembic autogenerate and batch mode need them).
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class Base(DeclarativeBase):
    metadata = metadata


class SemanticEntry(Base):
    """One cached answer: found by exact key (tenant, model, prompt minus the newest input) + embedding."""

    __tablename__ = "semantic_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(255))
    exact_key: Mapped[str] = mapped_column(String(64))
    query_text: Mapped[str] = mapped_column(Text)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)  # float32, L2-normalised
    response: Mapped[dict[str, Any]] = mapped_column(JSON)  # Completion.to_dict()
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)  # what the original call cost
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    hit_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_hit_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_semantic_entries_key_id", "tenant", "exact_key", "id"),  # lookups read ids above a watermark
        Index("ix_semantic_entries_expires_at", "expires_at"),
        Index("ix_semantic_entries_model", "model"),
        Index("ix_semantic_entries_last_hit_at", "last_hit_at"),
    )


class PromptTemplate(Base):
    """A named, versioned template holding L0/L1 content and default enhancements."""

    __tablename__ = "prompt_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str] = mapped_column(Text, default="")
    system: Mapped[str] = mapped_column(Text, default="")  # L0
    context: Mapped[str] = mapped_column(Text, default="")  # L1
    tools: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)  # L1
    enhancements: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("name", "version", name="uq_prompt_templates_name_version"),)


class GeminiCacheHandle(Base):
    """A Gemini CachedContent created for an L0+L1 prefix, reused by hash until it expires."""

    __tablename__ = "gemini_cache_handles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prefix_hash: Mapped[str] = mapped_column(String(64), unique=True)
    model: Mapped[str] = mapped_column(String(255))
    cache_name: Mapped[str] = mapped_column(String(512))  # e.g. "cachedContents/abc123"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LearnedMinimum(Base):
    """A model's minimum cacheable prefix as learned from the usage its provider returned."""

    __tablename__ = "learned_minimums"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(255))
    minimum: Mapped[int] = mapped_column(Integer)
    table_minimum: Mapped[int] = mapped_column(Integer)  # the built-in table's value when it was learned
    raised: Mapped[int] = mapped_column(Integer, default=0)  # moves up so far
    lowered: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("provider", "model", name="uq_learned_minimums_provider_model"),)


class MetricSnapshot(Base):
    """Counters of one replica at one moment, per model; history charts read deltas between them."""

    __tablename__ = "metric_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replica: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index("ix_metric_snapshots_taken_at", "taken_at"),)
