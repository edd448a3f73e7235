"""The semantic cache key: an exact hash of everything but the newest user input, plus that input.

Computed once per request, after the prompt is canonical and trimmed, so lookup and
store use the very same key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..prompt._layers import strip_markers
from ..wire._content import is_text_part

if TYPE_CHECKING:
    from .._request import ChatRequest

__all__ = ["CacheKey", "cache_key", "normalise_query"]

_KEY_VERSION = 2  # 2: nested key order is part of the key
# Request fields that change how an answer is delivered, not what it says.
_DELIVERY_ONLY = frozenset({"stream", "stream_options", "store", "prompt_cache_key", "client_metadata"})
_RESPONSES_STATE = ("previous_response_id", "conversation", "prompt")
_QUERY_PLACEHOLDER = "\x00newest-user-input\x00"


@dataclass(frozen=True)
class CacheKey:
    tenant: str
    model: str
    exact: str  # sha256 hex over tenant, wire, model, the prompt minus the newest input, params
    query: str  # the newest user input: what is embedded and compared

    @property
    def flight(self) -> tuple[str, str, str]:
        """Identical requests (same exact key and same input text) share one upstream call."""
        return (self.tenant, self.exact, normalise_query(self.query))


def normalise_query(text: str) -> str:
    return " ".join(text.split())


class Asked(Protocol):
    """What the key reads of a request: an Exchange is one."""

    @property
    def request(self) -> ChatRequest: ...
    @property
    def tenant(self) -> str: ...


def cache_key(exchange: Asked, namespace: str = "") -> CacheKey | None:
    """The key of a cacheable request, or None when the newest message is not a user's text question.

    ``namespace`` names the embedding model: vectors of two models never meet in one bucket.
    """
    request = exchange.request
    body = request.body
    if request.wire == "responses" and not _responses_cacheable(body):
        return None
    key = request.messages_key
    messages = body.get(key)
    if isinstance(messages, str):  # a Responses input string is one user message
        messages = [{"role": "user", "content": messages}]
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return None
    if _choices(body) != 1:
        return None  # several choices cannot be replayed from one stored answer
    last = messages[-1]
    if last.get("role") != "user":
        return None  # tool results and assistant prefills are not questions
    split = _split_text(last.get("content"))
    if split is None:
        return None
    query, keyed_content = split
    if not query.strip():
        return None
    # Parameters are sorted by name; inside them, order is kept: the Canonicalize stage already
    # sorted what means nothing, and what is left (a schema's field order) shapes the answer.
    keyed_body = {k: body[k] for k in sorted(body) if k not in _DELIVERY_ONLY and k != key}
    keyed_body[key] = [*messages[:-1], {**last, "content": keyed_content}]
    material = {
        "v": _KEY_VERSION,
        "namespace": namespace,
        "tenant": exchange.tenant,
        "wire": request.wire,
        "template": request.ext.lc_template,
        "enhancements": [spec.model_dump(mode="json") for spec in request.ext.lc_enhancements],
        "body": strip_markers(keyed_body),  # prompt-cache markers steer the provider's cache, not the answer
    }
    encoded = json.dumps(material, separators=(",", ":"), ensure_ascii=False, default=str)
    digest = hashlib.sha256(encoded.encode()).hexdigest()
    return CacheKey(tenant=exchange.tenant, model=request.model, exact=digest, query=query.strip())


def _responses_cacheable(body: dict[str, Any]) -> bool:
    """A Responses request's meaning may hang on state the proxy cannot see (a stored response,
    a conversation, a stored prompt) or on tools: those are never answered from the cache."""
    if any(body.get(name) for name in _RESPONSES_STATE) or body.get("tools"):
        return False
    items = body.get("input")
    return not isinstance(items, list) or all(
        isinstance(item, dict) and item.get("type", "message") == "message" for item in items
    )


def _choices(body: dict[str, Any]) -> int:
    n = body.get("n")
    return n if isinstance(n, int) and not isinstance(n, bool) else 1


def _split_text(content: Any) -> tuple[str, Any] | None:
    """(the text of a user message, its content with the text replaced by a placeholder)."""
    if isinstance(content, str):
        return content, _QUERY_PLACEHOLDER
    if not isinstance(content, list):
        return None
    texts: list[str] = []
    kept: list[Any] = []
    for part in content:
        if isinstance(part, dict) and part.get("type") in ("tool_result", "function_result"):
            return None  # a tool turn, not a question
        if is_text_part(part):
            texts.append(part["text"])
            kept.append(_QUERY_PLACEHOLDER)
        else:
            kept.append(part)  # images, documents: they shape the answer, so they stay in the exact key
    return "\n".join(texts), kept
