"""Calling a provider: one attempt against one deployment, by the fast path or LiteLLM.

The fast path is used where the client's wire format is the provider's own (OpenAI
format to OpenAI-compatible servers, ``/v1/messages`` to Anthropic): one shared httpx
client, the body forwarded as the client built it, the response relayed untouched.
Everything else is translated by LiteLLM. Both give back an :class:`UpstreamResponse`
in the client's wire format, or raise :class:`UpstreamError`.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from .._errors import redact
from .._exchange import Exchange
from ..explain import attach_diagnostics, diagnostics_refused
from ..wire._dispatch import StreamAccumulator, new_accumulator
from ..wire._json import dumps
from ..wire._responses import stateful_fields
from ..wire._sse import SSEParser, format_event
from ._headers import relay_headers
from ._pool_reaper import reap_orphan_connections
from ._providers import Deployment
from ._response import UpstreamError, UpstreamResponse

__all__ = ["UpstreamError", "UpstreamResponse", "attempt", "forward_headers", "parse_json"]

_OPENAI_BASE = "https://api.openai.com/v1"
_ANTHROPIC_BASE = "https://api.anthropic.com"
_ANTHROPIC_VERSION = "2023-06-01"
_FORWARDED_HEADERS = ("anthropic-version", "anthropic-beta", "openai-organization", "openai-project")


def _status_error(
    status: int, text: str, exchange: Exchange, key: str | None, headers: httpx.Headers | None = None
) -> UpstreamError:
    message = text
    try:
        doc = json.loads(text)
        err = doc.get("error") if isinstance(doc, dict) else None
        if isinstance(err, dict) and err.get("message"):
            message = str(err["message"])
    except ValueError:
        pass
    message = redact(message[:2000], key, exchange.credential) or f"upstream returned HTTP {status}"
    return UpstreamError(status, message, retriable=status >= 500 or status == 429, headers=relay_headers(headers))


def forward_headers(client_headers: dict[str, str], provider: str, key: str | None) -> dict[str, str]:
    """Upstream request headers: the provider's auth plus the client's version/beta headers."""
    headers = {"content-type": "application/json"}
    for name in _FORWARDED_HEADERS:
        if name in client_headers:
            headers[name] = client_headers[name]
    if provider == "anthropic":
        headers.setdefault("anthropic-version", _ANTHROPIC_VERSION)
        if key:
            headers["x-api-key"] = key
    elif key:
        headers["authorization"] = f"Bearer {key}"
    return headers


def _fast_request(deployment: Deployment, exchange: Exchange, key: str | None) -> tuple[str, dict[str, str]]:
    headers = forward_headers(exchange.client_headers, deployment.provider, key)
    if deployment.provider == "anthropic":
        return f"{(deployment.api_base or _ANTHROPIC_BASE).rstrip('/')}/v1/messages", headers
    path = "responses" if exchange.request.wire == "responses" else "chat/completions"
    return f"{(deployment.api_base or _OPENAI_BASE).rstrip('/')}/{path}", headers


async def _fast(deployment: Deployment, exchange: Exchange, key: str | None) -> UpstreamResponse:
    try:
        return await _fast_once(deployment, exchange, key)
    except UpstreamError as exc:
        # The cache diagnostics the proxy adds are no reason to fail a request: once more without.
        if not diagnostics_refused(exchange, deployment, exc.status, exc.message):
            raise
        return await _fast_once(deployment, exchange, key)


@functools.lru_cache(maxsize=16)  # one per configured pair, not one per request (httpx never changes it)
def _timeout(total: float, connect: float) -> httpx.Timeout:
    return httpx.Timeout(total, connect=connect)


async def _fast_once(deployment: Deployment, exchange: Exchange, key: str | None) -> UpstreamResponse:
    client: httpx.AsyncClient = exchange.runtime.http
    request = exchange.request
    body = dict(request.body, model=deployment.upstream_model)
    injected_usage = False
    if request.stream and request.wire == "openai":
        options = dict(body.get("stream_options") or {})
        if not options.get("include_usage"):
            # Ask for usage so it can be accounted; the extra chunk is not shown to the client.
            options["include_usage"] = True
            body["stream_options"] = options
            injected_usage = True
    url, headers = _fast_request(deployment, exchange, key)
    attach_diagnostics(exchange, deployment, body, headers)
    content = dumps(body, exact=request.exact_numbers)
    # From the request's settings snapshot: a hot reload changes it without a new client.
    timeout = _timeout(exchange.settings.upstream.timeout, exchange.settings.upstream.connect_timeout)
    try:
        if not request.stream:
            response = await client.post(url, content=content, headers=headers, timeout=timeout)
            if response.status_code >= 400:
                raise _status_error(response.status_code, response.text, exchange, key, response.headers)
            relayed = relay_headers(response.headers)
            return UpstreamResponse(response.status_code, body=response.content, headers=relayed)
        built = client.build_request("POST", url, content=content, headers=headers, timeout=timeout)
        upstream = await client.send(built, stream=True)
    except asyncio.CancelledError:  # the client left: don't let the cancelled call keep a pool slot
        await reap_orphan_connections(client)
        raise
    except httpx.TimeoutException:
        raise UpstreamError(504, f"upstream {deployment.provider} timed out", retriable=True) from None
    except httpx.HTTPError as exc:
        raise UpstreamError(
            502, f"upstream {deployment.provider} unreachable: {type(exc).__name__}", retriable=True
        ) from None
    if upstream.status_code >= 400:
        text = (await upstream.aread()).decode("utf-8", "replace")
        await upstream.aclose()
        raise _status_error(upstream.status_code, text, exchange, key, upstream.headers)
    stream = new_accumulator(request.wire)
    chunks = _relay(upstream, stream, hide_usage=injected_usage)
    return UpstreamResponse(
        upstream.status_code,
        chunks=chunks,
        stream=stream,
        headers=relay_headers(upstream.headers),
        release=upstream.aclose,
    )


async def _relay(upstream: httpx.Response, stream: StreamAccumulator, *, hide_usage: bool) -> AsyncIterator[bytes]:
    """Relay upstream SSE bytes; the accumulator sees everything, the client what it asked for."""
    try:
        if not hide_usage:
            async for chunk in upstream.aiter_raw():
                stream.feed(chunk)
                yield chunk
            return
        parser = SSEParser()
        async for chunk in upstream.aiter_raw():
            stream.feed(chunk)
            out = b"".join(
                format_event(data, event or None) for event, data in parser.feed(chunk) if not _usage_only(data)
            )
            if out:
                yield out
    finally:
        await upstream.aclose()


def _usage_only(data: str) -> bool:
    return data.startswith("{") and '"usage"' in data and '"choices":[]' in data.replace(" ", "")


async def _translated(deployment: Deployment, exchange: Exchange, key: str | None) -> UpstreamResponse:
    from ._litellm_path import call_litellm  # lazy: LiteLLM import costs seconds

    return await call_litellm(deployment, exchange, key)


async def attempt(deployment: Deployment, exchange: Exchange) -> UpstreamResponse:
    """One try against one deployment."""
    key = deployment.key_for(exchange.settings, exchange.credential)
    if deployment.fast_path(exchange.request.wire):
        return await _fast(deployment, exchange, key)
    if exchange.request.wire == "responses" and (state := stateful_fields(exchange.request.body)):
        # Stored responses and conversations live at OpenAI; no other provider can resolve them.
        fields = " and ".join(f"'{name}'" for name in state)
        message = (
            f"{fields} {'need' if len(state) > 1 else 'needs'} an OpenAI deployment: the model "
            f"'{deployment.name}' is served by "
            f"{deployment.provider}, which cannot resolve state stored at OpenAI; send the full input instead"
        )
        raise UpstreamError(400, message, retriable=False)
    return await _translated(deployment, exchange, key)


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}
