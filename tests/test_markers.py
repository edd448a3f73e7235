"""Cache markers: Anthropic breakpoints (both wires), OpenAI prompt_cache_key, the 4-breakpoint limit."""
# On sockets: one test is the LiteLLM path (said there); the others are in-process.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import openai
import pytest

from layercache_asgi import Settings
from layercache_asgi.markers.anthropic import count_markers
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import async_anthropic, async_openai

CC = {"type": "ephemeral"}
SYSTEM = "You are a careful assistant who checks every fact twice. " * 120  # above the 1024-token minimum
A_TOOLS: list[Any] = [
    {"name": "search", "description": "Search.", "input_schema": {"type": "object", "properties": {}}},
    {"name": "fetch", "description": "Fetch.", "input_schema": {"type": "object", "properties": {}}},
]
O_TOOLS: list[Any] = [
    {"type": "function", "function": {"name": t["name"], "parameters": t["input_schema"]}} for t in A_TOOLS
]


def history(turns: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for i in range(turns):
        messages += [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"}]
    return [*messages, {"role": "user", "content": "newest"}]


@pytest.fixture
def proxy_for(make_settings: Callable[..., Settings], fake: FakeProvider) -> Callable[..., Any]:
    def start(**overrides: Any) -> Any:
        return in_process(fake, make_settings(**overrides))

    return start


@pytest.fixture
def claude(http: httpx.AsyncClient) -> anthropic.AsyncAnthropic:
    return async_anthropic(http, api_key="sk-ant-test-key-1")


def sent(fake: FakeProvider) -> dict[str, Any]:
    return fake.requests[-1].body


@pytest.mark.in_process
async def test_anthropic_breakpoints_at_tools_system_and_history(
    fake: FakeProvider, claude: anthropic.AsyncAnthropic
) -> None:
    await claude.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=50,
        system=SYSTEM,
        tools=A_TOOLS,
        messages=history(2),  # type: ignore[arg-type]
    )
    body = sent(fake)
    assert body["system"] == [{"type": "text", "text": SYSTEM.rstrip(), "cache_control": CC}]
    assert body["tools"][-1]["cache_control"] == CC and "cache_control" not in body["tools"][0]
    assert body["messages"][3]["content"] == [{"type": "text", "text": "answer 1", "cache_control": CC}]
    assert body["messages"][4]["content"] == "newest"  # L4 is never marked
    assert count_markers(body) == 3


@pytest.mark.in_process
async def test_client_markers_count_towards_the_limit(fake: FakeProvider, claude: anthropic.AsyncAnthropic) -> None:
    marked = [
        {"role": "user", "content": [{"type": "text", "text": f"doc {i}", "cache_control": CC}]} for i in range(3)
    ]
    messages: list[Any] = []
    for m in marked:
        messages += [m, {"role": "assistant", "content": "ok"}]
    messages.append({"role": "user", "content": "newest"})
    await claude.messages.create(model="claude-sonnet-4-5", max_tokens=50, system=SYSTEM, messages=messages)
    body = sent(fake)
    assert count_markers(body) == 4
    assert body["messages"][5]["content"][0]["cache_control"] == CC  # ours: the end of L2


@pytest.mark.in_process
async def test_four_client_markers_get_nothing_added(fake: FakeProvider, claude: anthropic.AsyncAnthropic) -> None:
    messages: list[Any] = []
    for i in range(4):
        messages += [
            {"role": "user", "content": [{"type": "text", "text": f"doc {i}", "cache_control": CC}]},
            {"role": "assistant", "content": "ok"},
        ]
    messages.append({"role": "user", "content": "newest"})
    await claude.messages.create(model="claude-sonnet-4-5", max_tokens=50, system=SYSTEM, messages=messages)
    assert count_markers(sent(fake)) == 4
    assert sent(fake)["system"] == SYSTEM.rstrip()


@pytest.mark.in_process
async def test_bypass_adds_no_markers_and_keeps_the_clients(
    fake: FakeProvider, claude: anthropic.AsyncAnthropic
) -> None:
    system = [{"type": "text", "text": "mine  ", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    await claude.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=50,
        system=system,  # type: ignore[arg-type]
        messages=history(3),  # type: ignore[arg-type]
        extra_body={"lc_bypass_cache": True},
    )
    assert sent(fake)["system"] == system
    assert count_markers(sent(fake)) == 1


@pytest.mark.in_process
async def test_one_hour_ttl_from_config(fake: FakeProvider, proxy_for: Callable[..., Any]) -> None:
    async with proxy_for(caching={"anthropic_ttl": "1h"}) as http:
        client = async_anthropic(http, api_key="sk-ant-test-key-1")
        await client.messages.create(model="claude-sonnet-4-5", max_tokens=50, system=SYSTEM, messages=history(1))  # type: ignore[arg-type]
    assert sent(fake)["system"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}


@pytest.mark.in_process
async def test_extra_breakpoint_when_a_session_grows_past_the_lookback(
    fake: FakeProvider, claude: anthropic.AsyncAnthropic
) -> None:
    def tool_turns(n: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = [{"role": "user", "content": "start"}]
        for i in range(n):
            call = {"type": "tool_use", "id": f"t{i}", "name": "search", "input": {"q": str(i)}}
            messages.append({"role": "assistant", "content": [{"type": "text", "text": "calling"}, call]})
            result = {"type": "tool_result", "tool_use_id": f"t{i}", "content": "r"}
            messages.append({"role": "user", "content": [result]})
        return messages

    first = [*tool_turns(2), {"role": "assistant", "content": "done"}, {"role": "user", "content": "next"}]
    await claude.messages.create(model="claude-sonnet-4-5", max_tokens=50, system=SYSTEM, tools=A_TOOLS, messages=first)  # type: ignore[arg-type]
    previous_end = len(first) - 2  # "done": the end of L2 last time
    grown = [*first[:-1], {"role": "user", "content": "more"}]
    for i in range(8):  # 8 tool rounds: 24 more blocks
        call = {"type": "tool_use", "id": f"u{i}", "name": "search", "input": {}}
        grown += [
            {"role": "assistant", "content": [{"type": "text", "text": "again"}, call]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"u{i}", "content": "r"}]},
        ]
    grown += [{"role": "assistant", "content": "finished"}, {"role": "user", "content": "newest"}]
    await claude.messages.create(model="claude-sonnet-4-5", max_tokens=50, system=SYSTEM, tools=A_TOOLS, messages=grown)  # type: ignore[arg-type]
    body = sent(fake)
    assert body["messages"][previous_end]["content"][-1]["cache_control"] == CC
    assert body["messages"][-2]["content"][-1]["cache_control"] == CC
    assert count_markers(body) == 4


# On sockets: the LiteLLM path makes its own HTTP calls to the fake.
def test_openai_wire_to_anthropic_gets_markers_through_litellm(
    fake: FakeProvider, openai_client: openai.OpenAI
) -> None:
    messages = [{"role": "system", "content": SYSTEM}, *history(2)]
    openai_client.chat.completions.create(model="anthropic/claude-sonnet-4-5", messages=messages, tools=O_TOOLS)  # type: ignore[arg-type]
    body = sent(fake)  # what LiteLLM sent to the (fake) Anthropic API
    assert fake.requests[-1].path.endswith("/v1/messages")
    system = body["system"]
    assert isinstance(system, list) and system[-1]["cache_control"]["type"] == "ephemeral"
    assert any("cache_control" in t for t in body["tools"])
    assert body["messages"][3]["content"][-1]["cache_control"]["type"] == "ephemeral"
    assert count_markers(body) == 3


@pytest.mark.in_process
async def test_openai_strips_markers_and_sets_a_stable_prompt_cache_key(
    fake: FakeProvider, http: httpx.AsyncClient, aopenai: openai.AsyncOpenAI
) -> None:
    system = {"role": "system", "content": [{"type": "text", "text": SYSTEM, "cache_control": CC}]}
    for question in ("a", "b"):
        await aopenai.chat.completions.create(
            model="gpt-4o",
            messages=[system, {"role": "user", "content": question}],  # type: ignore[list-item]
            tools=O_TOOLS,
        )
    other_tenant = async_openai(http, api_key="sk-another-tenant-key")
    await other_tenant.chat.completions.create(model="gpt-4o", messages=[system, {"role": "user", "content": "a"}])  # type: ignore[list-item]
    first, second, third = (r.body for r in fake.requests)
    assert count_markers(first) == 0
    assert first["prompt_cache_key"] == second["prompt_cache_key"] != third["prompt_cache_key"]


@pytest.mark.in_process
async def test_client_prompt_cache_key_wins(fake: FakeProvider, aopenai: openai.AsyncOpenAI) -> None:
    await aopenai.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "a"}], extra_body={"prompt_cache_key": "mine"}
    )
    assert sent(fake)["prompt_cache_key"] == "mine"


