"""Answers translated by LiteLLM look like the provider's own, JSON and streamed, on all three wires.

Each translated answer is parsed with the official SDK's models and compared with a native
answer (the fast path to the fake provider): the same keys, and nothing the SDK's types do
not define (``__pydantic_extra__`` empty at every level).
"""
# On sockets: answers translated by LiteLLM, which makes its own HTTP calls.

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pydantic

from layercache_asgi import Completion, LayerCacheApp, Settings, Usage
from layercache_asgi.testing import FakeProvider, serve

from ._metrics import requests_of, summary, wait_for

MESSAGES: Any = [{"role": "user", "content": "hello"}]
LITELLM_FIELDS = ("provider_specific_fields", "thinking_blocks", "reasoning_content", "iterations", '"cost"')


def extras(obj: object, path: str = "") -> list[str]:
    """Where ``obj`` carries keys its SDK model does not define."""
    found: list[str] = []
    if isinstance(obj, pydantic.BaseModel):
        found += [f"{path}.{key}" for key in obj.__pydantic_extra__ or {}]
        for name in type(obj).model_fields:
            found += extras(getattr(obj, name), f"{path}.{name}")
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            found += extras(item, f"{path}[{i}]")
    return found


def keys(model: pydantic.BaseModel) -> set[str]:
    return set(model.model_dump().keys())


def no_litellm_fields(raw: str) -> None:
    for name in LITELLM_FIELDS:
        assert name not in raw, name


def test_anthropic_json_from_gpt(anthropic_client: anthropic.Anthropic) -> None:
    native = anthropic_client.messages.create(model="claude-haiku-4-5", max_tokens=20, messages=MESSAGES)
    raw = anthropic_client.messages.with_raw_response.create(model="openai/gpt-4o", max_tokens=20, messages=MESSAGES)
    translated = raw.parse()
    assert translated.id.startswith("msg_") and translated.content[0].type == "text"
    assert extras(translated) == []
    assert keys(translated) == keys(native)
    assert keys(translated.usage) == keys(native.usage)
    assert keys(translated.content[0]) == keys(native.content[0])
    # LiteLLM sends a null ``stop_details``; the API sends it only with a refusal.
    assert "stop_details" not in json.loads(raw.http_response.text)
    no_litellm_fields(raw.http_response.text)


def test_anthropic_stream_from_gpt(anthropic_client: anthropic.Anthropic) -> None:
    def events(model: str) -> list[Any]:
        return list(anthropic_client.messages.create(model=model, max_tokens=20, messages=MESSAGES, stream=True))

    native, translated = events("claude-haiku-4-5"), events("openai/gpt-4o")
    assert [e.type for e in translated] == [e.type for e in native]
    assert [extras(e) for e in translated] == [[] for _ in translated]
    assert [keys(e) for e in translated] == [keys(e) for e in native]
    assert translated[0].message.id.startswith("msg_")


def test_anthropic_tool_use_from_gpt(anthropic_client: anthropic.Anthropic) -> None:
    tools: Any = [{"name": "lookup", "description": "d", "input_schema": {"type": "object", "properties": {}}}]
    translated = anthropic_client.messages.create(model="openai/gpt-4o", max_tokens=20, messages=MESSAGES, tools=tools)
    native = anthropic_client.messages.create(model="claude-haiku-4-5", max_tokens=20, messages=MESSAGES, tools=tools)
    [call] = [block for block in translated.content if block.type == "tool_use"]
    assert call.name == "lookup" and extras(translated) == [] and translated.id.startswith("msg_")
    assert keys(call) == keys(native.content[-1])


def test_openai_json_from_claude(openai_client: openai.OpenAI) -> None:
    native = openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    raw = openai_client.chat.completions.with_raw_response.create(model="claude-sonnet-4-5", messages=MESSAGES)
    translated = raw.parse()
    assert translated.choices[0].message.content == "Echo: hello"
    assert extras(translated) == []
    assert keys(translated) == keys(native)
    assert keys(translated.choices[0].message) == keys(native.choices[0].message)
    assert translated.usage is not None and native.usage is not None
    assert keys(translated.usage) == keys(native.usage)
    no_litellm_fields(raw.http_response.text)


