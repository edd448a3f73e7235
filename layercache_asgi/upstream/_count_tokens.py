"""POST /v1/messages/count_tokens: Anthropic's token counting, which Claude Code calls.

The count is of what ``/v1/messages`` would send: the model name resolved like there
(configured aliases), the ``lc_*`` fields taken out, and the request's template and
enhancements applied by the app's own ApplyTemplate, Stratify and Enhance stages.
Anthropic models: forwarded to the provider. Other models: counted locally with
LiteLLM's tokenizer (translated to OpenAI messages first).

The answer is always Anthropic's ``{"input_tokens": N}``: an upstream that cannot count
(no such endpoint, as on some Anthropic-compatible gateways, a 5xx, a timeout, a
refused connection, a 429, or a 200 that is not a count) is counted locally instead, so
a client never sees a foreign body. The provider's refusal of the request itself (400,
401, 403, 413) stays an error, in Anthropic's shape, its message redacted of keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import structlog
from starlette.responses import JSONResponse, Response

from .._disconnect import ClientDisconnected, DisconnectWatch
from .._errors import ProxyError, error_body, redact
from .._exchange import SCOPE_KEY, Exchange
from .._ingress import request_id_from
from .._request import ChatRequest, check_model_name, parse_json_body, split_extensions
from .._runtime import Runtime
from .._types import ASGIApp, Message, Receive, Scope, Send
from ..prompt._layers import digest
from ..prompt._tokens import count_parts
from ..stages import ApplyTemplate, Enhance, Stratify, build_stack
from ..wire._body import read_body, require_content_type
from ..wire._json import dumps
from ._attempt import forward_headers
from ._providers import Deployment, resolve_chain

__all__ = ["CountTokens"]

log = structlog.get_logger("layercache.count_tokens")

# Upstream statuses that say "this upstream cannot count" rather than "this request is wrong".
_CANNOT_COUNT = frozenset({404, 405, 408, 429})
# A count is a cheap call made before the real one: waiting longer for it than this only delays the client.
_COUNT_SECONDS = 10.0

# The stages that change what a request sends before it is marked and routed.
_SHAPING = (ApplyTemplate, Stratify, Enhance)


async def _count_locally(model: str, body: dict[str, Any]) -> int:
    # The same memoised per-part counter the prompt stages use (LiteLLM's, off the loop).
    values = [v for v in (body.get("system"), body.get("tools")) if v] + list(body.get("messages") or [])
    return sum(await count_parts(model, [(digest(v), v) for v in values]))


def _a_count(response: httpx.Response) -> bool:
    """True for Anthropic's answer: a JSON object whose ``input_tokens`` is a whole number."""
    if not 200 <= response.status_code < 300:
        return False
    try:
        doc = json.loads(response.content)
    except ValueError:
        return False
    tokens = doc.get("input_tokens") if isinstance(doc, dict) else None
    return isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 0