def grown_tool_session(rounds: int) -> list[Any]:
    """A conversation whose L2 grew by ``rounds`` tool rounds (3 blocks each) since its first request."""
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "start"},
        {"role": "assistant", "content": "done"},
        {"role": "user", "content": "more"},
    ]
    for i in range(rounds):
        call = {"type": "tool_use", "id": f"u{i}", "name": "search", "input": {}}
        messages += [
            {"role": "assistant", "content": [{"type": "text", "text": "again"}, call]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"u{i}", "content": "r"}]},
        ]
    return [*messages, {"role": "assistant", "content": "finished"}, {"role": "user", "content": "newest"}]


@pytest.mark.in_process
async def test_top_level_cache_control_takes_one_of_the_four_slots(
    fake: FakeProvider, claude: anthropic.AsyncAnthropic
) -> None:
    automatic = {"cache_control": {"type": "ephemeral"}}  # Anthropic's automatic caching
    first = grown_tool_session(0)
    await claude.messages.create(
        model="claude-sonnet-4-5", max_tokens=50, system=SYSTEM, tools=A_TOOLS, messages=first, extra_body=automatic
    )
    grown = [*first[:-1], *grown_tool_session(8)[3:]]  # 24 more blocks: the lookback breakpoint is wanted too
    await claude.messages.create(
        model="claude-sonnet-4-5", max_tokens=50, system=SYSTEM, tools=A_TOOLS, messages=grown, extra_body=automatic
    )
    body = sent(fake)
    assert body["cache_control"] == {"type": "ephemeral"}
    assert count_markers(body) == 4  # three added beside the automatic one (the fake refuses a fifth)
    assert body["messages"][-2]["content"][-1]["cache_control"] == CC  # the end of L2 first


