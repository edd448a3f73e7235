"""Semantic cache management: list entries; invalidate them by id, model, tenant, or all.

With a proxy key configured, these routes need it and see every tenant. Without one
(key pass-through), a caller sees and deletes only its own tenant's entries: the
tenant of the key it presents.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .._auth import identify
from .._errors import ProxyError, error_body
from ..semantic._entries import EntryFilter, delete_entries, list_entries

if TYPE_CHECKING:
    from .._runtime import Runtime

__all__ = ["cache_routes"]

_MAX_PAGE = 500


def cache_routes(get_runtime: Callable[[], Runtime]) -> list[BaseRoute]:
    api = _CacheApi(get_runtime)
    return [
        Route("/v1/cache/entries", api.list, methods=["GET"]),
        Route("/v1/cache/entries", api.delete_many, methods=["DELETE"]),
        Route("/v1/cache/entries/{entry_id}", api.delete_one, methods=["DELETE"]),
    ]


def _error(status: int, message: str) -> Response:
    return Response(error_body("openai", status, message), status_code=status, media_type="application/json")


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


class _CacheApi:
    def __init__(self, get_runtime: Callable[[], Runtime]) -> None:
        self._runtime = get_runtime

    def _scope(self, request: Request) -> tuple[Runtime, str | None]:
        """The runtime, and the only tenant this caller may touch (None: any)."""
        runtime = self._runtime()
        caller = identify({k.lower(): v for k, v in request.headers.items()}, runtime.settings)
        if runtime.db is None:
            raise ProxyError(503, "the cache database is unavailable")
        admin = runtime.settings.proxy.proxy_api_key is not None
        return runtime, None if admin else caller.tenant

    def _filter(self, request: Request, own_tenant: str | None) -> EntryFilter:
        params = request.query_params
        tenant = params.get("tenant")
        if own_tenant is not None:
            if tenant is not None and tenant != own_tenant:
                raise ProxyError(403, "without a proxy key, only your own tenant's entries are visible")
            tenant = own_tenant
        return EntryFilter(model=params.get("model"), tenant=tenant, search=params.get("q"))

    async def list(self, request: Request) -> Response:
        try:
            runtime, own = self._scope(request)
            where = self._filter(request, own)
            where.include_expired = _truthy(request.query_params.get("include_expired"))
            limit = min(max(int(request.query_params.get("limit", "50")), 1), _MAX_PAGE)
            offset = max(int(request.query_params.get("offset", "0")), 0)
        except ValueError:
            return _error(400, "limit and offset must be integers")
        except ProxyError as exc:
            return _error(exc.status, exc.message)
        if runtime.semantic is not None:  # answers are written behind: list what was stored until now
            await runtime.semantic.flush()
        total, data = await list_entries(runtime.db, where, limit=limit, offset=offset)
        return JSONResponse({"object": "list", "data": data, "total": total, "limit": limit, "offset": offset})

    async def delete_many(self, request: Request) -> Response:
        try:
            runtime, own = self._scope(request)
            where = self._filter(request, own)
        except ProxyError as exc:
            return _error(exc.status, exc.message)
        params = request.query_params
        everything = _truthy(params.get("all"))
        if not everything and params.get("model") is None and params.get("tenant") is None:
            return _error(400, "say what to delete: ?model=..., ?tenant=... or ?all=true")
        return await self._delete(runtime, where, forget_all=everything and own is None)

    async def delete_one(self, request: Request) -> Response:
        try:
            runtime, own = self._scope(request)
            entry_id = int(request.path_params["entry_id"])
        except ValueError:
            return _error(400, "the entry id must be an integer")
        except ProxyError as exc:
            return _error(exc.status, exc.message)
        response = await self._delete(runtime, EntryFilter(entry_id=entry_id, tenant=own), forget_all=False)
        if json.loads(bytes(response.body))["deleted"] == 0:
            return _error(404, f"no cache entry {entry_id}")
        return response

    async def _delete(self, runtime: Runtime, where: EntryFilter, *, forget_all: bool) -> Response:
        if runtime.semantic is not None:  # an answer still being written must not outlive its deletion
            await runtime.semantic.flush()
        ids = await delete_entries(runtime.db, where)
        if runtime.semantic is not None:
            runtime.semantic.forget(None if forget_all else ids)
        return JSONResponse({"deleted": len(ids), "ids": sorted(ids)[:1000]})
