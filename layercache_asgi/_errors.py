"""Error shapes of both wire formats, in one place.

Every error a client sees goes through :func:`error_body`, so a 4xx from validation, a
mapped upstream error and a mid-stream failure all look like the provider's own.
"""

from __future__ import annotations

import json
import re

from ._types import Send, Wire
from .wire._respond import send_json
from .wire._sse import format_event

__all__ = ["LayerCacheError", "ProxyError", "SchemaError", "error_body", "redact", "send_error", "sse_error_event"]

# status -> (OpenAI type, Anthropic type)
_TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "invalid_request_error"),
    401: ("authentication_error", "authentication_error"),
    403: ("permission_error", "permission_error"),
    404: ("not_found_error", "not_found_error"),
    405: ("invalid_request_error", "invalid_request_error"),
    408: ("timeout_error", "timeout_error"),
    413: ("invalid_request_error", "request_too_large"),
    415: ("invalid_request_error", "invalid_request_error"),
    422: ("invalid_request_error", "invalid_request_error"),
    429: ("rate_limit_error", "rate_limit_error"),
    502: ("api_error", "api_error"),
    503: ("api_error", "overloaded_error"),
    504: ("timeout_error", "timeout_error"),
    529: ("api_error", "overloaded_error"),
}

# Anything that looks like a provider key: never echo it back or log it.
_SECRET = re.compile(r"(sk-[A-Za-z0-9_\-]{6,}|AIza[0-9A-Za-z_\-]{10,}|(?i:bearer)\s+[A-Za-z0-9._\-]{8,})")


def redact(text: str, *secrets: str | None) -> str:
    """Remove known secrets and key-shaped strings from ``text``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _SECRET.sub("[redacted]", text)


class LayerCacheError(Exception):
    """The root of every error layercache-asgi raises: ``except LayerCacheError`` catches them all.

    Defined here, in a module that imports nothing of the package but ``_sse`` and ``_types``, so
    that any module (configuration, database, embedder) can derive from it without an import circle.
    """


class SchemaError(LayerCacheError, RuntimeError):
    """The database schema does not match this version of layercache-asgi.

    Raised by start-up (and so by ``lifespan()``) to the host; it lives here rather than in
    ``db/`` so the package exports it without importing Alembic.
    """


class ProxyError(LayerCacheError):
    """An error answered to the client in its own wire format."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.headers = headers or {}  # e.g. Retry-After on a 429


def _type_for(status: int, wire: Wire) -> str:
    pair = _TYPES.get(status) or (("invalid_request_error",) * 2 if status < 500 else ("api_error", "api_error"))
    return pair[1] if wire == "anthropic" else pair[0]


def error_body(wire: Wire, status: int, message: str, *, code: str | None = None, param: str | None = None) -> bytes:
    """The JSON error document of ``wire`` for ``status``."""
    if wire == "anthropic":
        doc: dict[str, object] = {"type": "error", "error": {"type": _type_for(status, wire), "message": message}}
    else:
        doc = {"error": {"message": message, "type": _type_for(status, wire), "param": param, "code": code}}
    return json.dumps(doc, separators=(",", ":")).encode()


def sse_error_event(wire: Wire, status: int, message: str) -> bytes:
    """A terminal SSE event reporting an error after the stream has started."""
    if wire == "responses":  # the Responses API's own error event
        doc = {"type": "error", "code": _type_for(status, wire), "message": message, "param": None}
        return format_event(json.dumps(doc, separators=(",", ":")), "error")
    body = error_body(wire, status, message).decode()
    if wire == "anthropic":
        return f"event: error\ndata: {body}\n\n".encode()
    return f"data: {body}\n\n".encode()


async def send_error(
    send: Send, wire: Wire, error: ProxyError, *, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = error_body(wire, error.status, error.message, code=error.code, param=error.param)
    own = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()]
    await send_json(send, error.status, body, [*own, *(headers or [])])
