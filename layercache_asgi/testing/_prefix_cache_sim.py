"""A fake provider that bills prompt tokens the way the providers' prefix caches do.

- OpenAI (``/chat/completions``): automatic. A prompt of at least 1024 tokens stores its
  prefixes at 1024 + 128·k token boundaries; a later prompt reads the longest stored
  boundary it matches exactly. ``prompt_cache_key`` selects the cache (as routing does).
- Anthropic (``/v1/messages``): only prefixes ending at a block with ``cache_control``
  are written, when at least the model's minimum long. A request reads the longest
  written prefix ending at one of its breakpoints or up to 20 blocks before one.
  Order: tools, system, messages. TTL 5 minutes (or ``"ttl": "1h"``), refreshed on read.
  A top-level ``cache_control`` (automatic caching) is a breakpoint on the last cacheable
  block (not thinking, not empty text). The minimum is the table's
  (:func:`~layercache_asgi.prompt._prefix_minimums.min_prefix_tokens`) unless
  ``real_minimums`` (model prefix -> tokens) says otherwise: a model whose real minimum
  differs from the published one, as some do.
  More than 4 breakpoints is a 400, as at Anthropic (the base fake's rules).
- Gemini (served by :class:`~layercache_asgi.testing.FakeGemini`, which bills here):
  blocks are the system instruction's parts, the function declarations, then each
  content's parts; a request naming a ``cachedContent`` is that cache's blocks, then its
  own. Explicit caching: creating a CachedContent is a write of its tokens (Google bills
  it at the input price, plus storage per token-hour for its TTL, summed in
  :attr:`gemini_storage_token_hours`); a request naming it reads all of them. Implicit
  caching (2.5 and newer): a prompt of at least the model's minimum stores its prefixes
  at block boundaries; a later prompt to that model reads the longest it matches, on top
  of an explicit cache ("explicit caches interact with implicit caches"). Google
  guarantees no hit, so this is the best case; entries live 5 minutes from last use (no
  lifetime is documented). Both report ``cachedContentTokenCount``. Prices, for a cost
  index (not billed here): cached input 0.1x input on 2.5 (Flash $0.03 vs $0.30 per M
  tokens, Pro $0.125 vs $1.25), 0.25x on 2.0; storage per M token-hours $1.00 (2.5 Flash),
  $4.50 (2.5 Pro); implicit caching has no storage charge. Sources: ai.google.dev/gemini-api/docs/pricing,
  cloud.google.com/vertex-ai/generative-ai/docs/context-cache/context-cache-overview.
- All: an entry becomes readable only once the response that writes it has started
  (the ``delay`` before a response starts; lookups happen at arrival).

Tokens are about four characters each (:func:`count_tokens`), counted over a fixed
serialisation of the prompt in which key order and whitespace matter, as they do for
the real tokenizers. Content without markers hashes the same whether a text is a string
or a one-block list, as it does at the providers; Gemini's snake_case and camelCase
field spellings count the same (the model sees neither).
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._types import Receive, Scope, Send
from ..prompt._layers import strip_markers
from ..prompt._prefix_minimums import min_prefix_tokens
from ..wire._completion import Completion, Usage
from ._fake_provider import FakeProvider, count_tokens
from ._fake_responses import responses_prompt

__all__ = [
    "ANTHROPIC_LOOKBACK",
    "GEMINI_IMPLICIT_TTL",
    "OPENAI_BOUNDARY_STEP",
    "OPENAI_MIN_TOKENS",
    "PrefixCacheSimulator",
]

OPENAI_MIN_TOKENS = 1024
OPENAI_BOUNDARY_STEP = 128
ANTHROPIC_LOOKBACK = 20
GEMINI_IMPLICIT_TTL = 300.0
_TTL = {"5m": 300.0, "1h": 3600.0}
_arrival: contextvars.ContextVar[float] = contextvars.ContextVar("arrival")


@dataclass
class _Entry:
    tokens: int
    readable_at: float
    expires_at: float
    ttl: float


def _dumps(value: Any) -> str:
    return json.dumps(strip_markers(value), ensure_ascii=False, separators=(",", ":"))


def _as_blocks(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content) if isinstance(content, list) else []


def _anthropic_blocks(body: dict[str, Any]) -> list[tuple[str, Any]]:
    """(serialised block, raw block) in prefix order: tools, system, messages."""
    blocks = [(f"tool:{_dumps(t)}", t) for t in body.get("tools") or []]
    blocks += [(f"system:{_dumps(b)}", b) for b in _as_blocks(body.get("system"))]
    for message in body.get("messages") or []:
        role = message.get("role")
        blocks += [(f"{role}:{_dumps(b)}", b) for b in _as_blocks(message.get("content"))]
    return blocks


def _openai_text(body: dict[str, Any]) -> str:
    parts = [_dumps(t) for t in body.get("tools") or []]
    if "input" in body:  # the Responses API: tools, instructions, then the input items
        entries = responses_prompt(body)
        parts = [_dumps(t) for t in entries[: len(body.get("tools") or [])]]
        messages = entries[len(parts) :]
    else:
        messages = body.get("messages") or []
    for message in messages:
        if not isinstance(message, dict):
            parts.append(_dumps(message))
            continue
        normal = dict(message)
        if isinstance(normal.get("content"), str):
            normal["content"] = _as_blocks(normal["content"])
        parts.append(_dumps(normal))
    return "\n".join(parts)


def _camel(value: Any) -> Any:
    """Top-level keys in camelCase: the REST API takes both spellings of its own fields."""
    if not isinstance(value, dict):
        return value
    return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in value.items()}


def _field(body: dict[str, Any], name: str) -> Any:
    return body.get(name, body.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)))


def _gemini_blocks(body: dict[str, Any]) -> list[str]:
    """Serialised blocks in prefix order: system instruction, function declarations, contents."""
    system = _field(body, "systemInstruction") or {}
    blocks = [f"system:{_dumps(_camel(p))}" for p in system.get("parts") or []]
    for tool in body.get("tools") or []:
        declarations = _field(tool, "functionDeclarations")
        if isinstance(declarations, list):
            blocks += [f"function:{_dumps(d)}" for d in declarations]
        else:
            blocks.append(f"tool:{_dumps(_camel(tool))}")
    for content in body.get("contents") or []:
        role = content.get("role") or "user"
        blocks += [f"{role}:{_dumps(_camel(p))}" for p in content.get("parts") or []]
    return blocks


def _prefixes(blocks: list[str]) -> tuple[list[str], list[int]]:
    """Digest and token count of each prefix ending at a block."""
    digests: list[str] = []
    cumulative: list[int] = []
    h = hashlib.sha256()
    tokens = 0
    for text in blocks:
        h.update(text.encode() + b"\x00")
        digests.append(h.hexdigest())
        tokens += count_tokens(text)
        cumulative.append(tokens)
    return digests, cumulative


def _implicit_caching(model: str) -> bool:
    """Gemini 2.5 and newer (and the ``-latest`` aliases) cache implicitly."""
    found = re.match(r"gemini-(\d+)(?:\.(\d+))?", model)
    if found is None:
        return model.endswith("-latest")
    return (int(found.group(1)), int(found.group(2) or 0)) >= (2, 5)


def _has_marker(block: Any) -> dict[str, Any] | None:
    marker = block.get("cache_control") if isinstance(block, dict) else None
    return marker if isinstance(marker, dict) else None


def _last_cacheable(blocks: list[tuple[str, Any]]) -> int | None:
    for index in range(len(blocks) - 1, -1, -1):
        block = blocks[index][1]
        if isinstance(block, dict) and block.get("type") in ("thinking", "redacted_thinking"):
            continue
        if isinstance(block, dict) and block.get("type") == "text" and not block.get("text"):
            continue
        return index
    return None


@dataclass
class PrefixCacheSimulator(FakeProvider):
    """:class:`FakeProvider` with provider prefix-cache billing. ``clock`` may be replaced in tests."""

    clock: Callable[[], float] = time.monotonic
    usages: list[tuple[str, Usage]] = field(default_factory=list)
    real_minimums: dict[str, int] = field(default_factory=dict)
    _openai: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    _anthropic: dict[str, _Entry] = field(default_factory=dict)
    _gemini: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    gemini_storage_token_hours: float = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _arrival.set(self.clock())
        try:
            await super().__call__(scope, receive, send)
        finally:
            _arrival.reset(token)

    def usage_for(self, wire: str, body: dict[str, Any], completion: Completion) -> Usage:
        arrival, now = _arrival.get(self.clock()), self.clock()  # lookups at arrival, writes at response start
        output = count_tokens(completion.text or "x")
        if wire == "anthropic":
            usage = self._anthropic_usage(body, arrival, now)
        else:
            usage = self._openai_usage(body, arrival, now)
        usage.output = output
        self.usages.append((wire, usage))
        return usage

    # -- OpenAI ---------------------------------------------------------------------------

    def _openai_usage(self, body: dict[str, Any], arrival: float, now: float) -> Usage:
        text = _openai_text(body)
        total = max(1, math.ceil(len(text) / 4))
        namespace = str(body.get("prompt_cache_key") or "")
        ttl = 86_400.0 if body.get("prompt_cache_retention") == "24h" else _TTL["5m"]
        read = 0
        h = hashlib.sha256()
        done = 0
        boundary = OPENAI_MIN_TOKENS
        while boundary <= total:
            h.update(text[done : boundary * 4].encode())
            done = boundary * 4
            key = (namespace, h.hexdigest())
            entry = self._openai.get(key)
            if entry is not None and entry.readable_at <= arrival < entry.expires_at:
                read = boundary
                entry.expires_at = now + entry.ttl
            elif entry is None or entry.expires_at <= arrival:
                self._openai[key] = _Entry(boundary, now, now + ttl, ttl)
            boundary += OPENAI_BOUNDARY_STEP
        return Usage(uncached_input=total - read, cache_read=read)

    # -- Anthropic ------------------------------------------------------------------------

    def _anthropic_usage(self, body: dict[str, Any], arrival: float, now: float) -> Usage:
        blocks = _anthropic_blocks(body)
        minimum = self.anthropic_minimum(str(body.get("model", "")))
        digests, cumulative = _prefixes([text for text, _ in blocks])
        tokens = cumulative[-1] if cumulative else 0
        breakpoints = [(i, _has_marker(b) or {}) for i, (_, b) in enumerate(blocks) if _has_marker(b)]
        automatic = body.get("cache_control")
        last = _last_cacheable(blocks)
        if isinstance(automatic, dict) and last is not None and all(i != last for i, _ in breakpoints):
            breakpoints = sorted([*breakpoints, (last, automatic)], key=lambda b: b[0])
        read = 0
        for index, _ in breakpoints:
            for position in range(index, max(index - ANTHROPIC_LOOKBACK, 0) - 1, -1):
                entry = self._anthropic.get(digests[position])
                if entry is not None and entry.readable_at <= arrival < entry.expires_at:
                    read = max(read, cumulative[position])
                    entry.expires_at = now + entry.ttl
                    break
        written = 0
        for index, marker in breakpoints:
            if cumulative[index] < minimum:
                continue
            ttl = _TTL.get(str(marker.get("ttl") or "5m"), _TTL["5m"])
            entry = self._anthropic.get(digests[index])
            if entry is None or entry.expires_at <= arrival:
                self._anthropic[digests[index]] = _Entry(cumulative[index], now, now + ttl, ttl)
            written = max(written, cumulative[index])
        write = max(written - read, 0)
        return Usage(uncached_input=tokens - max(read, written), cache_read=read, cache_write=write)

    def anthropic_minimum(self, model: str) -> int:
        """The minimum this fake caches at: ``real_minimums`` (longest prefix) before the table."""
        names = [k for k in self.real_minimums if model.startswith(k)]
        if names:
            return self.real_minimums[max(names, key=len)]
        return min_prefix_tokens("anthropic", model) or 1024

    # -- Gemini ---------------------------------------------------------------------------

    def gemini_cache_tokens(self, content: dict[str, Any]) -> int:
        """Tokens a CachedContent holding ``content`` (systemInstruction, tools, contents) bills."""
        return sum(count_tokens(b) for b in _gemini_blocks(content))

    def gemini_cache_created(self, tokens: int, ttl: float) -> None:
        """Creating a CachedContent: a write of its tokens, stored (and billed) for ``ttl`` seconds."""
        self.gemini_storage_token_hours += tokens * ttl / 3600
        self.usages.append(("gemini-cache", Usage(cache_write=tokens)))

    def gemini_usage(
        self, model: str, body: dict[str, Any], cached: dict[str, Any] | None, arrival: float, now: float
    ) -> Usage:
        """A ``generateContent`` request; ``cached`` is the content of the CachedContent it names."""
        held = _gemini_blocks(cached) if cached else []
        digests, cumulative = _prefixes(held + _gemini_blocks(body))
        total = max(cumulative[-1] if cumulative else 0, 1)
        read = cumulative[len(held) - 1] if held else 0
        # The minimum for implicit caching, from one table for the proxy and this simulator:
        # ai.google.dev/gemini-api/docs/caching gives 1,024 tokens for 2.5 Flash and 4,096 for
        # 2.5 Pro (some later copies of that page give 2,048 for both 2.5 models).
        minimum = min_prefix_tokens("gemini", model) or 2048
        if _implicit_caching(model):
            for position in range(len(digests) - 1, -1, -1):
                if cumulative[position] < minimum or cumulative[position] <= read:
                    break
                entry = self._gemini.get((model, digests[position]))
                if entry is not None and entry.readable_at <= arrival < entry.expires_at:
                    read = cumulative[position]
                    entry.expires_at = now + entry.ttl
                    break
            for digest, tokens in zip(digests, cumulative, strict=True):
                entry = self._gemini.get((model, digest))
                if tokens >= minimum and (entry is None or entry.expires_at <= arrival):
                    self._gemini[(model, digest)] = _Entry(tokens, now, now + GEMINI_IMPLICIT_TTL, GEMINI_IMPLICIT_TTL)
        usage = Usage(uncached_input=total - read, cache_read=read)
        self.usages.append(("gemini", usage))
        return usage
