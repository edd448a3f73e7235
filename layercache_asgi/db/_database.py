"""The async engine and sessions for SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

__all__ = ["Database", "restrict_sqlite_file"]


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


class Database:
    """One engine per app. Constructing it does no I/O; connections open on first use."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url, **engine_options)
        self.dialect: str = self.engine.dialect.name
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; commit it yourself (``await session.commit()``)."""
        async with self._sessions() as session:
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
