"""The smallest prefix each provider will cache, per model: one table, extended by config.

Names match by longest prefix of the provider's model id (``claude-sonnet-4-5-20250929``
matches ``claude-sonnet-4-5``). ``caching.min_prefix_tokens`` entries win; their keys may
be a model id, a ``provider/model`` string, or a route name.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

__all__ = ["DEFAULT_MINIMUMS", "min_prefix_tokens"]

DEFAULT_MINIMUMS: dict[str, dict[str, int]] = {
    "anthropic": {
        "claude-sonnet-4": 1024,
        "claude-sonnet-4-0": 1024,
        "claude-sonnet-4-5": 1024,
        "claude-opus-4": 1024,
        "claude-opus-4-0": 1024,
        "claude-opus-4-1": 1024,
        "claude-3-7-sonnet": 1024,
        "claude-3-5-sonnet": 1024,
        "claude-3-opus": 1024,
        "claude-sonnet-4-6": 2048,
        "claude-3-haiku": 2048,
        "claude-3-5-haiku": 2048,
        "claude-opus-4-5": 4096,
        "claude-opus-4-6": 4096,
        "claude-haiku-4-5": 4096,
        "": 1024,
    },
    "openai": {"": 1024},
    "gemini": {
        "gemini-2.5-flash": 1024,
        "gemini-2.5-flash-lite": 1024,
        "gemini-2.5-pro": 4096,
        "gemini-3": 4096,
        "": 2048,
    },
}


def _longest_prefix(table: Mapping[str, int], model: str) -> int | None:
    best: str | None = None
    for name in table:
        if model.startswith(name) and (best is None or len(name) > len(best)):
            best = name
    return table[best] if best is not None else None


def min_prefix_tokens(
    provider: str, model: str, overrides: Mapping[str, int] | None = None, *, alias: str | None = None
) -> int | None:
    """The minimum cacheable prefix in tokens, or None when the provider has no prefix cache we know."""
    if not overrides:
        return _from_table(provider, model)
    for key in (alias, f"{provider}/{model}", model):
        if key and key in overrides:
            return overrides[key]
    found = _longest_prefix({k: v for k, v in overrides.items() if "/" not in k}, model)
    if found is not None:
        return found
    return _from_table(provider, model)


@functools.lru_cache(maxsize=256)  # asked several times a request, of a few models; the table never changes
def _from_table(provider: str, model: str) -> int | None:
    table = DEFAULT_MINIMUMS.get(provider)
    return _longest_prefix(table, model) if table is not None else None
