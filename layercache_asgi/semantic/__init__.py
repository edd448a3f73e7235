"""The semantic cache: exact key + embedding similarity + a guard against near-misses."""

from __future__ import annotations

from ._guard import Verdict, compare_questions
from ._key import CacheKey, cache_key
from ._service import SemanticCacheService
from ._store import SemanticStore, StoredAnswer

__all__ = [
    "CacheKey",
    "SemanticCacheService",
    "SemanticStore",
    "StoredAnswer",
    "Verdict",
    "cache_key",
    "compare_questions",
]
