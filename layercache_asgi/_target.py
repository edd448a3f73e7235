"""Where a request will go: its first deployment, resolved once per request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import ProxyError
from ._providers import Deployment, resolve_chain

if TYPE_CHECKING:
    from ._exchange import Exchange

__all__ = ["target_of"]

_NOTE = "target"


async def target_of(exchange: Exchange) -> Deployment | None:
    """The deployment tried first, or None when the model does not resolve (the route says why)."""
    cached = exchange.notes.get(_NOTE)
    if isinstance(cached, Deployment):
        return cached
    try:
        chain = await resolve_chain(exchange.request.model, exchange.settings, exchange.request.wire)
    except ProxyError:
        return None
    exchange.notes[_NOTE] = chain[0]
    return chain[0]
