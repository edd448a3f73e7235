"""LayerCacheApp: the mountable ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route, Router

from ._answer_faults import AnswerFaults
from ._config import Settings, config_path_from_env, load_settings
from ._errors import ProxyError, error_body, send_error
from ._ingress import ProxyEndpoint
from ._runtime import Runtime, Starter
from ._types import ASGIApp, Receive, Scope, Send, Wire
from ._version import __version__
from .metrics._response_count import CountResponses
from .stages import DEFAULT_STAGES, build_stack
from .stages.enhance import enhancement_registry
from .upstream._count_tokens import CountTokens
from .upstream._model_catalog import ModelCatalog, ModelInfo
from .wire._respond import send_json

__all__ = ["LayerCacheApp"]


class LayerCacheApp:
    """An LLM caching proxy as an ASGI app.

    ``settings`` may be a :class:`Settings`, a path to a YAML file, or None to read
    ``$LAYERCACHE_CONFIG``, then ``./layercache.yaml``, then defaults. ``stages`` is the
    stage stack, outermost first (default :data:`DEFAULT_STAGES`). ``transport`` carries every
    direct upstream call (fast path, model list, count_tokens): e.g. ``httpx.ASGITransport`` to a
    fake provider in tests (see :func:`layercache_asgi.testing.in_process`). The LiteLLM path opens
    its own connections and does not use it.

    Mount it anywhere (``app.mount("/llm", LayerCacheApp())``); it starts itself on the
    first request, or when a host enters :meth:`lifespan`.
    """

    def __init__(
        self,
        settings: Settings | str | os.PathLike[str] | None = None,
        *,
        stages: Sequence[Any] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self._settings_source = settings
        self._transport = transport
        self.stages: tuple[Any, ...] = tuple(DEFAULT_STAGES if stages is None else stages)
        self._runtime: Runtime | None = None
        self._stack: ASGIApp | None = None
        self._start_lock: asyncio.Lock | None = None
        self._catalog = ModelCatalog()
        self._router = Router(routes=self._routes())
        # Every response is counted, and a route's unhandled fault still gets an answer in its shape.
        self._front: ASGIApp = CountResponses(
            AnswerFaults(self._route, get_db=lambda: self._runtime.db if self._runtime else None),
            get_recorder=lambda: self._runtime.metrics if self._runtime else None,
        )

    # -- start-up -------------------------------------------------------------------------

    def _load_settings(self) -> Settings:
        source = self._settings_source
        if isinstance(source, Settings):
            return source
        return load_settings(Path(source) if source is not None else None)

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("LayerCacheApp has not started: serve a request or enter lifespan() first")
        return self._runtime

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def config_path(self) -> Path | None:
        """The YAML file the settings come from (what a config reload re-reads), or None."""
        source = self._settings_source
        if isinstance(source, Settings):
            return None
        return Path(source) if source is not None else config_path_from_env()

    async def startup(self) -> None:
        """Start once: load settings, open clients and stores. Safe to call concurrently."""
        if self._runtime is not None:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._runtime is not None:
                return
            runtime = Runtime(await asyncio.to_thread(self._load_settings), transport=self._transport)
            runtime.enhancements = enhancement_registry(self.stages)
            runtime.config_path = self.config_path
            await runtime.start(_starters())
            self._stack = build_stack(self.stages)
            self._runtime = runtime

    async def shutdown(self) -> None:
        runtime, self._runtime = self._runtime, None
        if runtime is not None:
            await runtime.close()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Any = None) -> AsyncIterator[None]:
        """Enter from a host's lifespan to start eagerly and close cleanly."""
        await self.startup()
        try:
            yield
        finally:
            await self.shutdown()

    # -- routing --------------------------------------------------------------------------

    def _routes(self) -> list[BaseRoute]:
        runtime = lambda: self.runtime  # noqa: E731
        stack = lambda: self._stack_or_fail()  # noqa: E731
        return [
            Route(
                "/v1/chat/completions",
                ProxyEndpoint("openai", "/v1/chat/completions", runtime, stack),
                methods=["POST"],
            ),
            Route(
                "/chat/completions", ProxyEndpoint("openai", "/v1/chat/completions", runtime, stack), methods=["POST"]
            ),
            Route("/v1/responses", ProxyEndpoint("responses", "/v1/responses", runtime, stack), methods=["POST"]),
            Route("/responses", ProxyEndpoint("responses", "/v1/responses", runtime, stack), methods=["POST"]),
            Route("/v1/messages", ProxyEndpoint("anthropic", "/v1/messages", runtime, stack), methods=["POST"]),
            Route("/v1/messages/count_tokens", CountTokens(runtime, self.stages), methods=["POST"]),
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/v1/models/{model_id:path}", self._model, methods=["GET"]),
            Route("/health", self._health, methods=["GET"]),
            *self._component_routes(),
        ]

    def _component_routes(self) -> list[BaseRoute]:
        # Each component contributes its own routes; all are relative to the mount point.
        from .api.cache_routes import cache_routes
        from .api.prompt_routes import prompt_routes
        from .dashboard.routes import dashboard_routes
        from .metrics.routes import metrics_routes

        get_runtime = lambda: self.runtime  # noqa: E731
        return [
            *cache_routes(get_runtime),
            *prompt_routes(get_runtime),
            *metrics_routes(get_runtime),
            *dashboard_routes(get_runtime, self),
        ]

    def _stack_or_fail(self) -> ASGIApp:
        assert self._stack is not None
        return self._stack

    async def _health(self, request: Request) -> Response:
        return JSONResponse(
            # Whether the semantic cache is actually serving (model loaded, store open), not just configured.
            {"status": "healthy", "version": __version__, "semantic_cache": self._semantic_ready()}
        )

    def _semantic_ready(self) -> bool:
        semantic = self.runtime.semantic
        return bool(semantic is not None and self.settings.caching.semantic.enabled and semantic.ready)

    async def _models(self, request: Request) -> Response:
        try:
            models = await self._listed_models(request)
        except ProxyError as exc:
            return _error_response(request, exc)
        if "anthropic-version" in request.headers:  # the Anthropic SDK's models.list()
            data = [m.anthropic() for m in models]
            return JSONResponse(
                {
                    "data": data,
                    "has_more": False,
                    "first_id": data[0]["id"] if data else None,
                    "last_id": data[-1]["id"] if data else None,
                }
            )
        return JSONResponse({"object": "list", "data": [m.openai() for m in models]})

    async def _model(self, request: Request) -> Response:
        model_id = request.path_params["model_id"]
        try:
            models = await self._listed_models(request)
        except ProxyError as exc:
            return _error_response(request, exc)
        for model in models:
            if model.id == model_id:
                return JSONResponse(model.anthropic() if "anthropic-version" in request.headers else model.openai())
        error = ProxyError(404, f"The model '{model_id}' does not exist", code="model_not_found")
        return _error_response(request, error)

    async def _listed_models(self, request: Request) -> list[ModelInfo]:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.runtime.auth.client(request.scope, headers, self.settings)  # a proxy route: the client key
        return await self._catalog.models(self.settings, self.runtime.http)

    # -- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan_protocol(receive, send)
            return
        if scope["type"] not in ("http", "websocket"):
            return
        try:
            await self.startup()
        except Exception as exc:
            await self._startup_failed(send, exc)
            return
        await self._front(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._router(scope, receive, send)
            return
        # One pass over the routes (what the Router does for a full match), not one here and another in it.
        allowed: list[str] = []
        for route in self._router.routes:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.setdefault("router", self._router)
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and isinstance(route, Route) and route.methods:
                allowed += sorted(route.methods)
                scope["route"] = route  # the path is served: metrics count it under its route
        await self._unserved(scope, send, allowed)

    async def _unserved(self, scope: Scope, send: Send, allowed: list[str]) -> None:
        """Answer a route the proxy does not serve with JSON in the shape its path implies (a
        host's own 404/405 page, or Starlette's plain text, would break the client's SDK)."""
        path = get_route_path(scope)
        wire: Wire = "anthropic" if path.startswith("/v1/messages") else "openai"
        status = 405 if allowed else 404
        message = f"layercache-asgi does not serve {scope['method']} {path}"
        if allowed:
            message += f" (allowed: {', '.join(dict.fromkeys(allowed))})"
        extra = [(b"allow", ", ".join(dict.fromkeys(allowed)).encode())] if allowed else []
        await send_error(
            send, wire, ProxyError(status, message, code="not_found" if status == 404 else None), headers=extra
        )

    async def _startup_failed(self, send: Send, exc: Exception) -> None:
        from structlog import get_logger

        get_logger("layercache.app").error("startup_failed", error=str(exc))
        await send_json(send, 503, error_body("openai", 503, f"layercache-asgi could not start: {exc}"))

    async def _lifespan_protocol(self, receive: Receive, send: Send) -> None:
        # Standalone (``uvicorn layercache_asgi:app``): the server sends lifespan events.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _starters() -> list[Starter]:
    """The components, in start order. Each starts itself and degrades on its own: a failed store
    leaves an uncached proxy, never a failed start-up (except a Postgres schema that is behind, or a
    second process on one SQLite file).
    Components take the runtime as a small protocol and hand back what they built; only here
    (the composition root) is it put on the runtime."""
    from .coord import Coordinator, start_coordination
    from .db._start import start_database
    from .enhancements._few_shot import start_few_shot
    from .metrics._start import start_metric_snapshots, start_metrics
    from .prompt._tokens import start_tokenizer
    from .semantic._service import SemanticCacheService
    from .semantic._start import start_semantic_cache
    from .templates._start import start_templates

    async def metrics(runtime: Runtime) -> None:
        runtime.logs, runtime.metrics = await start_metrics(runtime)

    async def database(runtime: Runtime) -> None:
        runtime.db = await start_database(runtime)

    async def templates(runtime: Runtime) -> None:
        runtime.templates = await start_templates(runtime, runtime.enhancements)

    async def snapshots(runtime: Runtime) -> None:
        # After the database starter, so snapshots are closed (and flushed) before it.
        if runtime.metrics is not None:
            await start_metric_snapshots(runtime, runtime.metrics)

    async def coordination(runtime: Runtime) -> None:
        def install(coordinator: Coordinator) -> None:
            runtime.coord = coordinator

        await start_coordination(runtime, install)

    async def semantic(runtime: Runtime) -> None:
        def install(service: SemanticCacheService) -> None:
            runtime.semantic = service

        await start_semantic_cache(runtime, install)

    return [metrics, database, coordination, templates, snapshots, semantic, start_tokenizer, start_few_shot]


def _error_response(request: Request, error: ProxyError) -> Response:
    wire: Wire = "anthropic" if "anthropic-version" in request.headers else "openai"
    body = error_body(wire, error.status, error.message, code=error.code)
    return Response(body, status_code=error.status, media_type="application/json")
