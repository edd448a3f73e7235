"""Assign every part of the request to a layer, L0 (system) to L4 (the newest input).

The result, a :class:`layercache_asgi._layers.Layers`, is set on ``exchange.layers`` for
the later stages. Message hints come from the template stage
(``exchange.notes["layer_hints"]``) and from the client's ``lc_layer_hints``, which win;
the template stage also marks its context block in an Anthropic ``system`` as L1
(``exchange.notes["system_layer_hints"]``).
"""

from __future__ import annotations

from .._errors import ProxyError
from .._exchange import Exchange, get_exchange
from .._layers import Layers, stratify
from .._types import ASGIApp, Receive, Scope, Send

__all__ = ["Stratify", "restratify"]


def restratify(exchange: Exchange) -> Layers:
    """Recompute ``exchange.layers`` after a stage changed the body (same hints)."""
    request = exchange.request
    old = exchange.layers if isinstance(exchange.layers, Layers) else None
    layers = stratify(request.wire, request.body, old.hints if old else {}, old.system_hints if old else {})
    exchange.layers = layers
    return layers


class Stratify:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is not None:
            request = exchange.request
            hints: dict[int, int] = dict(exchange.notes.get("layer_hints") or {})
            count = len(request.messages)
            for index in request.ext.lc_layer_hints:
                if not 0 <= index < count:
                    raise ProxyError(
                        400,
                        f"lc_layer_hints: message index {index} is out of range (0-{count - 1})",
                        param="lc_layer_hints",
                    )
            hints.update(request.ext.lc_layer_hints)
            system_hints: dict[int, int] = dict(exchange.notes.get("system_layer_hints") or {})
            exchange.layers = stratify(request.wire, request.body, hints, system_hints)
        await self.app(scope, receive, send)
