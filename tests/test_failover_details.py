"""Failover details: whose key each deployment gets, Retry-After relayed, markers for the fallback."""
# On sockets: only the fakes the LiteLLM path calls (it opens its own connections); the app and the rest in-process.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import async_anthropic, async_openai, client_of

pytestmark = pytest.mark.in_process

HELLO: Any = [{"role": "user", "content": "hello"}]
CLIENT_KEY = "sk-client-own-openai-key"


def _key(fake: FakeProvider) -> str | None:
    headers = fake.requests[-1].headers
    return headers.get("x-api-key") or headers.get("authorization")


async def test_fallback_at_another_base_url_gets_its_own_key_not_the_clients(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTHER_KEY", "sk-other-vendor-key")
    first, other = FakeProvider(name="first", fail_next=[500]), FakeProvider(name="othervendor")
    settings = make_settings(
        models=[
            {"name": "o500", "model": "openai/gpt-4o", "api_base": "http://first.test/v1"},
            {
                "name": "other",
                "model": "openai/gpt-4o-mini",
                "api_base": "http://other.test/othervendor/v1",
                "api_key_env": "OTHER_KEY",
            },
        ],
        fallbacks={"o500": ["other"]},
    )
    async with in_process({"first.test": first, "other.test": other}, settings) as http:
        await async_openai(http, api_key=CLIENT_KEY).chat.completions.create(model="o500", messages=HELLO)
    assert _key(first) == f"Bearer {CLIENT_KEY}"  # the deployment the client addressed
    assert other.requests[-1].path == "/othervendor/v1/chat/completions"
    assert _key(other) == "Bearer sk-other-vendor-key"
    assert CLIENT_KEY not in repr(other.requests)


async def test_fallback_at_another_base_url_without_a_route_key_gets_the_providers_key(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-server-openai-key")
    first, other = FakeProvider(name="first", fail_next=[500]), FakeProvider(name="othervendor")
    settings = make_settings(
        providers={"openai": {"api_base": "http://first.test/v1", "api_key_env": "OPENAI_API_KEY"}},
        models=[{"name": "other", "model": "openai/gpt-4o-mini", "api_base": "http://other.test/v1"}],
        fallbacks={"gpt-4o": ["other"]},
    )
    async with in_process({"first.test": first, "other.test": other}, settings) as http:
        await async_openai(http, api_key=CLIENT_KEY).chat.completions.create(model="gpt-4o", messages=HELLO)
    assert _key(first) == f"Bearer {CLIENT_KEY}"
    assert _key(other) == "Bearer sk-server-openai-key"


async def test_addressed_route_with_its_own_key_uses_it(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTE_KEY", "sk-route-key")
    first = FakeProvider(name="first", fail_next=[500])
    base = "http://first.test/v1"
    settings = make_settings(
        models=[
            {"name": "mine", "model": "openai/gpt-4o", "api_base": base, "api_key_env": "ROUTE_KEY"},
            {"name": "plain", "model": "openai/gpt-4o-mini", "api_base": base},
        ],
        fallbacks={"mine": ["plain"]},
    )
    async with in_process({"first.test": first}, settings) as http:
        await async_openai(http, api_key=CLIENT_KEY).chat.completions.create(model="mine", messages=HELLO)
    headers = [r.headers.get("authorization") for r in first.requests]
    assert headers[0] == "Bearer sk-route-key"
    # The client addressed a deployment that does not take its key: no fallback gets it either.
    assert len(headers) == 2 and f"Bearer {CLIENT_KEY}" not in headers


@pytest.mark.parametrize("translated", [False, True])
async def test_all_429_chain_relays_the_providers_retry_after(
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    served_fake: Callable[[Any], str],
    translated: bool,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-server-key")
    advice = {"retry-after": "7", "retry-after-ms": "7000"}
    first = FakeProvider(name="first", fail_next=[429], error_headers={"retry-after": "30"})
    last = FakeProvider(name="last", fail_next=[429], error_headers=advice)
    # Translated, the backup is called by LiteLLM, which opens its own connection: served on a socket.
    backup: dict[str, Any] = (
        {"model": "anthropic/claude-sonnet-4-6", "api_base": served_fake(last)}
        if translated
        else {"model": "openai/gpt-4o-mini", "api_base": "http://last.test/v1"}
    )
    settings = make_settings(
        models=[
            {"name": "primary", "model": "openai/gpt-4o", "api_base": "http://first.test/v1"},
            {"name": "backup", **backup},
        ],
        fallbacks={"primary": ["backup"]},
    )
    async with in_process({"first.test": first, "last.test": last}, settings) as http:
        with pytest.raises(openai.RateLimitError) as caught:
            await async_openai(http, api_key="sk-x").chat.completions.create(model="primary", messages=HELLO)
    assert len(first.requests) == 1 and len(last.requests) == 1
    headers = caught.value.response.headers
    assert (headers.get("retry-after"), headers.get("retry-after-ms")) == ("7", "7000")  # from the last attempt


async def test_anthropic_request_failing_over_to_openai_gets_a_prompt_cache_key(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, served_fake: Callable[[Any], str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-server-openai-key")
    first, backup = FakeProvider(name="anthropic"), FakeProvider(name="openai")
    # The fallback crosses wires (LiteLLM translates and opens its own connection): that fake is served.
    settings = make_settings(
        providers={
            "anthropic": {"api_base": "http://anthropic.test"},
            "openai": {"api_base": f"{served_fake(backup)}/v1", "api_key_env": "OPENAI_API_KEY"},
        },
        fallbacks={"claude-sonnet-4-6": ["gpt-4o-mini"]},
    )
    async with in_process({"anthropic.test": first}, settings) as http:
        client = async_anthropic(http, api_key="sk-ant-x")
        for question in ("hello", "hello again"):
            first.fail_next.append(503)
            message = await client.messages.create(
                model="claude-sonnet-4-6",
                max_tokens=20,
                system="Answer briefly.",
                messages=[{"role": "user", "content": question}],
            )
            assert message.content[0].text == f"Echo: {question}"  # type: ignore[union-attr]
    assert "prompt_cache_key" not in first.requests[0].body  # not an Anthropic field
    keys = [r.body.get("prompt_cache_key") for r in backup.requests]
    assert keys[0] is not None and keys[0].startswith("lc-")
    assert keys[0] == keys[1]  # the same prefix shares one key, as for OpenAI-format requests


def test_provider_entry_naming_only_a_base_url_keeps_the_default_key_variable() -> None:
    settings = Settings.model_validate({"providers": {"openai": {"api_base": "http://127.0.0.1:9/v1"}}})
    assert settings.providers["openai"].api_key_env == "OPENAI_API_KEY"
    assert settings.providers["openai"].api_base == "http://127.0.0.1:9/v1"
    cleared = Settings.model_validate({"providers": {"openai": {"api_key_env": None}}})
    assert cleared.providers["openai"].api_key_env is None  # named in the file: the operator's choice


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
async def test_keyless_deployment_at_its_own_base_never_gets_an_environment_key(
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    served_fake: Callable[[Any], str],
    path: str,
) -> None:
    # The translated (LiteLLM) path: left alone, LiteLLM reads ANTHROPIC_API_KEY / OPENAI_API_KEY
    # from the environment and sends it to whatever base URL the route names. LiteLLM opens its
    # own connection, so the fake is served; the app is in-process.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-operator-secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-operator-secret")
    model = "anthropic/claude-sonnet-4-6" if path == "/v1/chat/completions" else "openai/gpt-4o-mini"
    local = FakeProvider(name="local")
    base = served_fake(local)
    settings = make_settings(
        providers={"anthropic": {"api_key_env": None}, "openai": {"api_key_env": None}},
        models=[{"name": "local", "model": model, "api_base": base if "anthropic" in model else f"{base}/v1"}],
    )
    async with client_of(LayerCacheApp(settings)) as http:
        body: dict[str, Any] = {"model": "local", "messages": HELLO, "max_tokens": 16}
        response = await http.post(path, json=body, timeout=30)
    assert response.status_code == 200, response.text
    seen = repr(local.requests[-1].headers)
    assert "operator-secret" not in seen
    assert _key(local) in ("layercache-no-key", "Bearer layercache-no-key")
