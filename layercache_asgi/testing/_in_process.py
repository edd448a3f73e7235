"""An in-process proxy in front of a fake provider: no sockets, no threads.

``httpx.ASGITransport`` carries both hops: the test's client calls the app, and the app's
upstream client calls the fake. Each answer is buffered whole (ASGITransport does not stream
as it goes), so tests of timing between chunks or of a client leaving mid-stream keep serving
the app with :func:`serve`. The LiteLLM path opens its own connections: serve the fake it calls
with :func:`serve` and name that URL in the settings; the app itself can stay in-process.
Several fakes (a primary and its fallback) go behind one transport with a host map, see
:class:`HostRouter`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx

from .._app import LayerCacheApp
from .._config import Settings
from .._types import ASGIApp
from ._transport import AppTransport, HostRouter

__all__ = ["in_process"]


@contextlib.asynccontextmanager
async def in_process(
    provider: ASGIApp | Mapping[str, ASGIApp],
    settings: Settings | str | os.PathLike[str] | None = None,
    *,
    stages: Sequence[Any] | None = None,
    base_url: str = "http://layercache.test",
) -> AsyncIterator[httpx.AsyncClient]:
    """``async with in_process(FakeProvider(), settings) as client:`` a client of a proxy in front of ``provider``.

    Every upstream call (fast path, model list, count_tokens) reaches ``provider`` whatever
    host the settings name, so point ``api_base`` at a name that resolves nowhere (e.g.
    ``http://provider.test/v1``): a call that escaped the transport would then fail instead of
    reaching a real provider. The app starts on the first request, as when mounted, and is
    closed when the block ends.

    ``provider`` may also map host names to apps, ``{"primary.test": a, "backup.test": b}``: each
    upstream call then reaches the app of its URL's host, and a host not in the map fails as an
    unreachable one would (:class:`HostRouter`).
    """
    # A fault in a fake reaches the proxy as from a served app (a 500, or a dropped stream), not as an exception.
    upstream = HostRouter(provider) if isinstance(provider, Mapping) else AppTransport(provider)
    app = LayerCacheApp(settings, stages=stages, transport=upstream)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
            yield client
    finally:
        await app.shutdown()
