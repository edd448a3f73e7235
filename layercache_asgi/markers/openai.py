"""OpenAI: caching is automatic. Strip client ``cache_control`` (OpenAI does not take it) and
set ``prompt_cache_key`` from the tenant and the L0+L1 digest, so requests sharing a
prefix are routed to the same cache."""

from __future__ import annotations

from typing import Any

from .._exchange import Exchange
from .._layers import Layers, digest

__all__ = ["apply_openai", "strip_cache_control"]


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
    # Chat completions and the Responses API both take it; a client's own key (Codex sends one) is kept.
    if exchange.request.wire in ("openai", "responses") and not body.get("prompt_cache_key"):
        body["prompt_cache_key"] = "lc-" + digest(exchange.tenant, layers.prefix_digest(1))[:40]