@pytest.mark.in_process
async def test_added_markers_keep_the_ttl_order_and_the_clients_markers(
    fake: FakeProvider, claude: anthropic.AsyncAnthropic
) -> None:
    hour = {"type": "ephemeral", "ttl": "1h"}
    tools: list[Any] = [A_TOOLS[1], {**A_TOOLS[0], "cache_control": hour}]  # already in canonical order
    messages: list[Any] = history(3)
    messages[2] = {"role": "user", "content": [{"type": "text", "text": "question 1", "cache_control": CC}]}
    await claude.messages.create(
        model="claude-sonnet-4-5", max_tokens=50, system=SYSTEM, tools=tools, messages=messages
    )
    body = sent(fake)  # the fake refuses a 1h marker after a 5m one
    assert body["tools"][-1]["cache_control"] == hour  # the client's own, untouched
    assert body["messages"][2]["content"][0]["cache_control"] == CC
    assert body["system"][-1]["cache_control"] == CC  # config 5m: after the client's 1h, before its 5m
    assert body["messages"][5]["content"][-1]["cache_control"] == CC  # after the client's 5m: 5m
    assert count_markers(body) == 4


@pytest.mark.in_process
async def test_a_block_the_client_marked_is_not_rewritten(fake: FakeProvider, proxy_for: Callable[..., Any]) -> None:
    async with proxy_for(caching={"anthropic_ttl": "1h"}) as http:
        client = async_anthropic(http, api_key="sk-ant-test-key-1")
        messages: list[Any] = history(2)
        messages[3] = {"role": "assistant", "content": [{"type": "text", "text": "answer 1", "cache_control": CC}]}
        await client.messages.create(model="claude-sonnet-4-5", max_tokens=50, system=SYSTEM, messages=messages)
    body = sent(fake)
    assert body["messages"][3]["content"] == [{"type": "text", "text": "answer 1", "cache_control": CC}]  # still 5m
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}  # before the client's 5m
    assert count_markers(body) == 2


@pytest.mark.in_process
async def test_no_five_minute_marker_before_a_clients_one_hour_marker(
    fake: FakeProvider, claude: anthropic.AsyncAnthropic
) -> None:
    hour = {"type": "ephemeral", "ttl": "1h"}
    messages: list[Any] = history(2)
    messages[3] = {"role": "assistant", "content": [{"type": "text", "text": "answer 1", "cache_control": hour}]}
    await claude.messages.create(model="claude-sonnet-4-5", max_tokens=50, system=SYSTEM, messages=messages)
    body = sent(fake)
    assert body["system"] == SYSTEM.rstrip()  # a 5m marker here would come before the client's 1h one
    assert count_markers(body) == 1
