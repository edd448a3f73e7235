"""Prometheus ``/metrics`` and the JSON metrics API.

``/metrics`` needs no key (scrapers cannot log in) and shows only counts, tokens and
dollars by route, model and provider. The JSON API is a management route: it needs the
admin key (``proxy.admin_api_key``) and is off without one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .._errors import ProxyError, error_body
from ._recorder import FIELDS, MetricsRecorder
from ._snapshots import summarize

if TYPE_CHECKING:
    from .._runtime import Runtime

__all__ = ["metrics_routes", "metrics_summary", "parse_duration"]

log = structlog.get_logger("layercache.metrics")

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_MAX_BUCKETS = 2000


def parse_duration(text: str, name: str) -> float:
    """``"90"``, ``"30s"``, ``"5m"``, ``"1h"``, ``"7d"`` -> seconds; a 400 for anything else."""
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ProxyError(400, f"'{name}' must be a positive duration like 30s, 5m, 1h or 7d", param=name)
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def _error(exc: ProxyError) -> Response:
    body = error_body("openai", exc.status, exc.message, code=exc.code, param=exc.param)
    return Response(body, exc.status, headers=exc.headers, media_type="application/json")


def _recorder(runtime: Runtime) -> MetricsRecorder:
    recorder = runtime.metrics
    if not isinstance(recorder, MetricsRecorder):
        raise ProxyError(503, "metrics are not available")
    return recorder


def metrics_summary(recorder: MetricsRecorder) -> dict[str, Any]:
    """This app's totals since it started, overall and per model."""
    per_model = {model: summarize(row) for model, row in sorted(recorder.totals.items())}
    overall: dict[str, float] = {}
    for row in recorder.totals.values():
        for key, value in row.items():
            overall[key] = overall.get(key, 0.0) + value
    totals = summarize({key: overall.get(key, 0.0) for key in FIELDS})
    return {
        "replica": recorder.replica,
        "since": recorder.started_at.isoformat(),
        "totals": totals,
        "models": per_model,
    }


def _components(runtime: Runtime, recorder: MetricsRecorder) -> None:
    """Set ``layercache_component_up`` and the write-behind backlog from what the runtime holds right now."""
    semantic = runtime.semantic
    recorder.pending_writes.set(float(semantic.pending_writes) if semantic is not None else 0.0)
    states = {
        # ``available`` follows the periodic health check and failed queries.
        "database": runtime.db is not None and bool(runtime.db.available),
        "semantic_cache": semantic is not None and bool(semantic.ready),
        "templates": runtime.templates is not None,
    }
    if not runtime.settings.caching.semantic.enabled:
        del states["semantic_cache"]  # off by choice is not a fault
    for component, up in states.items():
        recorder.component_up.labels(component).set(1.0 if up else 0.0)


def metrics_routes(get_runtime: Callable[[], Runtime]) -> list[BaseRoute]:
    def guarded(handler: Callable[[Request, MetricsRecorder], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            runtime = get_runtime()
            try:
                runtime.auth.admin(request.scope, {k.lower(): v for k, v in request.headers.items()}, runtime.settings)
                result = await handler(request, _recorder(runtime))
            except ProxyError as exc:
                return _error(exc)
            except Exception as exc:  # the database went away: say so, don't 500
                log.warning("metrics_query_failed", error=type(exc).__name__, detail=str(exc)[:200])
                return _error(ProxyError(503, "metric history is unavailable right now"))
            return JSONResponse(result)

        return endpoint

    async def prometheus(request: Request) -> Response:
        runtime = get_runtime()
        recorder = runtime.metrics
        if isinstance(recorder, MetricsRecorder):
            _components(runtime, recorder)
        body = generate_latest(recorder.registry) if isinstance(recorder, MetricsRecorder) else b""
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def summary(request: Request, recorder: MetricsRecorder) -> dict[str, Any]:
        return metrics_summary(recorder)

    async def history(request: Request, recorder: MetricsRecorder) -> dict[str, Any]:
        window = parse_duration(request.query_params.get("window", "1h"), "window")
        bucket = parse_duration(request.query_params.get("bucket", "5m"), "bucket")
        if window / bucket > _MAX_BUCKETS:
            raise ProxyError(400, f"window/bucket gives more than {_MAX_BUCKETS} buckets", param="bucket")
        retention = get_runtime().settings.metrics.snapshot_retention_days * 86400.0
        if window > retention:
            raise ProxyError(400, f"window is longer than the retention ({retention:g}s)", param="window")
        if recorder.snapshots is None:
            raise ProxyError(503, "metric snapshots are not running")
        return await recorder.snapshots.history(window, bucket, request.query_params.get("model") or None)

    async def status(request: Request, recorder: MetricsRecorder) -> dict[str, Any]:
        if recorder.snapshots is None:
            raise ProxyError(503, "metric snapshots are not running")
        return await recorder.snapshots.status()

    return [
        Route("/metrics", prometheus, methods=["GET"]),
        Route("/v1/cache/metrics", guarded(summary), methods=["GET"]),
        Route("/v1/cache/metrics/history", guarded(history), methods=["GET"]),
        Route("/v1/cache/metrics/status", guarded(status), methods=["GET"]),
    ]
