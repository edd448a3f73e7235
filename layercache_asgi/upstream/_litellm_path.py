"""Attempts that need translation, made through LiteLLM.

OpenAI-format requests go to ``litellm.acompletion``; Anthropic-format requests to
``litellm.anthropic.messages.acreate``, which answers in Anthropic's format whatever
the provider; Responses API requests to ``litellm.aresponses`` (its bridge translates for
providers without a Responses API). Imported lazily (only when a request needs it).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from functools import partial
from typing import Any

from .._errors import redact
from .._exchange import Exchange
from ..wire._dispatch import StreamAccumulator, new_accumulator
from ..wire._fields import translated_fields
from ..wire._native_shape import native_event, native_json
from ..wire._sse import SSEParser, format_event
from ._headers import relay_headers
from ._litellm import litellm
from ._providers import Deployment
from ._response import UpstreamError, UpstreamResponse

__all__ = ["NO_KEY", "call_litellm"]

NO_KEY = "layercache-no-key"  # what a keyless deployment at its own base URL is sent: not a secret


def _dump(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    dumped = obj.model_dump() if hasattr(obj, "model_dump") else dict(obj)
    return dumped if isinstance(dumped, dict) else {}


def _body(wire: str, response: Any) -> bytes:
    return json.dumps(native_json(wire, _dump(response)), default=str).encode()


def _event(wire: str, doc: dict[str, Any], kind: str | None = None) -> bytes:
    return format_event(json.dumps(native_event(wire, doc), separators=(",", ":"), default=str), kind)


def _headers(response: Any) -> dict[str, str]:
    """The provider's headers clients act on, where LiteLLM kept them on its answer."""
    hidden = getattr(response, "_hidden_params", None)
    if hidden is None and isinstance(response, dict):
        hidden = response.get("_hidden_params")
    found: dict[str, str] = {}
    if isinstance(hidden, dict):
        found.update(relay_headers(hidden.get("additional_headers")))
    found.update(relay_headers(getattr(response, "response_headers", None)))
    # The Responses bridge streams through a wrapped chat-completions stream that holds them.
    wrapped = getattr(response, "litellm_custom_stream_wrapper", None)
    return {**_headers(wrapped), **found} if wrapped is not None else found


def _error(exc: Exception, deployment: Deployment, *secrets: str | None) -> UpstreamError:
    status = getattr(exc, "status_code", None)
    if isinstance(exc, litellm.Timeout):
        status = 504
    elif isinstance(exc, litellm.APIConnectionError) or not isinstance(status, int):
        status = 502
    message = str(getattr(exc, "message", "") or exc)
    # LiteLLM prefixes its class names ("litellm.BadRequestError: AnthropicException - ...").
    for prefix_end in (" - ", ": "):
        if message.startswith("litellm.") and prefix_end in message:
            message = message.split(prefix_end, 1)[1]
    message = redact(message[:2000], *secrets) or f"{deployment.provider} returned HTTP {status}"
    headers = getattr(exc, "litellm_response_headers", None) or getattr(getattr(exc, "response", None), "headers", None)
    return UpstreamError(status, message, retriable=status >= 500 or status == 429, headers=relay_headers(headers))


async def _openai_chunks(response: Any, stream: StreamAccumulator, hide_usage: bool) -> AsyncGenerator[bytes, None]:
    async for chunk in response:
        doc = _dump(chunk)
        # The accumulator reads LiteLLM's own chunk (all its usage counts); the client gets OpenAI's shape.
        stream.feed(format_event(json.dumps(doc, separators=(",", ":"), default=str)))
        if hide_usage and not doc.get("choices") and doc.get("usage"):
            continue
        yield _event("openai", doc)
    done = b"data: [DONE]\n\n"
    stream.feed(done)
    yield done


async def _anthropic_chunks(response: Any, stream: StreamAccumulator) -> AsyncGenerator[bytes, None]:
    parser = SSEParser()
    async for chunk in response:
        if isinstance(chunk, bytes | bytearray):  # LiteLLM's own SSE text: reshaped event by event
            data = b"".join(_reshaped(kind, text) for kind, text in parser.feed(bytes(chunk)))
            if not data:
                continue
        else:
            doc = _dump(chunk)
            data = _event("anthropic", doc, str(doc.get("type") or ""))
        stream.feed(data)
        yield data


