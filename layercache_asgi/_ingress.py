"""The front of the proxy routes: authenticate, read the body once, parse, run the stages.

The key and the content type are checked before a byte of the body is read: a caller
without the key costs no memory, whatever it declares or sends.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import structlog

from ._disconnect import ClientDisconnected, DisconnectWatch
from ._errors import ProxyError, send_error
from ._exchange import SCOPE_KEY, Exchange
from ._logging import APP_KEY
from ._request import parse_request
from ._runtime import Runtime
from ._types import ASGIApp, Message, Receive, Scope, Send, Wire
from .wire._body import read_body, require_content_type
from .wire._fields import refuse_litellm_settings

__all__ = ["ProxyEndpoint", "request_id_from"]

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_from(headers: dict[str, str]) -> str:
    """The client's ``x-request-id`` when it is a short plain token (it goes into every log line and
    back in a header), else a fresh one (128 random bits in hex, as ``uuid4().hex`` without its object)."""
    given = headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else os.urandom(16).hex()


log = structlog.get_logger("layercache.ingress")


class ProxyEndpoint:
    """ASGI app for one wire format's chat route; ``get_stack`` and ``get_runtime`` come from the app."""

    def __init__(self, wire: Wire, route: str, get_runtime: Callable[[], Runtime], get_stack: Callable[[], ASGIApp]):
        self.wire = wire
        self.route = route
        self._runtime = get_runtime
        self._stack = get_stack

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        request_id = request_id_from(headers)
        # Our own name: ``x-request-id`` on an answer is the provider's, relayed for the client.
        id_header = (b"x-layercache-request-id", request_id.encode("latin-1"))
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), id_header]
            await send(message)

        exchange: Exchange | None = None
        try:
            runtime = self._runtime()
            settings = runtime.settings
            caller = runtime.auth.client(scope, headers, settings)
            require_content_type(headers)
            limits = settings.proxy
            raw = await read_body(receive, headers, limit=limits.max_body_bytes, timeout=limits.body_timeout_seconds)
            request = parse_request(self.wire, raw, headers)
            await refuse_litellm_settings(request)
            exchange = Exchange(
                request=request,
                settings=settings,
                runtime=runtime,
                route=self.route,
                tenant=caller.tenant,
                request_id=request_id,
                credential=caller.credential,
                client_headers=headers,
            )
            scope[SCOPE_KEY] = exchange
            # One bind per request: the id, and the app whose log buffer gets the lines logged meanwhile.
            context = (
                {"request_id": request_id}
                if runtime.logs is None
                else {"request_id": request_id, APP_KEY: runtime.logs.app_id}
            )
            # Reset by token afterwards: what ``bound_contextvars`` does, without the copy of the whole
            # context it takes to find the values to restore.
            tokens = structlog.contextvars.bind_contextvars(**context)
            try:
                # A client that leaves cancels the stages: nothing waits or calls upstream for it.
                async with DisconnectWatch(receive, exchange.mark_client_closed) as watch:
                    # A stage that reads the body gets it as the stages before it left it (serialised only then).
                    body = exchange.current_body
                    await self._stack()(scope, watch.replay(body), watch.wrap(tracked_send))
            finally:
                structlog.contextvars.reset_contextvars(**tokens)
        except ClientDisconnected:
            log.info("client_closed", request_id=request_id, status=499, response_started=started)
        except ProxyError as exc:
            if exchange is not None:
                exchange.outcome.status = exc.status
                exchange.outcome.error = exc.message
            if not started:
                extra = exchange.header_list() if exchange is not None else []
                await send_error(tracked_send, self.wire, exc, headers=extra)
            else:
                log.warning("error_after_response_started", status=exc.status, request_id=request_id)
        except Exception:
            log.exception("internal_error", request_id=request_id)
            if not started:
                await send_error(tracked_send, self.wire, ProxyError(500, "internal proxy error"))
