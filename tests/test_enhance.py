"""Enhance: built-ins and user enhancements land at L3 and never change the cached prefix."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from starlette.middleware import Middleware

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.enhancements import Addition, default_registry
from layercache_asgi.enhancements._builtin import CHAIN_OF_THOUGHT, SELF_CRITIQUE
from layercache_asgi.stages import DEFAULT_STAGES, Enhance
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import async_anthropic, async_openai

pytestmark = pytest.mark.in_process

SYSTEM = "You are a support agent."
TOOLS: list[Any] = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def conversation() -> list[Any]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "First answer"},
        {"role": "user", "content": "Newest question"},
    ]


def text_parts(content: Any) -> list[str]:
    return [p["text"] for p in content if p.get("type") == "text"]


async def test_chain_of_thought_is_l3_and_the_prefix_bytes_do_not_change(
    fake: FakeProvider, aopenai: openai.AsyncOpenAI
) -> None:
    await aopenai.chat.completions.create(model="gpt-4o", messages=conversation(), tools=TOOLS)
    await aopenai.chat.completions.create(
        model="gpt-4o",
        messages=conversation(),
        tools=TOOLS,
        extra_body={"lc_enhancements": ["chain_of_thought"]},
    )
    plain, enhanced = (r.body for r in fake.requests)
    assert dumps(plain["tools"]) == dumps(enhanced["tools"])
    assert dumps(plain["messages"][:3]) == dumps(enhanced["messages"][:3])  # L0 + L2, byte for byte
    # The client sent a string: it stays one (some OpenAI-compatible servers take no arrays).
    assert enhanced["messages"][3]["content"] == f"{CHAIN_OF_THOUGHT}\n\nNewest question"
    assert plain["prompt_cache_key"] == enhanced["prompt_cache_key"]


async def test_openai_content_keeps_the_clients_shape(fake: FakeProvider, aopenai: openai.AsyncOpenAI) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    messages: list[Any] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]},
    ]
    await aopenai.chat.completions.create(
        model="gpt-4o", messages=messages, extra_body={"lc_enhancements": ["chain_of_thought", "self_critique"]}
    )
    sent = fake.requests[-1].raw.decode()
    body = json.loads(sent)
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": CHAIN_OF_THOUGHT},
        {"type": "text", "text": SELF_CRITIQUE},
        {"type": "text", "text": "What is this?"},
        image,
    ]
    assert body["messages"][0] == {"role": "system", "content": SYSTEM}


async def test_openai_tool_results_turn_gets_a_user_message_after_them(
    fake: FakeProvider, aopenai: openai.AsyncOpenAI
) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
    messages: Any = [
        *conversation(),
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "found it"},
    ]
    await aopenai.chat.completions.create(
        model="gpt-4o",
        messages=messages,
        extra_body={"lc_enhancements": ["self_critique"]},
    )
    sent = fake.requests[-1].body["messages"]
    assert sent[-2] == messages[-1]
    assert sent[-1] == {"role": "user", "content": SELF_CRITIQUE}


async def test_anthropic_text_goes_after_tool_results_and_before_user_content(
    fake: FakeProvider, aanthropic: anthropic.AsyncAnthropic
) -> None:
    call = {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "found"}
    messages: list[Any] = [
        {"role": "user", "content": "Find it"},
        {"role": "assistant", "content": [call]},
        {"role": "user", "content": [result, {"type": "text", "text": "and summarise"}]},
    ]
    for extra in ({}, {"lc_enhancements": [{"name": "chain_of_thought"}, {"name": "self_critique"}]}):
        await aanthropic.messages.create(
            model="claude-sonnet-4-5", max_tokens=20, system=SYSTEM, messages=messages, extra_body=extra
        )
    plain, enhanced = (r.body for r in fake.requests)
    assert dumps(plain["system"]) == dumps(enhanced["system"])
    assert dumps(plain["messages"][:2]) == dumps(enhanced["messages"][:2])
    content = enhanced["messages"][2]["content"]
    assert [b["type"] for b in content] == ["tool_result", "text", "text", "text"]
    assert [b["text"] for b in content[1:]] == [CHAIN_OF_THOUGHT, SELF_CRITIQUE, "and summarise"]


async def test_anthropic_prefill_stays_last(fake: FakeProvider, aanthropic: anthropic.AsyncAnthropic) -> None:
    messages: list[Any] = [
        {"role": "user", "content": "Name a colour"},
        {"role": "assistant", "content": "The colour is"},
    ]
    await aanthropic.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=20,
        messages=messages,
        extra_body={"lc_enhancements": ["chain_of_thought"]},
    )
    sent = fake.requests[-1].body["messages"]
    assert sent[-1] == messages[-1]
    assert text_parts(sent[0]["content"]) == [CHAIN_OF_THOUGHT, "Name a colour"]


async def test_structured_json_sets_response_format_and_keeps_the_clients(
    fake: FakeProvider, aopenai: openai.AsyncOpenAI
) -> None:
    schema = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    options = {"schema": schema, "name": "person"}
    await aopenai.chat.completions.create(
        model="gpt-4o",
        messages=conversation(),
        extra_body={"lc_enhancements": [{"name": "structured_json", "options": options}]},
    )
    body = fake.requests[-1].body
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["name"]
    instruction = body["messages"][3]["content"]
    assert '{"properties":{"name":{"type":"string"}},"required":["name"],"type":"object"}' in instruction
    await aopenai.chat.completions.create(
        model="gpt-4o",
        messages=conversation(),
        response_format={"type": "json_object"},
        extra_body={"lc_enhancements": [{"name": "structured_json", "options": options}]},
    )
    assert fake.requests[-1].body["response_format"] == {"type": "json_object"}


VALUE_SCHEMA = {"type": "object", "properties": {"value": {"type": "integer"}}, "required": ["value"]}
ANSWER_SCHEMA = {"type": "object", "properties": {"reasoning": {"type": "string"}, "answer": {"type": "string"}}}


async def test_structured_json_follows_the_clients_own_schema(fake: FakeProvider, aopenai: openai.AsyncOpenAI) -> None:
    clients: Any = {"type": "json_schema", "json_schema": {"name": "value", "schema": VALUE_SCHEMA}}
    await aopenai.chat.completions.create(
        model="gpt-4o",
        messages=conversation(),
        response_format=clients,
        extra_body={"lc_enhancements": ["structured_json"]},
    )
    body = fake.requests[-1].body
    assert body["response_format"] == clients
    instruction = body["messages"][3]["content"]
    assert '{"properties":{"value":{"type":"integer"}},"required":["value"],"type":"object"}' in instruction
    assert "reasoning" not in instruction
    # An enhancement schema that differs from the client's is refused, not sent alongside it.
    with pytest.raises(openai.BadRequestError, match="'schema' differs from the schema of the request's own"):
        await aopenai.chat.completions.create(
            model="gpt-4o",
            messages=conversation(),
            response_format=clients,
            extra_body={"lc_enhancements": [{"name": "structured_json", "options": {"schema": ANSWER_SCHEMA}}]},
        )
    with pytest.raises(openai.BadRequestError, match="response_format is 'text'"):
        await aopenai.chat.completions.create(
            model="gpt-4o",
            messages=conversation(),
            response_format={"type": "text"},
            extra_body={"lc_enhancements": ["structured_json"]},
        )
    assert len(fake.requests) == 1


async def test_structured_json_never_forces_json_over_tools(fake: FakeProvider, aopenai: openai.AsyncOpenAI) -> None:
    await aopenai.chat.completions.create(
        model="gpt-4o",
        messages=conversation(),
        tools=TOOLS,
        extra_body={"lc_enhancements": ["structured_json"]},
    )
    body = fake.requests[-1].body
    assert "response_format" not in body
    assert body["messages"][3]["content"].startswith("When you answer rather than call a tool, respond with")


async def test_structured_json_follows_an_anthropic_output_format(
    fake: FakeProvider, aanthropic: anthropic.AsyncAnthropic
) -> None:
    await aanthropic.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=20,
        messages=[{"role": "user", "content": "Pick a number"}],
        extra_body={
            "output_config": {"format": {"type": "json_schema", "schema": VALUE_SCHEMA}},
            "lc_enhancements": ["structured_json"],
        },
    )
    body = fake.requests[-1].body
    instruction = body["messages"][0]["content"][0]["text"]
    assert '"value":{"type":"integer"}' in instruction and "response_format" not in body


async def test_structured_json_with_chain_of_thought_is_a_400_naming_both(
    fake: FakeProvider, aopenai: openai.AsyncOpenAI, aanthropic: anthropic.AsyncAnthropic
) -> None:
    both = ["chain_of_thought", {"name": "structured_json", "options": {"schema": VALUE_SCHEMA}}]
    with pytest.raises(openai.BadRequestError, match="'chain_of_thought' and 'structured_json' contradict"):
        await aopenai.chat.completions.create(
            model="gpt-4o",
            messages=conversation(),
            extra_body={"lc_enhancements": both},
        )
    with pytest.raises(anthropic.BadRequestError, match="'structured_json' and 'chain_of_thought' contradict"):
        await aanthropic.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=20,
            messages=[{"role": "user", "content": "Pick a number"}],
            extra_body={"lc_enhancements": ["structured_json", "chain_of_thought"]},
        )
    assert fake.requests == []


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_unknown_or_bad_enhancement_is_a_400(http: httpx.AsyncClient, wire: str) -> None:
    if wire == "openai":
        client = async_openai(http)
        with pytest.raises(openai.BadRequestError, match="unknown enhancement 'nope'"):
            await client.chat.completions.create(
                model="gpt-4o",
                messages=conversation(),
                extra_body={"lc_enhancements": ["nope"]},
            )
        with pytest.raises(openai.BadRequestError, match="schema"):
            await client.chat.completions.create(
                model="gpt-4o",
                messages=conversation(),
                extra_body={"lc_enhancements": [{"name": "structured_json", "options": {"schema": "x"}}]},
            )
    else:
        claude = async_anthropic(http)
        with pytest.raises(anthropic.BadRequestError, match="unknown enhancement"):
            await claude.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=10,
                messages=[{"role": "user", "content": "hi"}],
                extra_body={"lc_enhancements": ["nope"]},
            )


async def test_user_enhancements_through_a_registry(fake: FakeProvider, make_settings: Callable[..., Settings]) -> None:
    async def persona(exchange: Any, options: dict[str, Any]) -> Addition:
        return Addition(text=f"Answer as a {options.get('role', 'pirate')}.", params={"temperature": 0.1})

    registry = default_registry()
    registry.register("persona", persona)
    stages = [Middleware(Enhance, registry=registry) if s is Enhance else s for s in DEFAULT_STAGES]
    async with in_process(fake, make_settings(), stages=stages) as http:
        client = async_openai(http)
        await client.chat.completions.create(
            model="gpt-4o",
            messages=conversation(),
            extra_body={"lc_enhancements": [{"name": "persona", "options": {"role": "poet"}}]},
        )
    body = fake.requests[-1].body
    assert body["messages"][3]["content"] == "Answer as a poet.\n\nNewest question"
    assert body["temperature"] == 0.1


EXAMPLES = [
    {"input": "How do I reset my password?", "output": "Use the 'Forgot password' link."},
    {"input": "I forgot my login password", "output": "Reset it from the sign-in page."},
    {"input": "What are your opening hours?", "output": "9 to 5, Monday to Friday."},
    {"input": "Do you ship to Canada?", "output": "Yes, within 7 days."},
    {"input": "Can I pay with PayPal?", "output": "Yes, at checkout."},
]


async def test_dynamic_few_shot_picks_the_closest_examples(
    fake: FakeProvider, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    examples = tmp_path / "examples.json"
    examples.write_text(json.dumps(EXAMPLES))
    settings = make_settings(enhancements={"few_shot_examples": str(examples), "few_shot_top_k": 2})
    async with in_process(fake, settings) as http:
        client = async_openai(http)
        for question in ("How can I change my password?", "When is the shop open?"):
            messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
            await client.chat.completions.create(
                model="gpt-4o",
                messages=messages,  # type: ignore[arg-type]
                extra_body={"lc_enhancements": ["dynamic_few_shot"]},
            )
    password, hours = (r.body["messages"][1]["content"] for r in fake.requests)
    assert "Forgot password" in password and "sign-in page" in password
    assert "opening hours" not in password and "Canada" not in password
    assert "9 to 5" in hours and hours.count("Input:") == 2


async def test_dynamic_few_shot_without_examples_is_said_once_and_per_response_not_as_a_fault(
    fake: FakeProvider, settings: Settings
) -> None:
    app = LayerCacheApp(settings, transport=httpx.ASGITransport(app=fake))  # its runtime is read below
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy.test") as http:
            client = async_openai(http)
            for _ in range(2):
                raw = await client.chat.completions.with_raw_response.create(
                    model="gpt-4o",
                    messages=conversation(),
                    extra_body={"lc_enhancements": ["dynamic_few_shot"]},
                )
                assert raw.headers["x-layercache-enhancement-skipped"] == "dynamic_few_shot (no examples configured)"
                assert raw.parse().choices[0].message.content == "Echo: Newest question"
                assert fake.requests[-1].body["messages"][3]["content"] == "Newest question"
            metrics = (await http.get("/metrics")).text
            assert app.runtime.logs is not None
            lines = app.runtime.logs.tail(1000)
    finally:
        await app.shutdown()
    assert [line["event"] for line in lines if "few_shot" in str(line.get("event"))] == ["few_shot_unconfigured"]
    assert not [line for line in metrics.splitlines() if line.startswith('layercache_faults_total{component="enhance')]


@pytest.mark.parametrize(
    ("enhancement", "key"),
    [
        ({"name": "chain_of_thought", "options": {"txt": "Think."}}, "txt"),
        ({"name": "structured_json", "options": {"schema": {"type": "object"}, "strict": True}}, "strict"),
        ({"name": "dynamic_few_shot", "options": {"k": 2}}, "k"),
        ({"name": "self_critique", "options": {"text": "Check.", "extra": 1}}, "extra"),
    ],
)
async def test_unknown_enhancement_options_are_a_400_naming_the_key(
    fake: FakeProvider, aopenai: openai.AsyncOpenAI, enhancement: dict[str, Any], key: str
) -> None:
    with pytest.raises(openai.BadRequestError, match=f"has no option '{key}'"):
        await aopenai.chat.completions.create(
            model="gpt-4o",
            messages=conversation(),
            extra_body={"lc_enhancements": [enhancement]},
        )
    assert fake.requests == []
