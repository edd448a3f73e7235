"""What a started LayerCacheApp holds: settings, the shared HTTP client, its stores.

Created on the first request (mounted apps get no lifespan events) or by entering
``LayerCacheApp.lifespan()``; closed by leaving it. Nothing here runs at import.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from ._config import Settings

__all__ = ["Runtime"]


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.http: httpx.AsyncClient = httpx.AsyncClient()  # replaced in start(); no I/O until used
        self._closers: list[Callable[[], Awaitable[Any]]] = []

    async def start(self) -> None:
        upstream = self.settings.upstream
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(upstream.timeout, connect=upstream.connect_timeout),
            limits=httpx.Limits(max_connections=upstream.max_connections, max_keepalive_connections=64),
            trust_env=False,
        )
        self._closers.append(self.http.aclose)

    def on_close(self, closer: Callable[[], Awaitable[Any]]) -> None:
        self._closers.append(closer)

    async def close(self) -> None:
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                await closer()
        self._closers.clear()
