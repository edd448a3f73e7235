"""Truncate session: drop the oldest whole L2 turns to fit, keep the cut stable as sessions grow."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import openai
import pytest

from layercache_asgi import Settings
from layercache_asgi.prompt._layers import strip_markers
from layercache_asgi.stages.truncate_session import choose_cut
from layercache_asgi.testing import FakeProvider, PrefixCacheSimulator, in_process

from .conftest import async_anthropic, async_openai

pytestmark = pytest.mark.in_process

SYSTEM = "You are an agent that uses tools."
TOOLS: list[Any] = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


def test_choose_cut_fits_and_drops_nothing_when_it_fits() -> None:
    assert choose_cut([100] * 4, 100, 1000) == 0
    for n in range(6, 40):
        tokens = [100] * n
        cut = choose_cut(tokens, 50, 550)
        assert sum(tokens[cut:]) + 50 <= 550


def test_choose_cut_is_stable_while_the_session_grows() -> None:
    cuts = [choose_cut([100] * n, 100, 1100) for n in range(11, 30)]
    changes = sum(1 for a, b in itertools.pairwise(cuts) if a != b)
    assert changes <= len(cuts) // 4  # moves in jumps, not on every turn


def test_choose_cut_never_moves_back_when_the_newest_input_varies() -> None:
    history: list[int] = []
    cuts = []
    for turn, newest in enumerate(itertools.islice(itertools.cycle([20, 400, 60, 250, 5, 700]), 60)):
        cuts.append(choose_cut(history, newest, 2000))
        history.append(newest + 80 + turn % 3)  # the question and its answer join the history
    assert cuts == sorted(cuts)  # only forward
    assert len(set(cuts)) <= sum(history) // (2000 // 2) + 1  # once per half the room of growth, at most


def test_choose_cut_drops_everything_when_nothing_fits() -> None:
    assert choose_cut([100, 100], 0, 0) == 2
    assert choose_cut([900, 100], 10, 60) == 2


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
async def small(make_settings: Callable[..., Settings], fake: FakeProvider) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(fake, make_settings(caching={"max_session_tokens": 1200})) as http:
        yield http


async def test_openai_session_keeps_system_newest_and_whole_tool_turns(
    fake: FakeProvider, small: httpx.AsyncClient
) -> None:
    client = async_openai(small)
    messages = openai_session(12)
    raw = await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    sent = fake.requests[-1].body["messages"]
    dropped = int(raw.headers["x-layercache-truncated"])
    assert dropped > 0 and len(sent) == len(messages) - dropped
    assert sent[0] == {"role": "system", "content": SYSTEM}
    assert sent[-1] == messages[-1]
    assert sent[1]["role"] == "user" and sent[1:] == messages[1 + dropped :]  # whole turns, in order
    assert "x-layercache-truncation" not in raw.headers  # what is left fits
    call_ids = {c["id"] for m in sent if m.get("tool_calls") for c in m["tool_calls"]}
    assert call_ids == {m["tool_call_id"] for m in sent if m["role"] == "tool"}


async def test_successive_turns_keep_the_same_first_message(fake: FakeProvider, small: httpx.AsyncClient) -> None:
    client = async_openai(small)
    firsts = []
    for turns in range(8, 16):
        await client.chat.completions.create(model="gpt-4o", messages=openai_session(turns))  # type: ignore[arg-type]
        firsts.append(fake.requests[-1].body["messages"][1]["content"])
    changes = sum(1 for a, b in itertools.pairwise(firsts) if a != b)
    # The budget holds about 8 turns; the cut jumps by half of it, so at most every third turn.
    assert 0 < changes <= 3


async def test_anthropic_session_starts_with_a_user_turn(fake: FakeProvider, small: httpx.AsyncClient) -> None:
    messages: list[dict[str, Any]] = []
    for i in range(12):
        messages.append({"role": "user", "content": f"Question {i} " + "more " * 50})
        call = {"type": "tool_use", "id": f"toolu_{i}", "name": "lookup", "input": {"q": i}}
        messages.append({"role": "assistant", "content": [call]})
        result = {"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": "data " * 30}
        messages.append({"role": "user", "content": [result]})
        messages.append({"role": "assistant", "content": f"Answer {i}"})
    messages.append({"role": "user", "content": "newest"})
    client = async_anthropic(small)
    await client.messages.create(model="claude-sonnet-4-5", max_tokens=20, system=SYSTEM, messages=messages)  # type: ignore[arg-type]
    sent = fake.requests[-1].body["messages"]
    assert len(sent) < len(messages)
    assert (
        sent[0]["role"] == "user" and isinstance(sent[0]["content"], str) and sent[0]["content"].startswith("Question")
    )
    assert sent[-1]["content"] == "newest"
    system = fake.requests[-1].body["system"]
    assert (system if isinstance(system, str) else system[0]["text"]) == SYSTEM


async def test_no_limit_means_no_truncation(fake: FakeProvider, aopenai: openai.AsyncOpenAI) -> None:
    messages = openai_session(12)
    await aopenai.chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
    assert len(fake.requests[-1].body["messages"]) == len(messages)


def agent_proxy(fake: FakeProvider, make_settings: Callable[..., Settings], **caching: Any) -> Any:
    return in_process(fake, make_settings(caching={"max_session_tokens": 4000, **caching}))


EARLIER: list[dict[str, Any]] = [
    {"role": "user", "content": "First, list the files." + " detail" * 150},
    {"role": "assistant", "content": "Here they are:" + " file" * 150},
]
TASK = "read the log file please." + " context" * 600  # the task, long enough that it cannot share the budget
LOG = "line" + " line" * 3600  # a tool result that alone nearly fills the budget


async def test_openai_agent_loop_keeps_the_calls_its_results_answer(
    fake: FakeProvider, make_settings: Callable[..., Settings]
) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"file":"log"}'}}
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM},
        *EARLIER,
        {"role": "user", "content": TASK},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": LOG},
    ]
    async with agent_proxy(fake, make_settings) as http:
        client = async_openai(http)
        raw = await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    sent = fake.requests[-1].body["messages"]  # the fake refuses a tool message without its call
    assert sent == [messages[0], *messages[3:]]  # the earlier turn dropped; the task, the call and its result kept
    assert raw.headers["x-layercache-truncated"] == "2"
    assert raw.headers["x-layercache-truncation"] == "over-budget"  # even the newest turn is over 4000


async def test_anthropic_agent_loop_keeps_thinking_calls_and_task(
    fake: FakeProvider, make_settings: Callable[..., Settings]
) -> None:
    thinking = {"type": "thinking", "thinking": "I should read the log.", "signature": "sig"}
    uses = [{"type": "tool_use", "id": f"toolu_{i}", "name": "lookup", "input": {"part": i}} for i in (1, 2)]
    results = [{"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": LOG[: len(LOG) // 2]} for i in (1, 2)]
    messages: Any = [
        *EARLIER,
        {"role": "user", "content": TASK},
        {"role": "assistant", "content": [thinking, *uses]},
        {"role": "user", "content": results},
    ]
    async with agent_proxy(fake, make_settings) as http:
        client = async_anthropic(http)
        raw = await client.messages.with_raw_response.create(
            model="claude-sonnet-4-6",
            max_tokens=20,
            system=SYSTEM,
            messages=messages,
            thinking={"type": "enabled", "budget_tokens": 1024},
            tools=[{"name": "lookup", "input_schema": {"type": "object"}}],
        )
        metrics = (await http.get("/metrics")).text
    assert fake.requests[-1].body["messages"] == messages[2:]
    assert raw.headers["x-layercache-truncation"] == "over-budget"
    assert 'layercache_session_over_budget_total{model="claude-sonnet-4-6"} 1.0' in metrics


async def simulated_session(make_settings: Callable[..., Settings], lengths: list[int]) -> tuple[list[int], float]:
    """A chat through the proxy to the prefix-cache simulator, one user message per length (in
    words): the first turn kept in each request, and the cached fraction of the prompts once
    truncation started."""
    sim = PrefixCacheSimulator()
    async with in_process(sim, make_settings(caching={"max_session_tokens": 3000})) as http:
        client = async_openai(http)
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM + " Be thorough." * 100}]
        firsts: list[int] = []
        for turn, words in enumerate(lengths):
            messages.append({"role": "user", "content": f"Turn {turn}:" + " word" * words})
            await client.chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
            first = sim.requests[-1].body["messages"][1]["content"]
            firsts.append(int(first.split(":")[0].removeprefix("Turn ")))
            messages.append({"role": "assistant", "content": f"Answer {turn}:" + " reply" * 120})
    truncated = [usage for first, (_, usage) in zip(firsts, sim.usages, strict=True) if first > 0]
    assert len(truncated) > len(lengths) // 2
    cached = sum(u.cache_read for u in truncated) / sum(u.cache_read + u.uncached_input for u in truncated)
    return firsts, cached


async def test_the_cut_moves_only_forward_in_steps_whatever_the_message_lengths(
    make_settings: Callable[..., Settings],
) -> None:
    varying = list(itertools.islice(itertools.cycle([5, 260, 40, 180, 10, 90, 400, 25]), 48))
    firsts, cached = await simulated_session(make_settings, varying)
    assert firsts == sorted(firsts)  # never backwards
    cuts = sorted(set(firsts) - {0})
    assert len(cuts) <= len(firsts) // 4  # in steps, each held for several turns
    steady_firsts, steady_cached = await simulated_session(make_settings, [sum(varying) // len(varying)] * len(varying))
    assert steady_firsts == sorted(steady_firsts)
    # The newest message's length no longer moves the cut: as much is cached as with constant lengths.
    assert cached >= steady_cached - 0.05


def agent_turn(wire: str, rounds: int) -> list[dict[str, Any]]:
    """One long agent turn: the task, then ``rounds`` calls each answered by a result; the last
    call's result is the newest input (L4)."""
    messages: list[dict[str, Any]] = [*EARLIER, {"role": "user", "content": "Fix the failing build." + " hint" * 40}]
    for i in range(rounds):
        output = f"output of step {i}:" + " line" * 400
        if wire == "openai":
            call = {"id": f"c{i}", "type": "function", "function": {"name": "lookup", "arguments": f'{{"step":{i}}}'}}
            messages.append({"role": "assistant", "content": f"Step {i}.", "tool_calls": [call]})
            messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": output})
        else:
            use = {"type": "tool_use", "id": f"toolu_{i}", "name": "lookup", "input": {"step": i}}
            messages.append({"role": "assistant", "content": [{"type": "text", "text": f"Step {i}."}, use]})
            result = {"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": output}
            messages.append({"role": "user", "content": [result]})
    return messages


