"""Prompt template API: list and export, create (or add a version), show, delete, reload the folder.

Every route needs the admin key (``proxy.admin_api_key``); without one they are off (403).
Templates are shared by every tenant, so no client key may read or change them. Bodies may be
JSON or YAML (sent as such: ``application/json`` or ``application/yaml``): one template, a
list, or ``{"templates": [...]}`` (what an export writes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .._errors import ProxyError, error_body
from ..wire._body import JSON_TYPES, YAML_TYPES, read_body, require_content_type

if TYPE_CHECKING:
    from .._runtime import Runtime
    from ..templates import Template, TemplateRegistry

__all__ = ["prompt_routes"]

Handler = Callable[[Request], Awaitable[Response]]


def _error(error: ProxyError) -> Response:
    body = error_body("openai", error.status, error.message, code=error.code, param=error.param)
    return Response(body, status_code=error.status, headers=error.headers, media_type="application/json")


def _template_json(template: Template, **extra: Any) -> dict[str, Any]:
    return {"object": "prompt_template", **template.model_dump(mode="json"), **extra}


class _PromptApi:
    def __init__(self, get_runtime: Callable[[], Runtime]) -> None:
        self._runtime = get_runtime

    def guarded(self, handler: Callable[[Request, TemplateRegistry], Awaitable[Response]]) -> Handler:
        """Check the admin key, find the registry, and answer ProxyErrors in the OpenAI error shape."""

        async def endpoint(request: Request) -> Response:
            runtime = self._runtime()
            try:
                headers = {k.lower(): v for k, v in request.headers.items()}
                runtime.auth.admin(request.scope, headers, runtime.settings)
                if runtime.templates is None:
                    raise ProxyError(503, "prompt templates are not available")
                return await handler(request, runtime.templates)
            except ProxyError as exc:
                return _error(exc)

        return endpoint

    async def list_templates(self, request: Request, registry: TemplateRegistry) -> Response:
        from ..templates import dump_templates

        templates = await registry.latest_all()
        fmt = request.query_params.get("format")
        if fmt is not None:
            if fmt not in ("yaml", "json"):
                raise ProxyError(400, "format must be 'yaml' or 'json'", param="format")
            kind: Literal["yaml", "json"] = "yaml" if fmt == "yaml" else "json"
            disposition = f'attachment; filename="prompt-templates.{kind}"'
            return Response(
                dump_templates(templates, kind),
                media_type=f"application/{kind}",
                headers={"content-disposition": disposition},
            )
        data = [_template_json(t) for t in templates]
        return JSONResponse({"object": "list", "data": data, "persistent": registry.persistent})

    async def create(self, request: Request, registry: TemplateRegistry) -> Response:
        from ..templates import TemplateFileError, parse_templates

        require_content_type(request.headers, JSON_TYPES | YAML_TYPES)
        limits = self._runtime().settings.proxy
        raw = await read_body(
            request.receive, request.headers, limit=limits.max_body_bytes, timeout=limits.body_timeout_seconds
        )
        try:
            specs = parse_templates(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ProxyError(400, "the body must be UTF-8 JSON or YAML") from None
        except TemplateFileError as exc:
            raise ProxyError(400, str(exc), code="invalid_template") from None
        try:
            if len(specs) == 1:
                template, created = await registry.save(specs[0])
                return JSONResponse(_template_json(template, created=created), status_code=201 if created else 200)
            report = await registry.import_specs(specs)
        except TemplateFileError as exc:
            raise ProxyError(400, str(exc), code="invalid_template") from None
        return JSONResponse(report.as_dict(), status_code=201 if report.created else 200)

    async def show(self, request: Request, registry: TemplateRegistry) -> Response:
        name = request.path_params["name"]
        version = request.query_params.get("version")
        try:
            template = await registry.get(f"{name}@{version}" if version is not None else name)
        except ValueError as exc:
            raise ProxyError(400, str(exc), code="bad_version", param="version") from None
        if template is None:
            raise ProxyError(404, f"prompt template '{name}' does not exist", code="template_not_found")
        return JSONResponse(_template_json(template, versions=await registry.versions(template.name)))

    async def delete(self, request: Request, registry: TemplateRegistry) -> Response:
        name = request.path_params["name"]
        deleted = await registry.delete(name)
        if not deleted:
            raise ProxyError(404, f"prompt template '{name}' does not exist", code="template_not_found")
        return JSONResponse({"object": "prompt_template.deleted", "name": name, "deleted_versions": deleted})

    async def reload(self, request: Request, registry: TemplateRegistry) -> Response:
        require_content_type(request.headers, body_optional=True)
        folder = self._runtime().settings.enhancements.templates_dir
        if folder is None:
            raise ProxyError(409, "no templates folder is configured (enhancements.templates_dir)")
        if not await asyncio.to_thread(Path(folder).is_dir):
            raise ProxyError(409, f"the templates folder {folder} does not exist")
        report = await registry.reload(folder)
        return JSONResponse({"folder": folder, **report.as_dict()})


def prompt_routes(get_runtime: Callable[[], Runtime]) -> list[BaseRoute]:
    api = _PromptApi(get_runtime)
    return [
        Route("/v1/prompts/templates", api.guarded(api.list_templates), methods=["GET"]),
        Route("/v1/prompts/templates", api.guarded(api.create), methods=["POST"]),
        Route("/v1/prompts/templates/{name}", api.guarded(api.show), methods=["GET"]),
        Route("/v1/prompts/templates/{name}", api.guarded(api.delete), methods=["DELETE"]),
        Route("/v1/prompts/reload", api.guarded(api.reload), methods=["POST"]),
    ]
