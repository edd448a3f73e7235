"""POST /v1/messages/count_tokens: Anthropic's token counting, which Claude Code calls.

Anthropic models: forwarded to the provider as is. Other models: counted locally with
LiteLLM's tokenizer (translated to OpenAI messages first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._auth import identify
from ._body import read_body, require_content_type
from ._errors import ProxyError, error_body
from ._json import dumps
from ._layers import digest
from ._providers import provider_of, resolve_chain
from ._request import check_model_name, parse_json_body
from ._runtime import Runtime
from ._tokens import count_parts
from ._upstream import forward_headers

__all__ = ["CountTokens"]


async def _local_count(model: str, body: dict[str, Any]) -> int:
    # The same memoised per-part counter the prompt stages use (LiteLLM's, off the loop).
    values = [v for v in (body.get("system"), body.get("tools")) if v] + list(body.get("messages") or [])
    return sum(await count_parts(model, [(digest(v), v) for v in values]))


class CountTokens:
    def __init__(self, get_runtime: Callable[[], Runtime]) -> None:
        self._runtime = get_runtime

    async def handle(self, request: Request) -> Response:
        runtime = self._runtime()
        settings = runtime.settings
        try:
            caller = identify({k.lower(): v for k, v in request.headers.items()}, settings)
            # Like the chat routes: the key and the content type before the body, the body within limits.
            require_content_type(request.headers)
            limit, timeout = settings.proxy.max_body_bytes, settings.proxy.body_timeout_seconds
            raw = await read_body(request.receive, request.headers, limit=limit, timeout=timeout)
            body, exact = parse_json_body(raw)
            if not isinstance(body, dict):
                raise ProxyError(400, "request body must be a JSON object")
            check_model_name(body.get("model"))
            if not isinstance(body.get("messages"), list):
                raise ProxyError(400, "'messages' must be an array", param="messages")
            provider, upstream_model = await provider_of(body["model"], "anthropic")
            if provider != "anthropic":
                count = await _local_count(f"{provider}/{upstream_model}", body)
                return JSONResponse({"input_tokens": count})
            deployment = (await resolve_chain(body["model"], settings, "anthropic"))[0]
            base = (deployment.api_base or "https://api.anthropic.com").rstrip("/")
            key = deployment.key_for(settings, caller.credential)
            headers = forward_headers({k.lower(): v for k, v in request.headers.items()}, "anthropic", key)
            try:
                upstream = await runtime.http.post(
                    f"{base}/v1/messages/count_tokens",
                    content=dumps({**body, "model": deployment.upstream_model}, exact=exact),
                    headers=headers,
                )
            except httpx.HTTPError:
                raise ProxyError(502, "upstream anthropic unreachable") from None
            return Response(upstream.content, status_code=upstream.status_code, media_type="application/json")
        except ProxyError as exc:
            return Response(error_body("anthropic", exc.status, exc.message), exc.status, media_type="application/json")
