"""Start observability: logging and the metrics recorder first, snapshots once the database is open."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

from .._config import Host, Settings
from .._logging import LogBuffer, configure_logging, reconfigure_logging, release_logging
from ..db._watch import DatabaseHost
from ._prices import PriceBook, load_cost_map
from ._recorder import MetricsRecorder
from ._snapshots import SnapshotLoop

__all__ = ["start_metric_snapshots", "start_metrics"]


def _replica_id() -> str:
    # Unique per started app: replicas (and restarts) never mix their counters.
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def start_metrics(runtime: Host) -> tuple[LogBuffer, MetricsRecorder]:
    """Configure logging, create this app's registry and recorder, warm the price map.

    Returns the log buffer and the recorder, for the caller to hold (``runtime.logs``, ``.metrics``)."""
    buffer = configure_logging(runtime.settings)

    async def release() -> None:
        release_logging(buffer)

    runtime.on_close(release)
    runtime.on_reload(lambda settings: reconfigure_logging(buffer, settings))

    recorder = MetricsRecorder(PriceBook(runtime.settings.metrics.prices), _replica_id())
    buffer.on_fault = recorder.fault

    def reprice(settings: Settings) -> None:
        recorder.prices = PriceBook(settings.metrics.prices)

    runtime.on_reload(reprice)
    # LiteLLM's import takes seconds: do it now, off the loop, not on the first answer.
    warming = asyncio.create_task(load_cost_map(), name="layercache-price-map")

    async def stop_warming() -> None:
        warming.cancel()

    runtime.on_close(stop_warming)
    return buffer, recorder


async def start_metric_snapshots(runtime: DatabaseHost, recorder: MetricsRecorder) -> None:
    """Start the snapshot loop (after the database starter, so it is flushed before the database closes)."""
    loop = SnapshotLoop(runtime, recorder)
    recorder.snapshots = loop
    loop.start()
    runtime.on_close(loop.stop)
