"""Starting an answer on the raw ASGI ``send``: a whole body (JSON, or another type), or an event stream."""

from __future__ import annotations

from collections.abc import Iterable

from .._types import Send

__all__ = ["send_body", "send_json", "start_sse"]

Headers = Iterable[tuple[bytes, bytes]]


async def send_body(send: Send, status: int, body: bytes, content_type: bytes, headers: Headers = ()) -> None:
    """The whole answer: ``headers`` plus ``content_type`` and the length, then ``body``."""
    content = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, *content]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_json(send: Send, status: int, body: bytes, headers: Headers = ()) -> None:
    """The whole answer: ``headers`` (relayed, ``x-layercache-*``) plus the JSON content headers, then ``body``."""
    await send_body(send, status, body, b"application/json", headers)


async def start_sse(send: Send, status: int, headers: Headers = ()) -> None:
    """Start an event stream; the caller sends its events (``more_body=True``) and the final empty body."""
    content = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, *content]})
