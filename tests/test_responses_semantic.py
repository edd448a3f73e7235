"""The semantic cache on the Responses API: hits replayed as valid Responses JSON and event streams;
never a hit for requests whose meaning hangs on tools, function-call items or state held at OpenAI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import openai
import pytest

from layercache_asgi import Settings
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import async_openai

pytestmark = [pytest.mark.postgres, pytest.mark.in_process]

HEADER = "x-layercache-cache"
TOOLS: list[Any] = [{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}]


@pytest.fixture
async def client(make_settings: Callable[..., Settings], fake: FakeProvider) -> AsyncIterator[openai.AsyncOpenAI]:
    async with in_process(fake, make_settings(caching={"semantic": {"enabled": True}})) as http:
        yield async_openai(http)


async def ask(client: openai.AsyncOpenAI, question: str, **params: Any) -> tuple[str, Any]:
    raw = await client.responses.with_raw_response.create(
        model="gpt-4o-mini", instructions="You are terse.", input=question, **params
    )
    return raw.headers.get(HEADER, ""), raw.parse()


async def test_paraphrase_hit_as_json_and_as_a_stream(client: openai.AsyncOpenAI, fake: FakeProvider) -> None:
    first_header, first = await ask(client, "How do I reset my password?")
    second_header, second = await ask(client, "What's the way to reset my password?")
    assert (first_header, second_header) == ("miss", "hit")
    assert second.output_text == first.output_text == "Echo: How do I reset my password?"
    assert second.status == "completed" and second.output[0].type == "message"
    assert second.usage is not None and second.usage.input_tokens == 0
    async with client.responses.stream(
        model="gpt-4o-mini",
        instructions="You are terse.",
        input=[{"role": "user", "content": "how do i reset my password"}],
    ) as stream:
        events = [event async for event in stream]
        final = await stream.get_final_response()
    assert final.output_text == "Echo: How do I reset my password?"
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds and "response.content_part.done" in kinds
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert len([r for r in fake.requests if r.path.endswith("/responses")]) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"tools": TOOLS},
        {"previous_response_id": "resp_abc"},
        {"store": True, "conversation": "conv_123"},
    ],
)
async def test_no_hit_for_requests_that_depend_on_tools_or_state(
    client: openai.AsyncOpenAI, fake: FakeProvider, params: dict[str, Any]
) -> None:
    assert (await ask(client, "What's the weather like on Mars?", **params))[0] == "bypass"
    assert (await ask(client, "What's the weather like on Mars?", **params))[0] == "bypass"
    assert len(fake.requests) == 2


async def test_no_hit_when_the_input_carries_function_call_items(
    client: openai.AsyncOpenAI, fake: FakeProvider
) -> None:
    items: list[Any] = [
        {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "42"},
        {"role": "user", "content": "and what does that mean?"},
    ]
    headers = []
    for _ in range(2):
        raw = await client.responses.with_raw_response.create(model="gpt-4o-mini", input=items)
        headers.append(raw.headers.get(HEADER))
    assert headers == ["bypass", "bypass"] and len(fake.requests) == 2
