"""The semantic cache through the real SDKs: hits, isolation, TTL, lc_* controls, streaming."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anthropic
import httpx
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, in_process
from layercache_asgi.wire._completion import Completion

from .conftest import async_anthropic, async_openai, client_of

pytestmark = [pytest.mark.postgres, pytest.mark.in_process]

HEADER = "x-layercache-cache"
ON = {"caching": {"semantic": {"enabled": True}}}
# Requests with tools stay out of the cache unless opted in (tests/test_semantic_agent_traffic.py).
WITH_TOOLS = {"caching": {"semantic": {"enabled": True, "include_tools": True}}}
TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.fixture
def semantic_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(**ON)


@pytest.fixture
async def cached_proxy(semantic_settings: Settings, fake: FakeProvider) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(fake, semantic_settings) as http:
        yield http


@pytest.fixture
async def tools_proxy(make_settings: Callable[..., Settings], fake: FakeProvider) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(fake, make_settings(**WITH_TOOLS)) as http:
        yield http


def oai(http: httpx.AsyncClient, key: str = "sk-test-client-key-1", **kwargs: Any) -> openai.AsyncOpenAI:
    return async_openai(http, api_key=key, **kwargs)


def ant(http: httpx.AsyncClient, key: str = "sk-ant-test-client-key-1") -> anthropic.AsyncAnthropic:
    return async_anthropic(http, api_key=key)


async def ask(
    client: openai.AsyncOpenAI, question: str, *, model: str = "gpt-4o-mini", **params: Any
) -> tuple[str, Any]:
    """(cache header, parsed completion) of one OpenAI call."""
    raw = await client.chat.completions.with_raw_response.create(
        model=model,
        messages=[{"role": "system", "content": "You are terse."}, {"role": "user", "content": question}],
        **params,
    )
    return raw.headers.get(HEADER, ""), raw.parse()


async def ask_stream(
    client: openai.AsyncOpenAI, question: str, **params: Any
) -> tuple[str, str, str | None, list[Any]]:
    """(cache header, whole text, finish_reason, tool call deltas) of one streamed OpenAI call."""
    raw = await client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "You are terse."}, {"role": "user", "content": question}],
        stream=True,
        **params,
    )
    text, finish, calls = "", None, list[Any]()
    async for chunk in raw.parse():
        for choice in chunk.choices:
            text += choice.delta.content or ""
            calls += choice.delta.tool_calls or []
            finish = choice.finish_reason or finish
    return raw.headers.get(HEADER, ""), text, finish, calls


# -- hits through both SDKs ---------------------------------------------------------------


async def test_openai_paraphrase_is_answered_from_the_cache(
    cached_proxy: httpx.AsyncClient, fake: FakeProvider
) -> None:
    client = oai(cached_proxy)
    first_header, first = await ask(client, "How do I reset my password?")
    second_header, second = await ask(client, "What's the way to reset my password?")
    assert (first_header, second_header) == ("miss", "hit")
    assert second.choices[0].message.content == "Echo: How do I reset my password?"
    assert second.choices[0].finish_reason == "stop"
    assert second.usage.prompt_tokens == 0 and second.usage.completion_tokens == 0
    assert first.usage.prompt_tokens > 0
    assert len(fake.requests) == 1


async def test_openai_stream_miss_is_stored_and_replayed_as_a_stream(
    cached_proxy: httpx.AsyncClient, fake: FakeProvider
) -> None:
    client = oai(cached_proxy)
    header, text, finish, _ = await ask_stream(client, "Explain what a Python generator is")
    assert (header, text, finish) == ("miss", "Echo: Explain what a Python generator is", "stop")
    header, text, finish, _ = await ask_stream(client, "explain what a python generator is, please")
    assert (header, text, finish) == ("hit", "Echo: Explain what a Python generator is", "stop")
    json_header, parsed = await ask(client, "Explain what a Python generator is")
    assert json_header == "hit" and parsed.choices[0].message.content == text
    assert len(fake.requests) == 1


async def test_stream_hit_reports_zero_usage_when_asked_for_usage(cached_proxy: httpx.AsyncClient) -> None:
    client = oai(cached_proxy)
    await ask(client, "What is the boiling point of water at sea level?")
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "What is the boiling point of water at sea level?"},
        ],
        stream=True,
        stream_options={"include_usage": True},
    )
    usages = [chunk.usage async for chunk in stream if chunk.usage is not None]
    assert len(usages) == 1 and usages[0].prompt_tokens == 0 and usages[0].completion_tokens == 0


async def test_openai_tool_calls_are_preserved_in_json_and_stream_hits(
    tools_proxy: httpx.AsyncClient, fake: FakeProvider
) -> None:
    client = oai(tools_proxy)
    _, first = await ask(client, "What's the weather in Paris?", tools=TOOLS)
    original = first.choices[0].message.tool_calls[0]
    header, hit = await ask(client, "What's the weather in Paris?", tools=TOOLS)
    assert header == "hit" and hit.choices[0].finish_reason == "tool_calls"
    call = hit.choices[0].message.tool_calls[0]
    assert (call.function.name, call.function.arguments) == ("get_weather", original.function.arguments)
    assert call.id != original.id and call.id.startswith("call_")
    header, text, finish, calls = await ask_stream(client, "What's the weather in Paris?", tools=TOOLS)
    assert (header, text, finish) == ("hit", "", "tool_calls")
    assert calls[0].function.name == "get_weather" and calls[0].function.arguments == original.function.arguments
    assert len(fake.requests) == 1


async def test_anthropic_hits_in_json_and_stream(cached_proxy: httpx.AsyncClient, fake: FakeProvider) -> None:
    client = ant(cached_proxy)
    question: Any = [{"role": "user", "content": "Summarize the plot of Hamlet in one sentence."}]
    raw = await client.messages.with_raw_response.create(model="claude-sonnet-4-5", max_tokens=100, messages=question)
    assert raw.headers[HEADER] == "miss"
    again = await client.messages.with_raw_response.create(model="claude-sonnet-4-5", max_tokens=100, messages=question)
    message = await again.parse()
    assert again.headers[HEADER] == "hit"
    assert message.content[0].text == "Echo: Summarize the plot of Hamlet in one sentence."  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn" and message.usage.input_tokens == 0
    async with client.messages.stream(model="claude-sonnet-4-5", max_tokens=100, messages=question) as stream:
        text = "".join([t async for t in stream.text_stream])
        final = await stream.get_final_message()
    assert text == "Echo: Summarize the plot of Hamlet in one sentence."
    assert final.stop_reason == "end_turn"
    assert len(fake.requests) == 1


async def test_anthropic_tool_use_is_preserved(tools_proxy: httpx.AsyncClient, fake: FakeProvider) -> None:
    client = ant(tools_proxy)
    tools: Any = [{"name": "lookup", "description": "Look up", "input_schema": {"type": "object", "properties": {}}}]
    messages: Any = [{"role": "user", "content": "Look up the order status for order A-17"}]
    first = await client.messages.create(model="claude-sonnet-4-5", max_tokens=50, tools=tools, messages=messages)
    raw = await client.messages.with_raw_response.create(
        model="claude-sonnet-4-5", max_tokens=50, tools=tools, messages=messages
    )
    hit = await raw.parse()
    assert raw.headers[HEADER] == "hit" and hit.stop_reason == "tool_use"
    block = next(b for b in hit.content if b.type == "tool_use")
    original = next(b for b in first.content if b.type == "tool_use")
    assert (block.name, block.input) == ("lookup", original.input) and block.id.startswith("toolu_")
    assert len(fake.requests) == 1


# -- what must not hit --------------------------------------------------------------------


async def test_near_miss_questions_do_not_hit(cached_proxy: httpx.AsyncClient, fake: FakeProvider) -> None:
    client = oai(cached_proxy)
    assert (await ask(client, "Convert 50 GBP to JPY"))[0] == "miss"
    header, answer = await ask(client, "Convert 50 JPY to GBP")
    assert header == "miss" and answer.choices[0].message.content == "Echo: Convert 50 JPY to GBP"
    assert (await ask(client, "How do I enable notifications?"))[0] == "miss"
    assert (await ask(client, "How do I disable notifications?"))[0] == "miss"
    assert len(fake.requests) == 4


@pytest.mark.parametrize(
    "change",
    [
        {"model": "gpt-4o"},
        {"temperature": 0.9},
        {"top_p": 0.5},
        {"max_tokens": 7},
        {"response_format": {"type": "json_object"}},
        {"tools": TOOLS},
        {"stop": ["\n"]},
    ],
    ids=lambda c: next(iter(c)),
)
async def test_anything_that_shapes_the_answer_isolates_entries(
    tools_proxy: httpx.AsyncClient, fake: FakeProvider, change: dict[str, Any]
) -> None:
    client = oai(tools_proxy)
    assert (await ask(client, "Name three prime numbers"))[0] == "miss"
    assert (await ask(client, "Name three prime numbers", **change))[0] == "miss"
    assert (await ask(client, "Name three prime numbers", **change))[0] == "hit"
    assert len(fake.requests) == 2


async def test_enhancements_and_history_are_part_of_the_key(
    cached_proxy: httpx.AsyncClient, fake: FakeProvider
) -> None:
    client = oai(cached_proxy)
    assert (await ask(client, "What does HTTP 418 mean?"))[0] == "miss"
    header, _ = await ask(client, "What does HTTP 418 mean?", extra_body={"lc_enhancements": ["chain_of_thought"]})
    assert header == "miss"
    history: Any = [
        {"role": "user", "content": "We are talking about the HTTP spec."},
        {"role": "assistant", "content": "Sure."},
        {"role": "user", "content": "What does HTTP 418 mean?"},
    ]
    raw = await client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=history)
    assert raw.headers[HEADER] == "miss"
    assert len(fake.requests) == 3


async def test_tenants_never_share_entries(cached_proxy: httpx.AsyncClient, fake: FakeProvider) -> None:
    assert (await ask(oai(cached_proxy, "sk-real-key-of-tenant-a"), "What is the capital of France?"))[0] == "miss"
    # Pass-through mode: a made-up key is another tenant and cannot read what a real key stored.
    assert (await ask(oai(cached_proxy, "sk-made-up-key-123456"), "What is the capital of France?"))[0] == "miss"
    assert (await ask(oai(cached_proxy, "sk-real-key-of-tenant-a"), "What is the capital of France?"))[0] == "hit"
    assert len(fake.requests) == 2


async def test_tenant_header_separates_tenants_behind_a_proxy_key(
    make_settings: Callable[..., Settings], fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-provider-key-000")
    settings = make_settings(**ON, proxy={"proxy_api_key": "proxy-secret", "tenant_header": "x-tenant"})
    async with in_process(fake, settings) as http:
        team_a = oai(http, "proxy-secret", default_headers={"x-tenant": "team-a"})
        team_b = oai(http, "proxy-secret", default_headers={"x-tenant": "team-b"})
        assert (await ask(team_a, "What is the capital of Peru?"))[0] == "miss"
        assert (await ask(team_b, "What is the capital of Peru?"))[0] == "miss"
        assert (await ask(team_a, "What is the capital of Peru?"))[0] == "hit"
    assert len(fake.requests) == 2


# -- TTL and lc_* controls ----------------------------------------------------------------


async def test_lc_cache_ttl_zero_does_not_store(cached_proxy: httpx.AsyncClient, fake: FakeProvider) -> None:
    client = oai(cached_proxy)
    assert (await ask(client, "List the planets", extra_body={"lc_cache_ttl": 0}))[0] == "miss"
    assert (await ask(client, "List the planets"))[0] == "miss"
    assert (await ask(client, "List the planets"))[0] == "hit"


async def test_entries_expire_after_their_ttl(cached_proxy: httpx.AsyncClient, fake: FakeProvider) -> None:
    client = oai(cached_proxy)
    assert (await ask(client, "Who wrote Dune?", extra_body={"lc_cache_ttl": 1}))[0] == "miss"
    assert (await ask(client, "Who wrote Dune?"))[0] == "hit"
    await asyncio.sleep(1.2)
    assert (await ask(client, "Who wrote Dune?"))[0] == "miss"


@pytest.mark.parametrize("flag", ["lc_skip_semantic_cache", "lc_bypass_cache"])
async def test_skip_and_bypass_neither_read_nor_write(
    cached_proxy: httpx.AsyncClient, fake: FakeProvider, flag: str
) -> None:
    client = oai(cached_proxy)
    assert (await ask(client, "Define entropy", extra_body={flag: True}))[0] == "bypass"
    assert (await ask(client, "Define entropy"))[0] == "miss"
    assert (await ask(client, "Define entropy", extra_body={flag: True}))[0] == "bypass"
    assert len(fake.requests) == 3


async def test_only_whole_successful_answers_are_stored(cached_proxy: httpx.AsyncClient, fake: FakeProvider) -> None:
    client = oai(cached_proxy)
    fake.fail_next = [400]
    with pytest.raises(openai.BadRequestError):
        await ask(client, "Tell me a fact about owls")
    assert (await ask(client, "Tell me a fact about owls"))[0] == "miss"  # the error was not stored
    original = fake.answer

    def cut_off(wire: str, body: dict[str, Any]) -> Completion:
        completion = original(wire, body)
        completion.finish_reason = "length"
        return completion

    fake.answer = cut_off  # type: ignore[method-assign]
    assert (await ask(client, "Tell me a fact about bats"))[0] == "miss"
    fake.answer = original  # type: ignore[method-assign]
    assert (await ask(client, "Tell me a fact about bats"))[0] == "miss"  # the truncated answer was not stored


async def test_non_question_turns_bypass_the_cache(tools_proxy: httpx.AsyncClient) -> None:
    client = oai(tools_proxy)  # with tools opted in, a tool result is still not a question
    messages: Any = [
        {"role": "user", "content": "What's the weather in Oslo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},
    ]
    raw = await client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
    assert raw.headers[HEADER] == "bypass" and raw.headers["x-layercache-cache-skipped"] == "not_a_question"
    assert raw.parse().choices[0].message.content == "Tool said: Sunny"


# -- degrading ----------------------------------------------------------------------------


async def test_missing_model_turns_the_cache_off_and_the_proxy_still_serves(
    make_settings: Callable[..., Settings], fake: FakeProvider, tmp_path: Any
) -> None:
    settings = make_settings(caching={"semantic": {"enabled": True, "model_path": str(tmp_path / "no-model")}})
    async with in_process(fake, settings) as http:
        client = oai(http)
        results = [await ask(client, "How tall is Everest?") for _ in range(2)]
        health = (await http.get("/health")).json()
    assert [header for header, _ in results] == ["bypass", "bypass"]
    assert all(answer.choices[0].message.content == "Echo: How tall is Everest?" for _, answer in results)
    assert len(fake.requests) == 2
    assert health["status"] == "healthy"


async def test_database_down_turns_the_cache_off_and_the_proxy_still_serves(
    make_settings: Callable[..., Settings], fake: FakeProvider, tmp_path: Any
) -> None:
    settings = make_settings(**ON, database={"url": f"sqlite+aiosqlite:///{tmp_path}/missing-dir/x.db"})
    async with in_process(fake, settings) as http:
        header, answer = await ask(oai(http), "How tall is Everest?")
    assert header == "bypass" and answer.choices[0].message.content == "Echo: How tall is Everest?"


# -- sharing ------------------------------------------------------------------------------


async def test_replicas_sharing_a_database_serve_each_others_entries(
    semantic_settings: Settings, fake: FakeProvider
) -> None:
    first = LayerCacheApp(semantic_settings, transport=httpx.ASGITransport(app=fake))
    async with client_of(first) as one, in_process(fake, semantic_settings) as two:
        assert (await ask(oai(two), "What is a monad?"))[0] == "miss"  # replica two loads its (empty) bucket
        assert (await ask(oai(one), "What is a closure in JavaScript?"))[0] == "miss"
        # Replica one writes its entry behind the answer; replica two can read it once it is written.
        assert first.runtime.semantic is not None
        await first.runtime.semantic.flush()
        assert (await ask(oai(two), "What is a closure in JavaScript?"))[0] == "hit"
    assert len(fake.requests) == 2


async def test_openai_body_is_forwarded_unchanged_on_a_miss(
    cached_proxy: httpx.AsyncClient, fake: FakeProvider
) -> None:
    await ask(oai(cached_proxy), "Spell 'cat' backwards", temperature=0.2, user="u-1")
    sent = fake.requests[0].body
    assert sent["temperature"] == 0.2 and sent["user"] == "u-1"
    assert not any(k.startswith("lc_") for k in sent)
    assert json.dumps(sent["messages"][-1]) == json.dumps({"role": "user", "content": "Spell 'cat' backwards"})
