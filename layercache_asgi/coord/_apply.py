"""What a replica does with each notification from the others (or from the database's triggers).

- ``insert`` (ids): rows another replica committed out of id order (below the watermark of a
  bucket held here, which a lookup's top-up never reads again) join that bucket at once; they
  used to wait for the 120 s reload. ``all``: forget every bucket (reloaded on use).
- ``delete`` (ids or ``all``): forget those rows (deleted through any replica, purged, evicted).
- ``invalidate``: an operator's delete through another replica. This replica first writes
  its own queued answers, then deletes those the filter matches that were stored before the
  delete: an answer in flight here when it ran must not outlive it.
- ``templates``: drop the template cache. ``config``: re-read the config file.
- ``warm`` / ``released``: a prefix's writer started (or gave up): the prefix is warm here too,
  and requests waiting for it go.
- ``authfail``: a failed authentication elsewhere counts in this replica's limiter too.
- ``revoke``: a dashboard session logged out elsewhere (by digest) is refused here too.
- ``family``: prefix families (digests) another replica saw first: their next request here is a
  repeat for the marker plan, not a new family.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import Awaitable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from ..prompt._reuse import ReuseEstimator
from ._claims import Claims
from ._flight import FLIGHT_PREFIX

if TYPE_CHECKING:
    from ._host import CoordHost, WarmTable

__all__ = ["Applier"]

log = structlog.get_logger("layercache.coord")


class Applier:
    def __init__(self, runtime: CoordHost, replica: str, claims: Claims) -> None:
        self.runtime = runtime
        self.replica = replica
        self.claims = claims
        self.applying_remote = False  # a config reload caused by a notification is not announced again
        self._tasks: set[asyncio.Task[None]] = set()
        # The warm-up gates' registries (each gate stage holds its own) that hear of prefixes made warm elsewhere.
        self.registries: weakref.WeakSet[WarmTable] = weakref.WeakSet()

    def __call__(self, message: dict[str, Any]) -> None:
        kind = message.get("k")
        if message.get("o") == self.replica and kind in _APPLIED_AT_ORIGIN:
            return
        if kind == "insert":
            if message.get("all"):
                self._forget(None)
            else:
                self._spawn(self._add_entries(_ids(message)))
        elif kind == "delete":
            self._forget(None if message.get("all") else set(_ids(message)))
        elif kind == "invalidate":
            self._spawn(self._invalidate(message))
        elif kind == "templates":
            self._templates_changed()
        elif kind == "config":
            self._spawn(self.reload_config())
        elif kind in ("warm", "released"):
            keys = [str(k) for k in message.get("keys") or []]
            if kind == "warm":
                self._warm(keys, float(message.get("ttl") or 300.0))
            self.claims.signalled(keys, warm=kind == "warm")
        elif kind == "authfail" and isinstance(message.get("a"), str):
            self.runtime.auth.limiter.record(message["a"])
        elif kind == "revoke" and isinstance(message.get("s"), str) and isinstance(message.get("e"), int):
            self.runtime.auth.sessions.record(message["s"], message["e"])
        elif kind == "family" and isinstance(message.get("f"), list):
            estimator = self.runtime.prompt_state.part(ReuseEstimator)
            for family in message["f"][:_FAMILIES_PER_MESSAGE]:
                if isinstance(family, str) and len(family) == 64:
                    estimator.seen_elsewhere(family)

    async def resync(self) -> None:
        """Notifications may have been missed (the listener reconnected): reload what they would have said."""
        log.info("coord_resync")
        self._forget(None)
        self._templates_changed()
        await self.reload_config()

    # -- semantic entries -------------------------------------------------------------------

    def _forget(self, ids: set[int] | None) -> None:
        semantic = self.runtime.semantic
        if semantic is not None:
            semantic.forget(ids)

    async def _add_entries(self, ids: list[int]) -> None:
        """Add the rows a lookup's top-up would never read: those below a held bucket's watermark.

        Rows above it are read by the next lookup of their bucket anyway (adding them here
        instead would make that lookup's top-up find "nothing new" and skip its search).
        """
        import numpy as np
        from sqlalchemy import select

        from ..db import SemanticEntry

        store = getattr(self.runtime.semantic, "store", None)
        if store is None or not ids:
            return
        keys = select(SemanticEntry.id, SemanticEntry.tenant, SemanticEntry.exact_key).where(SemanticEntry.id.in_(ids))
        async with store.db.engine.connect() as conn:
            late = []
            for entry_id, tenant, exact in (await conn.execute(keys)).all():
                bucket = store.index.get((tenant, exact))
                if bucket is not None and entry_id < bucket.watermark and entry_id not in bucket.positions:
                    late.append(entry_id)
            if not late:
                return
            columns = (SemanticEntry.id, SemanticEntry.tenant, SemanticEntry.exact_key, SemanticEntry.query_text)
            query = select(*columns, SemanticEntry.embedding, SemanticEntry.expires_at).where(
                SemanticEntry.id.in_(late)
            )
            rows = (await conn.execute(query)).all()
        for entry_id, tenant, exact, text, blob, expires_at in rows:
            bucket = store.index.get((tenant, exact))
            vector = np.frombuffer(blob, dtype=np.float32)
            if bucket is not None and vector.shape[0] == store.dim:
                bucket.add(entry_id, vector, text, _epoch(expires_at))

    async def _invalidate(self, message: dict[str, Any]) -> None:
        from sqlalchemy import delete

        from ..db import SemanticEntry
        from ..semantic._entries import EntryFilter

        semantic, db = self.runtime.semantic, self.runtime.db
        if semantic is None or db is None:
            return  # nothing stored from here, so nothing in flight
        await semantic.flush()
        where = EntryFilter(**{k: v for k, v in (message.get("where") or {}).items() if k in _FILTER_FIELDS})
        where.include_expired = True
        before = datetime.fromisoformat(str(message["at"]))
        async with db.session() as session:
            await session.execute(delete(SemanticEntry).where(*where.clauses(), SemanticEntry.created_at <= before))
            await session.commit()  # the trigger tells every replica (this one too) which rows went

    # -- templates, config, warm prefixes ---------------------------------------------------

    def _templates_changed(self) -> None:
        templates = self.runtime.templates
        if templates is not None:
            templates.invalidate()

    async def reload_config(self) -> None:
        """Re-read the config file when it says something new (another replica saved or reloaded it)."""
        from .._config import changed_paths, check_no_lost_sections, load_settings

        path = self.runtime.config_path
        if path is None:
            return

        try:
            new = await asyncio.to_thread(load_settings, path)
            check_no_lost_sections(self.runtime.settings, new)
        except Exception as exc:  # a file being written, or a bad one: the replica that saved it said so
            log.warning("coord_config_not_reloaded", error=type(exc).__name__, detail=str(exc)[:200])
            return
        if changed_paths(self.runtime.settings, new):
            with self._remote():
                self.runtime.reload(new)
            log.info("config_reloaded", source="another replica")

    @contextlib.contextmanager
    def _remote(self) -> Iterator[None]:
        self.applying_remote = True
        try:
            yield
        finally:
            self.applying_remote = False

    def _warm(self, keys: list[str], ttl: float) -> None:
        until = time.monotonic() + ttl
        for registry in list(self.registries):
            for key in keys:
                if not key.startswith(FLIGHT_PREFIX):  # a question answered elsewhere is no prefix
                    registry.warm.put(key, until)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.get_running_loop().create_task(_logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


_FILTER_FIELDS = ("entry_id", "model", "tenant", "search")
# Done by the replica that announced them; a claim's signal may also wake a request of its own replica.
_APPLIED_AT_ORIGIN = frozenset({"invalidate", "config", "authfail", "revoke", "family"})
_FAMILIES_PER_MESSAGE = 100  # what one announcement holds at most (``_coordinator``)


async def _logged(work: Awaitable[None]) -> None:
    try:
        await work
    except Exception as exc:  # a database hiccup: the periodic reloads still catch up
        log.warning("coord_apply_failed", error=type(exc).__name__, detail=str(exc)[:200])


def _ids(message: dict[str, Any]) -> list[int]:
    return [int(i) for i in message.get("ids") or [] if isinstance(i, int)]


def _epoch(moment: datetime) -> float:
    from datetime import UTC

    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()
