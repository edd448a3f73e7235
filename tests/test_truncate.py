"""Truncate session: drop the oldest whole L2 turns to fit, keep the cut stable as sessions grow."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.stages.truncate_session import choose_cut
from layercache_asgi.testing import FakeProvider, serve

SYSTEM = "You are an agent that uses tools."
TOOLS: list[Any] = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


def test_choose_cut_fits_and_drops_nothing_when_it_fits() -> None:
    assert choose_cut([100] * 4, 1000) == 0
    for n in range(6, 40):
        tokens = [100] * n
        cut = choose_cut(tokens, 500)
        assert sum(tokens[cut:]) <= 500


def test_choose_cut_is_stable_while_the_session_grows() -> None:
    cuts = [choose_cut([100] * n, 1000) for n in range(11, 30)]
    changes = sum(1 for a, b in itertools.pairwise(cuts) if a != b)
    assert changes <= len(cuts) // 4  # moves in jumps, not on every turn


def test_choose_cut_drops_everything_when_nothing_fits() -> None:
    assert choose_cut([100, 100], 0) == 2
    assert choose_cut([900, 100], 50) == 2


def openai_session(turns: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}]
    for i in range(turns):
        messages.append({"role": "user", "content": f"Question number {i}:" + " details" * 40})
        call = {"id": f"call_{i}", "type": "function", "function": {"name": "lookup", "arguments": '{"q":1}'}}
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        messages.append({"role": "tool", "tool_call_id": f"call_{i}", "content": "result " * 39 + "result"})
        messages.append({"role": "assistant", "content": f"Answer {i}:" + " words" * 40})
    messages.append({"role": "user", "content": "The newest question?"})
    return messages


@pytest.fixture
def small_proxy(make_settings: Callable[..., Settings]) -> Any:
    with serve(LayerCacheApp(make_settings(caching={"max_session_tokens": 1200}))) as url:
        yield url


def test_openai_session_keeps_system_newest_and_whole_tool_turns(fake: FakeProvider, small_proxy: str) -> None:
    client = openai.OpenAI(base_url=f"{small_proxy}/v1", api_key="sk-test-key-123456", max_retries=0)
    messages = openai_session(12)
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    sent = fake.requests[-1].body["messages"]
    dropped = int(raw.headers["x-layercache-truncated"])
    assert dropped > 0 and len(sent) == len(messages) - dropped
    assert sent[0] == {"role": "system", "content": SYSTEM}
    assert sent[-1] == messages[-1]
    assert sent[1]["role"] == "user" and sent[1:] == messages[1 + dropped :]  # whole turns, in order
    call_ids = {c["id"] for m in sent if m.get("tool_calls") for c in m["tool_calls"]}
    assert call_ids == {m["tool_call_id"] for m in sent if m["role"] == "tool"}


def test_successive_turns_keep_the_same_first_message(fake: FakeProvider, small_proxy: str) -> None:
    client = openai.OpenAI(base_url=f"{small_proxy}/v1", api_key="sk-test-key-123456", max_retries=0)
    firsts = []
    for turns in range(8, 16):
        client.chat.completions.create(model="gpt-4o", messages=openai_session(turns))  # type: ignore[arg-type]
        firsts.append(fake.requests[-1].body["messages"][1]["content"])
    changes = sum(1 for a, b in itertools.pairwise(firsts) if a != b)
    # The budget holds about 8 turns; the cut jumps by half of it, so at most every third turn.
    assert 0 < changes <= 3


def test_anthropic_session_starts_with_a_user_turn(fake: FakeProvider, small_proxy: str) -> None:
    messages: list[dict[str, Any]] = []
    for i in range(12):
        messages.append({"role": "user", "content": f"Question {i} " + "more " * 50})
        call = {"type": "tool_use", "id": f"toolu_{i}", "name": "lookup", "input": {"q": i}}
        messages.append({"role": "assistant", "content": [call]})
        result = {"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": "data " * 30}
        messages.append({"role": "user", "content": [result]})
        messages.append({"role": "assistant", "content": f"Answer {i}"})
    messages.append({"role": "user", "content": "newest"})
    client = anthropic.Anthropic(base_url=small_proxy, api_key="sk-ant-test-key-1", max_retries=0)
    client.messages.create(model="claude-sonnet-4-5", max_tokens=20, system=SYSTEM, messages=messages)  # type: ignore[arg-type]
    sent = fake.requests[-1].body["messages"]
    assert len(sent) < len(messages)
    assert (
        sent[0]["role"] == "user" and isinstance(sent[0]["content"], str) and sent[0]["content"].startswith("Question")
    )
    assert sent[-1]["content"] == "newest"
    system = fake.requests[-1].body["system"]
    assert (system if isinstance(system, str) else system[0]["text"]) == SYSTEM


def test_no_limit_means_no_truncation(fake: FakeProvider, openai_client: openai.OpenAI) -> None:
    messages = openai_session(12)
    openai_client.chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
    assert len(fake.requests[-1].body["messages"]) == len(messages)
