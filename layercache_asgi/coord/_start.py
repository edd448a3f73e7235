"""Start coordination: on PostgreSQL a :class:`Coordinator`; on SQLite, hold the file for this process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from ._single_process import hold_sqlite_file, release_sqlite_file, sole_holder, sqlite_path

if TYPE_CHECKING:
    from ._coordinator import Coordinator
    from ._host import CoordHost

__all__ = ["start_coordination"]

log = structlog.get_logger("layercache.coord")


async def start_coordination(runtime: CoordHost, install: Callable[[Coordinator], None]) -> None:
    """On PostgreSQL, start a coordinator and hand it to ``install`` (now, or once the database is
    up). Raises SingleProcessError for a second process on one SQLite file."""
    path = sqlite_path(runtime.settings.database.url)
    if path is not None:
        await asyncio.to_thread(hold_sqlite_file, path)
        if runtime.db is not None:
            runtime.db.shared = lambda: not sole_holder(path)  # another app of this process may join

        async def release() -> None:
            release_sqlite_file(path)

        runtime.on_close(release)
        return
    if runtime.db is None:
        runtime.on_database(lambda: _start_coordinator(runtime, install))  # once the database is back
        return
    await _start_coordinator(runtime, install)


async def _start_coordinator(runtime: CoordHost, install: Callable[[Coordinator], None]) -> None:
    db = runtime.db
    if db is None or db.dialect != "postgresql":
        return
    if db.engine.dialect.driver != "asyncpg":  # the listener speaks asyncpg's LISTEN API
        log.warning(
            "coord_off", reason=f"replica coordination needs the asyncpg driver, not {db.engine.dialect.driver}"
        )
        return
    from ._coordinator import Coordinator

    coordinator = Coordinator(runtime, db)
    await coordinator.start()
    runtime.on_close(coordinator.close)
    install(coordinator)
    log.info("coord_started", replica=coordinator.replica, listening=coordinator.listening)