def _reshaped(kind: str, text: str) -> bytes:
    try:
        doc = json.loads(text)
    except ValueError:
        return format_event(text, kind or None)
    return _event("anthropic", doc, kind or None) if isinstance(doc, dict) else format_event(text, kind or None)


async def _aclose(response: Any) -> None:
    closer = getattr(response, "aclose", None)
    if closer is not None:
        await closer()


async def _started(chunks: AsyncGenerator[bytes, None], response: Any) -> AsyncIterator[bytes]:
    """Wait for the first chunk before answering 200, so early stream errors can fail over."""
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        first = b""
    except BaseException:  # failed, or cancelled for a client that left: don't leave the stream open
        await _aclose(response)
        raise

    async def rest() -> AsyncIterator[bytes]:
        try:
            if first:
                yield first
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()

    return rest()


def _marker_params(exchange: Exchange) -> dict[str, str]:
    """What the cache markers chose for this deployment that is no field of the client's format."""
    params: dict[str, str] = {}
    if exchange.gemini_cached_content is not None:
        params["cached_content"] = exchange.gemini_cached_content
    if exchange.request.wire == "anthropic" and exchange.prompt_cache_key is not None:
        params["prompt_cache_key"] = exchange.prompt_cache_key
    if exchange.request.wire == "anthropic" and exchange.prompt_cache_retention is not None:
        params["prompt_cache_retention"] = exchange.prompt_cache_retention
    return params


async def _responses_chunks(response: Any, stream: StreamAccumulator) -> AsyncGenerator[bytes, None]:
    async for chunk in response:
        doc = _dump(chunk)
        kind = doc.get("type")
        kind = getattr(kind, "value", kind)  # LiteLLM's event types are str enums: name the value
        data = _event("responses", doc, str(kind or "") or None)
        stream.feed(data)
        yield data


async def _responses(params: dict[str, Any]) -> UpstreamResponse:
    """LiteLLM's Responses bridge; ``params`` holds only the fields another provider can use."""
    response = await litellm.aresponses(**params)
    if not params.get("stream"):
        return UpstreamResponse(200, body=_body("responses", response), headers=_headers(response))
    stream = new_accumulator("responses")
    chunks = await _started(_responses_chunks(response, stream), response)
    return UpstreamResponse(200, chunks=chunks, stream=stream, headers=_headers(response))


async def call_litellm(deployment: Deployment, exchange: Exchange, key: str | None) -> UpstreamResponse:
    request = exchange.request
    # Only the wire format's own fields (a 400 names any other); the proxy's settings go on top.
    params = translated_fields(request)
    params.update(model=deployment.model, timeout=exchange.settings.upstream.timeout, num_retries=0)
    if key:
        params["api_key"] = key
    elif deployment.api_base:
        # With no key of its own LiteLLM would read the provider's variable from the environment
        # (OPENAI_API_KEY ...) and send it to this other host; the fast path sends none there either.
        params["api_key"] = NO_KEY
    if deployment.api_base:
        params["api_base"] = deployment.api_base
    params.update(_marker_params(exchange))
    try:
        if request.wire == "responses":
            return await _responses(params)
        if request.wire == "openai":
            hide_usage = False
            if request.stream:
                options = dict(params.get("stream_options") or {})
                hide_usage = not options.get("include_usage")
                params["stream_options"] = {**options, "include_usage": True}
            response = await litellm.acompletion(**params)
            if not request.stream:
                return UpstreamResponse(200, body=_body("openai", response), headers=_headers(response))
            stream = new_accumulator("openai")
            chunks = await _started(_openai_chunks(response, stream, hide_usage), response)
            return UpstreamResponse(
                200, chunks=chunks, stream=stream, headers=_headers(response), release=partial(_aclose, response)
            )
        response = await litellm.anthropic.messages.acreate(**params)
        if not request.stream:
            return UpstreamResponse(200, body=_body("anthropic", response), headers=_headers(response))
        stream = new_accumulator("anthropic")
        chunks = await _started(_anthropic_chunks(response, stream), response)
        return UpstreamResponse(
            200, chunks=chunks, stream=stream, headers=_headers(response), release=partial(_aclose, response)
        )
    except UpstreamError:
        raise
    except Exception as exc:
        raise _error(exc, deployment, key, exchange.credential) from None
