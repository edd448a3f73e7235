"""POST /v1/chat/completions through the official OpenAI SDK: fidelity of requests and answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai
import pytest

from layercache_asgi import Settings, Usage
from layercache_asgi.testing import FakeProvider, in_process
from layercache_asgi.wire._completion import Completion

from .conftest import async_openai

pytestmark = pytest.mark.in_process

BYPASS = {"lc_bypass_cache": True}


class CachingFake(FakeProvider):
    """Reports part of every prompt as read from the provider's cache."""

    def usage_for(self, wire: str, body: dict[str, Any], completion: Completion) -> Usage:
        usage = super().usage_for(wire, body, completion)
        return Usage(uncached_input=usage.uncached_input - 8, cache_read=8, output=usage.output)


async def test_plain_answer_and_usage(aopenai: openai.AsyncOpenAI, fake: FakeProvider) -> None:
    response = await aopenai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}]
    )
    assert response.choices[0].message.content == "Echo: hello there"
    assert response.choices[0].finish_reason == "stop"
    assert response.usage is not None and response.usage.prompt_tokens > 0
    assert fake.requests[-1].body["model"] == "gpt-4o-mini"
    assert fake.requests[-1].headers["authorization"] == "Bearer sk-test-client-key-1"


async def test_every_parameter_reaches_the_provider_and_lc_fields_do_not(
    aopenai: openai.AsyncOpenAI, fake: FakeProvider
) -> None:
    params: dict[str, Any] = {
        "stop": ["\n\n", "END"],
        "user": "user-42",
        "seed": 7,
        "n": 1,
        "logprobs": True,
        "top_logprobs": 2,
        "temperature": 0.3,
        "top_p": 0.9,
        "max_tokens": 55,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "response_format": {"type": "json_object"},
        "parallel_tool_calls": False,
        "tool_choice": "none",
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
        "metadata": {"trace": "abc"},
        "store": False,
    }
    await aopenai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "json please"}],
        extra_body={"lc_cache_ttl": 0, "lc_skip_semantic_cache": True, "lc_bypass_cache": True},
        **params,
    )
    sent = fake.requests[-1].body
    for key, value in params.items():
        assert sent[key] == value, key
    assert not [k for k in sent if k.startswith("lc_")]


async def test_messages_keep_order_and_every_field(aopenai: openai.AsyncOpenAI, fake: FakeProvider) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Q1", "name": "alice"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"q":"x"}'}},
                {"id": "call_2", "type": "function", "function": {"name": "lookup", "arguments": '{"q":"y"}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "result one"},
        {"role": "tool", "tool_call_id": "call_2", "content": "result two"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "and this picture?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
            ],
        },
    ]
    await aopenai.chat.completions.create(model="gpt-4o", messages=messages, extra_body=BYPASS)  # type: ignore[arg-type]
    assert fake.requests[-1].body["messages"] == messages


async def test_tool_calls_come_back(aopenai: openai.AsyncOpenAI) -> None:
    tools: Any = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    response = await aopenai.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "weather in Oslo?"}], tools=tools
    )
    call = response.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"input": "weather in Oslo?"}  # type: ignore[union-attr]
    assert response.choices[0].finish_reason == "tool_calls"

    stream = await aopenai.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "weather in Rome?"}], tools=tools, stream=True
    )
    calls = [tc async for c in stream if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    names = [tc.function.name for tc in calls if tc.function is not None]
    assert names == ["get_weather"]


async def test_stream_with_and_without_usage(aopenai: openai.AsyncOpenAI, fake: FakeProvider) -> None:
    stream = await aopenai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "stream me"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [c async for c in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: stream me"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"

    stream = await aopenai.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "stream me"}], stream=True
    )
    chunks = [c async for c in stream]
    # The proxy asks the provider for usage (for its accounting) but shows the client
    # only what it asked for.
    assert fake.requests[-1].body["stream_options"] == {"include_usage": True}
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: stream me"


async def test_cached_tokens_pass_through(make_settings: Callable[..., Settings]) -> None:
    async with in_process(CachingFake(), make_settings()) as http:
        client = async_openai(http, api_key="sk-x")
        response = await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "cache me please"}]
        )
        assert response.usage is not None
        assert response.usage.prompt_tokens_details is not None
        assert response.usage.prompt_tokens_details.cached_tokens == 8
        stream = await client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "cache me please"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
        usage = chunks[-1].usage
        assert usage is not None and usage.prompt_tokens_details is not None
        assert usage.prompt_tokens_details.cached_tokens == 8


@pytest.mark.parametrize(
    ("model", "upstream_model"),
    [
        ("gpt-3.5-turbo", "gpt-3.5-turbo"),
        ("openai/gpt-4o", "gpt-4o"),
        ("openai/ft:gpt-3.5-turbo:my-org:custom:id123", "ft:gpt-3.5-turbo:my-org:custom:id123"),
        ("openai/meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"),
    ],
)
async def test_any_model_name_litellm_accepts(
    aopenai: openai.AsyncOpenAI, fake: FakeProvider, model: str, upstream_model: str
) -> None:
    response = await aopenai.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    assert response.choices[0].message.content == "Echo: hi"
    assert fake.requests[-1].body["model"] == upstream_model


async def test_models_list_and_health(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        models=[
            {"name": "smart", "model": "anthropic/claude-sonnet-4-5"},
            {"name": "cheap", "model": "openai/gpt-4o-mini"},
        ],
        fallbacks={"smart": ["cheap"]},
    )
    async with in_process(FakeProvider(), settings) as http:
        client = async_openai(http, api_key="sk-x")
        assert [m.id async for m in client.models.list()][:2] == ["smart", "cheap"]
        health = (await http.get("/health")).json()
        assert health["status"] == "healthy"
        assert isinstance(health["version"], str) and isinstance(health["semantic_cache"], bool)
