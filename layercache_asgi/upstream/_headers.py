"""Which of a provider's response headers reach the client.

Clients act on a few of them: they back off on ``retry-after`` and the rate-limit
headers, and quote the provider's request id when they report a problem. Only those
are relayed, by name; never hop-by-hop headers, nor the upstream's content length or
encoding (the proxy frames its own body), nor anything else a provider sends.
"""

from __future__ import annotations

from typing import Any

__all__ = ["relay_headers"]

_NAMES = frozenset({"retry-after", "retry-after-ms", "request-id", "x-request-id", "openai-processing-ms"})
_PREFIXES = ("anthropic-ratelimit-", "x-ratelimit-")
# LiteLLM hands the provider's raw headers back under this prefix (``_hidden_params["additional_headers"]``).
_LITELLM_PREFIX = "llm_provider-"
_MAX_VALUE = 256


def _wanted(name: str) -> bool:
    return name in _NAMES or (name.startswith(_PREFIXES) and len(name) <= 80)


def _plain(value: str) -> bool:
    return value.isascii() and value.isprintable()


def relay_headers(headers: Any) -> dict[str, str]:
    """The headers clients act on, from any mapping of response headers (httpx's or LiteLLM's)."""
    items = getattr(headers, "items", None)
    if items is None:
        return {}
    found: dict[str, str] = {}
    for raw_name, value in items():
        if not isinstance(raw_name, str) or not isinstance(value, str):
            continue
        name = raw_name.lower()
        raw = name.startswith(_LITELLM_PREFIX)
        name = name.removeprefix(_LITELLM_PREFIX)
        # The provider's raw header wins over LiteLLM's mapped one (it maps Anthropic's rate
        # limits onto OpenAI's names); a value goes out only short and plain.
        if _wanted(name) and 0 < len(value) <= _MAX_VALUE and _plain(value) and (raw or name not in found):
            found[name] = value
    return found
