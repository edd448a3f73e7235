"""Failover details: whose key each deployment gets, Retry-After relayed, markers for the fallback."""
# On sockets: failover across several fakes, each its own served URL, and the LiteLLM path.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve

HELLO: Any = [{"role": "user", "content": "hello"}]
CLIENT_KEY = "sk-client-own-openai-key"


def _key(fake: FakeProvider) -> str | None:
    headers = fake.requests[-1].headers
    return headers.get("x-api-key") or headers.get("authorization")


def test_fallback_at_another_base_url_gets_its_own_key_not_the_clients(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTHER_KEY", "sk-other-vendor-key")
    first, other = FakeProvider(name="first", fail_next=[500]), FakeProvider(name="othervendor")
    with serve(first) as a, serve(other) as b:
        settings = make_settings(
            models=[
                {"name": "o500", "model": "openai/gpt-4o", "api_base": f"{a}/v1"},
                {
                    "name": "other",
                    "model": "openai/gpt-4o-mini",
                    "api_base": f"{b}/othervendor/v1",
                    "api_key_env": "OTHER_KEY",
                },
            ],
            fallbacks={"o500": ["other"]},
        )
        with serve(LayerCacheApp(settings)) as url:
            client = openai.OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0)
            client.chat.completions.create(model="o500", messages=HELLO)
    assert _key(first) == f"Bearer {CLIENT_KEY}"  # the deployment the client addressed
    assert other.requests[-1].path == "/othervendor/v1/chat/completions"
    assert _key(other) == "Bearer sk-other-vendor-key"
    assert CLIENT_KEY not in repr(other.requests)


def test_fallback_at_another_base_url_without_a_route_key_gets_the_providers_key(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-server-openai-key")
    first, other = FakeProvider(name="first", fail_next=[500]), FakeProvider(name="othervendor")
    with serve(first) as a, serve(other) as b:
        settings = make_settings(
            providers={"openai": {"api_base": f"{a}/v1", "api_key_env": "OPENAI_API_KEY"}},
            models=[{"name": "other", "model": "openai/gpt-4o-mini", "api_base": f"{b}/v1"}],
            fallbacks={"gpt-4o": ["other"]},
        )
        with serve(LayerCacheApp(settings)) as url:
            client = openai.OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0)
            client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert _key(first) == f"Bearer {CLIENT_KEY}"
    assert _key(other) == "Bearer sk-server-openai-key"


def test_addressed_route_with_its_own_key_uses_it(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTE_KEY", "sk-route-key")
    first = FakeProvider(name="first", fail_next=[500])
    with serve(first) as a:
        settings = make_settings(
            models=[
                {"name": "mine", "model": "openai/gpt-4o", "api_base": f"{a}/v1", "api_key_env": "ROUTE_KEY"},
                {"name": "plain", "model": "openai/gpt-4o-mini", "api_base": f"{a}/v1"},
            ],
            fallbacks={"mine": ["plain"]},
        )
        with serve(LayerCacheApp(settings)) as url:
            client = openai.OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0)
            client.chat.completions.create(model="mine", messages=HELLO)
    headers = [r.headers.get("authorization") for r in first.requests]
    assert headers[0] == "Bearer sk-route-key"
    # The client addressed a deployment that does not take its key: no fallback gets it either.
    assert len(headers) == 2 and f"Bearer {CLIENT_KEY}" not in headers


@pytest.mark.parametrize("translated", [False, True])
def test_all_429_chain_relays_the_providers_retry_after(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, translated: bool
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-server-key")
    advice = {"retry-after": "7", "retry-after-ms": "7000"}
    first = FakeProvider(name="first", fail_next=[429], error_headers={"retry-after": "30"})
    last = FakeProvider(name="last", fail_next=[429], error_headers=advice)
    fallback_model = "anthropic/claude-sonnet-4-6" if translated else "openai/gpt-4o-mini"
    with serve(first) as a, serve(last) as b:
        settings = make_settings(
            models=[
                {"name": "primary", "model": "openai/gpt-4o", "api_base": f"{a}/v1"},
                {"name": "backup", "model": fallback_model, "api_base": b if translated else f"{b}/v1"},
            ],
            fallbacks={"primary": ["backup"]},
        )
        with serve(LayerCacheApp(settings)) as url:
            client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x", max_retries=0)
            with pytest.raises(openai.RateLimitError) as caught:
                client.chat.completions.create(model="primary", messages=HELLO)
    assert len(last.requests) == 1
    headers = caught.value.response.headers
    assert (headers.get("retry-after"), headers.get("retry-after-ms")) == ("7", "7000")  # from the last attempt


def test_anthropic_request_failing_over_to_openai_gets_a_prompt_cache_key(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-server-openai-key")
    first, backup = FakeProvider(name="anthropic"), FakeProvider(name="openai")
    with serve(first) as a, serve(backup) as b:
        settings = make_settings(
            providers={
                "anthropic": {"api_base": a},
                "openai": {"api_base": f"{b}/v1", "api_key_env": "OPENAI_API_KEY"},
            },
            fallbacks={"claude-sonnet-4-6": ["gpt-4o-mini"]},
        )
        with serve(LayerCacheApp(settings)) as url:
            client = anthropic.Anthropic(base_url=url, api_key="sk-ant-x", max_retries=0)
            for question in ("hello", "hello again"):
                first.fail_next.append(503)
                message = client.messages.create(
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
def test_keyless_deployment_at_its_own_base_never_gets_an_environment_key(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    # The translated (LiteLLM) path: left alone, LiteLLM reads ANTHROPIC_API_KEY / OPENAI_API_KEY
    # from the environment and sends it to whatever base URL the route names.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-operator-secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-operator-secret")
    model = "anthropic/claude-sonnet-4-6" if path == "/v1/chat/completions" else "openai/gpt-4o-mini"
    local = FakeProvider(name="local")
    with serve(local) as base:
        settings = make_settings(
            providers={"anthropic": {"api_key_env": None}, "openai": {"api_key_env": None}},
            models=[{"name": "local", "model": model, "api_base": base if "anthropic" in model else f"{base}/v1"}],
        )
        with serve(LayerCacheApp(settings)) as url:
            body: dict[str, Any] = {"model": "local", "messages": HELLO, "max_tokens": 16}
            response = httpx.post(f"{url}{path}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    seen = repr(local.requests[-1].headers)
    assert "operator-secret" not in seen
    assert _key(local) in ("layercache-no-key", "Bearer layercache-no-key")
