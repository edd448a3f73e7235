"""Count requests, tokens, cache outcomes and savings for every proxied request.

The outermost stage: it sees semantic hits, upstream answers and errors alike. It
stops its timer when the first response byte leaves (so the overhead histogram is
time-to-first-byte minus the provider's latency), lets the request finish, and then
records from the exchange's typed fields (``outcome``, ``prefix``, ``saved``...). Recording never breaks a
request: a failure there is logged and dropped.
"""

from __future__ import annotations

import time

import structlog

from .._errors import ProxyError
from .._exchange import get_exchange
from .._types import ASGIApp, Message, Receive, Scope, Send
from ..metrics._prices import load_cost_map
from ..metrics._recorder import MetricsRecorder, Sample

__all__ = ["RecordMetrics"]

log = structlog.get_logger("layercache.metrics")


class RecordMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        recorder = exchange.runtime.metrics if exchange is not None else None
        if exchange is None or not isinstance(recorder, MetricsRecorder):
            await self.app(scope, receive, send)
            return
        first_byte: float | None = None

        async def timed_send(message: Message) -> None:
            nonlocal first_byte
            if first_byte is None and message["type"] == "http.response.body":
                first_byte = time.perf_counter()
            await send(message)

        status = 500
        try:
            await self.app(scope, receive, timed_send)
            status = exchange.outcome.status or 200
        except ProxyError as exc:
            status = exc.status
            raise
        finally:
            if exchange.client_closed:  # cancelled for a client that left: nginx's "client closed request"
                status = 499
            overhead = None
            if first_byte is not None:
                overhead = first_byte - exchange.started - exchange.outcome.upstream_seconds
            semantic_on = exchange.runtime.semantic is not None and exchange.settings.caching.semantic.enabled
            try:
                await load_cost_map()  # instant once warmed at start-up
                recorder.record(Sample(exchange, status, overhead, semantic_on))
            except Exception:
                log.exception("metrics_record_failed", request_id=exchange.request_id)
