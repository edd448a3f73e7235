"""One replica's part in coordinating with the others over PostgreSQL (``runtime.coord``).

It listens (``_notify.Listener``), applies what it hears (``_apply.Applier``), takes claims
(``_claims.Claims``, used by the warm-up gate), and announces this replica's own changes that
no trigger sees: an operator's invalidation, a config reload, a failed authentication, the
prefix families it saw first (digests only, batched: the marker plan of the other replicas then
counts their next request of it as a repeat).
Announcing never blocks a request: it runs in the background and a failure is a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from ..db._background import Background
from ..prompt._reuse import ReuseEstimator
from ._apply import Applier
from ._claims import Claims
from ._notify import Listener, connect_kwargs, publish

if TYPE_CHECKING:
    from .._config import Settings
    from ..db import Database
    from ._host import CoordHost

__all__ = ["LISTENER_NAME", "Coordinator"]

log = structlog.get_logger("layercache.coord")

LISTENER_NAME = "layercache-listener"
# Start-up waits this long for the listener, so a replica that serves has heard from the others.
_LISTEN_WAIT_SECONDS = 5.0
# Announcements queued beyond this many are dropped (a flood of failed logins, a database that hangs).
_MAX_PENDING = 200
_SWEEP_SECONDS = 300.0
# New prefix families are announced together: at most this long after the first, this many a message
# (64-character digests: a message stays under NOTIFY's 8000 bytes).
_FAMILY_BATCH_SECONDS = 0.05
_FAMILIES_PER_MESSAGE = 100


class Coordinator:
    def __init__(self, runtime: CoordHost, db: Database) -> None:
        self.runtime = runtime
        self.db = db
        self.replica = uuid.uuid4().hex[:16]
        self.claims = Claims(db.engine, self.replica)
        self.applier = Applier(runtime, self.replica, self.claims)
        self.listener = Listener(self._connect, self.applier, self.applier.resync)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper = Background("layercache-coord-sweep", self._sweep)
        self._families: list[str] = []  # seen first here, not announced yet
        self._families_due: asyncio.TimerHandle | None = None
        self._estimator = runtime.prompt_state.part(ReuseEstimator)

    async def _connect(self) -> Any:
        import asyncpg  # type: ignore[import-untyped]

        kwargs = connect_kwargs(self.db.engine)
        # Named, so an operator (or a test) can tell the listening connection apart in pg_stat_activity.
        kwargs["server_settings"] = {**kwargs.get("server_settings", {}), "application_name": LISTENER_NAME}
        return await asyncpg.connect(**kwargs, timeout=5)

    async def start(self) -> None:
        self.listener.start()
        self._sweeper.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listener.connected.wait(), _LISTEN_WAIT_SECONDS)
        self.runtime.on_reload(self._config_reloaded)
        self.runtime.auth.limiter.on_failure = self.auth_failed
        self.runtime.auth.sessions.on_revoke = self.session_revoked
        self._estimator.on_new = self.family_seen

    async def _sweep(self) -> None:
        """Delete claims long expired (every replica does; they are only ever read by key)."""
        from sqlalchemy import text

        while True:
            await asyncio.sleep(_SWEEP_SECONDS)
            try:
                async with self.db.engine.begin() as conn:
                    await conn.execute(text("DELETE FROM coord_claims WHERE expires_at < now() - interval '1 minute'"))
            except Exception as exc:
                log.warning("coord_sweep_failed", error=type(exc).__name__)

    @property
    def listening(self) -> bool:
        return self.listener.connected.is_set()

    # -- announcements ----------------------------------------------------------------------

    def invalidated(self, where: dict[str, Any], *, everything: bool) -> None:
        """An operator deleted entries through this replica (the ids reach the others by trigger)."""
        at = datetime.now(UTC).isoformat()
        self._announce({"k": "invalidate", "where": where, "all": everything, "at": at})

    def _config_reloaded(self, _settings: Settings) -> None:
        if not self.applier.applying_remote:
            self._announce({"k": "config"})

    def auth_failed(self, address: str) -> None:
        self._announce({"k": "authfail", "a": address[:200]})

    def session_revoked(self, key: str, expires: int) -> None:
        """A dashboard logout here: the session (by digest, never its id) is refused on every replica."""
        self._announce({"k": "revoke", "s": key, "e": expires})

    def family_seen(self, family: str) -> None:
        """A prefix family this replica saw first (a digest of tenant, model and prefix: no content)."""
        if self._families_due is None:
            self._families_due = asyncio.get_running_loop().call_later(_FAMILY_BATCH_SECONDS, self._announce_families)
        self._families.append(family)

    def _announce_families(self) -> None:
        families, self._families, self._families_due = self._families, [], None
        for start in range(0, len(families), _FAMILIES_PER_MESSAGE):
            self._announce({"k": "family", "f": families[start : start + _FAMILIES_PER_MESSAGE]})

    def _announce(self, message: dict[str, Any]) -> None:
        if len(self._tasks) >= _MAX_PENDING:
            log.warning("coord_announcement_dropped", kind=message["k"])
            return
        task = asyncio.get_running_loop().create_task(self._publish({**message, "o": self.replica}))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, message: dict[str, Any]) -> None:
        try:
            await publish(self.db.engine, message)
        except Exception as exc:
            log.warning("coord_announce_failed", kind=message["k"], error=type(exc).__name__)

    async def close(self) -> None:
        if self.runtime.auth.limiter.on_failure == self.auth_failed:
            self.runtime.auth.limiter.on_failure = None
        if self.runtime.auth.sessions.on_revoke == self.session_revoked:
            self.runtime.auth.sessions.on_revoke = None
        if self._estimator.on_new == self.family_seen:
            self._estimator.on_new = None
        if self._families_due is not None:
            self._families_due.cancel()  # closing: the other replicas learn these from their own traffic
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        await self._sweeper.stop()
        await self.claims.close()
        await self.listener.stop()
        await self.applier.close()
