"""The provider prefix-cache simulator bills like the providers (so the benchmark means something)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx
import pytest

from layercache_asgi.testing import FakeGemini, PrefixCacheSimulator
from layercache_asgi.wire._completion import Usage

from .conftest import async_anthropic, async_openai

LONG = "All answers must be precise, sourced and polite. " * 120  # ~1500 tokens
CC: dict[str, Any] = {"type": "ephemeral"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> PrefixCacheSimulator:
    return PrefixCacheSimulator(clock=clock)


def direct(app: Any) -> httpx.AsyncClient:
    """A client of a fake itself (no proxy), through its ASGI app."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://provider.test")


@pytest.fixture
async def url(sim: PrefixCacheSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with direct(sim) as client:
        yield client


def claude(url: httpx.AsyncClient) -> anthropic.AsyncAnthropic:
    return async_anthropic(url, api_key="sk-ant-sim")


async def ask(
    url: httpx.AsyncClient, system: Any, question: str = "q", model: str = "claude-sonnet-4-5", **extra: Any
) -> Any:
    messages = extra.pop("messages", [{"role": "user", "content": question}])
    answer = await claude(url).messages.create(model=model, max_tokens=10, system=system, messages=messages, **extra)
    return answer.usage


async def test_openai_reads_the_longest_stored_boundary(url: httpx.AsyncClient) -> None:
    client = async_openai(url, api_key="sk-sim")
    first = (
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "system", "content": LONG}, {"role": "user", "content": "a"}]
        )
    ).usage
    second = (
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "system", "content": LONG}, {"role": "user", "content": "b"}]
        )
    ).usage
    assert first is not None and second is not None
    assert first.prompt_tokens_details is not None and first.prompt_tokens_details.cached_tokens == 0
    cached = (second.prompt_tokens_details.cached_tokens or 0) if second.prompt_tokens_details else 0
    assert cached >= 1024 and (cached - 1024) % 128 == 0 and second.prompt_tokens - cached < 128 + 20
    short = (await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "tiny"}])).usage
    again = (await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "tiny"}])).usage
    assert short is not None and again is not None and again.prompt_tokens_details is not None
    assert again.prompt_tokens_details.cached_tokens == 0  # below 1024 tokens nothing is stored


async def test_openai_prefix_mismatch_reads_only_the_common_boundaries(url: httpx.AsyncClient) -> None:
    client = async_openai(url, api_key="sk-sim")
    tail = "x" * 4000
    await client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "system", "content": LONG + tail}, {"role": "user", "content": "a"}]
    )
    usage = (
        await client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "system", "content": LONG + "y" + tail}, {"role": "user", "content": "a"}],
        )
    ).usage
    assert usage is not None and usage.prompt_tokens_details is not None
    assert 1024 <= (usage.prompt_tokens_details.cached_tokens or 0) <= len(LONG) // 4


async def test_anthropic_writes_only_at_breakpoints(url: httpx.AsyncClient) -> None:
    assert (await ask(url, LONG)).cache_creation_input_tokens == 0
    assert (await ask(url, LONG)).cache_read_input_tokens == 0
    marked = [{"type": "text", "text": LONG, "cache_control": CC}]
    first = await ask(url, marked)
    second = await ask(url, marked, "another question")
    assert first.cache_creation_input_tokens > 1024 and first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens == 0 and second.input_tokens < 20


async def test_anthropic_minimum_depends_on_the_model(url: httpx.AsyncClient) -> None:
    marked = [{"type": "text", "text": LONG, "cache_control": CC}]
    assert (await ask(url, marked, model="claude-haiku-4-5")).cache_creation_input_tokens == 0  # 4096 minimum
    assert (await ask(url, marked, model="claude-sonnet-4-5")).cache_creation_input_tokens > 0


