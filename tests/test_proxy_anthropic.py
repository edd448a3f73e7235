"""POST /v1/messages through the official Anthropic SDK: fidelity of requests and answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import pytest

from layercache_asgi import Settings, Usage
from layercache_asgi.testing import FakeProvider, in_process
from layercache_asgi.wire._completion import Completion
from tests.conftest import async_anthropic

pytestmark = pytest.mark.in_process

MODEL = "claude-sonnet-4-6"
BYPASS = {"lc_bypass_cache": True}


class CachingFake(FakeProvider):
    def usage_for(self, wire: str, body: dict[str, Any], completion: Completion) -> Usage:
        usage = super().usage_for(wire, body, completion)
        return Usage(uncached_input=3, cache_read=usage.uncached_input - 10, cache_write=7, output=usage.output)


async def test_plain_message(aanthropic: anthropic.AsyncAnthropic, fake: FakeProvider) -> None:
    message = await aanthropic.messages.create(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hello"}]
    )
    assert message.content[0].text == "Echo: hello"  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    sent = fake.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "sk-ant-test-client-key-1"
    assert sent.headers["anthropic-version"]


async def test_system_blocks_tools_and_cache_control_pass_through(
    aanthropic: anthropic.AsyncAnthropic, fake: FakeProvider
) -> None:
    system: Any = [
        {"type": "text", "text": "You are a careful assistant."},
        {"type": "text", "text": "Rules: be brief.", "cache_control": {"type": "ephemeral"}},
    ]
    tools: Any = [{"name": "search", "description": "web search", "input_schema": {"type": "object"}}]
    await aanthropic.messages.create(
        model=MODEL,
        max_tokens=64,
        system=system,
        tools=tools,
        tool_choice={"type": "auto"},
        stop_sequences=["###"],
        metadata={"user_id": "u-1"},
        messages=[{"role": "user", "content": "find it"}],
        extra_body={**BYPASS, "temperature": 0.2},
    )
    sent = fake.requests[-1].body
    assert sent["temperature"] == 0.2
    assert sent["system"] == system
    assert sent["tools"] == tools
    assert sent["tool_choice"] == {"type": "auto"}
    assert sent["stop_sequences"] == ["###"]
    assert sent["metadata"] == {"user_id": "u-1"}
    assert "lc_bypass_cache" not in sent

    await aanthropic.messages.create(
        model=MODEL, max_tokens=8, system="plain string system", messages=[{"role": "user", "content": "x"}]
    )
    assert fake.requests[-1].body["system"] == "plain string system"


async def test_tool_use_and_every_tool_result_survive(aanthropic: anthropic.AsyncAnthropic, fake: FakeProvider) -> None:
    messages: Any = [
        {"role": "user", "content": "look up two things"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking both up."},
                {"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": "a"}},
                {"type": "tool_use", "id": "toolu_2", "name": "search", "input": {"q": "b"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "A is 1"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "B is 2"}]},
            ],
        },
    ]
    tools: Any = [{"name": "search", "input_schema": {"type": "object"}}]
    message = await aanthropic.messages.create(
        model=MODEL, max_tokens=64, tools=tools, messages=messages, extra_body=BYPASS
    )
    assert fake.requests[-1].body["messages"] == messages
    assert message.content[0].text == "Tool said: A is 1 B is 2"  # type: ignore[union-attr]

    first = await aanthropic.messages.create(
        model=MODEL, max_tokens=64, tools=tools, messages=[{"role": "user", "content": "search cats"}]
    )
    assert first.stop_reason == "tool_use"
    block = first.content[0]
    assert block.type == "tool_use" and block.name == "search" and block.input == {"input": "search cats"}


async def test_stream_event_sequence(http: httpx.AsyncClient, aanthropic: anthropic.AsyncAnthropic) -> None:
    async with aanthropic.messages.stream(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "stream please"}]
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert "content_block_delta" in kinds
    assert final.content[0].text == "Echo: stream please"  # type: ignore[union-attr]
    assert final.usage.output_tokens > 0

    # The raw wire: named SSE events, as Claude Code expects.
    body = {"model": MODEL, "max_tokens": 16, "stream": True, "messages": [{"role": "user", "content": "raw"}]}
    async with http.stream("POST", "/v1/messages", json=body, headers={"x-api-key": "sk-ant-x"}) as response:
        text = (await response.aread()).decode()
    assert response.headers["content-type"].startswith("text/event-stream")
    assert text.startswith("event: message_start\n")
    assert "event: message_stop" in text


async def test_stream_reports_the_whole_usage_at_the_end(http: httpx.AsyncClient) -> None:
    # Anthropic's message_delta carries the cumulative usage, input and cache counts included, and
    # LangChain's ChatAnthropic reads them only there: the stream the proxy renders (for the fake
    # provider and for cache hits) must do the same.
    body = {"model": MODEL, "max_tokens": 16, "stream": True, "messages": [{"role": "user", "content": "count me"}]}
    async with http.stream("POST", "/v1/messages", json=body, headers={"x-api-key": "sk-ant-x"}) as response:
        lines = (await response.aread()).decode().splitlines()
    events = [json.loads(line.removeprefix("data:")) for line in lines if line.startswith("data:")]
    start = next(e for e in events if e["type"] == "message_start")["message"]["usage"]
    end = next(e for e in events if e["type"] == "message_delta")["usage"]
    assert end["input_tokens"] == start["input_tokens"] > 0
    assert end["output_tokens"] > 0


async def test_cache_usage_fields_intact(make_settings: Callable[..., Settings]) -> None:
    async with in_process(CachingFake(), make_settings()) as http:
        client = async_anthropic(http, api_key="sk-ant-x")
        message = await client.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "a longer question here"}]
        )
        assert message.usage.cache_creation_input_tokens == 7
        assert message.usage.cache_read_input_tokens and message.usage.cache_read_input_tokens > 0
        assert message.usage.input_tokens == 3
        async with client.messages.stream(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "a longer question here"}]
        ) as stream:
            final = await stream.get_final_message()
        assert final.usage.cache_creation_input_tokens == 7
        assert final.usage.input_tokens == 3


async def test_beta_headers_and_lc_extensions(aanthropic: anthropic.AsyncAnthropic, fake: FakeProvider) -> None:
    await aanthropic.messages.create(
        model=MODEL,
        max_tokens=16,
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"anthropic-beta": "prompt-caching-2024-07-31"},
        extra_body={"lc_cache_ttl": 60, "lc_skip_semantic_cache": True},
    )
    sent = fake.requests[-1]
    # The client's betas go as sent; the proxy adds only the one of the cache diagnostics it asks for.
    assert sent.headers["anthropic-beta"] == "prompt-caching-2024-07-31,cache-diagnosis-2026-04-07"
    assert not [k for k in sent.body if k.startswith("lc_")]


async def test_count_tokens(aanthropic: anthropic.AsyncAnthropic, fake: FakeProvider) -> None:
    messages: Any = [{"role": "user", "content": "how many tokens is this?"}]
    counted = await aanthropic.messages.count_tokens(model=MODEL, messages=messages)
    assert counted.input_tokens > 0
    assert fake.requests[-1].path == "/v1/messages/count_tokens"
    # Not an Anthropic model: counted locally with LiteLLM's tokenizer.
    local = await aanthropic.messages.count_tokens(model="openai/gpt-4o", messages=messages)
    assert 5 <= local.input_tokens <= 20


async def test_numbers_keep_their_spelling_upstream(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    # json.loads would turn 1e3 into 1000.0 and 0.10 into 0.1: the provider must see what the client sent.
    raw = (
        b'{"model":"claude-sonnet-4-6","max_tokens":64,"lc_bypass_cache":true,'
        b'"tools":[{"name":"pay","input_schema":{"type":"object","properties":{"amount":'
        b'{"type":"number","maximum":1e3}}}}],'
        b'"messages":[{"role":"user","content":"pay"},{"role":"assistant","content":[{"type":"tool_use",'
        b'"id":"toolu_1","name":"pay","input":{"amount":0.10,"fee":2.50E-1,"ref":"1e3"}}]},'
        b'{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"ok"}]}]}'
    )
    response = await http.post(
        "/v1/messages",
        content=raw,
        headers={"x-api-key": "sk-ant-test", "content-type": "application/json", "anthropic-version": "2023-06-01"},
    )
    assert response.status_code == 200, response.text
    sent = fake.requests[-1].raw
    assert b'"maximum":1e3' in sent
    assert b'"input":{"amount":0.10,"fee":2.50E-1,"ref":"1e3"}' in sent


async def test_nan_is_a_client_error(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/messages",
        content=b'{"model":"claude-sonnet-4-6","max_tokens":NaN,"messages":[{"role":"user","content":"x"}]}',
        headers={"x-api-key": "sk-ant-test", "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "error" and "NaN" in response.json()["error"]["message"]


async def test_a_claude_code_shaped_session(aanthropic: anthropic.AsyncAnthropic, fake: FakeProvider) -> None:
    # What Claude Code sends: the beta endpoint (?beta=true), beta headers, system blocks with its own
    # cache_control, many tools, metadata, thinking, and a history with thinking, tool_use and tool_result.
    tools: Any = [
        {
            "name": name,
            "description": f"The {name} tool.",
            "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
        }
        for name in ("Read", "Edit", "Bash", "Grep", "Glob")
    ]
    system: Any = [
        {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
        {"type": "text", "text": "Work in the repository. " * 50, "cache_control": {"type": "ephemeral"}},
    ]
    history: Any = [
        {"role": "user", "content": [{"type": "text", "text": "read setup.py"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "I should read it.", "signature": "sig-abc"},
                {"type": "tool_use", "id": "toolu_01", "name": "Read", "input": {"path": "setup.py"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "from setuptools import setup"},
                {"type": "text", "text": "now summarise it", "cache_control": {"type": "ephemeral"}},
            ],
        },
    ]
    async with aanthropic.beta.messages.stream(
        model=MODEL,
        max_tokens=2048,
        system=system,
        tools=tools,
        messages=history,
        metadata={"user_id": "user_abc_session_1"},
        thinking={"type": "enabled", "budget_tokens": 1024},
        betas=["interleaved-thinking-2025-05-14", "fine-grained-tool-streaming-2025-05-14"],
    ) as stream:
        final = await stream.get_final_message()
    assert final.content[0].text == "Tool said: from setuptools import setup now summarise it"  # type: ignore[union-attr]
    sent = fake.requests[-1]
    assert sent.path == "/v1/messages"
    betas = "interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14"
    assert sent.headers["anthropic-beta"] == f"{betas},cache-diagnosis-2026-04-07"  # the proxy's diagnosis beta added
    body = sent.body
    assert body["metadata"] == {"user_id": "user_abc_session_1"}
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["stream"] is True
    assert [t["name"] for t in body["tools"]] == sorted(t["name"] for t in tools)  # canonical order
    assert body["messages"][1]["content"][0] == history[1]["content"][0]  # thinking block and signature intact
    assert body["messages"][1]["content"][1]["input"] == {"path": "setup.py"}
    assert body["messages"][2]["content"][0]["tool_use_id"] == "toolu_01"
    # The client's own breakpoints count toward the limit of four.
    markers = json.dumps(body).count('"cache_control"')
    assert 2 <= markers <= 4
