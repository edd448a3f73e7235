"""Failover details: whose key each deployment gets, Retry-After relayed, markers for the fallback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
