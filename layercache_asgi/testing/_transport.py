"""In-process apps as httpx transports: one app, or several chosen by the request's host.

In the style of httpx's ``MockTransport``: hand one to ``LayerCacheApp(transport=...)`` (or give
:func:`~layercache_asgi.testing.in_process` a host map) to put fake providers behind a proxy, e.g.
a primary that fails and its backup, without serving any of them on a socket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import httpx

from .._types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AppTransport", "HostRouter"]


class AppTransport(httpx.AsyncBaseTransport):
    """One ASGI app as an httpx transport, failing the way a served app would.

    ``httpx.ASGITransport`` with ``raise_app_exceptions=False`` turns any fault into a 500 or,
    once the answer has started, into a body that simply ends early. A real server's client
    sees the second as a dropped connection, so here too: the body read so far, then
    ``httpx.RemoteProtocolError``. (The answer is still buffered whole before it is read.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        dropped: list[Exception] = []

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            started = finished = False

            async def watch(message: Message) -> None:
                nonlocal started, finished
                started = started or message["type"] == "http.response.start"
                finished = finished or (message["type"] == "http.response.body" and not message.get("more_body"))
                await send(message)

            try:
                await self._app(scope, receive, watch)
            except Exception as exc:
                if not started:
                    raise  # ASGITransport answers 500
                if not finished:
                    dropped.append(exc)
                    await send({"type": "http.response.body", "body": b"", "more_body": False})

        response = await httpx.ASGITransport(app=app, raise_app_exceptions=False).handle_async_request(request)
        if not dropped:
            return response
        stream = _Dropped(response.stream, f"peer closed connection mid-body (in-process app raised {dropped[0]!r})")
        return httpx.Response(response.status_code, headers=response.headers, stream=stream, request=request)


class _Dropped(httpx.AsyncByteStream):
    def __init__(self, body: httpx.AsyncByteStream | httpx.SyncByteStream, reason: str) -> None:
        self._body = body
        self._reason = reason

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._body, httpx.AsyncByteStream)
        async for chunk in self._body:
            yield chunk
        raise httpx.RemoteProtocolError(self._reason)


class HostRouter(httpx.AsyncBaseTransport):
    """``HostRouter({"a.test": fake_a, "b.test": fake_b})``: each request goes to the app named by its host.

    Keys are bare host names (no scheme, no port; case and port are ignored). A host with no
    app fails the request with ``httpx.ConnectError`` naming the host, as an unreachable
    provider would, and never reaches the network. Each app fails as :class:`AppTransport` says.
    """

    def __init__(self, apps: Mapping[str, ASGIApp]) -> None:
        if not apps:
            raise ValueError("HostRouter needs at least one host")
        bad = [host for host in apps if not host or "/" in host or ":" in host]
        if bad:
            raise ValueError(f"HostRouter keys are bare host names (e.g. 'provider.test'), not {bad}")
        self._transports = {host.lower(): AppTransport(app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._transports.get(request.url.host)
        if transport is None:
            known = ", ".join(sorted(self._transports))
            message = f"no in-process app for host {request.url.host!r} (HostRouter has: {known})"
            raise httpx.ConnectError(message, request=request)
        return await transport.handle_async_request(request)
