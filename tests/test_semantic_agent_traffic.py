"""The semantic cache stays out of agent traffic and long conversations by default, through the
real SDKs: requests with tools, tool calls or tool results and conversations longer than
``caching.semantic.max_messages`` are never answered from the cache, exact repeats included,
and reach the provider every time; the settings opt back in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from layercache_asgi import Settings
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import ADMIN, async_anthropic, async_openai
from .test_semantic_cache import TOOLS as OPENAI_TOOLS

pytestmark = [pytest.mark.postgres, pytest.mark.in_process]

HEADER = "x-layercache-cache"
SKIPPED = "x-layercache-cache-skipped"
MODEL = "claude-sonnet-4-5"
# What Claude Code sends at session start: its whole system prompt (with its own cache marker),
# its tools, and the user text "Warmup", so the provider caches the prefix before the first turn.
CLAUDE_CODE_SYSTEM: Any = [
    {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
    {
        "type": "text",
        "text": "You are an interactive CLI tool that helps users with software engineering tasks. "
        "Use the instructions below and the tools available to you to assist the user. " * 40,
        "cache_control": {"type": "ephemeral"},
    },
]


def _tool(name: str, **properties: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {k: {"type": v} for k, v in properties.items()}}
    return {"name": name, "description": f"The {name} tool.", "input_schema": schema}


CLAUDE_CODE_TOOLS: Any = [
    _tool("Bash", command="string", timeout="number"),
    _tool("Glob", pattern="string", path="string"),
    _tool("Grep", pattern="string", path="string"),
    _tool("Read", file_path="string", offset="number", limit="number"),
    _tool("Edit", file_path="string", old_string="string", new_string="string"),
    _tool("Write", file_path="string", content="string"),
    _tool("TodoWrite", todos="array"),
]
# Starts an in-process app with the given ``caching.semantic`` settings (the served fixture).
Serve = Callable[..., Awaitable[httpx.AsyncClient]]

WARMUP: Any = [
    {"role": "user", "content": [{"type": "text", "text": "Warmup", "cache_control": {"type": "ephemeral"}}]}
]


@pytest.fixture
async def served(make_settings: Callable[..., Settings], fake: FakeProvider) -> AsyncIterator[Serve]:
    """An in-process LayerCacheApp with the semantic cache on and the given ``caching.semantic`` settings."""
    async with AsyncExitStack() as stack:

        async def start(**semantic: Any) -> httpx.AsyncClient:
            settings = make_settings(caching={"semantic": {"enabled": True, **semantic}})
            return await stack.enter_async_context(in_process(fake, settings))

        yield start


async def warmup(http: httpx.AsyncClient) -> tuple[str, str]:
    client = async_anthropic(http, api_key="sk-ant-test-client-key-1")
    raw = await client.messages.with_raw_response.create(
        model=MODEL, max_tokens=1, system=CLAUDE_CODE_SYSTEM, tools=CLAUDE_CODE_TOOLS, messages=WARMUP
    )
    assert (await raw.parse()).model == MODEL
    return raw.headers.get(HEADER, ""), raw.headers.get(SKIPPED, "")


def provider_calls(fake: FakeProvider, path: str) -> int:
    return len([r for r in fake.requests if r.path.endswith(path)])


async def test_claude_code_warmup_sent_twice_reaches_the_provider_twice(served: Serve, fake: FakeProvider) -> None:
    http = await served()
    assert [await warmup(http) for _ in range(2)] == [("bypass", "tools"), ("bypass", "tools")]
    assert provider_calls(fake, "/v1/messages") == 2
    entries = (await http.get("/v1/cache/entries", headers=ADMIN)).json()
    assert entries["total"] == 0  # not stored either


@pytest.mark.parametrize("include_tools", [False, True])
async def test_concurrent_identical_warmups_share_no_flight_unless_opted_in(
    served: Serve, fake: FakeProvider, include_tools: bool
) -> None:
    # Identical concurrent requests of the cache share one upstream call (single flight): an
    # exact repeat in disguise. Requests that stay out of the cache never join one.
    http = await served(include_tools=include_tools)
    fake.delay = 0.5
    results = list(await asyncio.gather(warmup(http), warmup(http)))
    if include_tools:
        assert sorted(results) == [("hit", ""), ("miss", "")] and provider_calls(fake, "/v1/messages") == 1
    else:
        assert results == [("bypass", "tools")] * 2 and provider_calls(fake, "/v1/messages") == 2


async def test_claude_code_warmup_is_cached_when_tools_are_opted_in(served: Serve, fake: FakeProvider) -> None:
    http = await served(include_tools=True)
    assert [await warmup(http) for _ in range(2)] == [("miss", ""), ("hit", "")]
    assert provider_calls(fake, "/v1/messages") == 1


async def ask_openai(http: httpx.AsyncClient, messages: Any, **params: Any) -> tuple[str, str, Any]:
    client = async_openai(http, api_key="sk-test-client-key-1")
    raw = await client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages, **params)
    return raw.headers.get(HEADER, ""), raw.headers.get(SKIPPED, ""), raw.parse()


WEATHER: Any = [{"role": "user", "content": "What's the weather in Paris?"}]


async def test_openai_tools_request_is_never_a_hit(served: Serve, fake: FakeProvider) -> None:
    http = await served()
    results = [await ask_openai(http, WEATHER, tools=OPENAI_TOOLS) for _ in range(2)]
    assert [(h, s) for h, s, _ in results] == [("bypass", "tools"), ("bypass", "tools")]
    assert all(r.choices[0].message.tool_calls[0].function.name == "get_weather" for _, _, r in results)
    assert provider_calls(fake, "/chat/completions") == 2
    # A question without tools is still cached: only the tool-carrying request stayed out.
    assert [(await ask_openai(http, WEATHER))[:2] for _ in range(2)] == [("miss", ""), ("hit", "")]


async def test_openai_tool_calls_in_history_keep_the_request_out(served: Serve, fake: FakeProvider) -> None:
    http = await served()
    history: Any = [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},
        {"role": "user", "content": "So do I need an umbrella?"},
    ]
    # No tools offered in this request: the calls and results in its history are enough.
    assert [(await ask_openai(http, history))[:2] for _ in range(2)] == [("bypass", "tools")] * 2
    assert provider_calls(fake, "/chat/completions") == 2


async def test_anthropic_tool_blocks_in_history_keep_the_request_out(served: Serve, fake: FakeProvider) -> None:
    http = await served()
    client = async_anthropic(http, api_key="sk-ant-test-client-key-1")
    history: Any = [
        {"role": "user", "content": "Read the README."},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "# Demo"}]},
        {"role": "assistant", "content": "It is a demo."},
    ]
    headers = []
    for _ in range(2):
        raw = await client.messages.with_raw_response.create(
            model=MODEL, max_tokens=50, messages=[*history, {"role": "user", "content": "What is it about?"}]
        )
        headers.append((raw.headers.get(HEADER), raw.headers.get(SKIPPED)))
    assert headers == [("bypass", "tools")] * 2
    assert provider_calls(fake, "/v1/messages") == 2


async def test_openai_tools_request_is_cached_when_opted_in(served: Serve, fake: FakeProvider) -> None:
    http = await served(include_tools=True)
    first, second = [await ask_openai(http, WEATHER, tools=OPENAI_TOOLS) for _ in range(2)]
    assert (first[:2], second[:2]) == (("miss", ""), ("hit", ""))
    assert second[2].choices[0].finish_reason == "tool_calls"
    assert provider_calls(fake, "/chat/completions") == 1


FUNCTION_ITEMS: Any = [
    {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "call_1", "output": "42"},
    {"role": "user", "content": "and what does that mean?"},
]


async def ask_responses(http: httpx.AsyncClient, items: Any) -> tuple[str, str]:
    client = async_openai(http, api_key="sk-test-client-key-1")
    raw = await client.responses.with_raw_response.create(model="gpt-4o-mini", input=items)
    assert raw.parse().output_text
    return raw.headers.get(HEADER, ""), raw.headers.get(SKIPPED, "")


async def test_responses_function_call_output_is_never_a_hit(served: Serve, fake: FakeProvider) -> None:
    http = await served()
    assert [await ask_responses(http, FUNCTION_ITEMS) for _ in range(2)] == [("bypass", "tools")] * 2
    assert provider_calls(fake, "/responses") == 2


async def test_responses_function_call_output_is_cached_when_opted_in(served: Serve, fake: FakeProvider) -> None:
    http = await served(include_tools=True)
    assert [await ask_responses(http, FUNCTION_ITEMS) for _ in range(2)] == [("miss", ""), ("hit", "")]
    assert provider_calls(fake, "/responses") == 1


def conversation(turns: int) -> Any:
    """A system message, then ``turns`` user questions with the assistant's answers between them."""
    messages: list[Any] = [{"role": "system", "content": "You are terse."}]
    for i in range(turns):
        if i:
            messages.append({"role": "assistant", "content": f"Answer {i}."})
        messages.append({"role": "user", "content": f"Tell me fact number {i + 1} about owls."})
    return messages


