"""Markers only where reads pay for the write premium: one-shot prefixes go unmarked, families
that repeat (a second request, a session, a template, requests in flight) are marked."""
# On sockets: the Gemini tests (Gemini is the LiteLLM path, which opens its own connections); the rest run in-process.

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.markers.anthropic import count_markers
from layercache_asgi.testing import FakeGemini, PrefixCacheSimulator, in_process, serve

from .conftest import ADMIN, async_anthropic, client_with

MODEL = "claude-sonnet-4-5"
CC = {"type": "ephemeral"}


def document(index: int) -> str:
    """About 3,000 tokens nobody else sends: a document to summarise."""
    return "\n".join(
        f"Report {index}, section {j}: depot {index} moved {index * 31 + j} parcels; {j % 7} arrived late."
        for j in range(130)
    )


@pytest.fixture
def fake() -> PrefixCacheSimulator:  # overrides conftest's: the proxy's upstream bills like Anthropic
    return PrefixCacheSimulator()


@pytest.fixture
def claude(http: httpx.AsyncClient) -> anthropic.AsyncAnthropic:
    return async_anthropic(http, api_key="sk-ant-test-key-1", timeout=30)


async def summarise(
    client: anthropic.AsyncAnthropic, system: str, question: str = "Summarise it.", **extra: Any
) -> Any:
    return await client.messages.with_raw_response.create(
        model=MODEL, max_tokens=50, system=system, messages=[{"role": "user", "content": question}], **extra
    )


def billed(fake: PrefixCacheSimulator) -> list[tuple[int, int, int]]:
    """(uncached, write, read) of every request the fake answered."""
    return [(u.uncached_input, u.cache_write, u.cache_read) for _, u in fake.usages]


async def one_shots(client: anthropic.AsyncAnthropic, count: int, start: int = 0) -> list[Any]:
    return [await summarise(client, document(start + i)) for i in range(count)]


@pytest.mark.in_process
async def test_one_shot_traffic_costs_what_direct_costs(
    fake: PrefixCacheSimulator, claude: anthropic.AsyncAnthropic
) -> None:
    answers = await one_shots(claude, 20)
    # A fresh proxy has no evidence yet: its prior (1 in 4 new prefixes comes back) marks the first.
    assert [a.headers["x-layercache-markers"] for a in answers[1:]] == ["deferred"] * 19
    assert all(count_markers(r.body) == 0 for r in fake.requests[1:])
    writes = [w for _, w, _ in billed(fake)]
    assert writes[1:] == [0] * 19  # the fake bills no write for any of them
    uncached = sum(u for u, _, _ in billed(fake))
    cost = uncached + 1.25 * sum(writes)
    assert cost <= 1.02 * (uncached + sum(writes))


@pytest.mark.in_process
async def test_the_second_request_of_a_family_is_marked(
    fake: PrefixCacheSimulator, claude: anthropic.AsyncAnthropic
) -> None:
    await one_shots(claude, 3)
    first = await summarise(claude, document(100), "Summarise it.")
    second = await summarise(claude, document(100), "List the late parcels.")
    third = await summarise(claude, document(100), "Which depot is busiest?")
    assert first.headers["x-layercache-markers"] == "deferred"
    assert second.headers["x-layercache-markers"] == third.headers["x-layercache-markers"] == "repeats"
    assert count_markers(fake.requests[-3].body) == 0 and count_markers(fake.requests[-2].body) >= 1
    (_, w1, r1), (_, w2, _), (_, w3, r3) = billed(fake)[-3:]
    assert (w1, r1) == (0, 0)  # one read missed for the family, no write paid for nothing
    assert w2 > 2000 and w3 == 0 and r3 == w2


@pytest.mark.in_process
async def test_a_sessions_second_turn_is_marked(fake: PrefixCacheSimulator, claude: anthropic.AsyncAnthropic) -> None:
    await one_shots(claude, 3)
    system = document(200)
    turn1: Any = [{"role": "user", "content": "What happened in section 3?"}]
    first = await claude.messages.with_raw_response.create(model=MODEL, max_tokens=50, system=system, messages=turn1)
    turn2 = [*turn1, {"role": "assistant", "content": "Parcels moved."}, {"role": "user", "content": "And 4?"}]
    second = await claude.messages.with_raw_response.create(model=MODEL, max_tokens=50, system=system, messages=turn2)
    assert first.headers["x-layercache-markers"] == "deferred"
    assert second.headers["x-layercache-markers"] == "session"
    body = fake.requests[-1].body
    assert body["messages"][1]["content"][-1]["cache_control"] == CC  # the end of L2: the next turn reads it


