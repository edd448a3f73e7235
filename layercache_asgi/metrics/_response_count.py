"""Count every response by route and status, and log each rejection with its reason.

It wraps the app's router, so nothing escapes the count: validation 400s, 401s, 404s and
405s of unknown paths and methods, 413s, dashboard pages, ``/metrics`` itself. The route
label is the route's template (``/v1/cache/entries/{entry_id}``), or ``unmatched``, and
the method is one of the standard ones or ``other``, so clients cannot grow the label set.

A 4xx is logged with its reason: the error message the proxy itself wrote (cut short,
key-shaped strings redacted). A provider's own error text can quote the request, so
for an error that came from upstream only the provider and status are logged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import structlog
from starlette.exceptions import HTTPException

from .._errors import redact
from .._exchange import SCOPE_KEY, Exchange
from .._types import ASGIApp, Message, Receive, Scope, Send
from ._labels import clean_label

__all__ = ["UNMATCHED", "CountResponses"]

log = structlog.get_logger("layercache.http")

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_REASON_BYTES = 4096  # enough for any error document the proxy writes
_REASON_CHARS = 200


class CountResponses:
    """``get_recorder`` returns the app's MetricsRecorder (None before start-up)."""

    def __init__(self, app: ASGIApp, *, get_recorder: Callable[[], Any]) -> None:
        self.app = app
        self._get_recorder = get_recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        outer_route = scope.get("route")  # a host's router may have set its own Mount here
        state: dict[str, Any] = {"status": 500, "body": b"", "started": False}

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["started"] = int(message["status"]), True
            elif message["type"] == "http.response.body" and 400 <= state["status"] < 500:
                state["body"] = (state["body"] + message.get("body", b""))[:_REASON_BYTES]
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except HTTPException as exc:  # mounted in a Starlette host, which renders it
            state["status"], state["body"] = exc.status_code, json.dumps({"detail": exc.detail}).encode()
            raise
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) if route is not None and route is not outer_route else None
            exchange = scope.get(SCOPE_KEY)
            if not state["started"] and isinstance(exchange, Exchange) and exchange.client_closed:
                state["status"] = 499  # cancelled for a client that left, not a fault of ours
            self._count(scope, template or UNMATCHED, state["status"], state["body"])

    def _count(self, scope: Scope, route: str, status: int, body: bytes) -> None:
        method = str(scope.get("method", ""))
        method = method if method in _METHODS else "other"
        recorder = self._get_recorder()
        try:
            if recorder is not None:
                recorder.child(recorder.responses, route, method, str(status)).inc()
            if 400 <= status < 500 and status != 499:  # a client that left is logged where it left
                log.info("request_rejected", route=route, method=method, status=status, reason=_reason(scope, body))
        except Exception:  # counting must never break a response that was already sent
            log.exception("response_count_failed")


def _reason(scope: Scope, body: bytes) -> str:
    exchange = scope.get(SCOPE_KEY)
    if isinstance(exchange, Exchange) and exchange.outcome.provider:
        return f"the upstream provider ({exchange.outcome.provider}) refused the request"
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        text = body.decode("utf-8", "replace")
        message = text if text and not text.lstrip().startswith("<") else ""
    else:
        message = _message_of(doc)
    # Cleaned like a label: a message may quote a model name that is not valid text.
    return redact(clean_label(message, _REASON_CHARS)) or "(no reason given)"


def _message_of(doc: Any) -> str:
    """The message of an OpenAI, Anthropic or plain ``{"error": "..."}`` / ``{"detail": ...}`` document."""
    if not isinstance(doc, dict):
        return ""
    error = doc.get("error")
    if isinstance(error, dict):
        return str(error.get("message", ""))
    if isinstance(error, str):
        return error
    return str(doc.get("detail", ""))
