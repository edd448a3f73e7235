"""Metric snapshots: a background loop persisting per-model counters, and the history they give.

Each snapshot row holds one replica's cumulative counters for one model (``counters``)
and what changed since that replica's previous snapshot (``delta``). History sums the
deltas per time bucket, which merges replicas and survives restarts without having to
pair rows up. A replica with no traffic writes one heartbeat row (model ``*``) so the
status endpoint can tell a live loop from a dead one. Without a database the rows are
kept in memory (bounded), so the JSON API keeps working.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import delete, func, select

from ..db._background import Background
from ..db._tables import MetricSnapshot
from ._recorder import FIELDS, MetricsRecorder

if TYPE_CHECKING:
    from ..db._watch import DatabaseHost

__all__ = ["HEARTBEAT", "SnapshotLoop", "summarize"]

log = structlog.get_logger("layercache.metrics")

HEARTBEAT = "*"
_MEMORY_ROWS = 20_000
_PURGE_EVERY_SECONDS = 300.0


@dataclass
class _Row:
    taken_at: datetime
    replica: str
    model: str
    delta: dict[str, float]


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SnapshotLoop:
    """Takes a snapshot every ``metrics.snapshot_interval_seconds`` (read each time: reloadable)."""

    def __init__(self, runtime: DatabaseHost, recorder: MetricsRecorder) -> None:
        self._runtime = runtime
        self._recorder = recorder
        self._last: dict[str, dict[str, float]] = {}
        self._memory: collections.deque[_Row] = collections.deque(maxlen=_MEMORY_ROWS)
        self._task = Background("layercache-metric-snapshots", self._run)
        self._lock = asyncio.Lock()
        self._purged_at = 0.0
        self.newest: datetime | None = None

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        """Stop the loop and write what was counted since the last snapshot."""
        await self._task.stop()
        await self.take(heartbeat=False)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._runtime.settings.metrics.snapshot_interval_seconds)
            try:
                await self.take()
                await self._purge_if_due()
            except Exception as exc:  # the loop must outlive a bad moment of the database
                log.warning("metric_snapshot_failed", error=type(exc).__name__, detail=str(exc)[:200])

    async def take(self, *, heartbeat: bool = True) -> int:
        """Snapshot now; returns the number of rows written."""
        async with self._lock:
            now = datetime.now(UTC)
            replica = self._recorder.replica
            current = {model: dict(row) for model, row in self._recorder.totals.items()}
            rows: list[tuple[str, dict[str, Any]]] = []
            for model, counters in current.items():
                previous = self._last.get(model, {})
                delta = {k: v - previous.get(k, 0.0) for k, v in counters.items() if v != previous.get(k, 0.0)}
                if delta:
                    rows.append((model, {"counters": counters, "delta": delta}))
            if not rows and heartbeat:
                rows.append((HEARTBEAT, {"counters": {}, "delta": {}}))
            if not rows:
                return 0
            db = self._runtime.db
            if db is None:
                self._memory.extend(_Row(now, replica, model, data["delta"]) for model, data in rows)
            else:
                async with db.session() as session:
                    session.add_all(
                        MetricSnapshot(taken_at=now, replica=replica, model=model, data=data) for model, data in rows
                    )
                    await session.commit()
            # Only after the rows are safe: a failed write is retried with the next snapshot.
            self._last = current
            self.newest = now
            return len(rows)

    async def _purge_if_due(self) -> None:
        if time.monotonic() - self._purged_at < _PURGE_EVERY_SECONDS:
            return
        self._purged_at = time.monotonic()
        await self.purge()

    async def purge(self) -> None:
        """Delete snapshots older than ``metrics.snapshot_retention_days``."""
        cutoff = datetime.now(UTC) - timedelta(days=self._runtime.settings.metrics.snapshot_retention_days)
        while self._memory and self._memory[0].taken_at < cutoff:
            self._memory.popleft()
        db = self._runtime.db
        if db is not None:
            async with db.session() as session:
                await session.execute(delete(MetricSnapshot).where(MetricSnapshot.taken_at < cutoff))
                await session.commit()

    async def _rows(self, since: datetime, model: str | None) -> list[_Row]:
        db = self._runtime.db
        if db is None:
            return [r for r in self._memory if r.taken_at >= since and (model is None or r.model == model)]
        query = select(MetricSnapshot).where(MetricSnapshot.taken_at >= since, MetricSnapshot.model != HEARTBEAT)
        if model is not None:
            query = query.where(MetricSnapshot.model == model)
        async with db.session() as session:
            found = (await session.execute(query.order_by(MetricSnapshot.taken_at))).scalars().all()
        return [_Row(_utc(r.taken_at), r.replica, r.model, dict((r.data or {}).get("delta") or {})) for r in found]

    async def history(self, window: float, bucket: float, model: str | None = None) -> dict[str, Any]:
        """Deltas of every replica summed into ``bucket``-second buckets over the last ``window`` seconds."""
        count = max(1, math.ceil(window / bucket))
        now = time.time()
        end = math.ceil(now / bucket) * bucket  # aligned, so buckets stay put between refreshes
        start = end - count * bucket
        sums = [dict.fromkeys(FIELDS, 0.0) for _ in range(count)]
        models: set[str] = set()
        replicas: set[str] = set()
        for row in await self._rows(datetime.fromtimestamp(start, UTC), model):
            index = int((row.taken_at.timestamp() - start) // bucket)
            if row.model == HEARTBEAT or not 0 <= index < count:
                continue
            models.add(row.model)
            replicas.add(row.replica)
            target = sums[index]
            for key, value in row.delta.items():
                if key in target:
                    target[key] += float(value)
        buckets = [
            {"start": datetime.fromtimestamp(start + i * bucket, UTC).isoformat(), **summarize(s)}
            for i, s in enumerate(sums)
        ]
        return {
            "window_seconds": window,
            "bucket_seconds": bucket,
            "model": model,
            "models": sorted(models),
            "replicas": sorted(replicas),
            "persisted": self._runtime.db is not None,
            "buckets": buckets,
        }

    async def status(self) -> dict[str, Any]:
        """When the newest snapshot (of any replica) was taken, and how old it is."""
        newest = self.newest
        db = self._runtime.db
        if db is not None:
            async with db.session() as session:
                found = (await session.execute(select(func.max(MetricSnapshot.taken_at)))).scalar()
            newest = _utc(found) if found is not None else None
        interval = self._runtime.settings.metrics.snapshot_interval_seconds
        age = (datetime.now(UTC) - newest).total_seconds() if newest is not None else None
        return {
            "newest_snapshot_at": newest.isoformat() if newest is not None else None,
            "age_seconds": age,
            "interval_seconds": interval,
            "retention_days": self._runtime.settings.metrics.snapshot_retention_days,
            "stale": age is None or age > 3 * interval,
            "persisted": db is not None,
            "replica": self._recorder.replica,
        }


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def summarize(t: dict[str, float]) -> dict[str, Any]:
    """The readable view of one set of totals: counts, rates, tokens, USD."""
    prompt = t["uncached_input_tokens"] + t["cache_read_tokens"] + t["cache_write_tokens"]
    lookups = t["hits"] + t["misses"]
    return {
        "requests": int(t["requests"]),
        "errors": int(t["errors"]),
        "upstream_errors": int(t["upstream_errors"]),
        "failovers": int(t["failovers"]),
        "semantic": {
            "hits": int(t["hits"]),
            "misses": int(t["misses"]),
            "bypasses": int(t["bypasses"]),
            "hit_rate": _ratio(t["hits"], lookups),
        },
        "tokens": {
            "uncached_input": int(t["uncached_input_tokens"]),
            "cache_read": int(t["cache_read_tokens"]),
            "cache_write": int(t["cache_write_tokens"]),
            "output": int(t["output_tokens"]),
            "saved_prefix": int(t["tokens_saved_prefix"]),
            "saved_semantic": int(t["tokens_saved_semantic"]),
            "saved": int(t["tokens_saved_prefix"] + t["tokens_saved_semantic"]),
            "prefix_cached_fraction": _ratio(t["cache_read_tokens"], prompt),
        },
        "cost_usd": t["cost_usd"],
        "saved_usd": {
            "prefix_cache": t["saved_prefix_usd"],
            "semantic_cache": t["saved_semantic_usd"],
            "net": t["saved_prefix_usd"] + t["saved_semantic_usd"],
        },
        "prefix": {
            "below_minimum": int(t["prefix_below_minimum"]),
            "stable": int(t["prefix_stable"]),
            "new": int(t["prefix_new"]),
            "changed": {layer: int(t["prefix_" + layer]) for layer in ("L0", "L1", "L2")},
        },
        "upstream_latency_avg_seconds": _ratio(t["upstream_seconds"], t["upstream_calls"]),
    }