async def test_anthropic_lookback_is_twenty_blocks(url: httpx.AsyncClient) -> None:
    system = [{"type": "text", "text": LONG}]

    def conversation(turns: int, marked_at: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        for i in range(turns):
            messages.append({"role": "user", "content": [{"type": "text", "text": f"u{i}"}]})
            messages.append({"role": "assistant", "content": [{"type": "text", "text": f"a{i}"}]})
        messages.append({"role": "user", "content": [{"type": "text", "text": "last"}]})
        messages[marked_at]["content"][-1]["cache_control"] = CC
        return messages

    first = await ask(url, system, messages=conversation(2, 3))  # writes the prefix ending at block 1 + 4
    near = await ask(url, system, messages=conversation(12, 3 + 20))  # breakpoint 20 blocks later: found
    assert near.cache_read_input_tokens == first.cache_creation_input_tokens > 1024
    system = [{"type": "text", "text": LONG + " Other app."}]
    first = await ask(url, system, messages=conversation(2, 3))
    far = await ask(url, system, messages=conversation(14, 3 + 21))  # 21 blocks later: not found
    assert far.cache_read_input_tokens == 0 and far.cache_creation_input_tokens > first.cache_creation_input_tokens


async def test_anthropic_ttl_refreshes_on_read_and_expires(url: httpx.AsyncClient, clock: Clock) -> None:
    marked = [{"type": "text", "text": LONG, "cache_control": CC}]
    await ask(url, marked)
    clock.now += 299
    assert (await ask(url, marked)).cache_read_input_tokens > 0  # read: TTL refreshed
    clock.now += 299
    assert (await ask(url, marked)).cache_read_input_tokens > 0
    clock.now += 301
    assert (await ask(url, marked)).cache_read_input_tokens == 0


async def test_anthropic_more_than_four_breakpoints_is_a_400(url: httpx.AsyncClient) -> None:
    system = [{"type": "text", "text": f"part {i}", "cache_control": CC} for i in range(5)]
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4"):
        await ask(url, system)


async def test_entry_is_readable_only_once_the_writer_has_started(clock: Clock) -> None:
    sim = PrefixCacheSimulator(clock=__import__("time").monotonic, delay=0.3)
    marked = [{"type": "text", "text": LONG, "cache_control": CC}]
    async with direct(sim) as base:
        results: list[Any] = list(await asyncio.gather(*(ask(base, marked) for _ in range(3))))
        after = await ask(base, marked)
    assert len(results) == 3 and all(u.cache_creation_input_tokens > 0 for u in results)  # 3 writes
    assert after.cache_read_input_tokens > 0


# -- Gemini: FakeGemini bills through the simulator ------------------------------------------

GEMINI_TOOLS = [{"functionDeclarations": [{"name": "lookup", "description": "Look up a fact."}]}]


async def generate(base: httpx.AsyncClient, body: dict[str, Any], model: str = "gemini-2.5-flash") -> dict[str, Any]:
    response = await base.post(f"/models/{model}:generateContent", json=body)
    assert response.status_code == 200, response.text
    usage: dict[str, Any] = response.json()["usageMetadata"]
    return usage


def inline(question: str, system: str = LONG) -> dict[str, Any]:
    return {
        "system_instruction": {"parts": [{"text": system}]},
        "tools": GEMINI_TOOLS,
        "contents": [{"role": "user", "parts": [{"text": question}]}],
    }


@pytest.fixture
def gemini(sim: PrefixCacheSimulator, clock: Clock) -> FakeGemini:
    return FakeGemini(billing=sim, clock=clock)


@pytest.fixture
async def gemini_url(gemini: FakeGemini) -> AsyncIterator[httpx.AsyncClient]:
    async with direct(gemini) as client:
        yield client


async def test_gemini_explicit_cache_creation_is_a_write_and_requests_read_all_of_it(
    gemini_url: httpx.AsyncClient, sim: PrefixCacheSimulator
) -> None:
    created = (
        await gemini_url.post(
            "/cachedContents",
            json={
                "model": "models/gemini-2.0-flash",  # no implicit caching: only the explicit read shows
                "systemInstruction": {"parts": [{"text": LONG * 2}]},  # above 2.0's minimum (2048 here)
                "tools": GEMINI_TOOLS,
                "ttl": "600s",
            },
        )
    ).json()
    tokens = created["usageMetadata"]["totalTokenCount"]
    assert tokens > 2048
    assert sim.usages[-1] == ("gemini-cache", Usage(cache_write=tokens))
    assert sim.gemini_storage_token_hours == pytest.approx(tokens * 600 / 3600)
    body = {"cachedContent": created["name"], "contents": [{"role": "user", "parts": [{"text": "q"}]}]}
    first = await generate(gemini_url, body, model="gemini-2.0-flash")
    second = await generate(gemini_url, body, model="gemini-2.0-flash")
    assert first["cachedContentTokenCount"] == second["cachedContentTokenCount"] == tokens
    assert first["promptTokenCount"] > tokens  # promptTokenCount includes the cached tokens
    assert first["cacheTokensDetails"] == [{"modality": "TEXT", "tokenCount": tokens}]


async def test_gemini_explicit_cache_below_the_minimum_is_refused(
    gemini_url: httpx.AsyncClient, gemini: FakeGemini
) -> None:
    response = await gemini_url.post(
        "/cachedContents",
        json={"model": "models/gemini-2.5-pro", "systemInstruction": {"parts": [{"text": LONG}]}},
    )
    assert response.status_code == 400 and "too small" in response.json()["error"]["message"]  # 2.5 Pro: 4096
    assert gemini.creations == 0


async def test_gemini_implicit_cache_reads_a_seen_prefix_on_25_models_only(gemini_url: httpx.AsyncClient) -> None:
    assert "cachedContentTokenCount" not in await generate(gemini_url, inline("a"))
    second = await generate(gemini_url, inline("b"))
    assert second["cachedContentTokenCount"] > 1024
    assert second["promptTokenCount"] - second["cachedContentTokenCount"] < 20  # all but the question
    await generate(gemini_url, inline("a"), model="gemini-2.0-flash")
    assert "cachedContentTokenCount" not in await generate(gemini_url, inline("b"), model="gemini-2.0-flash")
    await generate(gemini_url, inline("a", system="Be brief."))
    assert "cachedContentTokenCount" not in await generate(gemini_url, inline("b", system="Be brief."))  # < 1024


async def test_gemini_implicit_cache_matches_exact_prefixes_whatever_the_field_spelling(
    gemini_url: httpx.AsyncClient,
) -> None:
    await generate(gemini_url, inline("a"))
    camel = inline("b")
    camel["systemInstruction"] = camel.pop("system_instruction")
    assert (await generate(gemini_url, camel))["cachedContentTokenCount"] > 1024
    assert "cachedContentTokenCount" not in await generate(gemini_url, inline("c", system=LONG + " "))


async def test_gemini_implicit_cache_stacks_on_the_explicit_one(gemini_url: httpx.AsyncClient) -> None:
    name = (
        await gemini_url.post(
            "/cachedContents",
            json={"model": "models/gemini-2.5-flash", "systemInstruction": {"parts": [{"text": LONG}]}},
        )
    ).json()["name"]
    history = [
        {"role": "user", "parts": [{"text": "first question " * 50}]},
        {"role": "model", "parts": [{"text": "first answer " * 50}]},
    ]
    first = await generate(gemini_url, {"cachedContent": name, "contents": history})
    grown = [*history, {"role": "user", "parts": [{"text": "second question"}]}]
    second = await generate(gemini_url, {"cachedContent": name, "contents": grown})
    assert second["cachedContentTokenCount"] == first["promptTokenCount"] > first["cachedContentTokenCount"]


async def test_gemini_implicit_entries_expire(gemini_url: httpx.AsyncClient, clock: Clock) -> None:
    await generate(gemini_url, inline("a"))
    clock.now += 299
    assert (await generate(gemini_url, inline("b")))["cachedContentTokenCount"] > 0  # read: lifetime refreshed
    clock.now += 301
    assert "cachedContentTokenCount" not in await generate(gemini_url, inline("c"))


async def test_gemini_implicit_entry_is_readable_only_once_the_writer_has_started() -> None:
    gemini = FakeGemini(delay=0.3)
    async with direct(gemini) as base:
        results = list(await asyncio.gather(*(generate(base, inline("q")) for _ in range(3))))
        after = await generate(base, inline("q"))
    assert len(results) == 3 and all("cachedContentTokenCount" not in u for u in results)
    assert after["cachedContentTokenCount"] > 1024
