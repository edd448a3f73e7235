"""LangChain (PyPI ``langchain-openai``, ``langchain-anthropic``, the ``clients`` extra) through the proxy."""

from __future__ import annotations

from typing import Any

import pytest

from layercache_asgi.testing import FakeProvider

from ._session import SYSTEM, billed_cache_read, billed_output, conversation_requests, roles
from .conftest import python_client

pytestmark = pytest.mark.clients


def two_turns(chat: Any) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    messages: list[Any] = [("system", SYSTEM), ("human", "say hi")]
    first = chat.invoke(messages)
    messages += [first, ("human", "say bye")]
    second = None
    for chunk in chat.stream(messages):
        second = chunk if second is None else second + chunk
    assert second is not None
    return first.text, second.text, first.usage_metadata, second.usage_metadata


def assert_usage(fake: FakeProvider, hi: str, bye: str, usage1: dict[str, Any], usage2: dict[str, Any]) -> None:
    assert (hi, bye) == ("Echo: say hi", "Echo: say bye")
    assert usage1["output_tokens"] == billed_output(hi)
    assert usage2["output_tokens"] == billed_output(bye)
    assert usage1["input_tokens"] > 0 and usage2["input_tokens"] > 0
    assert usage2["input_token_details"]["cache_read"] == billed_cache_read(fake)


def chat_openai(proxy: str, **options: Any) -> Any:
    langchain_openai = python_client("langchain_openai")
    return langchain_openai.ChatOpenAI(
        model="gpt-4o", base_url=f"{proxy}/v1", api_key="sk-test-client-key-1", max_retries=0, **options
    )


def test_chat_openai(proxy: str, fake: FakeProvider) -> None:
    assert_usage(fake, *two_turns(chat_openai(proxy, stream_usage=True)))
    first, second = conversation_requests(fake, "/v1/chat/completions")
    assert second.body["stream"] is True
    assert roles(second.body) == ["system", "user", "assistant", "user"]
    assert first.body["prompt_cache_key"] == second.body["prompt_cache_key"]


def test_chat_anthropic(proxy: str, fake: FakeProvider) -> None:
    langchain_anthropic = python_client("langchain_anthropic")
    chat = langchain_anthropic.ChatAnthropic(
        model="claude-sonnet-4-6", base_url=proxy, api_key="sk-ant-test-client-key-1", max_retries=0
    )
    assert_usage(fake, *two_turns(chat))
    first, second = conversation_requests(fake, "/v1/messages")
    assert not first.body.get("stream") and second.body["stream"] is True
    assert roles(second.body) == ["user", "assistant", "user"]
    assert second.body["system"][-1]["cache_control"] == {"type": "ephemeral"}


def test_chat_openai_responses_api(proxy: str, fake: FakeProvider, responses_api: None) -> None:
    assert_usage(fake, *two_turns(chat_openai(proxy, use_responses_api=True)))
    first, second = conversation_requests(fake, "/v1/responses")
    assert second.body["stream"] is True
    assert first.body["prompt_cache_key"] == second.body["prompt_cache_key"]
