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

from ._errors import ProxyError, error_body
from ._json import dumps, loads
from ._layers import digest
from ._providers import provider_of, resolve_chain
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
            caller = runtime.auth.client(request.scope, {k.lower(): v for k, v in request.headers.items()}, settings)
            try:
                body, exact = loads(await request.body())
            except ValueError:
                raise ProxyError(400, "request body is not valid JSON") from None
            if not isinstance(body, dict) or not isinstance(body.get("model"), str):
                raise ProxyError(400, "'model' is required", param="model")
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
            body = error_body("anthropic", exc.status, exc.message)
            return Response(body, exc.status, headers=exc.headers, media_type="application/json")
