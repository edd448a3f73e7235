"""Anthropic's automatic caching (a top-level ``cache_control``): the fake honours it, the proxy
counts it toward the 4 breakpoints, adds its own markers where they cost nothing more, and
drops it where it would only write the proxy's enhancements."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest

from layercache_asgi.markers.anthropic import count_markers
from layercache_asgi.testing import PrefixCacheSimulator

from .conftest import async_anthropic

pytestmark = pytest.mark.in_process

CC = {"type": "ephemeral"}
MODEL = "claude-sonnet-4-5"
SYSTEM = " ".join(f"Rule {i}: check the depot log, then answer in one line." for i in range(160))


@pytest.fixture
def fake() -> PrefixCacheSimulator:
    return PrefixCacheSimulator()


def client(http: httpx.AsyncClient) -> anthropic.AsyncAnthropic:
    return async_anthropic(http, api_key="sk-ant-test-key-1")


def conversation(turns: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for i in range(turns):
        messages += [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"}]
    return [*messages, {"role": "user", "content": f"question {turns}"}]


async def test_the_fake_puts_the_automatic_breakpoint_on_the_last_block(fake: PrefixCacheSimulator) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake), base_url="http://provider.test") as direct:
        api = client(direct)
        for turns in (1, 2):
            await api.messages.create(
                model=MODEL,
                max_tokens=20,
                system=SYSTEM,
                messages=conversation(turns),  # type: ignore[arg-type]
                extra_body={"cache_control": CC},
            )
        await api.messages.create(model=MODEL, max_tokens=20, system=SYSTEM, messages=conversation(3))  # type: ignore[arg-type]
    (first, second, plain) = [u for _, u in fake.usages]
    assert first.cache_write == first.input_total and first.uncached_input == 0  # everything through the last block
    assert second.cache_read == first.input_total  # the breakpoint moved; the lookback found the last one
    assert second.cache_write > 0
    assert plain.cache_read == plain.cache_write == 0  # without the field (and no markers) nothing is cached


async def test_the_proxy_counts_it_and_never_exceeds_four(fake: PrefixCacheSimulator, http: httpx.AsyncClient) -> None:
    marked = [
        {"role": "user", "content": [{"type": "text", "text": f"doc {i}", "cache_control": CC}]} for i in range(3)
    ]
    messages: list[Any] = []
    for m in marked:
        messages += [m, {"role": "assistant", "content": "ok"}]
    messages.append({"role": "user", "content": "newest"})
    answer = await client(http).messages.create(
        model=MODEL, max_tokens=20, system=SYSTEM, messages=messages, extra_body={"cache_control": CC}
    )
    assert answer.content  # the strict fake answers 400 above 4
    assert count_markers(fake.requests[-1].body) == 4  # the client's 3 and the automatic one: none added


async def test_layer_markers_before_it_are_added_for_a_one_shot_prefix(
    fake: PrefixCacheSimulator, http: httpx.AsyncClient
) -> None:
    api = client(http)
    for i in range(3):  # the proxy learns that new prefixes do not come back
        await api.messages.create(model=MODEL, max_tokens=20, system=f"{i} {SYSTEM}", messages=conversation(0))  # type: ignore[arg-type]
    raw = await api.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=20,
        system=f"new {SYSTEM}",
        messages=conversation(0),  # type: ignore[arg-type]
        extra_body={"cache_control": CC},
    )
    assert raw.headers["x-layercache-markers"] == "deferred"
    body = fake.requests[-1].body
    assert body["cache_control"] == CC  # the client's choice stands
    assert body["system"][-1]["cache_control"] == CC  # free: the automatic one writes past it anyway
    assert fake.usages[-1][1].cache_write == fake.usages[-1][1].input_total


async def test_it_is_dropped_when_it_would_write_the_proxys_enhancements(
    fake: PrefixCacheSimulator, http: httpx.AsyncClient
) -> None:
    api = client(http)
    for turns in (1, 2):
        await api.messages.create(
            model=MODEL,
            max_tokens=20,
            system=SYSTEM,
            messages=conversation(turns),  # type: ignore[arg-type]
            extra_body={"cache_control": CC, "lc_enhancements": ["chain_of_thought"]},
        )
    first, second = (r.body for r in fake.requests[-2:])
    assert "cache_control" not in first and "cache_control" not in second
    assert first["messages"][1]["content"][-1]["cache_control"] == CC  # the end of L2 instead
    usage = fake.usages[-1][1]
    assert usage.cache_read >= fake.usages[-2][1].cache_write > 0  # turn 2 reads what turn 1 wrote