async def send_agent_turn(http: httpx.AsyncClient, wire: str, messages: list[dict[str, Any]]) -> Any:
    if wire == "openai":
        return await async_openai(http).chat.completions.with_raw_response.create(
            model="gpt-4o",
            messages=[{"role": "system", "content": SYSTEM}, *messages],  # type: ignore[list-item]
            tools=TOOLS,
        )
    return await async_anthropic(http).messages.with_raw_response.create(
        model="claude-sonnet-4-6",
        max_tokens=20,
        system=SYSTEM,
        messages=messages,  # type: ignore[arg-type]
        tools=[{"name": "lookup", "input_schema": {"type": "object"}}],
    )


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_a_long_agent_turn_drops_its_oldest_tool_rounds_and_keeps_the_task(
    fake: FakeProvider, make_settings: Callable[..., Settings], wire: str
) -> None:
    messages = agent_turn(wire, 12)  # about 12 x 420 tokens of tool rounds: three times the budget
    async with agent_proxy(fake, make_settings) as http:
        raw = await send_agent_turn(http, wire, messages)
    sent = [strip_markers(m) for m in fake.requests[-1].body["messages"] if m["role"] != "system"]  # the proxy's own
    task = messages[len(EARLIER)]
    assert sent[0] == task  # the earlier turn went; the agent's task stays first
    kept = sent[1:]
    assert kept == messages[len(messages) - len(kept) :]  # the newest rounds, whole and in order
    assert 2 <= len(kept) < len(messages) - len(EARLIER) - 1 and len(kept) % 2 == 0  # calls with their results
    assert int(raw.headers["x-layercache-truncated"]) == len(messages) - 1 - len(kept)
    assert "x-layercache-truncation" not in raw.headers  # what is left fits
    # (The fake refuses a result without its call and a conversation that does not alternate.)


async def test_the_cut_inside_an_agent_turn_moves_forward_in_steps(
    fake: FakeProvider, make_settings: Callable[..., Settings]
) -> None:
    firsts = []
    async with agent_proxy(fake, make_settings) as http:
        for rounds in range(10, 26):
            await send_agent_turn(http, "openai", agent_turn("openai", rounds))
            first_kept = fake.requests[-1].body["messages"][2]  # after the system prompt and the task
            firsts.append(first_kept["tool_calls"][0]["id"])
    steps = [int(call.removeprefix("c")) for call in firsts]
    assert steps == sorted(steps) and steps[-1] > steps[0]  # forward only
    assert len(set(steps)) <= len(steps) // 2  # each cut held for several rounds: the prefix stays cached
