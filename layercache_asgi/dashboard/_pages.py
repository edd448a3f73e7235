"""The dashboard's read-only pages and the JSON its charts load."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path
from typing import Any

from starlette.responses import JSONResponse, RedirectResponse, Response

from .._config import ConfigError
from ..metrics._recorder import MetricsRecorder
from ..metrics.routes import metrics_summary
from ..prompt._learned_minimums import stored_minimums
from ._base import Dashboard, View
from ._internal import call_api, items_of
from ._settings_io import editor_yaml, read_config_file

__all__ = ["Pages"]

_WINDOWS = {"1h": (3600.0, 60.0), "6h": (21600.0, 300.0), "24h": (86400.0, 900.0), "7d": (604800.0, 7200.0)}
_IDENT = re.compile(r"^[A-Za-z_][\w.:-]{0,79}$")
_SHOWN_FIELDS = ("status", "model", "provider", "deployment", "retriable", "route")


def _recorder(view: View) -> MetricsRecorder | None:
    recorder = view.runtime.metrics
    return recorder if isinstance(recorder, MetricsRecorder) else None


def _log_row(line: dict[str, Any], show_text: bool) -> dict[str, Any]:
    # Provider error strings can echo the request: only identifiers (exception names) are shown.
    error = line.get("error")
    if error is not None and not show_text and not _IDENT.match(str(error)):
        error = "[message hidden]"
    extra = {k: line[k] for k in _SHOWN_FIELDS if k in line}
    if show_text and line.get("detail"):
        extra["detail"] = line["detail"]
    return {
        "time": str(line.get("timestamp", ""))[11:23],
        "level": str(line.get("level", "")),
        "logger": str(line.get("logger", "")).removeprefix("layercache."),
        "event": str(line.get("event", "")),
        "request_id": str(line.get("request_id", "")),
        "error": error,
        "extra": extra,
    }


def _prefix_rows(recorder: MetricsRecorder | None) -> list[dict[str, Any]]:
    """The proxy's verdicts beside the provider's reasons, most frequent first."""
    if recorder is None:
        return []
    rows = []
    for (model, detail, provider, disagree), count in recorder.prefix.pairs.most_common(100):
        change = detail.removeprefix("changed:")
        layer, _, position = change.partition(" ")
        rows.append(
            {
                "model": model,
                "layer": layer,
                "position": position or "-",
                "provider": provider,
                "disagree": disagree,
                "count": count,
                "detail": detail,
                "latest": recorder.prefix.latest.get((model, detail)),
            }
        )
    return rows


class Pages:
    def __init__(self, dashboard: Dashboard) -> None:
        self.d = dashboard

    async def overview(self, view: View) -> Response:
        recorder = _recorder(view)
        window = view.request.query_params.get("window", "1h")
        window = window if window in _WINDOWS else "1h"
        status: dict[str, Any] | None = None
        if recorder is not None and recorder.snapshots is not None:
            try:
                status = await recorder.snapshots.status()
            except Exception:
                status = None
        summary = metrics_summary(recorder) if recorder is not None else None
        return self.d.render(
            view, "overview.html", summary=summary, snapshot=status, window=window, windows=list(_WINDOWS)
        )

    async def history_data(self, view: View) -> Response:
        recorder = _recorder(view)
        window, bucket = _WINDOWS.get(view.request.query_params.get("window", "1h"), _WINDOWS["1h"])
        if recorder is None or recorder.snapshots is None:
            return JSONResponse({"error": "metric snapshots are not running"}, status_code=503)
        bucket = max(bucket, view.settings.metrics.snapshot_interval_seconds)
        try:
            history = await recorder.snapshots.history(window, bucket)
        except Exception:
            return JSONResponse({"error": "metric history is unavailable right now"}, status_code=503)
        buckets = history["buckets"]
        return JSONResponse(
            {
                "labels": [b["start"] for b in buckets],
                "requests": [b["requests"] for b in buckets],
                "semantic_hit_rate": [b["semantic"]["hit_rate"] for b in buckets],
                "prefix_cached_fraction": [b["tokens"]["prefix_cached_fraction"] for b in buckets],
                "tokens_saved": [b["tokens"]["saved"] for b in buckets],
                "tokens_billed": [
                    b["tokens"]["uncached_input"] + b["tokens"]["cache_write"] + b["tokens"]["output"] for b in buckets
                ],
                "saved_usd": [b["saved_usd"]["net"] for b in buckets],
                "cost_usd": [b["cost_usd"] for b in buckets],
                "persisted": history["persisted"],
            }
        )

    async def models(self, view: View) -> Response:
        recorder = _recorder(view)
        rows = []
        if recorder is not None:
            for model, summary in metrics_summary(recorder)["models"].items():
                providers = ", ".join(sorted(recorder.model_providers.get(model, ()))) or "-"
                rows.append({"model": model, "providers": providers, **summary})
        rows.sort(key=lambda r: (r["providers"], r["model"]))
        minimums = await stored_minimums(view.runtime)
        return self.d.render(view, "models.html", rows=rows, minimums=minimums)

    async def cache(self, view: View, *, message: str | None = None, error: str | None = None) -> Response:
        params = {k: v for k, v in view.request.query_params.items() if k in ("q", "model") and v}
        params["limit"] = "200"
        result = await call_api(self.d.app, view.settings, "GET", "/v1/cache/entries", params=params)
        entries = items_of(result.doc, "entries")
        if not result.ok and error is None:
            error = f"Cache entries are unavailable: {result.message}"
        models = sorted(Counter(str(e.get("model", "")) for e in entries).items())
        template = "cache_rows.html" if view.request.headers.get("hx-request") else "cache.html"
        return self.d.render(
            view,
            template,
            503 if result.status == 503 else 200,  # the database is down: say so in the status too
            entries=entries,
            models=models,
            q=params.get("q", ""),
            model=params.get("model", ""),
            message=message,
            error=error,
            semantic_on=view.runtime.semantic is not None,
        )

    async def templates(self, view: View, *, message: str | None = None, error: str | None = None) -> Response:
        result = await call_api(self.d.app, view.settings, "GET", "/v1/prompts/templates")
        templates = items_of(result.doc, "templates")
        available = view.runtime.templates is not None and result.ok
        if not available and error is None:
            error = f"Templates are unavailable: {result.message if not result.ok else 'the template store is off'}"
        edit = view.request.query_params.get("edit", "")
        editing = next((t for t in templates if t.get("name") == edit), None)
        return self.d.render(
            view,
            "templates.html",
            503 if result.status == 503 else 200,
            templates=templates,
            available=available,
            persistent=isinstance(result.doc, dict) and result.doc.get("persistent", True),
            editing=editing,
            message=message,
            error=error,
        )

    async def config(
        self,
        view: View,
        *,
        text: str | None = None,
        file_fingerprint: str | None = None,
        message: str | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        """The editor: the config file as it is when there is one, else the effective settings.

        ``text`` (with the ``file_fingerprint`` it was edited from) redisplays a rejected save.
        """
        path: Path | None = getattr(self.d.app, "config_path", None)
        problem = None
        if text is None and path is not None:
            try:
                text, file_fingerprint = await asyncio.to_thread(read_config_file, path)
            except (OSError, UnicodeDecodeError, ConfigError) as exc:
                problem = f"{path.name} cannot be shown as it is ({getattr(exc, 'strerror', None) or exc})"
        return self.d.render(
            view,
            "config.html",
            status,
            text=text if text is not None else editor_yaml(view.settings),
            file_fingerprint=file_fingerprint,
            effective=editor_yaml(view.settings),
            path=str(path) if path is not None else None,
            problem=problem,
            message=message,
            error=error,
        )

    async def logs(self, view: View) -> Response:
        buffer = view.runtime.logs
        level = view.request.query_params.get("level", "")
        lines = buffer.tail(300, min_level=level or None) if buffer is not None else []
        rows = [_log_row(line, view.settings.logging.log_prompts) for line in reversed(lines)]
        template = "logs_rows.html" if view.request.headers.get("hx-request") else "logs.html"
        return self.d.render(view, template, rows=rows, level=level, levels=["DEBUG", "INFO", "WARNING", "ERROR"])

    async def prefix(self, view: View) -> Response:
        recorder = _recorder(view)
        causes: Counter[str] = Counter()
        if recorder is not None:
            for row in recorder.totals.values():
                for cause in ("new", "L0", "L1", "L2"):
                    causes[cause] += int(row["prefix_" + cause])
                causes["below minimum"] += int(row["prefix_below_minimum"])
        provider = sorted(recorder.prefix.provider_counts.items()) if recorder is not None else []
        recent = list(recorder.prefix.recent) if recorder is not None else []
        return self.d.render(
            view,
            "prefix.html",
            rows=_prefix_rows(recorder),
            causes=sorted(causes.items()),
            provider=provider,
            recent=recent,
            show_text=view.settings.logging.log_prompts,
        )

    async def login(self, view: View, *, error: str | None = None, status: int = 200) -> Response:
        if view.session.authenticated:
            return RedirectResponse(f"{view.base}/", status_code=303)
        return self.d.render(view, "login.html", status, error=error)
