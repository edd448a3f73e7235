"""What one attempt at a provider gives back: its response, or the error that fails it over.

Both paths (the fast path in ``_attempt`` and the LiteLLM path) build these, so they
live below both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from .._errors import LayerCacheError
from ..wire._dispatch import StreamAccumulator

__all__ = ["UpstreamError", "UpstreamResponse"]


class UpstreamError(LayerCacheError):
    """A failed attempt. ``retriable`` failures (5xx, timeouts, connection errors) fail over.

    ``headers``: the provider's headers clients act on (``retry-after``, rate limits, its request
    id), relayed to the client when this is the last failure of the chain.
    """

    def __init__(self, status: int, message: str, *, retriable: bool, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retriable = retriable
        self.headers = headers or {}


@dataclass
class UpstreamResponse:
    status: int
    body: bytes = b""  # JSON, when not streaming
    chunks: AsyncIterator[bytes] | None = None  # SSE bytes in the client's format, when streaming
    stream: StreamAccumulator | None = None  # sees every streamed byte, for accounting
    headers: dict[str, str] = field(default_factory=dict)  # the provider's, relayed to the client
    release: Callable[[], Awaitable[object]] | None = None  # closes the upstream stream

    async def aclose(self) -> None:
        """Close the upstream stream, read or not: a client that left must not keep it open."""
        chunks_close = getattr(self.chunks, "aclose", None)
        if chunks_close is not None:
            await chunks_close()
        if self.release is not None:
            await self.release()
