"""What ``GET /v1/models`` lists: the configured names, then each provider's own models.

A provider's list is fetched with the server's key and kept for minutes; when the provider
cannot be reached (or the server holds no key for it) LiteLLM's known chat models for
that provider stand in, so a model picker is never empty.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from .._config import Settings

__all__ = ["ModelCatalog", "ModelInfo"]

log = structlog.get_logger("layercache.models")

_FRESH_SECONDS = 600.0  # a fetched list
_RETRY_SECONDS = 60.0  # after a failed fetch, the stand-in list
_FETCH_TIMEOUT = httpx.Timeout(5.0)
_DEFAULT_BASES = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}


@dataclass(frozen=True)
class ModelInfo:
    id: str
    owned_by: str
    created: int = 0  # unix seconds
    display_name: str = ""

    def openai(self) -> dict[str, Any]:
        return {"id": self.id, "object": "model", "created": self.created, "owned_by": self.owned_by}

    def anthropic(self) -> dict[str, Any]:
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created))
        return {"type": "model", "id": self.id, "display_name": self.display_name or self.id, "created_at": created}


def _iso_seconds(value: Any) -> int:
    if not isinstance(value, str):
        return 0
    try:
        return int(time.mktime(time.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone)
    except ValueError:
        return 0


async def _fetch(http: httpx.AsyncClient, provider: str, base: str, key: str | None) -> list[ModelInfo]:
    base = base.rstrip("/")
    if provider == "anthropic":
        headers = {"anthropic-version": "2023-06-01", **({"x-api-key": key} if key else {})}
        response = await http.get(f"{base}/v1/models", params={"limit": 1000}, headers=headers, timeout=_FETCH_TIMEOUT)
    elif provider == "gemini":
        headers = {"x-goog-api-key": key} if key else {}
        response = await http.get(f"{base}/v1beta/models", headers=headers, timeout=_FETCH_TIMEOUT)
    else:
        headers = {"authorization": f"Bearer {key}"} if key else {}
        response = await http.get(f"{base}/models", headers=headers, timeout=_FETCH_TIMEOUT)
    response.raise_for_status()
    doc = response.json()
    if provider == "gemini":
        return [
            ModelInfo(str(m["name"]).removeprefix("models/"), "google", 0, str(m.get("displayName") or ""))
            for m in doc.get("models") or []
            if isinstance(m, dict) and "generateContent" in (m.get("supportedGenerationMethods") or ["generateContent"])
        ]
    models: list[ModelInfo] = []
    for m in doc.get("data") or []:
        if not isinstance(m, dict) or not isinstance(m.get("id"), str):
            continue
        created = m["created"] if isinstance(m.get("created"), int) else _iso_seconds(m.get("created_at"))
        owner = str(m.get("owned_by") or provider)
        models.append(ModelInfo(m["id"], owner, created, str(m.get("display_name") or "")))
    return models


def _known(provider: str) -> list[ModelInfo]:
    from ._litellm import litellm  # lazy: importing LiteLLM costs seconds (preloaded at start-up)

    names = litellm.models_by_provider.get(provider) or []
    chat = sorted(n for n in names if (litellm.model_cost.get(n) or {}).get("mode") == "chat")
    return [ModelInfo(name, provider) for name in chat]


class ModelCatalog:
    """Per app: each provider's list with the time it stops being fresh."""

    def __init__(self) -> None:
        self._lists: dict[tuple[str, str], tuple[float, list[ModelInfo]]] = {}
        self._lock = asyncio.Lock()

    async def models(self, settings: Settings, http: httpx.AsyncClient) -> list[ModelInfo]:
        aliases = [r.name for r in settings.models]
        for names in settings.fallbacks.values():
            aliases += names
        listed = [ModelInfo(name, "layercache") for name in dict.fromkeys(aliases)]
        seen = {m.id for m in listed}
        for provider, config in settings.providers.items():
            key = os.environ.get(config.api_key_env) if config.api_key_env else None
            if not key and not config.api_base:
                continue  # not configured here: nothing the proxy could route to with the server's key
            for model in await self._provider_list(http, provider, config.api_base, key):
                if model.id not in seen:
                    seen.add(model.id)
                    listed.append(model)
        return listed

    async def _provider_list(
        self, http: httpx.AsyncClient, provider: str, api_base: str | None, key: str | None
    ) -> list[ModelInfo]:
        base = api_base or _DEFAULT_BASES.get(provider)
        slot = (provider, base or "")
        cached = self._lists.get(slot)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self._lock:  # one fetch per provider at a time, not one per caller
            cached = self._lists.get(slot)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            models: list[ModelInfo] = []
            # A configured base URL (a self-hosted server) may need no key; the public APIs do.
            if base and (key or api_base):
                try:
                    models = await _fetch(http, provider, base, key)
                except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                    log.info("provider_model_list_unavailable", provider=provider, error=type(exc).__name__)
            fresh = bool(models)
            if not models:
                models = await asyncio.to_thread(_known, provider)
            self._lists[slot] = (time.monotonic() + (_FRESH_SECONDS if fresh else _RETRY_SECONDS), models)
            return models
