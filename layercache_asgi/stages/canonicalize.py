"""Rewrite the request into canonical form, so the same intent always gives the same bytes.

The rules are in :mod:`layercache_asgi.prompt._canonical`. ``lc_bypass_cache`` requests are
left exactly as the client sent them.
"""

from __future__ import annotations

from .._exchange import get_exchange
from .._types import ASGIApp, Receive, Scope, Send
from ..prompt._canonical import canonicalize_body
from ..prompt._facts import restratify

__all__ = ["Canonicalize"]


class Canonicalize:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is not None and not exchange.request.ext.lc_bypass_cache:
            canonicalize_body(exchange.request.wire, exchange.request.body)
            if exchange.layers is not None:  # a stack that stratifies first: the layers follow the new body
                restratify(exchange)
        await self.app(scope, receive, send)
