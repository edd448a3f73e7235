"""OpenAI: caching is automatic. Strip client ``cache_control`` (OpenAI does not take it) and
set ``prompt_cache_key`` from the tenant and the L0+L1 digest, so requests sharing a
prefix are routed to the same cache. An Anthropic-format request going to OpenAI (translated)
gets the same key through LiteLLM: it is not an Anthropic body field, so it travels in the
exchange's notes.

There is no write premium (OpenAI: "no additional fees"; cache writes are billed only from
GPT-5.6 on), so nothing here waits for a prefix to prove it repeats.

Extended retention: ``caching.openai_prompt_cache_retention`` sets ``prompt_cache_retention``
per model ("24h" keeps prefixes up to a day instead of 5-10 minutes in memory), for the
models that take it (GPT-4.1 and the GPT-5 family: 5, 5-codex, 5.1 and its codex/chat
variants, 5.2, 5.3-codex, 5.4, 5.5 and later), never over the client's own value. Both
retentions bill the same ("Prompt cache pricing is the same for both retention policies"),
so the savings account no difference: 0."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import structlog

from .._exchange import Exchange
from ..prompt._layers import Layers, key_digest

if TYPE_CHECKING:
    from ..upstream._providers import Deployment

__all__ = [
    "apply_openai",
    "retention_for",
    "strip_cache_control",
    "takes_extended_retention",
]

log = structlog.get_logger("layercache.markers")

# developers.openai.com/api/docs/guides/prompt-caching (extended retention), dated snapshots included.
_EXTENDED = re.compile(r"(gpt-4\.1|gpt-5|gpt-5-codex|gpt-5\.\d+(-[a-z]+)*)(-\d{4}-\d{2}-\d{2})?")


def takes_extended_retention(model: str) -> bool:
    return _EXTENDED.fullmatch(model.rsplit("/", 1)[-1]) is not None


def retention_for(exchange: Exchange, target: Deployment) -> str | None:
    """The configured ``prompt_cache_retention`` for ``target``: exact keys, then the longest model prefix."""
    table = exchange.settings.caching.openai_prompt_cache_retention
    model = target.upstream_model
    for key in (exchange.request.model, f"{target.provider}/{model}", model):
        if key in table:
            return table[key]
    names = [k for k in table if "/" not in k and model.startswith(k)]
    return table[max(names, key=len)] if names else None


def strip_cache_control(body: dict[str, Any]) -> int:
    """Remove every ``cache_control`` from tools, system blocks, messages and their parts."""
    removed = 0

    def strip(item: Any) -> None:
        nonlocal removed
        if isinstance(item, dict) and "cache_control" in item:
            del item["cache_control"]
            removed += 1

    strip(body)  # a top-level one (Anthropic's automatic caching)
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


def apply_openai(exchange: Exchange, layers: Layers, target: Deployment | None = None) -> None:
    body = exchange.request.body
    if target is not None:
        _retain(exchange, target)
    strip_cache_control(body)
    key = "lc-" + key_digest(exchange.tenant, layers.prefix_digest(1))[:40]
    # Chat completions and the Responses API both take it; a client's own key (Codex sends one) is kept.
    # An Anthropic-wire request has no such field: the key travels on the exchange to the LiteLLM call.
    if exchange.request.wire not in ("openai", "responses"):
        exchange.prompt_cache_key = key
    elif not body.get("prompt_cache_key"):
        body["prompt_cache_key"] = key


def _retain(exchange: Exchange, target: Deployment) -> None:
    retention = retention_for(exchange, target)
    body = exchange.request.body
    if retention is None or body.get("prompt_cache_retention"):
        return
    if not takes_extended_retention(target.upstream_model):
        log.warning("prompt_cache_retention_unsupported", model=target.upstream_model, retention=retention)
        return
    exchange.prompt_cache_retention = retention
    if exchange.request.wire in ("openai", "responses"):
        body["prompt_cache_retention"] = retention
