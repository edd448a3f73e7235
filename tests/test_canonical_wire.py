"""Canonical form never changes what the model sees or writes: checked on the bytes the provider receives.

Each case runs on the four routes a client can take: OpenAI's format to a gpt-* model and
/v1/messages to a claude-* model (the fast paths), and each format to the other provider's
model (translated by LiteLLM).
"""
# On sockets: half its cases cross wires, the LiteLLM path, which makes its own HTTP calls.

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve

FILE = "def f():  \r\n    return 1   \r\n\r\n"  # a tool result: a file with trailing spaces and CRLF
PATCH = "-a  \n+a"  # a user's patch: the only change is the trailing spaces
HARD_BREAK = "line one  \nline two"  # an assistant answer with a Markdown hard line break
ORDER = ["reasoning", "answer", "confidence"]  # the order the model should write its fields in
READ_ARGS = {"path": "f.py", "encoding": "utf-8"}  # the call as the model wrote it, keys not sorted

ROUTES = [
    pytest.param("openai", "gpt-4o", id="openai-fast"),
    pytest.param("anthropic", "claude-sonnet-4-5", id="anthropic-fast"),
    pytest.param("openai", "claude-sonnet-4-5", id="openai-to-claude-litellm"),
    pytest.param("anthropic", "gpt-4o", id="anthropic-to-gpt-litellm"),
]


def answer_schema() -> dict[str, Any]:
    properties = {
        "reasoning": {"type": "string", "description": "Think it through first."},
        "answer": {"type": "string"},
        "confidence": {"type": "number"},
    }
    return {"type": "object", "properties": properties, "required": ORDER, "additionalProperties": False}


def send(
    wire: str,
    model: str,
    proxy: str,
    *,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    system: str,
    **extra: Any,
) -> None:
    """One request in the client's wire format; ``messages`` and ``tools`` are in that format."""
    if wire == "openai":
        client = openai.OpenAI(base_url=f"{proxy}/v1", api_key="sk-test-client-key-1", max_retries=0)
        client.chat.completions.create(
            model=model,
            max_tokens=50,
            messages=[{"role": "system", "content": system}, *messages],  # type: ignore[list-item]
            tools=tools,  # type: ignore[arg-type]
            **extra,
        )
    else:
        claude = anthropic.Anthropic(base_url=proxy, api_key="sk-ant-test-client-key-1", max_retries=0)
        claude.messages.create(
            model=model,
            max_tokens=50,
            system=system,
            messages=messages,  # type: ignore[arg-type]
            tools=tools,  # type: ignore[arg-type]
            **extra,
        )


def received(fake: FakeProvider, model: str) -> dict[str, Any]:
    """The body the provider got, after checking it went where the model lives."""
    sent = fake.requests[-1]
    assert sent.path == ("/v1/messages" if model.startswith("claude") else "/v1/chat/completions")
    return sent.body


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def field_orders(value: Any) -> list[list[str]]:
    """The field names of every ``properties`` map in ``value``, in the order they arrived."""
    if isinstance(value, dict):
        found = [list(value["properties"])] if isinstance(value.get("properties"), dict) else []
        return found + [order for v in value.values() for order in field_orders(v)]
    if isinstance(value, list):
        return [order for v in value for order in field_orders(v)]
    return []


def tool_names(body: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] if "function" in t else t["name"] for t in body["tools"]]


def tools_for(wire: str, names: list[str], schema: dict[str, Any]) -> list[dict[str, Any]]:
    if wire == "openai":
        return [{"type": "function", "function": {"name": n, "parameters": schema}} for n in names]
    return [{"name": n, "input_schema": schema} for n in names]


def agent_session(wire: str) -> list[dict[str, Any]]:
    """A coding agent's history: a patch, an answer, a tool call and its result (a file)."""
    if wire == "openai":
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": "read_file", "arguments": json.dumps(READ_ARGS)},
        }
        return [
            {"role": "user", "content": PATCH},
            {"role": "assistant", "content": HARD_BREAK},
            {"role": "user", "content": "now read f.py"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": FILE},
        ]
    return [
        {"role": "user", "content": PATCH},
        {"role": "assistant", "content": HARD_BREAK},
        {"role": "user", "content": "now read f.py"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": READ_ARGS}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": FILE}]},
    ]


