"""The ``lc_*`` request fields as ``x-layercache-*`` headers, for clients that cannot add body fields."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from layercache_asgi.enhancements._builtin import CHAIN_OF_THOUGHT
from layercache_asgi.testing import FakeProvider

from .conftest import async_anthropic, async_openai

pytestmark = pytest.mark.in_process

SYSTEM = "You are a meticulous assistant. " * 400  # above every minimum cacheable prefix
MESSAGES: Any = [{"role": "user", "content": "what is 2+2"}]


def _marked(body: dict[str, Any]) -> bool:
    return "cache_control" in json.dumps(body)


async def test_bypass_header_skips_markers_and_never_goes_upstream(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    client = async_anthropic(http)
    await client.messages.create(model="claude-sonnet-4-6", max_tokens=8, system=SYSTEM, messages=MESSAGES)
    assert _marked(fake.requests[-1].body)

    headed = async_anthropic(http, default_headers={"x-layercache-bypass-cache": "true"})
    await headed.messages.create(model="claude-sonnet-4-6", max_tokens=8, system=SYSTEM, messages=MESSAGES)
    sent = fake.requests[-1]
    assert not _marked(sent.body)
    assert not [h for h in sent.headers if h.startswith("x-layercache")]


async def test_the_body_wins_over_the_header(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    client = async_anthropic(http, default_headers={"x-layercache-bypass-cache": "1"})
    await client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=8,
        system=SYSTEM,
        messages=MESSAGES,
        extra_body={"lc_bypass_cache": False},
    )
    assert _marked(fake.requests[-1].body)


async def test_enhancements_header_takes_names(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    client = async_openai(http, default_headers={"x-layercache-enhancements": "chain_of_thought"})
    await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert CHAIN_OF_THOUGHT in json.dumps(fake.requests[-1].body["messages"][-1])


async def test_bad_header_values_are_a_400_naming_the_header(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    body = {"model": "gpt-4o", "messages": MESSAGES}
    cases = {
        "x-layercache-cache-ttl": "-5",
        "x-layercache-skip-semantic-cache": "maybe",
        "x-layercache-layer-hints": "{not json",
        "x-layercache-enhancements": "no_such_enhancement",
    }
    for header, value in cases.items():
        response = await http.post("/v1/chat/completions", json=body, headers={header: value})
        assert response.status_code == 400, (header, response.text)
        error = response.json()["error"]
        assert header in error["message"] or header == "x-layercache-enhancements", error
        assert "no_such_enhancement" in error["message"] or header != "x-layercache-enhancements"
    assert fake.requests == []
