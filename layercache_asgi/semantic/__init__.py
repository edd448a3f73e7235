"""The semantic cache: exact key + embedding similarity + a guard against near-misses."""

from __future__ import annotations

from ._cross_encoder import OnnxCrossEncoder
from ._guard import Verdict, compare_questions
from ._key import CacheKey, cache_key
from ._service import SemanticCacheService
from ._store import SemanticStore, StoredAnswer
from ._verifier import Verifier

__all__ = [
    "CacheKey",
    "OnnxCrossEncoder",
    "SemanticCacheService",
    "SemanticStore",
    "StoredAnswer",
    "Verdict",
    "Verifier",
    "cache_key",
    "compare_questions",
]
