"""Token prices and what a call cost or saved, from the usage the provider reported.

Prices come from LiteLLM's cost map (the offline copy it ships), overridable per model
in ``metrics.prices``. Savings are what the provider billed less because of its prefix
cache (read tokens at the cached price instead of the full one), minus the premium it
charged for writing that cache. The net can be negative and is reported as such.
Anthropic charges 1.25x (5 min) or 2x (1 h) for written tokens; OpenAI and Gemini's
implicit caching charge no write premium. A Gemini CachedContent the proxy creates is
billed once at the input price: the recorder counts it as a write paid out of the
savings (its hourly storage fee is not token-priced and is not counted).
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..wire._completion import Usage

__all__ = ["Price", "PriceBook", "call_cost", "is_listed", "load_cost_map", "prefix_savings"]


# Anthropic bills cache writes at a multiple of the input price, by the cache's lifetime.
_ANTHROPIC_WRITE_FACTOR = {"5m": 1.25, "1h": 2.0}


@dataclass(frozen=True)
class Price:
    """USD per token. ``known`` is False when no price was found (every cost is then 0)."""

    input: float = 0.0
    output: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0
    known: bool = False


@functools.cache
def _cost_map() -> dict[str, dict[str, Any]]:
    loaded = sys.modules.get("litellm")
    if loaded is not None:  # already imported for routing: its map may carry registered models
        return dict(loaded.model_cost)
    # LiteLLM's offline map is this JSON file in its package; reading it costs milliseconds,
    # importing LiteLLM costs seconds (too long to hold a request's accounting for).
    spec = importlib.util.find_spec("litellm")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / "model_prices_and_context_window_backup.json"
        if path.is_file():
            data: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
            return data
    from ..upstream._litellm import litellm  # lazy: importing LiteLLM costs seconds

    return dict(litellm.model_cost)


async def load_cost_map() -> None:
    """Import LiteLLM's cost map off the event loop (start-up warms it; lookups then are instant)."""
    if _cost_map.cache_info().currsize == 0:
        await asyncio.to_thread(_cost_map)


def is_listed(model: str) -> bool:
    """Whether LiteLLM's cost map lists ``model`` (as written, or without its provider prefix)."""
    table = _cost_map()
    return any(name in table for name in _candidates((model,)))


def _entry(candidates: list[str]) -> dict[str, Any] | None:
    table = _cost_map()
    for name in candidates:
        entry = table.get(name)
        if isinstance(entry, dict) and "input_cost_per_token" in entry:
            return entry
    return None


def _candidates(names: tuple[str, ...]) -> list[str]:
    # "anthropic/claude-x" is listed in the map as "claude-x"; try the bare name second.
    out = [*names, *(n.split("/", 1)[1] for n in names if "/" in n)]
    return [n for n in dict.fromkeys(out) if n]


class PriceBook:
    """Looks prices up once per (names, provider, TTL) and remembers them.

    ``names`` are tried in order: e.g. the deployment's LiteLLM model string, then the
    name the client sent. Overrides (``metrics.prices``) win over LiteLLM's map.
    """

    def __init__(self, overrides: dict[str, dict[str, float]]) -> None:
        self._overrides = overrides
        self._known: dict[tuple[tuple[str, ...], str, str], Price] = {}

    def price(self, names: tuple[str, ...], provider: str, anthropic_ttl: str) -> Price:
        key = (names, provider, anthropic_ttl)
        found = self._known.get(key)
        if found is None:
            found = self._lookup(_candidates(names), provider, anthropic_ttl)
            if len(self._known) < 4096:  # bounded: model names come from clients
                self._known[key] = found
        return found

    def _lookup(self, names: list[str], provider: str, anthropic_ttl: str) -> Price:
        for name in names:
            override = self._overrides.get(name)
            if override is not None:
                return _from_override(override, provider, anthropic_ttl)
        entry = _entry(names)
        if entry is None:
            return Price()
        full = float(entry.get("input_cost_per_token") or 0.0)
        read = entry.get("cache_read_input_token_cost")
        write_key = (
            "cache_creation_input_token_cost_above_1hr" if anthropic_ttl == "1h" else "cache_creation_input_token_cost"
        )
        write = entry.get(write_key) if provider == "anthropic" else None
        return Price(
            input=full,
            output=float(entry.get("output_cost_per_token") or 0.0),
            cache_read=float(read) if read is not None else full,
            cache_write=float(write) if write is not None else _write_price(full, provider, anthropic_ttl),
            known=True,
        )


def _write_price(full: float, provider: str, anthropic_ttl: str) -> float:
    # OpenAI and Gemini charge no premium for the tokens that fill their cache.
    return full * _ANTHROPIC_WRITE_FACTOR.get(anthropic_ttl, 1.25) if provider == "anthropic" else full


def _from_override(override: dict[str, float], provider: str, anthropic_ttl: str) -> Price:
    full = float(override.get("input", 0.0))
    return Price(
        input=full,
        output=float(override.get("output", 0.0)),
        cache_read=float(override.get("cache_read", full)),
        cache_write=float(override.get("cache_write", _write_price(full, provider, anthropic_ttl))),
        known=True,
    )


def call_cost(usage: Usage, price: Price) -> float:
    """What the provider billed for one call, in USD."""
    return (
        usage.uncached_input * price.input
        + usage.cache_read * price.cache_read
        + usage.cache_write * price.cache_write
        + usage.output * price.output
    )


def prefix_savings(usage: Usage, price: Price) -> float:
    """Saved by the provider's prefix cache on one call: the read discount minus the write premium."""
    return usage.cache_read * (price.input - price.cache_read) - usage.cache_write * (price.cache_write - price.input)
