"""OpenAI: caching is automatic. Strip client ``cache_control`` (OpenAI does not take it) and
set ``prompt_cache_key`` from the tenant and the L0+L1 digest, so requests sharing a
prefix are routed to the same cache. An Anthropic-format request going to OpenAI (translated)
gets the same key through LiteLLM: it is not an Anthropic body field, so it travels in the
exchange's notes."""

from __future__ import annotations

from typing import Any

from .._exchange import Exchange
from ..prompt._layers import Layers, digest

__all__ = ["PROMPT_CACHE_KEY", "apply_openai", "strip_cache_control"]

PROMPT_CACHE_KEY = "prompt_cache_key"  # the exchange note an Anthropic-format request carries it in


def strip_cache_control(body: dict[str, Any]) -> int:
    """Remove every ``cache_control`` from tools, system blocks, messages and their parts."""
    removed = 0

    def strip(item: Any) -> None:
        nonlocal removed
        if isinstance(item, dict) and "cache_control" in item:
            del item["cache_control"]
            removed += 1

    for tool in body.get("tools") or []:
        strip(tool)
    system = body.get("system")
    for block in system if isinstance(system, list) else []:
        strip(block)
    for message in body.get("messages") or []:
        strip(message)
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        for part in content if isinstance(content, list) else []:
            strip(part)
        for call in message.get("tool_calls") or []:
            strip(call)
    return removed


def apply_openai(exchange: Exchange, layers: Layers) -> None:
    body = exchange.request.body
    strip_cache_control(body)
    key = "lc-" + digest(exchange.tenant, layers.prefix_digest(1))[:40]
    # Chat completions and the Responses API both take it; a client's own key (Codex sends one) is kept.
    # An Anthropic-wire request has no such field: the key travels in the notes to the LiteLLM call.
    if exchange.request.wire not in ("openai", "responses"):
        exchange.notes[PROMPT_CACHE_KEY] = key
    elif not body.get("prompt_cache_key"):
        body["prompt_cache_key"] = key
