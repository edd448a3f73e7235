"""PostgreSQL LISTEN/NOTIFY between replicas: one listening connection each, and publishing.

Every message is a JSON object on the ``layercache`` channel with a kind ``k``. Triggers
(migration 0004) send ``insert``/``delete`` (semantic entry ids) and ``templates``; replicas
send the rest themselves with ``o``, their replica id, so they can skip their own.

The listener holds its own asyncpg connection (not one of the engine's pool: a pooled
connection is recycled and shared; LISTEN belongs to one session for its whole life). When
it is lost (a database restart, a dropped network) it reconnects with backoff, and then
calls ``resync``: whatever was sent meanwhile is gone, so the replica reloads in full.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from ..db._background import Background, doubled

__all__ = ["CHANNEL", "Listener", "connect_kwargs", "notify", "publish"]

log = structlog.get_logger("layercache.coord")

CHANNEL = "layercache"
# NOTIFY refuses payloads of 8000 bytes or more.
MAX_PAYLOAD_BYTES = 7900
# asyncpg sees a dead connection only when it reads: a silent one is probed this often.
_PROBE_SECONDS = 5.0
_MAX_BACKOFF_SECONDS = 10.0


def connect_kwargs(engine: Any) -> dict[str, Any]:
    """asyncpg.connect() arguments for the database ``engine`` (a SQLAlchemy AsyncEngine) uses."""
    _args, kwargs = engine.dialect.create_connect_args(engine.url)
    for sqlalchemy_only in ("prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn"):
        kwargs.pop(sqlalchemy_only, None)
    return dict(kwargs)


async def publish(engine: Any, message: dict[str, Any]) -> None:
    """NOTIFY every replica (this one too; listeners skip their own ``o``). Raises on a database error."""
    async with engine.begin() as conn:
        await notify(conn, message)


async def notify(conn: Any, message: dict[str, Any]) -> None:
    """NOTIFY within ``conn``'s transaction: delivered when (and only if) it commits."""
    from sqlalchemy import text  # lazy: not on the request path's import

    payload = json.dumps(message, separators=(",", ":"))
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"notification of {len(payload)} bytes is too big for NOTIFY")
    await conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})


class Listener:
    """Calls ``deliver(message)`` for every notification; ``resync()`` after a reconnect."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[Any]],
        deliver: Callable[[dict[str, Any]], None],
        resync: Callable[[], Awaitable[None]],
    ) -> None:
        self._connect = connect
        self._deliver = deliver
        self._resync = resync
        self._task = Background("layercache-coord-listener", self._run)
        self.connected = asyncio.Event()  # set while listening

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        delay, first = 0.2, True
        while True:
            try:
                conn = await self._connect()
            except Exception as exc:
                log.warning("coord_listen_failed", error=type(exc).__name__, retry_in_seconds=delay)
                await asyncio.sleep(delay)
                delay = doubled(delay, _MAX_BACKOFF_SECONDS)
                continue
            resync, first, delay = not first, False, 0.2
            try:
                await self._listen(conn, resync=resync)
            except Exception as exc:
                log.warning("coord_listen_lost", error=type(exc).__name__)
            finally:
                self.connected.clear()
                conn.terminate()  # never waits on a dead socket
            await asyncio.sleep(delay)

    async def _listen(self, conn: Any, *, resync: bool) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, self._received)
        self.connected.set()
        log.info("coord_listening", resync=resync)
        if resync:
            await self._resync()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), _PROBE_SECONDS)
            if not lost.is_set():
                await asyncio.wait_for(conn.execute("SELECT 1"), _PROBE_SECONDS)
        raise ConnectionError("the listening connection closed")

    def _received(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if isinstance(message, dict):
            try:
                self._deliver(message)
            except Exception as exc:  # one bad message must not end the listener
                log.warning("coord_message_failed", kind=str(message.get("k"))[:20], error=type(exc).__name__)
