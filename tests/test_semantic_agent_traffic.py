"""The semantic cache stays out of agent traffic and long conversations by default, through the
real SDKs: requests with tools, tool calls or tool results and conversations longer than
``caching.semantic.max_messages`` are never answered from the cache, exact repeats included,
and reach the provider every time; the settings opt back in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import anthropic
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve

from .conftest import ADMIN
from .test_semantic_cache import TOOLS as OPENAI_TOOLS

pytestmark = pytest.mark.postgres

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
WARMUP: Any = [
    {"role": "user", "content": [{"type": "text", "text": "Warmup", "cache_control": {"type": "ephemeral"}}]}
]


@pytest.fixture
def served(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., str]]:
    """Serve a LayerCacheApp with the semantic cache on and the given ``caching.semantic`` settings."""
    with ExitStack() as stack:
        yield lambda **semantic: stack.enter_context(
            serve(LayerCacheApp(make_settings(caching={"semantic": {"enabled": True, **semantic}})))
        )


def warmup(url: str) -> tuple[str, str]:
    client = anthropic.Anthropic(base_url=url, api_key="sk-ant-test-client-key-1", max_retries=0)
    raw = client.messages.with_raw_response.create(
        model=MODEL, max_tokens=1, system=CLAUDE_CODE_SYSTEM, tools=CLAUDE_CODE_TOOLS, messages=WARMUP
    )
    assert raw.parse().model == MODEL
    return raw.headers.get(HEADER, ""), raw.headers.get(SKIPPED, "")


def provider_calls(fake: FakeProvider, path: str) -> int:
    return len([r for r in fake.requests if r.path.endswith(path)])


def test_claude_code_warmup_sent_twice_reaches_the_provider_twice(
    served: Callable[..., str], fake: FakeProvider
) -> None:
    url = served()
    assert [warmup(url) for _ in range(2)] == [("bypass", "tools"), ("bypass", "tools")]
    assert provider_calls(fake, "/v1/messages") == 2
    entries = openai.DefaultHttpxClient().get(f"{url}/v1/cache/entries", headers=ADMIN).json()
    assert entries["total"] == 0  # not stored either


@pytest.mark.parametrize("include_tools", [False, True])
def test_concurrent_identical_warmups_share_no_flight_unless_opted_in(
    served: Callable[..., str], fake: FakeProvider, include_tools: bool
) -> None:
    # Identical concurrent requests of the cache share one upstream call (single flight): an
    # exact repeat in disguise. Requests that stay out of the cache never join one.
    url = served(include_tools=include_tools)
    fake.delay = 0.5
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: warmup(url), range(2)))
    if include_tools:
        assert sorted(results) == [("hit", ""), ("miss", "")] and provider_calls(fake, "/v1/messages") == 1
    else:
        assert results == [("bypass", "tools")] * 2 and provider_calls(fake, "/v1/messages") == 2


def test_claude_code_warmup_is_cached_when_tools_are_opted_in(served: Callable[..., str], fake: FakeProvider) -> None:
    url = served(include_tools=True)
    assert [warmup(url) for _ in range(2)] == [("miss", ""), ("hit", "")]
    assert provider_calls(fake, "/v1/messages") == 1


def ask_openai(url: str, messages: Any, **params: Any) -> tuple[str, str, Any]:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test-client-key-1", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages, **params)
    return raw.headers.get(HEADER, ""), raw.headers.get(SKIPPED, ""), raw.parse()


WEATHER: Any = [{"role": "user", "content": "What's the weather in Paris?"}]


def test_openai_tools_request_is_never_a_hit(served: Callable[..., str], fake: FakeProvider) -> None:
    url = served()
    results = [ask_openai(url, WEATHER, tools=OPENAI_TOOLS) for _ in range(2)]
    assert [(h, s) for h, s, _ in results] == [("bypass", "tools"), ("bypass", "tools")]
    assert all(r.choices[0].message.tool_calls[0].function.name == "get_weather" for _, _, r in results)
    assert provider_calls(fake, "/chat/completions") == 2
    # A question without tools is still cached: only the tool-carrying request stayed out.
    assert [ask_openai(url, WEATHER)[:2] for _ in range(2)] == [("miss", ""), ("hit", "")]


def test_openai_tool_calls_in_history_keep_the_request_out(served: Callable[..., str], fake: FakeProvider) -> None:
    url = served()
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
    assert [ask_openai(url, history)[:2] for _ in range(2)] == [("bypass", "tools")] * 2
    assert provider_calls(fake, "/chat/completions") == 2


def test_anthropic_tool_blocks_in_history_keep_the_request_out(served: Callable[..., str], fake: FakeProvider) -> None:
    url = served()
    client = anthropic.Anthropic(base_url=url, api_key="sk-ant-test-client-key-1", max_retries=0)
    history: Any = [
        {"role": "user", "content": "Read the README."},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "# Demo"}]},
        {"role": "assistant", "content": "It is a demo."},
    ]
    headers = []
    for _ in range(2):
        raw = client.messages.with_raw_response.create(
            model=MODEL, max_tokens=50, messages=[*history, {"role": "user", "content": "What is it about?"}]
        )
        headers.append((raw.headers.get(HEADER), raw.headers.get(SKIPPED)))
    assert headers == [("bypass", "tools")] * 2
    assert provider_calls(fake, "/v1/messages") == 2


def test_openai_tools_request_is_cached_when_opted_in(served: Callable[..., str], fake: FakeProvider) -> None:
    url = served(include_tools=True)
    first, second = (ask_openai(url, WEATHER, tools=OPENAI_TOOLS) for _ in range(2))
    assert (first[:2], second[:2]) == (("miss", ""), ("hit", ""))
    assert second[2].choices[0].finish_reason == "tool_calls"
    assert provider_calls(fake, "/chat/completions") == 1


FUNCTION_ITEMS: Any = [
    {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "call_1", "output": "42"},
    {"role": "user", "content": "and what does that mean?"},
]


def ask_responses(url: str, items: Any) -> tuple[str, str]:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test-client-key-1", max_retries=0)
    raw = client.responses.with_raw_response.create(model="gpt-4o-mini", input=items)
    assert raw.parse().output_text
    return raw.headers.get(HEADER, ""), raw.headers.get(SKIPPED, "")


def test_responses_function_call_output_is_never_a_hit(served: Callable[..., str], fake: FakeProvider) -> None:
    url = served()
    assert [ask_responses(url, FUNCTION_ITEMS) for _ in range(2)] == [("bypass", "tools")] * 2
    assert provider_calls(fake, "/responses") == 2


def test_responses_function_call_output_is_cached_when_opted_in(served: Callable[..., str], fake: FakeProvider) -> None:
    url = served(include_tools=True)
    assert [ask_responses(url, FUNCTION_ITEMS) for _ in range(2)] == [("miss", ""), ("hit", "")]
    assert provider_calls(fake, "/responses") == 1


def conversation(turns: int) -> Any:
    """A system message, then ``turns`` user questions with the assistant's answers between them."""
    messages: list[Any] = [{"role": "system", "content": "You are terse."}]
    for i in range(turns):
        if i:
            messages.append({"role": "assistant", "content": f"Answer {i}."})
        messages.append({"role": "user", "content": f"Tell me fact number {i + 1} about owls."})
    return messages


