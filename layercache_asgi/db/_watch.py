"""Keep track of the database while the app runs: a cheap periodic check, and reconnecting.

A database that answered at start-up is checked every ``database.health_check_seconds``
with ``SELECT 1``, so ``layercache_component_up{component="database"}`` turns 0 within
one interval of an outage and 1 again once it answers. A database that could not be
reached at start-up is retried in the background with exponential backoff (from that
interval up to :data:`MAX_BACKOFF_SECONDS`); once it opens, the components that were
waiting for it (semantic cache, template store) start, without a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

import sqlalchemy
import structlog

from .._config import Host
from ._background import Background, doubled
from ._database import Database, is_database_error

__all__ = ["MAX_BACKOFF_SECONDS", "DatabaseHost", "DatabaseWatch", "is_database_error"]

log = structlog.get_logger("layercache.db")

MAX_BACKOFF_SECONDS = 60.0
# A check that hangs (a firewall dropping packets) counts as a failure after this long.
_CHECK_TIMEOUT_SECONDS = 5.0


async def ping(db: Database) -> bool:
    """One ``SELECT 1``; marks the database up or down by its result."""
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT_SECONDS):
            async with db.engine.connect() as conn:
                await conn.execute(sqlalchemy.text("SELECT 1"))
    except Exception as exc:
        db.mark(False, f"{type(exc).__name__}: {exc}")
        return False
    db.mark(True)
    return True


class DatabaseHost(Host, Protocol):
    """A host that holds the database: components that store things start against this."""

    @property
    def db(self) -> Database | None: ...

    def on_database(self, starter: Callable[[], Awaitable[None]]) -> None:
        """Run ``starter()`` once a database that was unreachable at start-up comes up."""

    async def database_ready(self, db: Database) -> None:
        """Take a database that came up after start-up and start what was waiting for it."""


class DatabaseWatch:
    """The background task: health checks while a database is open, reconnects while there is none."""

    def __init__(
        self,
        runtime: DatabaseHost,
        open_database: Callable[[], Awaitable[Database | None]],
        opened: Database | None,
    ) -> None:
        self._runtime = runtime
        self._open = open_database
        self._up_at_start = opened is not None  # else reconnect first
        self._task = Background("layercache-database-watch", self._run)
        self._opened: Database | None = None  # a database this watch opened (it closes it)

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()
        if self._opened is not None:
            await self._opened.close()
            self._opened = None

    def _interval(self) -> float:
        return float(self._runtime.settings.database.health_check_seconds)

    async def _run(self) -> None:
        if not self._up_at_start:
            await self._reconnect()
        while True:
            await asyncio.sleep(self._interval())
            db = self._runtime.db
            if isinstance(db, Database):
                await ping(db)

    async def _reconnect(self) -> None:
        delay = self._interval()
        while True:
            await asyncio.sleep(delay)
            try:
                db = await self._open()
            except Exception as exc:  # e.g. a schema that is behind: wait for `db upgrade`
                log.error("database_reconnect_failed", error=type(exc).__name__, detail=str(exc)[:300])
                db = None
            if db is not None:
                self._opened = db
                log.info("database_reconnected", backend=db.dialect)
                await self._runtime.database_ready(db)
                return
            delay = doubled(delay, MAX_BACKOFF_SECONDS)
            log.info("database_retry_scheduled", retry_in_seconds=delay)
