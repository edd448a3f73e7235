"""Start the semantic cache (embedder and store)."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from .._logging import route_fastembed_logs
from ..db._watch import DatabaseHost
from ._embedder import Embedder
from ._service import SemanticCacheService

__all__ = ["start_semantic_cache"]

log = structlog.get_logger("layercache.semantic")


async def start_semantic_cache(runtime: DatabaseHost, install: Callable[[SemanticCacheService], None]) -> None:
    """Hand the cache to ``install`` when it is enabled, the database is up and the model loads.

    A callback rather than a return value: with the database down at start-up the cache
    starts later, once the database is back.
    """
    settings = runtime.settings.caching.semantic
    if not settings.enabled:
        return
    route_fastembed_logs()
    db = runtime.db
    if db is None:
        log.warning("semantic_cache_off", reason="the database is unavailable; requests are proxied uncached")
        runtime.on_database(lambda: start_semantic_cache(runtime, install))  # starts once the database is back
        return
    service = SemanticCacheService(db, Embedder(settings.model, settings.model_path), settings)
    runtime.on_close(service.close)
    if await service.start():
        install(service)
