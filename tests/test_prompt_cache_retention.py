"""OpenAI extended prompt cache retention ("24h"), set per model by the proxy where the model takes it."""
# On sockets: one test is the LiteLLM translation (said there); the others are in-process.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.markers.openai import takes_extended_retention
from layercache_asgi.testing import PrefixCacheSimulator, in_process, serve

from .conftest import async_openai

SYSTEM = " ".join(f"Rule {i}: check the depot log, then answer in one line." for i in range(160))
RETAIN = {"openai_prompt_cache_retention": {"gpt-4.1": "24h", "gpt-4o": "24h", "gpt-5.1": "in_memory"}}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> PrefixCacheSimulator:
    return PrefixCacheSimulator(clock=clock)


async def ask(http: httpx.AsyncClient, model: str, question: str, **extra: Any) -> Any:
    client = async_openai(http, api_key="sk-test")
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    return await client.chat.completions.create(model=model, messages=messages, **extra)  # type: ignore[arg-type]


def test_models_that_take_it() -> None:
    assert all(takes_extended_retention(m) for m in ("gpt-4.1", "gpt-5", "gpt-5.1-codex-mini", "gpt-5.5"))
    assert not any(takes_extended_retention(m) for m in ("gpt-4o", "gpt-4.1-mini", "gpt-5-mini", "o3"))


@pytest.mark.in_process
async def test_set_per_model_never_over_the_clients_value(
    fake: PrefixCacheSimulator, make_settings: Callable[..., Settings]
) -> None:
    async with in_process(fake, make_settings(caching=RETAIN)) as http:
        await ask(http, "gpt-4.1", "one")
        assert fake.requests[-1].body["prompt_cache_retention"] == "24h"
        await ask(http, "gpt-4.1", "two", extra_body={"prompt_cache_retention": "in_memory"})
        assert fake.requests[-1].body["prompt_cache_retention"] == "in_memory"  # the client's own
        await ask(http, "gpt-5.1", "three")
        assert fake.requests[-1].body["prompt_cache_retention"] == "in_memory"
        await ask(http, "gpt-4o", "four")  # configured, but the model does not take it: not sent
        assert "prompt_cache_retention" not in fake.requests[-1].body
        await ask(http, "gpt-4.1-mini", "five")  # not configured
        assert "prompt_cache_retention" not in fake.requests[-1].body


@pytest.mark.in_process
@pytest.mark.parametrize(("caching", "read_after_an_hour"), [(RETAIN, True), ({}, False)])
async def test_a_retained_prefix_is_read_an_hour_later(
    fake: PrefixCacheSimulator,
    clock: Clock,
    make_settings: Callable[..., Settings],
    caching: dict[str, Any],
    read_after_an_hour: bool,
) -> None:
    async with in_process(fake, make_settings(caching=caching)) as http:
        await ask(http, "gpt-4.1", "one")
        clock.now += 3600
        answer = await ask(http, "gpt-4.1", "two")
    cached = answer.usage.prompt_tokens_details.cached_tokens
    assert (cached > 1024) is read_after_an_hour


# On sockets: the translation is the LiteLLM path, which makes its own HTTP calls to the fake.
def test_an_anthropic_format_request_gets_it_through_the_translation(
    fake: PrefixCacheSimulator, make_settings: Callable[..., Settings]
) -> None:
    with serve(LayerCacheApp(make_settings(caching=RETAIN))) as url:
        client = anthropic.Anthropic(base_url=url, api_key="sk-test", max_retries=0)
        client.messages.create(
            model="gpt-4.1", max_tokens=20, system=SYSTEM, messages=[{"role": "user", "content": "one"}]
        )
    sent = fake.requests[-1]
    assert sent.path.endswith("/chat/completions")
    assert sent.body["prompt_cache_retention"] == "24h"