def call_arguments(body: dict[str, Any]) -> list[str]:
    """The provider's copy of the read_file call's arguments, as key order (and raw text on OpenAI)."""
    for message in body["messages"]:
        for call in message.get("tool_calls") or []:
            return [call["function"]["arguments"]]
        for block in message["content"] if isinstance(message.get("content"), list) else []:
            if block.get("type") == "tool_use":
                return list(block["input"])
    raise AssertionError("the tool call never reached the provider")


@pytest.mark.parametrize(("wire", "model"), ROUTES)
def test_message_content_and_tool_schemas_reach_the_provider_as_sent(
    proxy: str, fake: FakeProvider, wire: str, model: str
) -> None:
    tools = tools_for(wire, ["submit", "read_file"], answer_schema())
    send(wire, model, proxy, messages=agent_session(wire), tools=tools, system="You review code.  \r\n")
    body = received(fake, model)
    texts = strings(body["messages"])
    assert FILE in texts
    assert PATCH in texts
    assert HARD_BREAK in texts
    if model.startswith("gpt") and wire == "openai":
        assert call_arguments(body) == [json.dumps(READ_ARGS)]  # byte for byte
    elif model.startswith("gpt"):
        assert list(json.loads(call_arguments(body)[0])) == list(READ_ARGS)
    else:
        assert call_arguments(body) == list(READ_ARGS)
    assert field_orders(body["tools"]) == [ORDER, ORDER]
    # What clients really re-render is still normalised.
    assert "You review code." in strings(body.get("system", body["messages"][:1]))


@pytest.mark.parametrize(("wire", "model"), [p for p in ROUTES if p.values[0] == "openai"])
def test_response_format_schema_keeps_its_field_order(proxy: str, fake: FakeProvider, wire: str, model: str) -> None:
    schema = answer_schema()
    response_format = {"type": "json_schema", "json_schema": {"name": "verdict", "strict": True, "schema": schema}}
    messages = [{"role": "user", "content": "is this right?"}]
    send(wire, model, proxy, messages=messages, tools=[], system="Judge.", response_format=response_format)
    assert ORDER in field_orders(received(fake, model))
    assert sorted(ORDER) not in field_orders(received(fake, model))
    # The structured_json enhancement's schema too, in both response_format and its instruction.
    enhancement = {"name": "structured_json", "options": {"name": "verdict", "schema": schema}}
    send(
        wire, model, proxy, messages=messages, tools=[], system="Judge.", extra_body={"lc_enhancements": [enhancement]}
    )
    body = received(fake, model)
    assert sorted(ORDER) not in field_orders(body)
    instruction = next(s for s in strings(body["messages"]) if "matches this JSON schema" in s)
    assert instruction.index('"reasoning"') < instruction.index('"answer"') < instruction.index('"confidence"')


@pytest.mark.parametrize(("wire", "model"), ROUTES)
def test_a_client_marker_on_the_last_tool_keeps_covering_the_tools(
    proxy: str, fake: FakeProvider, wire: str, model: str
) -> None:
    tools = tools_for(wire, ["zeta", "alpha"], {"type": "object", "properties": {"q": {"type": "string"}}})
    marked = tools[-1]
    marked["cache_control"] = {"type": "ephemeral"}
    send(wire, model, proxy, messages=[{"role": "user", "content": "hi"}], tools=tools, system="Help.")
    body = received(fake, model)
    assert tool_names(body) == ["zeta", "alpha"]
    if model.startswith("claude"):
        assert body["tools"][-1]["cache_control"]["type"] == "ephemeral"
        assert "cache_control" not in body["tools"][0]


def test_the_semantic_cache_never_answers_a_schema_with_its_fields_in_another_order(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    # Schema order shapes the answer (reasoning before answer), so it is part of the exact key.
    def response_format(order: list[str]) -> Any:
        schema = answer_schema()
        schema["properties"] = {name: schema["properties"][name] for name in order}
        return {"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema}}

    settings = make_settings(caching={"semantic": {"enabled": True}})
    with serve(LayerCacheApp(settings)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test-client-key-1", max_retries=0)

        def ask(order: list[str]) -> str:
            raw = client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Is the Earth round?"}],
                response_format=response_format(order),
            )
            return str(raw.headers.get("x-layercache-cache", ""))

        assert ask(ORDER) == "miss"
        assert ask(sorted(ORDER)) == "miss"
        assert ask(ORDER) == "hit"  # the cache works; only the field order kept the second out
    assert len(fake.requests) == 2
    assert [field_orders(r.body) for r in fake.requests] == [[ORDER], [sorted(ORDER)]]
