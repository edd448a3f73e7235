"""Open the database at start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from ._database import Database
from ._tables import metadata

if TYPE_CHECKING:
    from .._runtime import Runtime

log = structlog.get_logger("layercache.db")


async def start_database(runtime: Runtime) -> None:
    """Open the database. (Temporary: creates tables directly until Alembic migrations land.)"""
    db = Database(runtime.settings.database.url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    except Exception as exc:
        log.error("database_unavailable", error=type(exc).__name__, detail=str(exc)[:200])
        await db.close()
        return
    runtime.db = db
    runtime.on_close(db.close)
