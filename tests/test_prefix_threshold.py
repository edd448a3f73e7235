"""Prefix threshold: below the provider's minimum cacheable prefix, say so (header, log, note)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import pytest

from layercache_asgi import Settings
from layercache_asgi.prompt._prefix_minimums import min_prefix_tokens
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import async_openai

pytestmark = pytest.mark.in_process

HEADER = "x-layercache-prefix-below-minimum"
LONG_SYSTEM = " ".join(f"Rule {i}: answer precisely and cite the source document." for i in range(150))


def test_minimums_table() -> None:
    assert min_prefix_tokens("anthropic", "claude-sonnet-4-5-20250929") == 1024
    assert min_prefix_tokens("anthropic", "claude-sonnet-4-6") == 2048
    assert min_prefix_tokens("anthropic", "claude-3-5-haiku-latest") == 2048
    assert min_prefix_tokens("anthropic", "claude-opus-4-5") == 4096
    assert min_prefix_tokens("anthropic", "claude-opus-4-1") == 1024
    assert min_prefix_tokens("anthropic", "claude-haiku-4-5") == 4096
    assert min_prefix_tokens("openai", "gpt-4o") == 1024
    assert min_prefix_tokens("gemini", "gemini-2.5-pro") == 4096
    assert min_prefix_tokens("deepseek", "deepseek-chat") is None


def test_config_extends_and_overrides_the_table() -> None:
    overrides = {"claude-sonnet-4-5": 512, "my-route": 10, "deepseek/deepseek-chat": 64}
    assert min_prefix_tokens("anthropic", "claude-sonnet-4-5-20250929", overrides) == 512
    assert min_prefix_tokens("openai", "gpt-4o", overrides, alias="my-route") == 10
    assert min_prefix_tokens("deepseek", "deepseek-chat", overrides) == 64


async def test_short_prefix_gets_the_header(aanthropic: anthropic.AsyncAnthropic) -> None:
    raw = await aanthropic.messages.with_raw_response.create(
        model="claude-sonnet-4-5", max_tokens=20, system="Be brief.", messages=[{"role": "user", "content": "hi"}]
    )
    tokens, minimum = raw.headers[HEADER].split("/")
    assert 0 < int(tokens) < 1024 and minimum == "1024"


async def test_long_prefix_has_no_header(aanthropic: anthropic.AsyncAnthropic) -> None:
    async def headers(system: str) -> Any:
        return (
            await aanthropic.messages.with_raw_response.create(
                model="claude-sonnet-4-5", max_tokens=20, system=system, messages=[{"role": "user", "content": "hi"}]
            )
        ).headers

    # The stage is checking this model (a short prefix is flagged) ...
    assert (await headers("Be brief."))[HEADER].endswith("/1024")
    # ... and a prefix above the minimum passes unflagged.
    assert HEADER not in await headers(LONG_SYSTEM)


async def test_minimum_depends_on_the_model(aanthropic: anthropic.AsyncAnthropic) -> None:
    raw = await aanthropic.messages.with_raw_response.create(
        model="claude-haiku-4-5", max_tokens=20, system=LONG_SYSTEM, messages=[{"role": "user", "content": "hi"}]
    )
    tokens, minimum = raw.headers[HEADER].split("/")
    assert 1024 <= int(tokens) < 4096 and minimum == "4096"


async def test_config_override_through_the_proxy(make_settings: Callable[..., Settings], fake: FakeProvider) -> None:
    settings = make_settings(caching={"min_prefix_tokens": {"gpt-4o": 5, "gpt-4.1": 5000}})
    async with in_process(fake, settings) as http:
        client = async_openai(http, api_key="sk-test-key-123456")

        async def headers(model: str, system: str) -> Any:
            messages: Any = [{"role": "system", "content": system}, {"role": "user", "content": "hi"}]
            return (await client.chat.completions.with_raw_response.create(model=model, messages=messages)).headers

        short = "Be brief, be kind."
        assert headers_minimum(await headers("gpt-5", short)) == "1024"  # the table, no override
        assert HEADER not in await headers("gpt-4o", short)  # lowered to 5: a short prefix is enough
        assert headers_minimum(await headers("gpt-4.1", LONG_SYSTEM)) == "5000"  # raised above a long one


def headers_minimum(headers: Any) -> str:
    return str(headers[HEADER].split("/")[1])


async def test_no_prefix_at_all_is_not_reported(aanthropic: anthropic.AsyncAnthropic) -> None:
    # A lone question has nothing to cache; flagging it on every call would drown real warnings.
    raw = await aanthropic.messages.with_raw_response.create(
        model="claude-sonnet-4-5", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
    )
    assert HEADER not in raw.headers
    # The same request with a short system prompt is flagged: the stage ran and chose not to report.
    raw = await aanthropic.messages.with_raw_response.create(
        model="claude-sonnet-4-5", max_tokens=20, system="Be brief.", messages=[{"role": "user", "content": "hi"}]
    )
    assert HEADER in raw.headers
