"""Receiving a request body: content type, declared and actual size, and the time it may take.

Every route that takes a JSON body goes through here before reading a byte, so a page in a
browser cannot post to it as a CORS "simple request" (``text/plain``, a form), a body larger
than the limit is refused from its ``content-length`` or as soon as it grows past it, and a
client trickling its body cannot hold a request open for longer than the time limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from .._errors import ProxyError
from .._types import Receive

__all__ = ["JSON_TYPES", "YAML_TYPES", "read_body", "require_content_type"]

JSON_TYPES = frozenset({"application/json"})
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})


def _media_type(headers: Mapping[str, str]) -> str | None:
    value = headers.get("content-type")
    return value.split(";", 1)[0].strip().lower() if value is not None else None


def _has_body(headers: Mapping[str, str]) -> bool:
    return headers.get("content-length", "0").strip() != "0" or "transfer-encoding" in headers


def require_content_type(
    headers: Mapping[str, str], accepted: frozenset[str] = JSON_TYPES, *, body_optional: bool = False
) -> None:
    """415 unless the content type is one of ``accepted`` (``+json``/``+yaml`` suffixes count as their base).

    ``body_optional``: a route that needs no body may also be called with none and no content type.
    """
    media = _media_type(headers)
    if media is None and body_optional and not _has_body(headers):
        return
    suffix = media.rpartition("+")[2] if media and "+" in media else None
    if media in accepted or (suffix is not None and f"application/{suffix}" in accepted):
        return
    wanted = " or ".join(sorted(accepted))
    raise ProxyError(415, f"unsupported content-type {media or '(none)'}: send {wanted}", code="unsupported_media_type")


async def read_body(receive: Receive, headers: Mapping[str, str], *, limit: int, timeout: float) -> bytes:
    """The whole body: 413 beyond ``limit`` bytes (declared or counted), 408 after ``timeout`` seconds."""
    declared = headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ProxyError(400, "content-length is not a number")
        if int(declared) > limit:
            raise ProxyError(413, f"request body larger than {limit} bytes")
    try:
        async with asyncio.timeout(timeout):
            return await _collect(receive, limit)
    except TimeoutError:
        raise ProxyError(408, f"the request body did not arrive within {timeout:g} seconds") from None


async def _collect(receive: Receive, limit: int) -> bytes:
    # Counted as it arrives: a chunked body has no content-length to check in advance.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ProxyError(400, "client disconnected before the request body was complete")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ProxyError(413, f"request body larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
