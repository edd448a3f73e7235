"""The fake provider refuses what the real APIs refuse, with their 400 shapes and messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from layercache_asgi.testing import FakeProvider

from .conftest import async_anthropic, async_openai

CALL = {"id": "c1", "type": "function", "function": {"name": "read", "arguments": "{}"}}
TOOLS: list[Any] = [{"type": "function", "function": {"name": "read", "parameters": {"type": "object"}}}]
A_TOOLS: list[Any] = [{"name": "read", "input_schema": {"type": "object"}}]
USE = {"type": "tool_use", "id": "toolu_1", "name": "read", "input": {}}
RESULT: Any = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "log"}


def direct(fake: FakeProvider) -> httpx.AsyncClient:
    """A client of the fake itself (no proxy), through its ASGI app."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=fake), base_url="http://provider.test")


@pytest.fixture
async def provider(fake: FakeProvider) -> AsyncIterator[httpx.AsyncClient]:
    async with direct(fake) as client:
        yield client


@pytest.fixture
def gpt(provider: httpx.AsyncClient) -> openai.AsyncOpenAI:
    return async_openai(provider, api_key="sk-test")


@pytest.fixture
def claude(provider: httpx.AsyncClient) -> anthropic.AsyncAnthropic:
    return async_anthropic(provider, api_key="sk-ant-test")


async def test_openai_tool_message_without_its_call_is_refused(gpt: openai.AsyncOpenAI) -> None:
    messages: list[Any] = [
        {"role": "system", "content": "s"},
        {"role": "tool", "tool_call_id": "c1", "content": "log"},
    ]
    with pytest.raises(openai.BadRequestError) as refused:
        await gpt.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    error = refused.value.body
    assert isinstance(error, dict)
    assert error["type"] == "invalid_request_error" and error["param"] == "messages.[1].role"
    assert "must be a response to a preceeding message with 'tool_calls'" in error["message"]


async def test_openai_unanswered_tool_call_is_refused(gpt: openai.AsyncOpenAI) -> None:
    messages: list[Any] = [
        {"role": "user", "content": "read it"},
        {"role": "assistant", "content": None, "tool_calls": [CALL, {**CALL, "id": "c2"}]},
        {"role": "tool", "tool_call_id": "c1", "content": "log"},
        {"role": "user", "content": "and?"},
    ]
    with pytest.raises(openai.BadRequestError, match="did not have response messages: c2"):
        await gpt.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)


async def test_openai_valid_tool_loop_is_answered(fake: FakeProvider, gpt: openai.AsyncOpenAI) -> None:
    messages: list[Any] = [
        {"role": "user", "content": "read it"},
        {"role": "assistant", "content": None, "tool_calls": [CALL, {**CALL, "id": "c2"}]},
        {"role": "tool", "tool_call_id": "c2", "content": "log"},
        {"role": "tool", "tool_call_id": "c1", "content": "log"},
    ]
    reply = await gpt.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    assert reply.choices[0].message.content == "Tool said: log"


async def test_anthropic_orphan_tool_result_is_refused(claude: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        await claude.messages.create(
            model="claude-sonnet-4-6", max_tokens=10, tools=A_TOOLS, messages=[{"role": "user", "content": [RESULT]}]
        )
    assert refused.value.body == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_1. "
            "Each `tool_result` block must have a corresponding `tool_use` block in the previous message.",
        },
    }


async def test_anthropic_unanswered_tool_use_is_refused(claude: anthropic.AsyncAnthropic) -> None:
    messages: list[Any] = [
        {"role": "user", "content": "read it"},
        {"role": "assistant", "content": [USE]},
        {"role": "user", "content": "never mind"},
    ]
    with pytest.raises(anthropic.BadRequestError, match=r"messages\.1: `tool_use` ids were found without"):
        await claude.messages.create(model="claude-sonnet-4-6", max_tokens=10, tools=A_TOOLS, messages=messages)


async def test_anthropic_counts_the_top_level_marker_among_the_four(provider: httpx.AsyncClient) -> None:
    cc = {"type": "ephemeral"}
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 10,
        "cache_control": cc,
        "system": [{"type": "text", "text": f"s{i}", "cache_control": cc} for i in range(4)],
        "messages": [{"role": "user", "content": "hi"}],
    }
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    refused = await provider.post("/v1/messages", json=body, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "A maximum of 4 blocks with cache_control may be provided. Found 5."
    del body["cache_control"]
    assert (await provider.post("/v1/messages", json=body, headers=headers)).status_code == 200


async def test_anthropic_one_hour_after_five_minutes_is_refused(claude: anthropic.AsyncAnthropic) -> None:
    tools: list[Any] = [{**A_TOOLS[0], "cache_control": {"type": "ephemeral"}}]
    system: list[Any] = [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    with pytest.raises(
        anthropic.BadRequestError, match=r"system\.0\.cache_control\.ttl: a ttl='1h' cache_control block"
    ):
        await claude.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=10,
            tools=tools,
            system=system,
            messages=[{"role": "user", "content": "q"}],
        )
    tools[0]["cache_control"] = {"type": "ephemeral", "ttl": "1h"}  # 1h before 1h, then nothing: fine
    await claude.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=10,
        tools=tools,
        system=system,
        messages=[{"role": "user", "content": "q"}],
    )


async def test_lenient_fake_accepts_what_it_would_refuse() -> None:
    async with direct(FakeProvider(strict=False)) as lenient:
        client = async_openai(lenient, api_key="sk-test")
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "tool", "tool_call_id": "x", "content": "r"}]
        )
