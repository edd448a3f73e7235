"""Start the semantic cache (embedder and store)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from .._logging import route_fastembed_logs
from ._embedder import Embedder
from ._service import SemanticCacheService

if TYPE_CHECKING:
    from .._runtime import Runtime

log = structlog.get_logger("layercache.semantic")


async def start_semantic_cache(runtime: Runtime) -> None:
    """Set ``runtime.semantic`` when the cache is enabled, the database is up and the model loads."""
    settings = runtime.settings.caching.semantic
    if not settings.enabled:
        return
    route_fastembed_logs()
    if runtime.db is None:
        log.warning("semantic_cache_off", reason="the database is unavailable; requests are proxied uncached")
        runtime.on_database(lambda: start_semantic_cache(runtime))  # starts once the database is back
        return
    service = SemanticCacheService(runtime.db, Embedder(settings.model, settings.model_path), settings)
    runtime.on_close(service.close)
    if await service.start():
        runtime.semantic = service
