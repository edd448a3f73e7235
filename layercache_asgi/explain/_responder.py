"""Read the provider's diagnosis from the answer on its way to the client, and strip what the proxy added.

The response start is held until the diagnosis is known, so ``x-layercache-prefix`` can carry it:
for JSON until the body (which the route sends right after the start), for a stream until its
first event (``message_start``, which carries it). Anything else (errors, other answers) passes
at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._types import Message, Send
from ._provider import Diagnosis
from ._strip import EventFilter, found, remove_member

__all__ = ["DiagnosedSend"]

_HOLD_LIMIT = 1 << 20  # bytes: a JSON answer or a stream head larger than this is relayed unread


class DiagnosedSend:
    """A ``send`` for one request. ``header`` renders ``x-layercache-prefix`` once the diagnosis is read."""

    def __init__(self, send: Send, diagnosis: Diagnosis, header: Callable[[], str]) -> None:
        self.send = send
        self.diagnosis = diagnosis
        self.header = header
        self.start: Message | None = None
        self.passing = False  # nothing (more) to read: relay as it comes
        self.buffer = b""
        self.events: EventFilter | None = None

    async def __call__(self, message: Message) -> None:
        if self.passing:
            await self.send(message)
            return
        if message["type"] == "http.response.start":
            if not self.diagnosis.sent or message.get("status") != 200:
                self.passing = True
                await self.send(message)
                return
            self.start = message
            if _content_type(message).startswith(b"text/event-stream"):
                self.events = EventFilter(self.diagnosis.read, strip=self.diagnosis.injected)
            return
        if message["type"] != "http.response.body" or (self.start is None and self.events is None):
            await self.send(message)
            return
        body, more = bytes(message.get("body", b"")), bool(message.get("more_body", False))
        if self.events is not None:
            await self._stream(body, more)
        else:
            await self._json(body, more)

    async def _json(self, body: bytes, more: bool) -> None:
        self.buffer += body
        if more and len(self.buffer) < _HOLD_LIMIT:
            return
        out = self.buffer
        if not more:
            stripped, value = remove_member(out, ("diagnostics",))
            if found(value):
                self.diagnosis.read(value)
                if self.diagnosis.injected:
                    out = stripped
        self.buffer = b""
        self.passing = True
        await self._release(length=None if more else len(out))
        await self.send({"type": "http.response.body", "body": out, "more_body": more})

    async def _stream(self, body: bytes, more: bool) -> None:
        assert self.events is not None
        out = self.events.feed(body)
        if not more:
            out += self.events.flush()
        if self.start is not None:
            if self.events.events == 0 and more and len(self.events.pending) < _HOLD_LIMIT:
                return  # the first event is not complete yet
            await self._release(length=None)
        if out or not more:
            await self.send({"type": "http.response.body", "body": out, "more_body": more})

    async def _release(self, *, length: int | None) -> None:
        start, self.start = self.start, None
        assert start is not None
        headers: list[tuple[bytes, bytes]] = []
        for name, value in start.get("headers", []):
            if name.lower() == b"x-layercache-prefix":
                value = self.header().encode("latin-1", "replace")
            elif name.lower() == b"content-length" and length is not None:
                value = str(length).encode()
            headers.append((name, value))
        await self.send({**start, "headers": headers})


def _content_type(message: Message) -> bytes:
    headers: Any = message.get("headers", [])
    for name, value in headers:
        if name.lower() == b"content-type":
            return bytes(value).lower()
    return b""
