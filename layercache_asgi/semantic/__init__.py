"""The semantic cache: exact key + embedding similarity + a guard against near-misses."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Loaded on first use: the service and the store bring numpy and SQLAlchemy, which a proxy
# with the semantic cache off never needs (and ``import layercache_asgi`` must stay cheap).
_HOMES = {
    "CacheKey": "._key",
    "OnnxCrossEncoder": "._cross_encoder",
    "Verifier": "._verifier",
    "SemanticCacheService": "._service",
    "SemanticStore": "._store",
    "StoredAnswer": "._store",
    "Verdict": "._guard",
    "cache_key": "._key",
    "compare_questions": "._guard",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
