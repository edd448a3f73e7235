"""Small ASGI helpers the fakes share."""

from __future__ import annotations

from .._types import Receive

__all__ = ["read_body"]


async def read_body(receive: Receive) -> bytes:
    """The whole request body, however many ``http.request`` messages it came in."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)
