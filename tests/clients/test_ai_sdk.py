"""The AI SDK (npm ``ai`` 6, ``@ai-sdk/openai``, ``@ai-sdk/anthropic``) through the proxy, run by node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from layercache_asgi.testing import FakeProvider

from ._session import SYSTEM, billed_cache_read, billed_output
from .conftest import CLIENTS, client_env, node, node_package, run

pytestmark = pytest.mark.clients

SCRIPT = Path(__file__).with_name("ai_sdk_session.mjs")


def session(kind: str, proxy: str, home: Path) -> list[dict[str, Any]]:
    for package in ("ai", "@ai-sdk/openai", "@ai-sdk/anthropic"):
        node_package(package)
    env = client_env(home, CLIENTS_DIR=str(CLIENTS), SYSTEM_PROMPT=SYSTEM)
    out = run([node(), SCRIPT, kind, proxy], env=env, cwd=home).stdout
    turns: list[dict[str, Any]] = json.loads(out.strip().splitlines()[-1])["turns"]
    return turns


def assert_echoed(fake: FakeProvider, turns: list[dict[str, Any]]) -> None:
    assert [t["text"] for t in turns] == ["Echo: say hi", "Echo: say bye"]
    for turn in turns:
        # The usage the SDK reports is the provider's, relayed by the proxy.
        assert turn["usage"]["outputTokens"] == billed_output(turn["text"])
        assert turn["usage"]["inputTokens"] > 0
    assert turns[1]["usage"]["inputTokenDetails"]["cacheReadTokens"] == billed_cache_read(fake)


def test_openai_chat_model(proxy: str, fake: FakeProvider, scratch_home: Path) -> None:
    turns = session("openai-chat", proxy, scratch_home)
    assert_echoed(fake, turns)
    first, second = fake.requests
    assert first.path == second.path == "/v1/chat/completions"
    assert second.body["stream"] is True
    assert [m["role"] for m in second.body["messages"]] == ["system", "user", "assistant", "user"]
    # The proxy gives both turns the same cache key: they share the system prompt.
    assert first.body["prompt_cache_key"] == second.body["prompt_cache_key"]


def test_anthropic_model(proxy: str, fake: FakeProvider, scratch_home: Path) -> None:
    turns = session("anthropic", proxy, scratch_home)
    assert_echoed(fake, turns)
    first, second = fake.requests
    assert first.path == second.path == "/v1/messages"
    assert second.body["stream"] is True
    assert [m["role"] for m in second.body["messages"]] == ["user", "assistant", "user"]
    # The client set no cache markers; the proxy marked the long system prompt for the provider's prefix cache.
    assert second.body["system"][-1]["cache_control"] == {"type": "ephemeral"}


def test_openai_default_model_uses_responses(
    proxy: str, fake: FakeProvider, scratch_home: Path, responses_api: None
) -> None:
    turns = session("openai-responses", proxy, scratch_home)
    assert_echoed(fake, turns)
    first, second = fake.requests
    assert first.path == second.path == "/v1/responses"
    assert second.body["stream"] is True
    assert first.body["prompt_cache_key"] == second.body["prompt_cache_key"]
