"""Work around an httpcore 1.0.9 pool leak that cancelling upstream calls can trigger.

A request cancelled while it waits in the pool, after the pool gave it a new connection
that is not open yet, leaves that connection behind: never opened, never closed, it
holds a slot for good (encode/httpcore#1093, fixed in the httpx2 fork). Cancelling the
calls of clients that left does exactly that under pool contention, so after each
cancelled call the orphans (unopened connections no pool request owns) are dropped.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["reap_orphan_connections"]


async def reap_orphan_connections(client: httpx.AsyncClient) -> int:
    """Drop unopened connections that no request owns, let queued requests have the slots; how many."""
    pool: Any = getattr(getattr(client, "_transport", None), "_pool", None)
    connections, requests = getattr(pool, "_connections", None), getattr(pool, "_requests", None)
    if not isinstance(connections, list) or not isinstance(requests, list):
        return 0  # another transport, or a fixed httpcore with other internals: nothing to do
    owned = {id(getattr(request, "connection", None)) for request in requests}
    orphans = [
        c for c in connections if getattr(c, "_connection", False) is None and not c.is_closed() and id(c) not in owned
    ]
    if not orphans:
        return 0
    for connection in orphans:
        connections.remove(connection)
    closing = pool._assign_requests_to_connections()
    await pool._close_connections([*closing, *orphans])
    return len(orphans)
