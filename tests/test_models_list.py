"""GET /v1/models: never empty where providers are configured; OpenAI's or Anthropic's shape."""

from __future__ import annotations

from collections.abc import Callable

import anthropic
import httpx
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import async_anthropic, async_openai

pytestmark = pytest.mark.in_process

ANTHROPIC_VERSION = {"anthropic-version": "2023-06-01"}


async def test_openai_sdk_lists_aliases_then_the_providers_own_models(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    fake.models = ["gpt-9-fake", "claude-fake-9"]
    settings = make_settings(models=[{"name": "smart", "model": "openai/gpt-4o"}], fallbacks={"smart": ["backup"]})
    async with in_process(fake, settings) as http:
        client = async_openai(http)
        ids = [m.id async for m in client.models.list()]
        assert ids[:2] == ["smart", "backup"]
        assert "gpt-9-fake" in ids and "claude-fake-9" in ids
        assert len(ids) == len(set(ids))
        assert (await client.models.retrieve("gpt-9-fake")).id == "gpt-9-fake"
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("no-such-model")
        fetched = len([r for r in fake.requests if r.path.endswith("/models")])
        await client.models.list()
        assert len([r for r in fake.requests if r.path.endswith("/models")]) == fetched  # kept for minutes


async def test_anthropic_sdk_gets_anthropic_shape(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    fake.models = ["claude-fake-9"]
    client = async_anthropic(http)
    page = await client.models.list()
    ids = [m.id for m in page.data]
    assert "claude-fake-9" in ids
    model = await client.models.retrieve("claude-fake-9")
    assert model.type == "model"
    assert model.display_name == "Claude-Fake-9"
    assert model.created_at.year == 2026
    raw = (await http.get("/v1/models", headers=ANTHROPIC_VERSION)).json()
    assert set(raw) == {"data", "has_more", "first_id", "last_id"}
    assert raw["first_id"] == raw["data"][0]["id"]
    missing = await http.get("/v1/models/nope", headers=ANTHROPIC_VERSION)
    assert missing.status_code == 404
    assert missing.json()["type"] == "error"
    with pytest.raises(anthropic.NotFoundError):
        await client.models.retrieve("nope")


async def test_unreachable_provider_falls_back_to_known_chat_models(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = "http://127.0.0.1:9"  # discard port: nothing answers
    monkeypatch.setenv("OPENAI_API_KEY", "sk-server")
    settings = make_settings(
        providers={"openai": {"api_base": f"{dead}/v1"}, "anthropic": {"api_base": dead}, "gemini": {"api_base": dead}}
    )
    app = LayerCacheApp(settings)  # its own upstream client: the calls really find nobody there
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy.test") as http:
            ids = [m["id"] for m in (await http.get("/v1/models", timeout=30)).json()["data"]]
    finally:
        await app.shutdown()
    assert any(i.startswith("gpt-") for i in ids)
    assert any(i.startswith("claude-") for i in ids)


async def test_the_list_is_a_proxy_route_behind_the_client_key(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    async with in_process(fake, make_settings(proxy={"proxy_api_key": "proxy-secret"})) as http:
        assert (await http.get("/v1/models")).status_code == 401
        ok = await http.get("/v1/models", headers={"authorization": "Bearer proxy-secret"})
        assert ok.status_code == 200 and ok.json()["data"]
