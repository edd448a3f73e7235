"""The semantic cache on the Responses API: hits replayed as valid Responses JSON and event streams;
never a hit for requests whose meaning hangs on tools, function-call items or state held at OpenAI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve

pytestmark = pytest.mark.postgres

HEADER = "x-layercache-cache"
TOOLS: list[Any] = [{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}]


@pytest.fixture
def client(make_settings: Callable[..., Settings]) -> Iterator[openai.OpenAI]:
    with serve(LayerCacheApp(make_settings(caching={"semantic": {"enabled": True}}))) as url:
        yield openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test-client-key-1", max_retries=0)


def ask(client: openai.OpenAI, question: str, **params: Any) -> tuple[str, Any]:
    raw = client.responses.with_raw_response.create(
        model="gpt-4o-mini", instructions="You are terse.", input=question, **params
    )
    return raw.headers.get(HEADER, ""), raw.parse()


def test_paraphrase_hit_as_json_and_as_a_stream(client: openai.OpenAI, fake: FakeProvider) -> None:
    first_header, first = ask(client, "How do I reset my password?")
    second_header, second = ask(client, "What's the way to reset my password?")
    assert (first_header, second_header) == ("miss", "hit")
    assert second.output_text == first.output_text == "Echo: How do I reset my password?"
    assert second.status == "completed" and second.output[0].type == "message"
    assert second.usage is not None and second.usage.input_tokens == 0
    with client.responses.stream(
        model="gpt-4o-mini",
        instructions="You are terse.",
        input=[{"role": "user", "content": "how do i reset my password"}],
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
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
def test_no_hit_for_requests_that_depend_on_tools_or_state(
    client: openai.OpenAI, fake: FakeProvider, params: dict[str, Any]
) -> None:
    assert ask(client, "What's the weather like on Mars?", **params)[0] == "bypass"
    assert ask(client, "What's the weather like on Mars?", **params)[0] == "bypass"
    assert len(fake.requests) == 2


def test_no_hit_when_the_input_carries_function_call_items(client: openai.OpenAI, fake: FakeProvider) -> None:
    items: list[Any] = [
        {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "42"},
        {"role": "user", "content": "and what does that mean?"},
    ]
    headers = []
    for _ in range(2):
        raw = client.responses.with_raw_response.create(model="gpt-4o-mini", input=items)
        headers.append(raw.headers.get(HEADER))
    assert headers == ["bypass", "bypass"] and len(fake.requests) == 2
