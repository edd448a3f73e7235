"""The innermost app: send the request upstream, fail over, relay the answer."""

from __future__ import annotations

import time

import structlog

from .._disconnect import ClientDisconnected
from .._errors import ProxyError, redact, sse_error_event
from .._exchange import Exchange, get_exchange
from .._types import Receive, Scope, Send
from ..upstream._attempt import UpstreamError, UpstreamResponse, attempt, parse_json
from ..upstream._providers import resolve_chain
from ..upstream._target import chain_of
from ..wire._dispatch import completion_from_body
from ..wire._respond import send_json, start_sse

__all__ = ["RouteUpstream"]

log = structlog.get_logger("layercache.route")


class RouteUpstream:
    """Routes through the fast path or LiteLLM; on a 5xx or timeout, tries the next deployment."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is None:
            raise ProxyError(404, "Not Found")
        chain = await chain_of(exchange)
        if not chain:  # resolving again raises the 404 that says why
            chain = await resolve_chain(exchange.request.model, exchange.settings, exchange.request.wire)
        retries = exchange.settings.upstream.num_retries
        last: UpstreamError | None = None
        started = time.perf_counter()
        for position, deployment in enumerate(chain):
            if position and exchange.retarget is not None:
                await exchange.retarget(deployment)
            for _ in range(retries + 1):
                try:
                    response = await attempt(deployment, exchange)
                except UpstreamError as exc:
                    last = exc
                    # Errors are counted against the deployment that failed last, not "none".
                    exchange.outcome.provider, exchange.outcome.deployment = deployment.provider, deployment.name
                    log.warning(
                        "upstream_failed",
                        request_id=exchange.request_id,
                        deployment=deployment.name,
                        status=exc.status,
                        retriable=exc.retriable,
                    )
                    if not exc.retriable:
                        break
                    continue
                outcome = exchange.outcome
                outcome.provider, outcome.deployment, outcome.failovers = deployment.provider, deployment.name, position
                await self._relay(exchange, response, send, started)
                return
            if last is not None and not last.retriable:
                break
            exchange.outcome.failovers = position + 1
        assert last is not None
        exchange.outcome.error = last.message
        exchange.response_headers.update(last.headers)  # the provider's Retry-After, for the client
        raise ProxyError(last.status, last.message)

    async def _relay(self, exchange: Exchange, response: UpstreamResponse, send: Send, started: float) -> None:
        outcome = exchange.outcome
        relayed = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        headers = [*relayed, *exchange.header_list()]
        if response.chunks is None:
            outcome.upstream_seconds = time.perf_counter() - started
            outcome.status = response.status
            outcome.completion = completion_from_body(exchange.request.wire, parse_json(response.body))
            await send_json(send, response.status, response.body, headers)
            return
        try:
            await self._relay_stream(exchange, response, send, started, headers)
        finally:  # also when the client left mid-stream (cancelled, or its send failed)
            await response.aclose()

    async def _relay_stream(
        self,
        exchange: Exchange,
        response: UpstreamResponse,
        send: Send,
        started: float,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        assert response.chunks is not None
        outcome = exchange.outcome
        await start_sse(send, response.status, headers)
        outcome.status = response.status
        first = True
        try:
            async for chunk in response.chunks:
                if first:
                    outcome.upstream_seconds = time.perf_counter() - started
                    first = False
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except ClientDisconnected:
            raise
        except Exception as exc:  # the stream broke after it started: tell the client, don't hang
            log.warning("upstream_stream_broken", request_id=exchange.request_id, error=type(exc).__name__)
            await self._end_with_error(exchange, send, f"upstream stream interrupted: {type(exc).__name__}")
            return
        stream = response.stream
        if stream is not None and stream.error:
            outcome.error = stream.error
        elif stream is not None and not stream.done:
            await self._end_with_error(exchange, send, "upstream stream ended before its final event")
            return
        elif stream is not None:
            outcome.completion = stream.result()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _end_with_error(self, exchange: Exchange, send: Send, message: str) -> None:
        message = redact(message, exchange.credential)
        exchange.outcome.error = message
        body = sse_error_event(exchange.request.wire, 502, message)
        await send({"type": "http.response.body", "body": body, "more_body": False})
