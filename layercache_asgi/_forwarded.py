"""Who is really on the other end: the client address and scheme, believing only ``proxy.trusted_proxies``.

The peer of the connection is the client unless it is a listed proxy; then
``X-Forwarded-For`` is walked from the right past every listed proxy, and
``X-Forwarded-Proto`` says whether the browser used https. Nothing else is believed.

uvicorn, by default, already rewrites the ASGI ``client`` from ``X-Forwarded-For`` when
the peer is loopback (``--forwarded-allow-ips``), so the socket peer is lost. When the
``client`` is one of the forwarded addresses that is what happened (or a client forged
it): unless the app itself was told to trust proxies, such requests share one address,
``forwarded``, so a forged header cannot buy a fresh allowance per request.
"""

from __future__ import annotations

import functools
import ipaddress

from ._config import Settings
from ._types import Scope

__all__ = ["FORWARDED", "client_address", "forwarded_https"]

FORWARDED = "forwarded"

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=64)
def _networks(listed: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in listed)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: str, networks: tuple[_Network, ...]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in networks)


def _header_values(scope: Scope, name: bytes) -> list[str]:
    values: list[str] = []
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            values += [v.strip() for v in value.decode("latin-1").split(",") if v.strip()]
    return values


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def client_address(scope: Scope, settings: Settings) -> str:
    """The address failed authentications are counted against (see the module docstring)."""
    peer = _peer(scope)
    hops = _header_values(scope, b"x-forwarded-for")
    if not hops:
        return peer
    networks = _networks(tuple(settings.proxy.trusted_proxies))
    if peer in hops and not _trusted(peer, networks):
        return FORWARDED  # the server in front replaced the peer with a forwarded address we cannot check
    address = peer
    while hops and _trusted(address, networks):
        address = hops.pop()
    ip = _ip(address)
    return str(ip) if ip is not None else FORWARDED


def forwarded_https(scope: Scope, settings: Settings) -> bool:
    """Whether the request reached us over https, directly or through a trusted proxy."""
    if scope.get("scheme") == "https":
        return True
    if not _trusted(_peer(scope), _networks(tuple(settings.proxy.trusted_proxies))):
        return False
    protos = _header_values(scope, b"x-forwarded-proto")
    return bool(protos) and protos[0].lower() == "https"
