"""What a started LayerCacheApp holds: settings, the shared HTTP client, its stores.

Created on the first request (mounted apps get no lifespan events) or by entering
``LayerCacheApp.lifespan()``; closed by leaving it. Nothing here runs at import.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import structlog

from ._auth import AuthGuard
from ._config import Settings
from .prompt._state import PromptState

if TYPE_CHECKING:
    from ._logging import LogBuffer
    from .coord._coordinator import Coordinator
    from .db import Database
    from .metrics._recorder import MetricsRecorder
    from .semantic._service import SemanticCacheService
    from .templates._registry import EnhancementCheck, TemplateRegistry

__all__ = ["Runtime", "Starter"]


class _NoCookies(httpx.Cookies):
    """The shared upstream client keeps no cookie: one client serves every tenant, so a provider's
    ``Set-Cookie`` (a load balancer's, say) must not go out with another tenant's call. Not parsing
    it also saves building urllib and email objects for every answer."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class Runtime:
    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport  # None: httpx's own connection pool
        self.http: httpx.AsyncClient = httpx.AsyncClient()  # replaced in start(); no I/O until used
        self._closers: list[Callable[[], Awaitable[Any]]] = []
        self.auth = AuthGuard()  # key checks and the per-address limit on failed ones
        # Filled by the starters passed to start() (the app's are in _app.py); None when a
        # component is off or failed.
        self.db: Database | None = None
        self.semantic: SemanticCacheService | None = None
        self.templates: TemplateRegistry | None = None
        self.metrics: MetricsRecorder | None = None  # the per-app metrics recorder and registry
        self.logs: LogBuffer | None = None  # the per-app log ring buffer
        self.enhancements: EnhancementCheck | None = None  # the Enhance stage's registry, for templates
        self.prompt_state = PromptState()  # prefix families, Gemini handles, few-shot examples
        self.coord: Coordinator | None = None  # on PostgreSQL: how this replica hears the others
        self.config_path: Path | None = None  # the YAML file the settings come from (what a reload re-reads)
        self._reloaders: list[Callable[[Settings], None]] = []
        self._db_waiters: list[Callable[[], Awaitable[None]]] = []

    async def start(self, starters: Sequence[Starter] = ()) -> None:
        """Open the HTTP client, then run ``starters`` in order (each starts one component)."""
        upstream = self.settings.upstream
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(upstream.timeout, connect=upstream.connect_timeout),
            limits=httpx.Limits(max_connections=upstream.max_connections, max_keepalive_connections=64),
            trust_env=False,
            transport=self._transport,
        )
        self.http._cookies = _NoCookies()  # httpx keeps its jar there; its ``cookies`` setter would copy ours
        self._closers.append(self.http.aclose)
        try:
            for starter in starters:
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

    async def database_ready(self, db: Database) -> None:
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


# One component's start: it reads what it needs from the runtime and hands its part back.
Starter = Callable[[Runtime], Awaitable[None]]