def test_conversations_longer_than_max_messages_are_not_cached(served: Callable[..., str], fake: FakeProvider) -> None:
    url = served()  # default max_messages: 4, the system message not counted
    assert [ask_openai(url, conversation(3))[:2] for _ in range(2)] == [("bypass", "long_conversation")] * 2
    assert provider_calls(fake, "/chat/completions") == 2
    # Two questions and an answer (3 messages) are within the limit.
    assert [ask_openai(url, conversation(2))[:2] for _ in range(2)] == [("miss", ""), ("hit", "")]


def test_longer_conversations_are_cached_when_opted_in(served: Callable[..., str], fake: FakeProvider) -> None:
    unlimited, eight = served(max_messages=None), served(max_messages=8)
    assert [ask_openai(unlimited, conversation(6))[:2] for _ in range(2)] == [("miss", ""), ("hit", "")]
    assert [ask_openai(eight, conversation(4))[:2] for _ in range(2)] == [("miss", ""), ("hit", "")]
    assert ask_openai(eight, conversation(5))[:2] == ("bypass", "long_conversation")


def test_skipped_requests_are_counted_by_reason(served: Callable[..., str]) -> None:
    url = served()
    ask_openai(url, WEATHER, tools=OPENAI_TOOLS)
    ask_openai(url, conversation(3))
    ask_openai(url, WEATHER, extra_body={"lc_skip_semantic_cache": True})
    text = openai.DefaultHttpxClient().get(f"{url}/metrics").text
    for reason in ("tools", "long_conversation", "client"):
        assert f'layercache_semantic_skipped_total{{reason="{reason}"}} 1.0' in text


def test_a_cache_that_could_not_start_counts_its_bypasses_as_unavailable(
    make_settings: Callable[..., Settings], tmp_path: Any
) -> None:
    settings = make_settings(caching={"semantic": {"enabled": True, "model_path": str(tmp_path / "no-model")}})
    with serve(LayerCacheApp(settings)) as url:
        assert ask_openai(url, WEATHER)[:2] == ("bypass", "unavailable")
        text = openai.DefaultHttpxClient().get(f"{url}/metrics").text
    assert 'layercache_semantic_skipped_total{reason="unavailable"} 1.0' in text
