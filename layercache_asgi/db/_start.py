"""Open the database at start-up and make sure its schema is the one this code expects."""

from __future__ import annotations

import asyncio

import structlog

from .._config import Host
from ._database import Database, restrict_sqlite_file
from ._migrate import SchemaError, current, head, is_known, upgrade
from ._watch import DatabaseHost, DatabaseWatch

__all__ = ["open_database", "start_database"]

log = structlog.get_logger("layercache.db")

UPGRADE_COMMAND = "layercache-asgi db upgrade"


async def start_database(runtime: DatabaseHost) -> Database | None:
    """Open the database and bring or check its schema, then watch it.

    With ``database.auto_upgrade`` (default: on for SQLite only) the schema is migrated to
    the newest revision. Otherwise a schema that is not at the newest revision stops
    start-up with a :class:`SchemaError` naming the command that fixes it. A database that
    cannot be reached returns None: the proxy then serves uncached while a
    background task retries it (see ``_watch``) and hands it to ``runtime.database_ready``.
    Returns the database, for the caller to hold as ``runtime.db``.
    """
    db = await open_database(runtime)
    if db is not None:
        runtime.on_close(db.close)
    watch = DatabaseWatch(runtime, lambda: open_database(runtime), db)
    watch.start()
    runtime.on_close(watch.stop)  # registered after db.close, so it stops first
    return db


async def open_database(runtime: Host) -> Database | None:
    """The database with its schema checked; None (logged) when it cannot be reached."""
    settings = runtime.settings.database
    try:
        db = Database(settings.url)
    except Exception as exc:  # a malformed URL or a missing driver
        log.error("database_unavailable", error=type(exc).__name__, detail=str(exc)[:200])
        return None
    auto_upgrade = settings.auto_upgrade if settings.auto_upgrade is not None else db.dialect == "sqlite"
    try:
        await asyncio.to_thread(restrict_sqlite_file, settings.url)
        expected = head()
        at = await current(db.engine)
        if auto_upgrade and at != expected and (at is None or is_known(at)):
            await upgrade(db.engine)
            at = await current(db.engine)
    except Exception as exc:
        log.error("database_unavailable", error=type(exc).__name__, detail=str(exc)[:200])
        await db.close()
        return None
    if at != expected:
        await db.close()
        raise SchemaError(_schema_message(at, expected))
    log.info("database_ready", backend=db.dialect, revision=at)
    return db


def _schema_message(at: str | None, expected: str) -> str:
    if at is not None and not is_known(at):
        return (
            f"the database schema is at revision {at}, which this version of layercache-asgi does not know "
            f"(a newer version migrated it; it needs {expected}): upgrade layercache-asgi"
        )
    return (
        f"the database schema is at revision {at or 'base (empty)'} but this version of layercache-asgi "
        f"needs {expected}: run `{UPGRADE_COMMAND}` (or set database.auto_upgrade: true)"
    )
