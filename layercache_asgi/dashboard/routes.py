"""Dashboard pages and the config reload API, all relative to the mount point."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from .._errors import ProxyError, error_body
from ..wire._body import require_content_type
from ._actions import Actions
from ._base import Dashboard
from ._pages import Pages
from ._settings_io import reload_from_file

if TYPE_CHECKING:
    from .._runtime import Runtime

__all__ = ["dashboard_routes"]

STATIC = Path(__file__).parent / "static"


class _StaticFiles(StaticFiles):
    """StaticFiles whose 404/405 are responses: it raises HTTPException, and no Starlette app is here to answer it."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


def _reload_endpoint(get_runtime: Callable[[], Runtime], app: Any) -> Callable[[Request], Any]:
    async def reload(request: Request) -> Response:
        """``POST /v1/config/reload``: re-read the config file the app was built from."""
        runtime = get_runtime()
        try:
            runtime.auth.admin(request.scope, {k.lower(): v for k, v in request.headers.items()}, runtime.settings)
            require_content_type(request.headers, body_optional=True)
            result = await reload_from_file(runtime, getattr(app, "config_path", None))
        except ProxyError as exc:
            body = error_body("openai", exc.status, exc.message, code=exc.code)
            return Response(body, exc.status, headers=exc.headers, media_type="application/json")
        return JSONResponse(result)

    return reload


def dashboard_routes(get_runtime: Callable[[], Runtime], app: Any) -> list[BaseRoute]:
    dashboard = Dashboard(get_runtime, app)
    pages = Pages(dashboard)
    actions = Actions(dashboard, pages)
    page, prefix = dashboard.page, "/dashboard"
    return [
        Route("/v1/config/reload", _reload_endpoint(get_runtime, app), methods=["POST"]),
        Route(prefix, page(pages.overview), methods=["GET"]),
        Route(f"{prefix}/", page(pages.overview), methods=["GET"]),
        Route(f"{prefix}/data/history", page(pages.history_data, data=True), methods=["GET"]),
        Route(f"{prefix}/models", page(pages.models), methods=["GET"]),
        Route(f"{prefix}/cache", page(pages.cache), methods=["GET"]),
        Route(f"{prefix}/cache/invalidate", page(actions.cache_delete, write=True), methods=["POST"]),
        Route(f"{prefix}/templates", page(pages.templates), methods=["GET"]),
        Route(f"{prefix}/templates/save", page(actions.template_save, write=True), methods=["POST"]),
        Route(f"{prefix}/templates/delete", page(actions.template_delete, write=True), methods=["POST"]),
        Route(f"{prefix}/templates/import", page(actions.template_import, write=True), methods=["POST"]),
        Route(f"{prefix}/config", page(pages.config), methods=["GET"]),
        Route(f"{prefix}/config", page(actions.config_save, write=True), methods=["POST"]),
        Route(f"{prefix}/logs", page(pages.logs), methods=["GET"]),
        Route(f"{prefix}/prefix", page(pages.prefix), methods=["GET"]),
        Route(f"{prefix}/login", page(pages.login, public=True), methods=["GET"]),
        Route(f"{prefix}/login", page(actions.login, public=True), methods=["POST"]),
        Route(f"{prefix}/logout", page(actions.logout), methods=["POST"]),
        # check_dir=False: no file-system access while the app is being built.
        Mount(f"{prefix}/static", app=_StaticFiles(directory=STATIC, check_dir=False), name="dashboard-static"),
    ]
