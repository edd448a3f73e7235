"""Semantic cache management: list entries; invalidate them by id, model, tenant, or all.

These routes need the admin key (``proxy.admin_api_key``) and see every tenant; without
an admin key they are off (403). Client keys never open them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .._errors import ProxyError, error_body
from ..semantic._entries import EntryFilter, delete_entries, list_entries

if TYPE_CHECKING:
    from .._runtime import Runtime
    from ..db import Database

__all__ = ["cache_routes"]

_MAX_PAGE = 500


def cache_routes(get_runtime: Callable[[], Runtime]) -> list[BaseRoute]:
    api = _CacheApi(get_runtime)
    return [
        Route("/v1/cache/entries", api.list, methods=["GET"]),
        Route("/v1/cache/entries", api.delete_many, methods=["DELETE"]),
        Route("/v1/cache/entries/{entry_id}", api.delete_one, methods=["DELETE"]),
    ]


def _error(status: int, message: str, headers: dict[str, str] | None = None, code: str | None = None) -> Response:
    body = error_body("openai", status, message, code=code)
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


class _CacheApi:
    def __init__(self, get_runtime: Callable[[], Runtime]) -> None:
        self._runtime = get_runtime

    def _scope(self, request: Request) -> tuple[Runtime, Database]:
        """The runtime and its database, once the caller has shown the admin key."""
        runtime = self._runtime()
        runtime.auth.admin(request.scope, {k.lower(): v for k, v in request.headers.items()}, runtime.settings)
        if runtime.db is None:
            raise ProxyError(503, "the cache database is unavailable")
        return runtime, runtime.db

    def _filter(self, request: Request) -> EntryFilter:
        params = request.query_params
        return EntryFilter(model=params.get("model"), tenant=params.get("tenant"), search=params.get("q"))

    async def list(self, request: Request) -> Response:
        try:
            runtime, db = self._scope(request)
            where = self._filter(request)
            where.include_expired = _truthy(request.query_params.get("include_expired"))
            limit = min(max(int(request.query_params.get("limit", "50")), 1), _MAX_PAGE)
            offset = max(int(request.query_params.get("offset", "0")), 0)
        except ValueError:
            return _error(400, "limit and offset must be integers")
        except ProxyError as exc:
            return _error(exc.status, exc.message, exc.headers, exc.code)
        if runtime.semantic is not None:  # answers are written behind: list what was stored until now
            await runtime.semantic.flush()
        total, data = await list_entries(db, where, limit=limit, offset=offset)
        return JSONResponse({"object": "list", "data": data, "total": total, "limit": limit, "offset": offset})

    async def delete_many(self, request: Request) -> Response:
        try:
            runtime, db = self._scope(request)
            where = self._filter(request)
        except ProxyError as exc:
            return _error(exc.status, exc.message, exc.headers, exc.code)
        params = request.query_params
        everything = _truthy(params.get("all"))
        if not everything and params.get("model") is None and params.get("tenant") is None:
            return _error(400, "say what to delete: ?model=..., ?tenant=... or ?all=true")
        return await self._delete(runtime, db, where, forget_all=everything)

    async def delete_one(self, request: Request) -> Response:
        try:
            runtime, db = self._scope(request)
            entry_id = int(request.path_params["entry_id"])
        except ValueError:
            return _error(400, "the entry id must be an integer")
        except ProxyError as exc:
            return _error(exc.status, exc.message, exc.headers, exc.code)
        response = await self._delete(runtime, db, EntryFilter(entry_id=entry_id), forget_all=False)
        if json.loads(bytes(response.body))["deleted"] == 0:
            return _error(404, f"no cache entry {entry_id}")
        return response

    async def _delete(self, runtime: Runtime, db: Database, where: EntryFilter, *, forget_all: bool) -> Response:
        if runtime.semantic is not None:  # an answer still being written must not outlive its deletion
            await runtime.semantic.flush()
        ids = await delete_entries(db, where)
        if runtime.semantic is not None:
            runtime.semantic.forget(None if forget_all else ids)
        return JSONResponse({"deleted": len(ids), "ids": sorted(ids)[:1000]})
