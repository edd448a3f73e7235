"""Persistence: SQLAlchemy tables, the async engine, Alembic migrations."""

from __future__ import annotations

from ._tables import Base, GeminiCacheHandle, MetricSnapshot, PromptTemplate, SemanticEntry, metadata

__all__ = ["Base", "GeminiCacheHandle", "MetricSnapshot", "PromptTemplate", "SemanticEntry", "metadata"]
