"""Stop serving a client that went away.

Once the request body is read, the ASGI server reports a client that closed its
connection as ``http.disconnect`` on ``receive()``. :class:`DisconnectWatch` waits for
it in one small task and cancels the task serving the request, the way
``asyncio.timeout`` does, so the upstream call (or a wait in the warm-up gate or the
single flight) stops at once instead of running on until ``upstream.timeout``. A
``send`` that fails because the connection is closed (servers raise ``OSError``;
uvicorn drops it silently) ends the request the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ._errors import LayerCacheError
from ._types import Message, Receive, Send

__all__ = ["ClientDisconnected", "DisconnectWatch"]

_DISCONNECT: Message = {"type": "http.disconnect"}


class ClientDisconnected(LayerCacheError):
    """The client closed its connection before its answer was complete."""


class DisconnectWatch:
    """``async with DisconnectWatch(receive, on_leave) as watch:`` around the work for one request.

    Give the work :meth:`replay` (the body, then ``http.disconnect`` when the client
    leaves) and :meth:`wrap` (a ``send`` that notes when the answer is complete). If the
    client leaves first, ``on_leave`` runs, the work is cancelled and the block raises
    :class:`ClientDisconnected`. After a complete answer a disconnect changes nothing.
    """

    def __init__(self, receive: Receive, on_leave: Callable[[], None] | None = None) -> None:
        self._receive = receive
        self._on_leave = on_leave
        self._gone = asyncio.Event()
        self._complete = False
        self._left = False  # the client left before the answer was complete
        self._cancelled = False  # ... and this watch cancelled the work for it
        self._task: asyncio.Task[Any] | None = None
        self._watcher: asyncio.Task[None] | None = None

    @property
    def left(self) -> bool:
        return self._left

    async def __aenter__(self) -> DisconnectWatch:
        self._task = asyncio.current_task()
        self._watcher = asyncio.create_task(self._watch())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None and not watcher.done():
            # Still listening, so it has cancelled nothing: reap it so no task outlives the request.
            # Its wake-up is queued ahead of ours, so one pass of the loop usually ends it (half
            # the cost of ``asyncio.wait``); a ``receive`` that awaits more on cancel gets waited for.
            watcher.cancel()
            await asyncio.sleep(0)
            if not watcher.done():
                await asyncio.wait((watcher,))
        if not self._cancelled or self._task is None:
            return
        if exc_type is not asyncio.CancelledError:
            # The work ended before our cancellation reached it: take it now, or it would
            # hit whatever the caller awaits next (Python 3.11 keeps it pending).
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0)
        if self._task.uncancel() > 0:
            if exc_type is not asyncio.CancelledError:
                raise asyncio.CancelledError  # someone else cancelled too: theirs goes on
            return
        if exc_type is asyncio.CancelledError:
            raise ClientDisconnected("client disconnected") from None

    async def _watch(self) -> None:
        try:
            while (await self._receive())["type"] != "http.disconnect":
                pass  # nothing else is due after the body; keep listening for the close
        except Exception:  # a server that cannot tell us: serve the request to its end
            return
        self._gone.set()
        if not self._complete and self._task is not None:
            self._leave()
            self._cancelled = True
            self._task.cancel()

    def _leave(self) -> None:
        if not self._left:
            self._left = True
            if self._on_leave is not None:
                self._on_leave()

    def replay(self, body: Callable[[], bytes]) -> Receive:
        """A ``receive`` for the stages: the body as it is when asked for (``body()``), then the disconnect."""
        replayed = False

        async def receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body(), "more_body": False}
            await self._gone.wait()
            return dict(_DISCONNECT)

        return receive

    def wrap(self, send: Send) -> Send:
        """``send`` that notes the end of the answer and turns a closed connection into :class:`ClientDisconnected`."""

        async def watched_send(message: Message) -> None:
            if self._left:
                raise ClientDisconnected("client disconnected")
            try:
                await send(message)
            except OSError as exc:  # the ASGI spec's way to say the connection is closed
                self._leave()
                raise ClientDisconnected("client disconnected") from exc
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self._complete = True

        return watched_send
