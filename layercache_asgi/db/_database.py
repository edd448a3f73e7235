"""The async engine and sessions for SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

__all__ = ["Database", "is_database_error", "restrict_sqlite_file"]

log = structlog.get_logger("layercache.db")

_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError, OSError)


def restrict_sqlite_file(url: str) -> None:
    """Create the SQLite file (and chmod it, with its -wal/-shm) owner-only: it holds prompts and answers.

    SQLite gives the -wal and -shm files the main file's mode, so creating that one 0600 first is enough
    for new databases; existing ones are tightened. Not SQLite, in memory, or not ours to chmod: nothing.
    """
    try:
        parsed = make_url(url)
    except Exception:
        return
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return
    with contextlib.suppress(OSError):
        os.close(os.open(name, os.O_CREAT | os.O_WRONLY, 0o600))
    for path in (name, f"{name}-wal", f"{name}-shm"):
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; the busy timeout waits instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database could not be reached or used.

    A constraint violation or a bad statement is not an outage and is not counted as one.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        # OSError: asyncpg's connect raises refused connections and timeouts unwrapped.
        if isinstance(current, _UNAVAILABLE):
            return True
        if isinstance(current, DBAPIError):
            return bool(current.connection_invalidated)
        if isinstance(current, SQLAlchemyError):
            return False
        if type(current).__module__.startswith(("asyncpg", "sqlite3", "aiosqlite")):
            names = {cls.__name__ for cls in type(current).__mro__}
            if names & {"InterfaceError", "OperationalError"} or any("Connect" in name for name in names):
                return True
        current = current.__cause__ or current.__context__
    return False


def _always() -> bool:
    return True


class Database:
    """One engine per app. Constructing it does no I/O; connections open on first use."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        # hide_parameters: a failed statement's error text, which log lines quote, carries no prompt or answer.
        self.engine: AsyncEngine = create_async_engine(url, hide_parameters=True, **engine_options)
        self.dialect: str = self.engine.dialect.name
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # False from a lost connection or a failed health check until a statement succeeds again;
        # what ``layercache_component_up{component="database"}`` reports.
        self.available = True
        event.listen(self.engine.sync_engine, "handle_error", self._on_error)
        event.listen(self.engine.sync_engine, "after_cursor_execute", self._on_success)
        # Whether rows can appear that this app did not write (replicas, another app on the same
        # file): the semantic cache then reads what is new in a bucket on every lookup. Coordination
        # says no for an app that alone holds its SQLite file.
        self.shared: Callable[[], bool] = _always

    def mark(self, available: bool, reason: str = "") -> None:
        """Record whether the database answers; a change is logged (a warning counts as a fault)."""
        if available == self.available:
            return
        self.available = available
        if available:
            log.info("database_up", backend=self.dialect)
        else:
            log.warning("database_down", backend=self.dialect, error=reason[:200])

    def _on_error(self, context: Any) -> None:
        # A cancelled call (shutdown, a client gone) also drops its connection, but says nothing of the database.
        if context.is_disconnect and isinstance(context.original_exception, Exception):
            self.mark(False, type(context.original_exception).__name__)

    def _on_success(self, *_args: Any) -> None:
        if not self.available:
            self.mark(True)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; commit it yourself (``await session.commit()``)."""
        async with self._sessions() as session:
            try:
                yield session
            except Exception as exc:
                # A refused connection raises unwrapped (no engine event sees it): mark it down here.
                if is_database_error(exc):
                    self.mark(False, type(exc).__name__)  # the name only: the text may quote a statement's values
                raise

    async def close(self) -> None:
        await self.engine.dispose()
