"""Persistence: SQLAlchemy tables, the async engine, Alembic migrations."""

from __future__ import annotations

from ._database import Database
from ._tables import Base, GeminiCacheHandle, MetricSnapshot, PromptTemplate, SemanticEntry, metadata

__all__ = ["Base", "Database", "GeminiCacheHandle", "MetricSnapshot", "PromptTemplate", "SemanticEntry", "metadata"]
