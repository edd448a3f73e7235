"""The OpenAI Responses API (``POST /v1/responses``) through the proxy, with the official SDK."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from layercache_asgi import Settings
from layercache_asgi.testing import FakeProvider, PrefixCacheSimulator, in_process
from tests.conftest import async_openai

pytestmark = pytest.mark.in_process

TOOLS: list[Any] = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "strict": False,
    }
]


def _responses(fake: FakeProvider) -> list[Any]:
    return [r for r in fake.requests if r.path.endswith("/responses")]


async def test_json_answer_and_usage(aopenai: openai.AsyncOpenAI, fake: FakeProvider) -> None:
    response = await aopenai.responses.create(model="gpt-4o", input="hello there", instructions="Be brief.")
    assert response.output_text == "Echo: hello there"
    assert response.status == "completed"
    assert response.usage is not None and response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    [sent] = _responses(fake)
    assert sent.path == "/v1/responses"
    assert sent.body["input"] == "hello there" and sent.body["instructions"] == "Be brief."
    assert sent.headers["authorization"] == "Bearer sk-test-client-key-1"


async def test_unversioned_route(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    client = async_openai(http, api_key="sk-x")
    client.base_url = str(http.base_url)  # no /v1
    assert (await client.responses.create(model="gpt-4o", input="hi")).output_text == "Echo: hi"
    assert _responses(fake)[0].path == "/v1/responses"


async def test_stream_events_and_final_response(aopenai: openai.AsyncOpenAI, fake: FakeProvider) -> None:
    async with aopenai.responses.stream(model="gpt-4o", input=[{"role": "user", "content": "stream me"}]) as stream:
        deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert "".join(deltas) == "Echo: stream me"
    assert final.output_text == "Echo: stream me"
    assert final.usage is not None and final.usage.input_tokens > 0
    assert _responses(fake)[0].body["stream"] is True


async def test_create_stream_true(aopenai: openai.AsyncOpenAI) -> None:
    events = [e async for e in await aopenai.responses.create(model="gpt-4o", input="hey", stream=True)]
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].response.output_text == "Echo: hey"


async def test_input_items_reach_the_provider_unchanged(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    body = {
        "model": "gpt-4o",
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "rules"}]},
            {"role": "user", "content": "first"},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
            {"type": "some_future_item", "payload": {"z": 1, "a": 2}},
            {"role": "user", "content": [{"type": "input_text", "text": "second"}]},
        ],
        "prompt_cache_key": "my-own-key",
        "temperature": 0.2,
    }
    r = await http.post("/v1/responses", json=body, headers={"authorization": "Bearer sk-x"})
    assert r.status_code == 200, r.text
    [sent] = _responses(fake)
    assert sent.body["input"] == body["input"]
    assert json.dumps(sent.body["input"]) == json.dumps(body["input"])  # key order too
    assert sent.body["prompt_cache_key"] == "my-own-key"
    assert sent.body["temperature"] == 0.2


async def test_function_call_round_trip(aopenai: openai.AsyncOpenAI, fake: FakeProvider) -> None:
    first = await aopenai.responses.create(model="gpt-4o", input="weather in Paris?", tools=TOOLS)
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather"
    second = await aopenai.responses.create(
        model="gpt-4o",
        tools=TOOLS,
        input=[
            {"role": "user", "content": "weather in Paris?"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
    )
    assert second.output_text == "Tool said: sunny"
    sent = _responses(fake)[1].body["input"]
    assert [item.get("type", "message") for item in sent] == ["message", "function_call", "function_call_output"]


@pytest.mark.parametrize(
    "body,param",
    [
        ({"input": "hi"}, "model"),
        ({"model": "gpt-4o", "input": 42}, "input"),
        ({"model": "gpt-4o", "input": ["not an item"]}, "input[0]"),
        ({"model": "gpt-4o", "input": [{"role": "user", "content": 3}]}, "input[0].content"),
    ],
)
async def test_bad_requests_answer_openai_errors(http: httpx.AsyncClient, body: dict[str, Any], param: str) -> None:
    r = await http.post("/v1/responses", json=body, headers={"authorization": "Bearer sk-x"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param


async def test_upstream_stream_break_ends_with_an_error_event(make_settings: Callable[..., Settings]) -> None:
    fake = FakeProvider(break_stream_after=3)
    async with in_process(fake, make_settings()) as http:
        client = async_openai(http, api_key="sk-x")
        events = [e async for e in await client.responses.create(model="gpt-4o", input="hi", stream=True)]
    assert events[0].type == "response.created"  # the stream had started when the provider dropped it
    assert events[-1].type == "error"


async def test_failover(make_settings: Callable[..., Settings]) -> None:
    first, second = FakeProvider(name="first", fail_next=[503]), FakeProvider(name="second")
    settings = make_settings(
        models=[
            {"name": "primary", "model": "openai/gpt-4o", "api_base": "http://first.test/v1"},
            {"name": "backup", "model": "openai/gpt-4o-mini", "api_base": "http://second.test/v1"},
        ],
        fallbacks={"primary": ["backup"]},
    )
    async with in_process({"first.test": first, "second.test": second}, settings) as http:
        client = async_openai(http, api_key="sk-x")
        async with client.responses.stream(model="primary", input="hi") as stream:
            final = await stream.get_final_response()
    assert final.output_text == "Echo: hi"
    assert len(first.requests) == 1 and second.requests[0].body["model"] == "gpt-4o-mini"


async def test_cached_tokens_reported(make_settings: Callable[..., Settings]) -> None:
    sim = PrefixCacheSimulator()
    long_instructions = "You are a careful assistant. " * 400
    async with in_process(sim, make_settings()) as http:
        client = async_openai(http, api_key="sk-x")
        await client.responses.create(model="gpt-4o", instructions=long_instructions, input="one")
        second = await client.responses.create(model="gpt-4o", instructions=long_instructions, input="two")
    assert second.usage is not None
    assert second.usage.input_tokens_details.cached_tokens >= 1024


async def test_prompt_cache_key_added_per_prefix(aopenai: openai.AsyncOpenAI, fake: FakeProvider) -> None:
    await aopenai.responses.create(model="gpt-4o", instructions="Be brief.", input="one")
    await aopenai.responses.create(model="gpt-4o", instructions="Be brief.", input="two")
    await aopenai.responses.create(model="gpt-4o", instructions="Be verbose.", input="one")
    keys = [r.body.get("prompt_cache_key") for r in _responses(fake)]
    assert all(isinstance(k, str) and k.startswith("lc-") for k in keys)
    assert keys[0] == keys[1] != keys[2]


async def test_instructions_are_canonical_input_items_are_not(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    body = {
        "model": "gpt-4o",
        "instructions": "Be brief.  \r\nAlways.\n\n",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "keep  \r\n trailing  "}]}],
    }
    r = await http.post("/v1/responses", json=body, headers={"authorization": "Bearer sk-x"})
    assert r.status_code == 200, r.text
    [sent] = _responses(fake)
    assert sent.body["instructions"] == "Be brief.\nAlways."
    assert sent.body["input"] == body["input"]


# What Codex CLI 0.171 sends (codex-rs/core: ResponsesApiRequest), trimmed to its shape.
CODEX_TOOLS: list[Any] = [
    {
        "type": "function",
        "name": "shell",
        "description": "Runs a shell command and returns its output.",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "array", "items": {"type": "string"}}, "workdir": {"type": "string"}},
            "required": ["command"],
            "additionalProperties": False,
        },
    },
    {
        "type": "custom",
        "name": "apply_patch",
        "description": "Use the `apply_patch` tool to edit files.",
        "format": {
            "type": "grammar",
            "syntax": "lark",
            "definition": 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF',
        },
    },
    {"type": "local_shell"},
    {"type": "web_search"},
    {
        "type": "namespace",
        "name": "mcp__docs",
        "description": "Tools of the docs MCP server",
        "tools": [
            {
                "type": "function",
                "name": "search",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            }
        ],
    },
]


def codex_body(conversation: list[Any]) -> dict[str, Any]:
    return {
        "model": "gpt-5-codex",
        "instructions": "You are Codex, based on GPT-5. You are running as a coding agent in the Codex CLI.",
        "input": [
            {
                "type": "message",
                "role": "developer",
                "content": [
                    {
                        "type": "input_text",
                        "text": "<permissions instructions>sandbox: workspace-write</permissions instructions>",
                    }
                ],
            },
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "<environment_context>\n  <cwd>/repo</cwd>\n</environment_context>"}
                ],
            },
            *conversation,
        ],
        "tools": CODEX_TOOLS,
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "0199a213-81c0-7800-8aa1-bbab2a035a53",
        "text": {"verbosity": "low"},
        "client_metadata": {"x-codex-turn-metadata": '{"turn":2}'},
    }


CODEX_HISTORY: list[Any] = [
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list the files"}]},
    {"type": "reasoning", "id": "rs_1", "summary": [], "content": None, "encrypted_content": "gAAAAB..."},
    {"type": "function_call", "name": "shell", "arguments": '{"command":["ls"]}', "call_id": "call_1"},
    {"type": "function_call_output", "call_id": "call_1", "output": "README.md\nsrc\n"},
    {"type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch", "input": "*** Begin Patch\n*** End Patch"},
    {"type": "custom_tool_call_output", "call_id": "call_2", "output": "Done"},
    {
        "type": "local_shell_call",
        "call_id": "call_3",
        "status": "completed",
        "action": {"type": "exec", "command": ["pwd"]},
    },
    {"type": "local_shell_call_output", "call_id": "call_3", "output": "/repo"},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Two entries."}]},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "now read README.md"}]},
]


async def test_codex_request_is_accepted_and_forwarded(http: httpx.AsyncClient, fake: FakeProvider) -> None:
    body = codex_body(CODEX_HISTORY)
    headers = {"authorization": "Bearer sk-codex", "accept": "text/event-stream", "originator": "codex_cli_rs"}
    async with http.stream("POST", "/v1/responses", json=body, headers=headers, timeout=30) as r:
        assert r.status_code == 200, await r.aread()
        assert r.headers["content-type"].startswith("text/event-stream")
        text = b"".join([chunk async for chunk in r.aiter_raw()]).decode()
    assert "event: response.completed" in text and '"type":"function_call"' in text
    [sent] = _responses(fake)
    for field in ("input", "include", "store", "prompt_cache_key", "client_metadata", "reasoning", "text"):
        assert sent.body[field] == body[field], field
    assert json.dumps(sent.body["input"]) == json.dumps(body["input"])
    assert sorted(json.dumps(t, sort_keys=True) for t in sent.body["tools"]) == sorted(
        json.dumps(t, sort_keys=True) for t in CODEX_TOOLS
    )