@pytest.mark.in_process
async def test_a_template_request_is_marked(
    fake: PrefixCacheSimulator, http: httpx.AsyncClient, claude: anthropic.AsyncAnthropic
) -> None:
    await one_shots(claude, 3)
    template = {"name": "reports", "system": document(300), "context": "Answer in one line."}
    api = client_with(http, "/v1/prompts/", headers=ADMIN, timeout=30)
    assert (await api.post("templates", json=template)).status_code in (200, 201)
    answer = await claude.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=50,
        messages=[{"role": "user", "content": "Summarise it."}],
        extra_body={"lc_template": "reports"},
    )
    assert answer.headers["x-layercache-markers"] == "template"
    assert count_markers(fake.requests[-1].body) >= 1
    assert billed(fake)[-1][1] > 2000


async def concurrently(client: anthropic.AsyncAnthropic, system: str, n: int) -> list[Any]:
    return list(await asyncio.gather(*(summarise(client, system, f"sub-task {i}") for i in range(n))))


@pytest.mark.in_process
async def test_concurrent_requests_sharing_a_new_prefix_are_marked(
    fake: PrefixCacheSimulator, claude: anthropic.AsyncAnthropic
) -> None:
    await one_shots(claude, 3)  # the prior now says "new prefixes do not come back": the first one is deferred
    fake.delay = 0.3
    answers = await concurrently(claude, document(400), 8)
    usages = [(await a.parse()).usage for a in answers]
    writes = sum(1 for u in usages if u.cache_creation_input_tokens)
    reads = sum(1 for u in usages if u.cache_read_input_tokens)
    decisions = sorted(a.headers["x-layercache-markers"] for a in answers)
    # Whoever was alone at arrival waited for nothing; the rest were marked and gated behind one writer.
    assert writes == 1 and reads >= 6 and writes + reads >= 7
    assert decisions.count("deferred") <= 1


@pytest.mark.in_process
async def test_marking_everything_is_still_available(
    fake: PrefixCacheSimulator, make_settings: Callable[..., Settings]
) -> None:
    async with in_process(fake, make_settings(caching={"mark_only_when_reused": False})) as http:
        answers = await one_shots(async_anthropic(http, api_key="sk-ant-test-key-1"), 3)
    assert [a.headers["x-layercache-markers"] for a in answers] == ["always"] * 3
    assert all(w > 2000 for _, w, _ in billed(fake))


# -- Gemini: a CachedContent (input price plus storage per hour) only for a family that repeats ----


@pytest.fixture
def gemini() -> FakeGemini:
    return FakeGemini()


@pytest.fixture
def gemini_proxy(gemini: FakeGemini, make_settings: Callable[..., Settings]) -> Iterator[str]:
    with serve(gemini) as g, serve(LayerCacheApp(make_settings(providers={"gemini": {"api_base": g}}))) as url:
        yield url


def test_gemini_gives_a_new_family_a_short_cached_content_and_extends_it_when_it_comes_back(
    gemini: FakeGemini, gemini_proxy: str
) -> None:
    client = openai.OpenAI(base_url=f"{gemini_proxy}/v1", api_key="AIzaTestKey1234567890", max_retries=0)

    def ask(system: str, question: str) -> Any:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": question}]
        return client.chat.completions.with_raw_response.create(model="gemini/gemini-2.5-flash", messages=messages)  # type: ignore[arg-type]

    # A new family comes back 1 time in 4 (the prior): worth three minutes of storage, not an hour.
    assert ask(document(1), "Summarise it.").headers["x-layercache-markers"] == "trial"
    created = [r.body for r in gemini.requests if r.path.endswith("/cachedContents")]
    assert gemini.creations == 1 and created[0]["ttl"] == "180s"
    second = ask(document(1), "Which depot is busiest?")  # it came back: extended to the configured hour
    assert second.headers["x-layercache-markers"] == "repeats"
    assert (gemini.creations, gemini.extensions) == (1, 1)
    ask(document(1), "And the quietest?")
    assert (gemini.creations, gemini.extensions) == (1, 1)  # extended once
    # One-shot traffic: the prior falls, and neither an hour nor three minutes pay any more.
    for i in range(2, 6):
        ask(document(i), "Summarise it.")
    assert ask(document(9), "Summarise it.").headers["x-layercache-markers"] == "deferred"
    assert gemini.extensions == 1