def test_openai_stream_from_claude(openai_client: openai.OpenAI) -> None:
    options: Any = {"include_usage": True}
    chunks = list(
        openai_client.chat.completions.create(
            model="claude-sonnet-4-5", messages=MESSAGES, stream=True, stream_options=options
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: hello"
    assert [extras(c) for c in chunks] == [[] for _ in chunks]
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens > 0  # usage survives


def test_responses_json_from_claude(openai_client: openai.OpenAI) -> None:
    native = openai_client.responses.create(model="gpt-4o-mini", input="hello")
    raw = openai_client.responses.with_raw_response.create(model="claude-sonnet-4-5", input="hello")
    translated = raw.parse()
    assert translated.output_text == "Echo: hello"
    # The API (and the fake) send ``store``, which the SDK's type leaves out: no other extra.
    assert set(extras(translated)) <= set(extras(native)) <= {".store"}
    assert keys(translated) == keys(native)
    assert translated.usage is not None and native.usage is not None
    assert keys(translated.usage) == keys(native.usage)
    no_litellm_fields(raw.http_response.text)


def test_responses_stream_from_claude(openai_client: openai.OpenAI) -> None:
    events = list(openai_client.responses.create(model="claude-sonnet-4-5", input="hello", stream=True))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert [e for e in events if not set(extras(e)) <= {".response.store"}] == []


class CachingFake(FakeProvider):
    def usage_for(self, wire: str, body: dict[str, Any], completion: Completion) -> Usage:
        return Usage(uncached_input=5, cache_read=100, cache_write=20, output=4)


def test_cache_counts_survive_the_shaping(make_settings: Callable[..., Settings]) -> None:
    fake = CachingFake()
    with serve(fake) as up, serve(LayerCacheApp(make_settings(providers={"anthropic": {"api_base": up}}))) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-ant-x", max_retries=0)
        response = client.chat.completions.create(model="claude-sonnet-4-5", messages=MESSAGES, max_tokens=10)
        assert extras(response) == []
        details = response.usage.prompt_tokens_details if response.usage else None
        # Where OpenAI's own types put them: reads as cached_tokens, writes as cache_write_tokens.
        assert details is not None and details.cached_tokens == 100 and details.cache_write_tokens == 20
        # The proxy's accounting still sees the write (it was LiteLLM's cache_creation_input_tokens).
        wait_for(lambda: requests_of(url, "claude-sonnet-4-5") == 1)
        assert summary(url)["models"]["claude-sonnet-4-5"]["tokens"]["cache_write"] == 20


def test_shaping_keeps_set_thinking_and_unknown_types() -> None:
    from layercache_asgi.wire._native_shape import native_event, native_json

    message = {"role": "assistant", "content": "x", "reasoning_content": "because", "thinking_blocks": [{}]}
    doc = {"id": "c", "object": "chat.completion", "choices": [{"index": 0, "message": message}], "cost": 1}
    assert native_json("openai", doc)["choices"][0]["message"] == {
        "role": "assistant",
        "content": "x",
        "reasoning_content": "because",  # a model's thinking: no OpenAI field, but where clients read it
    }
    unset = {**message, "reasoning_content": None}
    assert (
        "reasoning_content"
        not in native_json("openai", {**doc, "choices": [{"message": unset}]})["choices"][0]["message"]
    )
    # A block or event type the table does not know passes untouched (a future API feature).
    future = {"type": "content_block_start", "index": 0, "content_block": {"type": "future_block", "x": 1}}
    assert native_event("anthropic", future) == future
    assert native_event("anthropic", {"type": "future_event", "x": 1}) == {"type": "future_event", "x": 1}
