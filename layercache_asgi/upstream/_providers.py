"""Which provider serves a model name, where it lives, and which key it takes.

The common names (``openai/...``, ``anthropic/...``, ``gemini/...``, bare ``gpt-*`` /
``claude-*``) resolve here without importing LiteLLM; anything else is asked of
LiteLLM's own resolver, so every model name LiteLLM accepts works.
"""

from __future__ import annotations

import asyncio
import functools
import os
from dataclasses import dataclass, replace

from .._auth import client_keys_configured
from .._config import ModelRoute, Settings
from .._errors import ProxyError
from .._types import Wire

__all__ = ["Deployment", "provider_of", "resolve_chain"]

_OPENAI_BARE = ("gpt-", "o1", "o3", "o4", "chatgpt-", "ft:gpt", "davinci", "babbage", "text-embedding")
_NATIVE = {"openai", "anthropic", "gemini"}


@dataclass(frozen=True)
class Deployment:
    name: str  # the name the client used or the configured route name
    model: str  # LiteLLM model string, provider-prefixed
    provider: str
    upstream_model: str  # the model id the provider itself sees
    api_base: str | None
    api_key_env: str | None
    # The client's credential is for the deployment it addressed; a fallback at another provider or
    # base URL, or one with its own configured key, never receives it (see resolve_chain).
    takes_client_key: bool = True

    def fast_path(self, wire: Wire) -> bool:
        """Whether the client's wire format is this provider's own (no translation needed)."""
        if wire == "anthropic":
            return self.provider == "anthropic"
        return self.provider == "openai"  # chat completions and the Responses API

    def api_key(self, settings: Settings) -> str | None:
        env = self.api_key_env or (settings.providers.get(self.provider) or _NO_PROVIDER).api_key_env
        return os.environ.get(env) if env else None

    def key_for(self, settings: Settings, credential: str | None) -> str | None:
        """The key this deployment is called with: with proxy auth on, only the server's own;
        in pass-through mode the client's (for the provider it named), else the server's."""
        if client_keys_configured(settings) or not self.takes_client_key:
            return self.api_key(settings)
        return credential or self.api_key(settings)


class _NoProvider:
    api_key_env: str | None = None
    api_base: str | None = None


_NO_PROVIDER = _NoProvider()


@functools.lru_cache(maxsize=4096)
def _litellm_provider(model: str) -> tuple[str, str] | None:
    from ._litellm import litellm  # lazy: importing LiteLLM costs seconds

    try:
        upstream, provider, _key, _base = litellm.get_llm_provider(model=model)
    except Exception:
        return None
    return str(provider), str(upstream)


def _split_known(model: str, wire: Wire) -> tuple[str, str] | None:
    head, sep, rest = model.partition("/")
    if sep and head in _NATIVE and rest:
        return head, rest
    if not sep or head == "ft:gpt-3.5-turbo":
        if model.startswith(_OPENAI_BARE):
            return "openai", model
        if model.startswith("claude"):
            return "anthropic", model
        if model.startswith("gemini"):
            return "gemini", model
    return None


async def provider_of(model: str, wire: Wire) -> tuple[str, str]:
    """``(provider, upstream model)`` for a model name, or a 404 when no provider takes it."""
    known = _split_known(model, wire)
    if known is not None:
        return known
    found = await asyncio.to_thread(_litellm_provider, model)
    if found is None:
        raise ProxyError(404, f"The model '{model}' does not exist or no provider serves it.", code="model_not_found")
    return found


async def _deployment(name: str, route: ModelRoute | None, settings: Settings, wire: Wire) -> Deployment:
    model = route.model if route else name
    provider, upstream = await provider_of(model, wire)
    provider_cfg = settings.providers.get(provider)
    api_base = (route.api_base if route else None) or (provider_cfg.api_base if provider_cfg else None)
    return Deployment(
        name=name,
        model=f"{provider}/{upstream}",
        provider=provider,
        upstream_model=upstream,
        api_base=api_base,
        api_key_env=route.api_key_env if route else None,
    )


async def resolve_chain(model: str, settings: Settings, wire: Wire) -> list[Deployment]:
    """The deployments to try for ``model`` in order: itself, then its configured fallbacks."""
    routes = {r.name: r for r in settings.models}
    names = [model, *[n for n in settings.fallbacks.get(model, []) if n != model]]
    chain = [await _deployment(name, routes.get(name), settings, wire) for name in names]
    home = _key_home(chain[0])
    return [d if home is not None and _key_home(d) == home else replace(d, takes_client_key=False) for d in chain]


def _key_home(deployment: Deployment) -> tuple[str, str] | None:
    """Where a client's key belongs: the provider and base URL of the deployment it addressed.

    A deployment whose route names its own key (``api_key_env``) is called with that key only,
    so it is no home for a client's key; nor is anything at another provider or base URL.
    """
    if deployment.api_key_env:
        return None
    return deployment.provider, (deployment.api_base or "").rstrip("/")
