"""Several in-process apps behind one httpx transport, chosen by the request's host.

In the style of httpx's ``MockTransport``: hand it to ``LayerCacheApp(transport=...)`` (or give
:func:`~layercache_asgi.testing.in_process` a mapping) to put two fake providers behind one proxy,
e.g. a primary that fails and a backup, without serving either on a socket.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from .._types import ASGIApp

__all__ = ["HostRouter"]


class HostRouter(httpx.AsyncBaseTransport):
    """``HostRouter({"a.test": fake_a, "b.test": fake_b})``: each request goes to the app named by its host.

    Keys are bare host names (no scheme, no port); the port is ignored. A host with no app fails
    the request with ``httpx.ConnectError`` naming the host, as an unreachable provider would,
    and never reaches the network. A fault in an app becomes a 500, as from a real server.
    """

    def __init__(self, apps: Mapping[str, ASGIApp]) -> None:
        if not apps:
            raise ValueError("HostRouter needs at least one host")
        bad = [host for host in apps if not host or "/" in host or ":" in host]
        if bad:
            raise ValueError(f"HostRouter keys are bare host names (e.g. 'provider.test'), not {bad}")
        self._transports = {
            host.lower(): httpx.ASGITransport(app=app, raise_app_exceptions=False) for host, app in apps.items()
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._transports.get(request.url.host)
        if transport is None:
            known = ", ".join(sorted(self._transports))
            raise httpx.ConnectError(
                f"no in-process app for host {request.url.host!r} (HostRouter has: {known})", request=request
            )
        return await transport.handle_async_request(request)