async def test_conversations_longer_than_max_messages_are_not_cached(served: Serve, fake: FakeProvider) -> None:
    http = await served()  # default max_messages: 4, the system message not counted
    assert [(await ask_openai(http, conversation(3)))[:2] for _ in range(2)] == [("bypass", "long_conversation")] * 2
    assert provider_calls(fake, "/chat/completions") == 2
    # Two questions and an answer (3 messages) are within the limit.
    assert [(await ask_openai(http, conversation(2)))[:2] for _ in range(2)] == [("miss", ""), ("hit", "")]


async def test_longer_conversations_are_cached_when_opted_in(served: Serve, fake: FakeProvider) -> None:
    unlimited, eight = await served(max_messages=None), await served(max_messages=8)
    assert [(await ask_openai(unlimited, conversation(6)))[:2] for _ in range(2)] == [("miss", ""), ("hit", "")]
    assert [(await ask_openai(eight, conversation(4)))[:2] for _ in range(2)] == [("miss", ""), ("hit", "")]
    assert (await ask_openai(eight, conversation(5)))[:2] == ("bypass", "long_conversation")


async def test_skipped_requests_are_counted_by_reason(served: Serve) -> None:
    http = await served()
    await ask_openai(http, WEATHER, tools=OPENAI_TOOLS)
    await ask_openai(http, conversation(3))
    await ask_openai(http, WEATHER, extra_body={"lc_skip_semantic_cache": True})
    text = (await http.get("/metrics")).text
    for reason in ("tools", "long_conversation", "client"):
        assert f'layercache_semantic_skipped_total{{reason="{reason}"}} 1.0' in text


async def test_a_cache_that_could_not_start_counts_its_bypasses_as_unavailable(
    make_settings: Callable[..., Settings], fake: FakeProvider, tmp_path: Any
) -> None:
    settings = make_settings(caching={"semantic": {"enabled": True, "model_path": str(tmp_path / "no-model")}})
    async with in_process(fake, settings) as http:
        assert (await ask_openai(http, WEATHER))[:2] == ("bypass", "unavailable")
        text = (await http.get("/metrics")).text
    assert 'layercache_semantic_skipped_total{reason="unavailable"} 1.0' in text
