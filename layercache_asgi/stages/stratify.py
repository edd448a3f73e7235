"""Assign every part of the request to a layer, L0 (system) to L4 (the newest input).

The result, a :class:`layercache_asgi.prompt._layers.Layers`, is set on ``exchange.layers`` for
the later stages (which read it through ``layers_of``, so they also work without this
stage). Message hints come from the template stage (``exchange.layer_hints``) and from
the client's ``lc_layer_hints``, which win; the template stage also marks its context
block in an Anthropic ``system`` as L1 (``exchange.system_layer_hints``).
"""

from __future__ import annotations

from .._exchange import get_exchange
from .._types import ASGIApp, Receive, Scope, Send
from ..prompt._facts import stratify_exchange

__all__ = ["Stratify"]


class Stratify:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is not None:
            exchange.layers = stratify_exchange(exchange)
        await self.app(scope, receive, send)
