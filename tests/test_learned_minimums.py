"""Minimum prefix sizes learned per model from the usage the provider bills, stored, shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from layercache_asgi import Settings
from layercache_asgi.markers.anthropic import count_markers
from layercache_asgi.prompt._learned_minimums import LearnedMinimums, probe_floor
from layercache_asgi.testing import PrefixCacheSimulator, in_process
from layercache_asgi.wire._completion import Usage

from .conftest import ADMIN_KEY, async_anthropic, client_with

pytestmark = [pytest.mark.postgres, pytest.mark.in_process]

# About 1,500 tokens: above a 1024 minimum, below a 2048 one.
SYSTEM = " ".join(f"Rule {i}: check the depot log, then answer in one line." for i in range(105))
LONG = " ".join(f"Rule {i}: check the depot log, then answer in one line." for i in range(300))
HEADER = "x-layercache-prefix-below-minimum"


@pytest.fixture
def fake() -> PrefixCacheSimulator:
    # Published 1024 and 2048; what this fake provider really caches from: 2048 and 1024.
    return PrefixCacheSimulator(real_minimums={"claude-sonnet-4-5": 2048, "claude-sonnet-4-6": 1024})


async def ask(http: httpx.AsyncClient, model: str, question: str, system: str = SYSTEM) -> Any:
    client = async_anthropic(http, api_key="sk-ant-test-key-1")
    return await client.messages.with_raw_response.create(
        model=model, max_tokens=20, system=system, messages=[{"role": "user", "content": question}]
    )


async def test_a_marked_prefix_that_wrote_nothing_raises_the_minimum(
    fake: PrefixCacheSimulator, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    async with in_process(fake, settings) as http:
        await ask(
            http, "claude-sonnet-4-5", "warm", system=LONG
        )  # the model reports cache usage (3,700 tokens written)
        assert fake.usages[-1][1].cache_write > 2048
        assert (await ask(http, "claude-sonnet-4-5", "zero")).headers[
            "x-layercache-markers"
        ] == "deferred"  # a new family
        first = await ask(http, "claude-sonnet-4-5", "one")
        assert HEADER not in first.headers  # the table says 1024: marked
        assert count_markers(fake.requests[-1].body) >= 1
        assert fake.usages[-1][1].cache_write == 0  # the provider cached nothing
        second = await ask(http, "claude-sonnet-4-5", "two")
    tokens, minimum = second.headers[HEADER].split("/")
    assert minimum == "2048" and 1024 <= int(tokens) < 2048
    async with in_process(fake, settings) as http:  # stored: a restart starts from what was learned
        assert (await ask(http, "claude-sonnet-4-5", "three")).headers[HEADER].endswith("/2048")


async def test_a_probe_below_the_minimum_that_wrote_lowers_it(
    fake: PrefixCacheSimulator, make_settings: Callable[..., Settings]
) -> None:
    async with in_process(fake, make_settings()) as http:
        first = await ask(http, "claude-sonnet-4-6", "one")
        assert first.headers[HEADER].endswith("/2048")  # the table's value
        assert count_markers(fake.requests[-1].body) >= 1  # marked anyway: a probe one step below
        assert fake.usages[-1][1].cache_write > 1024
        second = await ask(http, "claude-sonnet-4-6", "two")
        assert HEADER not in second.headers
        assert fake.usages[-1][1].cache_read > 1024
        dashboard = client_with(http, follow_redirects=True)
        page = await dashboard.get("/dashboard/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        await dashboard.post("/dashboard/login", data={"key": ADMIN_KEY, "csrf_token": token})
        models = (await dashboard.get("/dashboard/models")).text
    learned = models.split("Minimum cacheable prefix, learned")[1]
    row = learned.split("<code>claude-sonnet-4-6</code>")[1].split("</tr>")[0]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[1:5]] == ["2,048", "1,024", "0", "1"]


async def test_no_raise_from_a_provider_that_never_reports_cache_usage(make_settings: Callable[..., Settings]) -> None:
    quiet = PrefixCacheSimulator()
    quiet.usage_for = lambda wire, body, completion: Usage(uncached_input=1500, output=5)  # type: ignore[method-assign]
    async with in_process(quiet, make_settings()) as http:
        await ask(http, "claude-sonnet-4-5", "one")
        assert HEADER not in (await ask(http, "claude-sonnet-4-5", "two")).headers


async def test_a_configured_minimum_wins_over_learning(
    fake: PrefixCacheSimulator, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(caching={"min_prefix_tokens": {"claude-sonnet-4-5": 1000}})
    async with in_process(fake, settings) as http:
        await ask(http, "claude-sonnet-4-5", "one")
        assert HEADER not in (await ask(http, "claude-sonnet-4-5", "two")).headers


def test_moves_are_by_steps_and_bounded() -> None:
    learned = LearnedMinimums()
    nothing = Usage(uncached_input=3000)
    assert learned.observe("anthropic", "m", 1024, 1500, nothing) is None  # no cache usage seen yet from "m"
    learned.observe("anthropic", "m", 1024, 3000, Usage(cache_write=3000))
    assert learned.observe("anthropic", "m", 1024, 1500, nothing) is not None
    assert learned.get("anthropic", "m") == 2048
    assert learned.observe("anthropic", "m", 1024, 1500, nothing) is None  # below the minimum: no evidence
    learned.observe("anthropic", "m", 1024, 9000, nothing)
    assert learned.get("anthropic", "m") == 8192  # the upper bound
    learned.observe("anthropic", "m", 1024, 300, Usage(uncached_input=10, cache_write=300))
    assert learned.get("anthropic", "m") == 512  # the lower bound
    assert learned.observe("anthropic", "m", 1024, 600, Usage(cache_write=600)) is None  # it wrote: as expected
    assert (probe_floor(2048), probe_floor(1024), probe_floor(512)) == (1024, 512, 512)


def test_a_configured_minimum_wins_after_the_table_was_asked() -> None:
    from layercache_asgi.prompt._prefix_minimums import min_prefix_tokens

    assert min_prefix_tokens("anthropic", "claude-sonnet-4-5") == 1024  # the table's answer, now kept
    assert min_prefix_tokens("anthropic", "claude-sonnet-4-5", {"claude-sonnet-4-5": 2048}) == 2048
    assert min_prefix_tokens("anthropic", "claude-sonnet-4-5", {"claude-sonnet": 3000}) == 3000
    assert min_prefix_tokens("anthropic", "claude-sonnet-4-5", {}) == 1024
    assert min_prefix_tokens("openai", "gpt-4o") == 1024 and min_prefix_tokens("mistral", "x") is None
