"""The LiteLLM path keeps no provider cookie between calls, as the fast path's client keeps none.

LiteLLM's shared clients (httpx, and aiohttp under it) keep a cookie jar by default; one
process serves every tenant, so a provider's ``Set-Cookie`` must not go out with another
tenant's call.
"""
# On sockets: the LiteLLM path opens its own connections to the served fake.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve

from .conftest import providers_at

MESSAGES = [{"role": "user", "content": "hello"}]


CLAUDE_BY_OPENAI = {"model": "claude-sonnet-4-5", "max_tokens": 20, "messages": MESSAGES}
GPT_BY_ANTHROPIC = {"model": "gpt-4o-mini", "max_tokens": 20, "messages": MESSAGES}


@pytest.mark.parametrize(
    ("path", "body", "host", "upstream_path"),
    [
        # OpenAI's format to a Claude deployment: litellm.acompletion.
        ("/v1/chat/completions", CLAUDE_BY_OPENAI, "127.0.0.1", "/v1/messages"),
        # Same through a host name: cookie jars treat names and addresses differently.
        ("/v1/chat/completions", CLAUDE_BY_OPENAI, "localhost", "/v1/messages"),
        # Anthropic's format to an OpenAI deployment: litellm.anthropic.messages.
        ("/v1/messages", GPT_BY_ANTHROPIC, "localhost", "/v1/chat/completions"),
    ],
)
def test_a_providers_cookie_never_goes_out_with_a_later_litellm_call(
    served_fake: Callable[[Any], str],
    make_settings: Callable[..., Settings],
    path: str,
    body: dict[str, Any],
    host: str,
    upstream_path: str,
) -> None:
    setting = FakeProvider(response_headers={"set-cookie": "affinity=tenant-a; Path=/"})
    url = served_fake(setting).replace("127.0.0.1", host)
    settings = make_settings(providers=providers_at(url))
    with serve(LayerCacheApp(settings)) as proxy:
        for key in ("sk-tenant-a", "sk-tenant-b", "sk-tenant-c"):
            headers = {"authorization": f"Bearer {key}", "x-api-key": key, "anthropic-version": "2023-06-01"}
            r = httpx.post(f"{proxy}{path}", json=body, headers=headers, timeout=30)
            assert r.status_code == 200, r.text
            assert "set-cookie" not in r.headers
    assert [request.path for request in setting.requests] == [upstream_path] * 3  # LiteLLM translated each
    assert [request.headers.get("cookie") for request in setting.requests] == [None, None, None]

    # The control: a client that keeps cookies sends this one back to the fake.
    with httpx.Client(base_url=url) as keeping:
        for _ in range(2):
            keeping.post(upstream_path, json=GPT_BY_ANTHROPIC, headers={"x-api-key": "k", "authorization": "Bearer k"})
    assert setting.requests[-1].headers.get("cookie") == "affinity=tenant-a"
