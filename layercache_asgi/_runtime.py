"""What a started LayerCacheApp holds: settings, the shared HTTP client, its stores.

Created on the first request (mounted apps get no lifespan events) or by entering
``LayerCacheApp.lifespan()``; closed by leaving it. Nothing here runs at import.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import structlog

from ._auth import AuthGuard
from ._config import Settings

__all__ = ["Runtime"]


class Runtime:
    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport  # None: httpx's own connection pool
        self.http: httpx.AsyncClient = httpx.AsyncClient()  # replaced in start(); no I/O until used
        self._closers: list[Callable[[], Awaitable[Any]]] = []
        self.auth = AuthGuard()  # key checks and the per-address limit on failed ones
        # Filled by the component starters below; None when a component is off or failed.
        self.db: Any = None  # db.Database
        self.semantic: Any = None  # the semantic cache (store + embedder)
        self.templates: Any = None  # the prompt template registry
        self.metrics: Any = None  # the per-app metrics recorder and registry
        self.prompt_state: Any = None  # prefix families, warm-up gate, Gemini handles
        self.logs: Any = None  # the per-app log ring buffer (_logging.LogBuffer)
        self.enhancements: Any = None  # the Enhance stage's registry, which saved templates are checked against
        self._reloaders: list[Callable[[Settings], None]] = []
        self._db_waiters: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> None:
        upstream = self.settings.upstream
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(upstream.timeout, connect=upstream.connect_timeout),
            limits=httpx.Limits(max_connections=upstream.max_connections, max_keepalive_connections=64),
            trust_env=False,
            transport=self._transport,
        )
        self._closers.append(self.http.aclose)
        try:
            for starter in _starters():
                await starter(self)
        except BaseException:
            # A refused start (a schema that is behind) is retried on the next request: free what started.
            await self.close()
            raise

    def on_close(self, closer: Callable[[], Awaitable[Any]]) -> None:
        self._closers.append(closer)

    def on_reload(self, reloader: Callable[[Settings], None]) -> None:
        """Call ``reloader(new_settings)`` whenever :meth:`reload` swaps the settings."""
        self._reloaders.append(reloader)

    def reload(self, settings: Settings) -> None:
        """Swap in validated settings. Requests already in flight keep their snapshot."""
        self.settings = settings
        for reloader in self._reloaders:
            reloader(settings)

    def on_database(self, starter: Callable[[], Awaitable[None]]) -> None:
        """Run ``starter()`` once a database that was unreachable at start-up comes up."""
        self._db_waiters.append(starter)

    async def database_ready(self, db: Any) -> None:
        """Take a database that came up after start-up and start what was waiting for it."""
        self.db = db
        waiters, self._db_waiters = self._db_waiters, []
        for starter in waiters:
            try:
                await starter()
            except Exception as exc:  # one component failing must not keep the others off
                structlog.get_logger("layercache.db").error(
                    "component_start_failed", error=type(exc).__name__, detail=str(exc)[:200]
                )

    async def close(self) -> None:
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                await closer()
        self._closers.clear()


def _starters() -> list[Callable[[Runtime], Awaitable[None]]]:
    # Each component starts itself and degrades on its own: a failed store leaves an
    # uncached proxy, never a failed start-up (except a Postgres schema that is behind).
    from .db._start import start_database
    from .enhancements._few_shot import start_few_shot
    from .metrics._start import start_metric_snapshots, start_metrics
    from .prompt._state import start_prompt_state
    from .prompt._tokens import start_tokenizer
    from .semantic._start import start_semantic_cache
    from .templates._start import start_templates

    # Snapshots start after the database so they are closed (and flushed) before it.
    return [
        start_metrics,
        start_database,
        start_templates,
        start_metric_snapshots,
        start_semantic_cache,
        start_prompt_state,
        start_tokenizer,
        start_few_shot,
    ]
