"""pydantic-ai (PyPI ``pydantic-ai-slim[openai,anthropic]``, the ``clients`` extra) through the proxy."""

from __future__ import annotations

from typing import Any

import pytest

from layercache_asgi.testing import FakeProvider

from ._session import SYSTEM, billed_cache_read, billed_output, conversation_requests, roles
from .conftest import python_client

pytestmark = pytest.mark.clients


async def two_turns(model: Any) -> tuple[str, str, Any, Any]:
    pydantic_ai = python_client("pydantic_ai")
    agent = pydantic_ai.Agent(model, instructions=SYSTEM)
    first = await agent.run("say hi")
    async with agent.run_stream("say bye", message_history=first.all_messages()) as stream:
        bye = await stream.get_output()
        usage2 = stream.usage
    return first.output, bye, first.usage, usage2


def assert_usage(fake: FakeProvider, hi: str, bye: str, usage1: Any, usage2: Any) -> None:
    assert (hi, bye) == ("Echo: say hi", "Echo: say bye")
    assert usage1.output_tokens == billed_output(hi)
    assert usage2.output_tokens == billed_output(bye)
    assert usage1.input_tokens > 0 and usage2.input_tokens > 0
    assert usage2.cache_read_tokens == billed_cache_read(fake)


async def test_openai_chat_model(proxy: str, fake: FakeProvider) -> None:
    python_client("pydantic_ai")
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    provider = OpenAIProvider(base_url=f"{proxy}/v1", api_key="sk-test-client-key-1")
    assert_usage(fake, *await two_turns(OpenAIChatModel("gpt-4o", provider=provider)))
    first, second = conversation_requests(fake, "/v1/chat/completions")
    assert second.body["stream"] is True
    assert roles(second.body) == ["system", "user", "assistant", "user"]
    assert first.body["prompt_cache_key"] == second.body["prompt_cache_key"]


async def test_anthropic_model_by_name(proxy: str, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    # "anthropic:<model>" builds its client from the environment, as a user's script would.
    monkeypatch.setenv("ANTHROPIC_BASE_URL", proxy)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-client-key-1")
    assert_usage(fake, *await two_turns("anthropic:claude-sonnet-4-6"))
    first, second = conversation_requests(fake, "/v1/messages")
    assert second.body["stream"] is True
    assert roles(second.body) == ["user", "assistant", "user"]
    # Both turns share the marked system prompt, so the second reads what the first cached.
    assert first.body["system"] == second.body["system"]
    assert second.body["system"][-1]["cache_control"] == {"type": "ephemeral"}


async def test_openai_model_by_name_uses_responses(
    proxy: str, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch, responses_api: None
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{proxy}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-client-key-1")
    assert_usage(fake, *await two_turns("openai:gpt-4o"))
    first, second = conversation_requests(fake, "/v1/responses")
    assert second.body["stream"] is True
    assert second.body["instructions"] == SYSTEM
    assert first.body["prompt_cache_key"] == second.body["prompt_cache_key"]
