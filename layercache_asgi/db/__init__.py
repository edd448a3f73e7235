"""Persistence: SQLAlchemy tables, the async engine, Alembic migrations."""

from __future__ import annotations

from ._database import Database
from ._tables import Base, ClaimRow, GeminiCacheHandle, MetricSnapshot, PromptTemplate, SemanticEntry, metadata

__all__ = [
    "Base",
    "ClaimRow",
    "Database",
    "GeminiCacheHandle",
    "MetricSnapshot",
    "PromptTemplate",
    "SemanticEntry",
    "metadata",
]
