"""Failing over to another provider: the body is re-marked for it, and the client's key stays home."""
# On sockets: only the fakes LiteLLM calls (Gemini, a fallback in another wire format); the app runs in-process.

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeGemini, FakeProvider, in_process, read_body
from layercache_asgi.types import Receive, Scope, Send

from .conftest import async_openai, client_of

pytestmark = pytest.mark.in_process

SYSTEM = " ".join(f"Rule {i}: stay factual, cite sources and answer briefly." for i in range(160))
TOOLS: Any = [
    {
        "type": "function",
        "function": {"name": "lookup", "description": "Look up a fact.", "parameters": {"type": "object"}},
    }
]
MESSAGES: Any = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "what is new?"}]


class FailingGeminiOnce:
    """FakeGemini whose first generateContent answers 503 (CachedContent creation still works)."""

    def __init__(self, inner: FakeGemini) -> None:
        self.inner, self.failed = inner, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ":generateContent" in scope["path"] and not self.failed:
            self.failed = True
            await read_body(receive)
            body = json.dumps({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}).encode()
            await send(
                {"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.inner(scope, receive, send)


async def test_gemini_to_openai_failover_resends_the_whole_prompt(
    make_settings: Callable[..., Settings], served_fake: Callable[[Any], str]
) -> None:
    # The Gemini request leaves out what its CachedContent holds; the fallback must get it all back.
    # Gemini is the LiteLLM path (and its CachedContent is made by the app's own client): both fakes
    # are served, and the app reaches them over its network transport.
    gemini, backup = FakeGemini(), FakeProvider(name="backup")
    settings = make_settings(
        providers={"gemini": {"api_base": served_fake(FailingGeminiOnce(gemini))}},
        models=[{"name": "backup", "model": "openai/gpt-4o-mini", "api_base": f"{served_fake(backup)}/v1"}],
        fallbacks={"gemini/gemini-2.5-flash": ["backup"]},
        caching={"mark_only_when_reused": False},  # a CachedContent even for a prefix seen once
    )
    async with client_of(LayerCacheApp(settings)) as http:
        client = async_openai(http, api_key="sk-client")
        response = await client.chat.completions.create(model="gemini/gemini-2.5-flash", messages=MESSAGES, tools=TOOLS)
    assert gemini.creations == 1  # the first deployment was marked for Gemini
    sent = backup.requests[-1].body
    assert sent["messages"][0] == {"role": "system", "content": SYSTEM}
    assert [t["function"]["name"] for t in sent["tools"]] == ["lookup"]
    assert "cached_content" not in sent
    assert sent["prompt_cache_key"].startswith("lc-")  # re-marked for OpenAI
    assert response.choices[0].message.tool_calls is not None


async def test_openai_to_anthropic_failover_gets_breakpoints_and_not_the_client_key(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, served_fake: Callable[[Any], str]
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-server-key")
    first, backup = FakeProvider(name="first", fail_next=[503]), FakeProvider(name="backup")
    # The fallback crosses wires (LiteLLM translates and opens its own connection): that fake is served.
    settings = make_settings(
        providers={"openai": {"api_base": "http://first.test/v1"}, "anthropic": {"api_base": served_fake(backup)}},
        fallbacks={"gpt-4o": ["anthropic/claude-sonnet-4-5"]},
    )
    async with in_process({"first.test": first}, settings) as http:
        client = async_openai(http, api_key="sk-openai-client")
        response = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=50)
    assert response.choices[0].message.content == "Echo: what is new?"
    assert first.requests[0].headers["authorization"] == "Bearer sk-openai-client"
    assert "prompt_cache_key" in first.requests[0].body
    sent = backup.requests[-1]
    assert sent.path == "/v1/messages"
    # The OpenAI key the client sent is for OpenAI: Anthropic gets the server's own key.
    assert sent.headers["x-api-key"] == "sk-ant-server-key"
    assert "sk-openai-client" not in json.dumps(sent.headers)
    system = sent.body["system"]
    assert isinstance(system, list) and system[-1]["cache_control"]["type"] == "ephemeral"
    assert "prompt_cache_key" not in sent.body


async def test_same_provider_fallback_keeps_the_client_key(make_settings: Callable[..., Settings]) -> None:
    first = FakeProvider(name="first", fail_next=[500])
    settings = make_settings(
        providers={"openai": {"api_base": "http://first.test/v1"}}, fallbacks={"gpt-4o": ["gpt-4o-mini"]}
    )
    async with in_process({"first.test": first}, settings) as http:
        await async_openai(http, api_key="sk-openai-client").chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert [r.body["model"] for r in first.requests] == ["gpt-4o", "gpt-4o-mini"]
    assert [r.headers["authorization"] for r in first.requests] == ["Bearer sk-openai-client"] * 2