def _refusal(response: httpx.Response, *secrets: str | None) -> ProxyError:
    """The provider's 4xx for this request, in Anthropic's shape, without keys in its message."""
    message = ""
    try:
        doc = json.loads(response.content)
        error = doc.get("error") if isinstance(doc, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            message = error["message"]
    except ValueError:
        pass
    text = redact(message[:2000], *secrets) or f"upstream anthropic refused the request (HTTP {response.status_code})"
    return ProxyError(response.status_code, text)


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
    """The ASGI app of ``POST /v1/messages/count_tokens``; ``stages`` is the app's stack, for its shaping stages."""

    def __init__(self, get_runtime: Callable[[], Runtime], stages: Sequence[Any] = ()) -> None:
        self._runtime = get_runtime
        self._stages = _shaping_stages(stages)
        self._stack: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            runtime = self._runtime()
            settings = runtime.settings
            caller = runtime.auth.client(scope, headers, settings)
            # Like the chat routes: the key and the content type before the body, the body within limits.
            require_content_type(headers)
            limit, timeout = settings.proxy.max_body_bytes, settings.proxy.body_timeout_seconds
            raw = await read_body(receive, headers, limit=limit, timeout=timeout)
            body, exact = parse_json_body(raw)
            if not isinstance(body, dict):
                raise ProxyError(400, "request body must be a JSON object")
            check_model_name(body.get("model"))
            if not isinstance(body.get("messages"), list):
                raise ProxyError(400, "'messages' must be an array", param="messages")
            chat = ChatRequest(wire="anthropic", body=body, ext=split_extensions(body, headers), exact_numbers=exact)
            exchange = Exchange(
                request=chat,
                settings=settings,
                runtime=runtime,
                route="/v1/messages/count_tokens",
                tenant=caller.tenant,
                request_id=request_id_from(headers),
                credential=caller.credential,
                client_headers=headers,
            )
            scope[SCOPE_KEY] = exchange  # for the response count: a 499, or an upstream's refusal
            # A client that leaves cancels the shaping and the upstream call, as on the chat routes.
            async with DisconnectWatch(receive, exchange.mark_client_closed) as watch:
                response = await self._count(scope, exchange)
                await response(scope, watch.replay(lambda: raw), watch.wrap(send))
        except ClientDisconnected:
            log.info("client_closed", route="/v1/messages/count_tokens", status=499)
        except ProxyError as exc:
            doc = error_body("anthropic", exc.status, exc.message)
            await Response(doc, exc.status, headers=exc.headers, media_type="application/json")(scope, receive, send)

    async def _count(self, scope: Scope, exchange: Exchange) -> Response:
        runtime, settings, chat = exchange.runtime, exchange.settings, exchange.request
        deployment = (await resolve_chain(chat.model, settings, "anthropic"))[0]
        await self._shape(scope, exchange)
        if deployment.provider == "anthropic":
            upstream = await self._ask_upstream(deployment, exchange)
            if upstream is not None:
                self._tally(runtime, "upstream")
                return Response(upstream, media_type="application/json", headers=exchange.response_headers)
        count = await _count_locally(deployment.model, chat.body)
        self._tally(runtime, "local")
        return JSONResponse({"input_tokens": count}, headers=exchange.response_headers)

    async def _ask_upstream(self, deployment: Deployment, exchange: Exchange) -> bytes | None:
        """The provider's count, or None when it cannot count (then the proxy does); raises its refusals."""
        settings, chat = exchange.settings, exchange.request
        base = (deployment.api_base or "https://api.anthropic.com").rstrip("/")
        key = deployment.key_for(settings, exchange.credential)
        headers = forward_headers(exchange.client_headers, "anthropic", key)
        limits = settings.upstream
        timeout = httpx.Timeout(min(limits.timeout, _COUNT_SECONDS), connect=limits.connect_timeout)
        try:
            response = await exchange.runtime.http.post(
                f"{base}/v1/messages/count_tokens",
                content=dumps({**chat.body, "model": deployment.upstream_model}, exact=chat.exact_numbers),
                headers=headers,
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            log.info("count_tokens_local", reason=type(exc).__name__, model=deployment.model)
            return None
        status = response.status_code
        if 400 <= status < 500 and status not in _CANNOT_COUNT:
            exchange.outcome.provider = "anthropic"  # its message may quote the request: logged as the provider's
            raise _refusal(response, key, exchange.credential)
        if _a_count(response):
            return response.content
        reason = f"HTTP {status}" if status >= 300 else "not a count"
        log.info("count_tokens_local", reason=reason, model=deployment.model)
        return None

    @staticmethod
    def _tally(runtime: Runtime, source: str) -> None:
        if runtime.metrics is not None:
            runtime.metrics.child(runtime.metrics.count_tokens, source).inc()

    async def _shape(self, scope: Scope, exchange: Exchange) -> None:
        """Run the template and enhancement stages over the request, as ``/v1/messages`` would."""
        if self._stack is None:
            self._stack = build_stack(self._stages, endpoint=_shaped)
        inner: Scope = {"type": "http", "method": "POST", "path": scope["path"], "headers": [], SCOPE_KEY: exchange}
        await self._stack(inner, _no_body, _no_send)
