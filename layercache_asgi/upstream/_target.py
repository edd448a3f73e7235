"""Where a request will go: its deployments in failover order, resolved once per request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import ProxyError
from ._providers import Deployment, resolve_chain

if TYPE_CHECKING:
    from .._exchange import Exchange

__all__ = ["chain_of", "target_of"]

_CHAIN = "chain"


async def target_of(exchange: Exchange) -> Deployment | None:
    """The deployment tried first, or None when the model does not resolve (the route says why)."""
    chain = await chain_of(exchange)
    return chain[0] if chain else None


async def chain_of(exchange: Exchange) -> list[Deployment]:
    """Every deployment the route may try, in order; empty when the model does not resolve."""
    cached = exchange.notes.get(_CHAIN)
    if isinstance(cached, list):
        return cached
    try:
        chain = await resolve_chain(exchange.request.model, exchange.settings, exchange.request.wire)
    except ProxyError:
        return []
    exchange.notes[_CHAIN] = chain
    return chain
