"""Alembic migrations, driven in code: no ``alembic.ini``, one async engine, one shared connection.

Every function takes a database URL or an open :class:`~sqlalchemy.ext.asyncio.AsyncEngine`
(start-up passes the app's own engine) and is a coroutine; the CLI runs them with
``asyncio.run``. The scripts live in ``migrations/`` at the repository root and ship in the
wheel as ``layercache_asgi/migrations``; :func:`migrations_dir` finds either.

Each upgrade runs in one transaction under a lock (PostgreSQL: an advisory lock; SQLite:
the write lock), so replicas or workers starting together migrate once, one after the
other, instead of racing on the same DDL.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .._errors import SchemaError
from ._tables import metadata

__all__ = [
    "SchemaError",
    "check",
    "current",
    "downgrade",
    "head",
    "include_name",
    "is_known",
    "is_up_to_date",
    "migrations_dir",
    "revision",
    "upgrade",
]

T = TypeVar("T")

# Any fixed 64-bit number unique to this application's migrations.
_PG_LOCK_KEY = 0x4C43_4D49_4752  # "LCMIGR"

# Alembic's ``context``/``op`` are module-level proxies: two migrations interleaving in one
# process (two apps starting at once, each on its own loop or thread) would overwrite each other's.
_alembic_lock = threading.Lock()


def migrations_dir() -> Path:
    """The Alembic script folder: inside the installed package (wheel), else the repository root."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "migrations", package.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError(f"no Alembic migrations next to {package} (expected migrations/env.py)")


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Compare only our own tables: a host app may keep its tables in the same database."""
    return type_ != "table" or name in metadata.tables


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision the migration scripts define."""
    revision_id = ScriptDirectory.from_config(_config()).get_current_head()
    if revision_id is None:
        raise SchemaError("the migration scripts define no revision")
    return revision_id


@contextlib.asynccontextmanager
async def _engine(target: str | AsyncEngine) -> AsyncIterator[AsyncEngine]:
    if isinstance(target, AsyncEngine):
        yield target
        return
    engine = create_async_engine(target, hide_parameters=True)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _run(target: str | AsyncEngine, work: Callable[[Connection], T], *, commit: bool = False) -> T:
    """Run ``work`` on one sync-facing connection, serialised with other Alembic work in the process."""
    await asyncio.to_thread(_alembic_lock.acquire)
    try:
        async with _engine(target) as engine, engine.connect() as conn:
            result = await conn.run_sync(work)
            if commit:
                await conn.commit()
            return result
    finally:
        _alembic_lock.release()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _lock_schema(connection: Connection) -> None:
    """Serialise schema changes between processes; the lock ends with the transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        # Takes SQLite's write lock now, so a second worker waits (busy timeout) and then finds
        # the schema at head, instead of failing on "table already exists".
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def upgrade(target: str | AsyncEngine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default: the newest). Safe to run on an up-to-date database."""

    def work(connection: Connection) -> None:
        _lock_schema(connection)
        command.upgrade(_config(connection), revision)

    await _run(target, work, commit=True)


async def downgrade(target: str | AsyncEngine, revision: str) -> None:
    """Migrate the database down to ``revision`` (``"base"`` removes every table we created)."""

    def work(connection: Connection) -> None:
        _lock_schema(connection)
        command.downgrade(_config(connection), revision)

    await _run(target, work, commit=True)


async def current(target: str | AsyncEngine) -> str | None:
    """The revision the database is at, or None when no migration has been applied."""
    return await _run(target, _current_revision)


def is_known(revision_id: str) -> bool:
    """True when ``revision_id`` is one of our migration scripts (False: a newer version wrote it)."""
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision_id) is not None
    except Exception:  # alembic raises its own errors for unknown or malformed ids
        return False


async def is_up_to_date(target: str | AsyncEngine) -> bool:
    """True when the database is at the newest revision."""
    return await current(target) == head()


async def check(target: str | AsyncEngine) -> list[str]:
    """Differences between the models (``db/_tables.py``) and a database migrated to head.

    Empty when they agree. Run it against an up-to-date database: a missing migration then
    shows up as the change an autogenerate would write (e.g. ``add_column ...``).
    """

    def work(connection: Connection) -> list[str]:
        context = MigrationContext.configure(
            connection,
            opts={"include_name": include_name, "compare_type": True, "target_metadata": metadata},
        )
        return [_describe(diff) for diff in compare_metadata(context, metadata)]

    return await _run(target, work)


def _describe(diff: Any) -> str:
    # compare_metadata yields tuples such as ("add_table", Table) or lists of ("modify_type", ...).
    if isinstance(diff, list):
        return "; ".join(_describe(d) for d in diff)
    action, *details = diff
    names = [getattr(d, "name", None) or str(d) for d in details if d is not None]
    return " ".join([str(action), *names])


async def revision(target: str | AsyncEngine, message: str) -> None:
    """For maintainers: write a new migration script from the models' difference to ``target``."""

    def work(connection: Connection) -> None:
        command.revision(_config(connection), message=message, autogenerate=True)

    await _run(target, work)
