"""POST /v1/messages/count_tokens: Anthropic's token counting, which Claude Code calls.

The count is of what ``/v1/messages`` would send: the model name resolved like there
(configured aliases), the ``lc_*`` fields taken out, and the request's template and
enhancements applied by the app's own ApplyTemplate, Stratify and Enhance stages.
Anthropic models: forwarded to the provider. Other models: counted locally with
LiteLLM's tokenizer (translated to OpenAI messages first).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._auth import Caller
from ._body import read_body, require_content_type
from ._errors import ProxyError, error_body
from ._exchange import SCOPE_KEY, Exchange
from ._json import dumps
from ._layers import digest
from ._providers import resolve_chain
from ._request import ChatRequest, check_model_name, parse_json_body, split_extensions
from ._runtime import Runtime
from ._tokens import count_parts
from ._types import ASGIApp, Message, Receive, Scope, Send
from ._upstream import forward_headers
from .stages import ApplyTemplate, Enhance, Stratify, build_stack

__all__ = ["CountTokens"]

# The stages that change what a request sends before it is marked and routed.
_SHAPING = (ApplyTemplate, Stratify, Enhance)


async def _local_count(model: str, body: dict[str, Any]) -> int:
    # The same memoised per-part counter the prompt stages use (LiteLLM's, off the loop).
    values = [v for v in (body.get("system"), body.get("tools")) if v] + list(body.get("messages") or [])
    return sum(await count_parts(model, [(digest(v), v) for v in values]))


def _shaping_stages(stages: Sequence[Any]) -> list[Any]:
    """The template and enhancement stages of the app's stack, in its order and with its options."""
    kept = []
    for stage in stages:
        cls = stage if isinstance(stage, type) else next(iter(stage))  # a Middleware iterates (cls, args, kwargs)
        if isinstance(cls, type) and issubclass(cls, _SHAPING):
            kept.append(stage)
    return kept


async def _shaped(scope: Scope, receive: Receive, send: Send) -> None:
    """The end of the shaping stack: the body is ready, nothing is sent."""


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _no_send(message: Message) -> None:
    raise RuntimeError("a shaping stage tried to answer a count_tokens request")


class CountTokens:
    def __init__(self, get_runtime: Callable[[], Runtime], stages: Sequence[Any] = ()) -> None:
        self._runtime = get_runtime
        self._stages = _shaping_stages(stages)
        self._stack: ASGIApp | None = None

    async def _shape(self, request: Request, runtime: Runtime, caller: Caller, chat: ChatRequest) -> Exchange:
        """Run the template and enhancement stages over ``chat``, as ``/v1/messages`` would."""
        if self._stack is None:
            self._stack = build_stack(self._stages, endpoint=_shaped)
        headers = {k.lower(): v for k, v in request.headers.items()}
        exchange = Exchange(
            request=chat,
            settings=runtime.settings,
            runtime=runtime,
            route="/v1/messages/count_tokens",
            tenant=caller.tenant,
            request_id=headers.get("x-request-id") or uuid.uuid4().hex,
            credential=caller.credential,
            client_headers=headers,
        )
        scope: Scope = {"type": "http", "method": "POST", "path": request.url.path, "headers": [], SCOPE_KEY: exchange}
        await self._stack(scope, _no_body, _no_send)
        return exchange

    async def handle(self, request: Request) -> Response:
        runtime = self._runtime()
        settings = runtime.settings
        try:
            caller = runtime.auth.client(request.scope, {k.lower(): v for k, v in request.headers.items()}, settings)
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
            chat = ChatRequest(wire="anthropic", body=body, ext=split_extensions(body), exact_numbers=exact)
            deployment = (await resolve_chain(chat.model, settings, "anthropic"))[0]
            exchange = await self._shape(request, runtime, caller, chat)
            body = chat.body
            if deployment.provider != "anthropic":
                count = await _local_count(deployment.model, body)
                return JSONResponse({"input_tokens": count}, headers=exchange.response_headers)
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
            return Response(
                upstream.content,
                status_code=upstream.status_code,
                media_type="application/json",
                headers=exchange.response_headers,
            )
        except ProxyError as exc:
            body = error_body("anthropic", exc.status, exc.message)
            return Response(body, exc.status, headers=exc.headers, media_type="application/json")
