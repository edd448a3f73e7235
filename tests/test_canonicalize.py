"""Canonicalize: the same intent gives the same bytes, and meaning never changes."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layercache_asgi import Settings
from layercache_asgi.prompt._canonical import (
    canonical_response_format,
    canonical_schema,
    canonical_text,
    canonicalize_body,
)
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import async_openai


def dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# -- instruction text (system prompts, tool descriptions) --------------------------------------


def test_instruction_text_normalises_crlf_line_end_spaces_and_blank_edges() -> None:
    assert canonical_text("\r\n\n  \nYou are helpful.  \r\nBe brief.\t\r\n\r\n\n") == "You are helpful.\nBe brief."


def test_instruction_text_keeps_indentation_inner_blank_lines_lone_cr_and_all_blank() -> None:
    code = "def f(x):\n    if x:\n        return 1\n\n\n    return 2"
    assert canonical_text(code) == code
    assert canonical_text("\n\n    indented first line") == "    indented first line"
    assert canonical_text("a\rb") == "a\rb"
    assert canonical_text(" \r\n ") == " \r\n "  # emptied, it would be an invalid block


def _rule_1_by_regex(text: str) -> str:
    """Rule 1 as first written (a regex per step): the definition the faster canonical_text must keep."""
    normalised = re.sub(r"[ \t]+$", "", text.replace("\r\n", "\n"), flags=re.MULTILINE)
    return re.sub(r"\A(?:[ \t]*\n)+", "", normalised).rstrip() or text


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(st.sampled_from([" ", "\t", "\n", "\r\n", "\r", " \n", "a", "é", "\u00a0", "\x0b", "\u2028"]), max_size=16)
)
def test_instruction_text_matches_the_regex_definition_of_rule_1(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert canonical_text(text) == _rule_1_by_regex(text)


def test_strings_that_look_like_json_are_never_reserialised() -> None:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": '{"x": 1e3}'}], "model": "m"}
    canonicalize_body("openai", body)
    assert body["messages"][0]["content"] == '{"x": 1e3}'


# -- message content is never touched ---------------------------------------------------------

FILE = "def f():  \r\n    return 1   \r\n\r\n"
PATCH = "-a  \n+a"
HARD_BREAK = "line one  \nline two"
ARGS = '{ "reasoning": "why",  "answer": 42, "confidence": 1e0 }'


def test_openai_message_content_reaches_the_provider_as_sent() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Rules.  \r\n"},
        {"role": "user", "content": [{"type": "text", "text": PATCH}]},
        {"role": "assistant", "content": HARD_BREAK},
        {"role": "user", "content": "\n\n  go  "},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": ARGS}}],
        },
        {"role": "tool", "tool_call_id": "c", "content": FILE},
        {"role": "developer", "content": [{"type": "text", "text": "Be terse.\t\r\n"}]},
    ]
    body: dict[str, Any] = {"model": "gpt-4o", "messages": copy.deepcopy(messages)}
    canonicalize_body("openai", body)
    assert dumps({"m": body["messages"][1:6]}) == dumps({"m": messages[1:6]})
    assert body["messages"][0]["content"] == "Rules."
    assert body["messages"][6]["content"] == [{"type": "text", "text": "Be terse."}]


def test_anthropic_message_content_reaches_the_provider_as_sent() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": PATCH},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm  \n", "signature": "s"}]},
        {"role": "user", "content": [{"type": "text", "text": " ok \r\n"}]},
        {"role": "assistant", "content": [{"type": "text", "text": HARD_BREAK}]},
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "t", "name": "f", "input": {"reasoning": "why", "answer": 42, "a": 1}}
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t", "content": FILE},
                {"type": "text", "text": "  \n"},
            ],
        },
    ]
    body: dict[str, Any] = {"model": "claude-sonnet-4-5", "system": "Rules.  \r\n", "messages": copy.deepcopy(messages)}
    canonicalize_body("anthropic", body)
    assert dumps({"m": body["messages"]}) == dumps({"m": messages})
    assert body["system"] == "Rules."


# -- schemas: keywords sorted, field order kept -------------------------------------------------

ORDER = ["reasoning", "answer", "confidence"]


def answer_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string", "description": "Think first."},
            "answer": {"description": "Then answer.", "type": "string", "default": {"z": 1, "a": 2}},
            "confidence": {"type": "number", "enum": [0.9, 0.1]},
        },
        "required": ORDER,
        "additionalProperties": False,
    }


def test_schema_keywords_are_sorted_and_field_order_data_and_lists_kept() -> None:
    out = canonical_schema(answer_schema())
    assert list(out) == ["additionalProperties", "properties", "required", "type"]
    assert list(out["properties"]) == ORDER
    assert list(out["properties"]["answer"]) == ["default", "description", "type"]
    assert list(out["properties"]["answer"]["default"]) == ["z", "a"]  # data, as sent
    assert out["properties"]["confidence"]["enum"] == [0.9, 0.1]
    assert out["required"] == ORDER


def test_nested_schemas_keep_their_field_order() -> None:
    schema = {
        "type": "object",
        "properties": {"type": {"type": "string"}, "properties": {"$ref": "#/$defs/Step"}},
        "$defs": {"Step": answer_schema(), "Alpha": {"type": "array", "items": answer_schema()}},
        "anyOf": [answer_schema(), {"prefixItems": [answer_schema()], "type": "array"}],
    }
    out = canonical_schema(schema)
    assert list(out["properties"]) == ["type", "properties"]  # names, not keywords
    assert list(out["$defs"]) == ["Step", "Alpha"]
    assert list(out["$defs"]["Step"]["properties"]) == ORDER
    assert list(out["$defs"]["Alpha"]["items"]["properties"]) == ORDER
    assert list(out["anyOf"][0]["properties"]) == ORDER
    assert list(out["anyOf"][1]["prefixItems"][0]["properties"]) == ORDER
    assert list(out["anyOf"][1]["prefixItems"][0]) == ["additionalProperties", "properties", "required", "type"]


def test_response_format_chat_and_responses_text_format() -> None:
    chat = {"json_schema": {"strict": True, "schema": answer_schema(), "name": "a"}, "type": "json_schema"}
    out = canonical_response_format(chat)
    assert list(out) == ["json_schema", "type"] and list(out["json_schema"]) == ["name", "schema", "strict"]
    assert list(out["json_schema"]["schema"]["properties"]) == ORDER
    assert list(out["json_schema"]["schema"]) == ["additionalProperties", "properties", "required", "type"]
    responses = {"type": "json_schema", "schema": answer_schema(), "name": "a", "strict": True}
    out = canonical_response_format(responses)
    assert list(out) == ["name", "schema", "strict", "type"]
    assert list(out["schema"]["properties"]) == ORDER
    # In a request body, both places are canonical and keep the field order.
    body: dict[str, Any] = {"model": "gpt-4o", "messages": [], "response_format": chat, "text": {"format": responses}}
    canonicalize_body("openai", body)
    assert list(body["response_format"]["json_schema"]["schema"]["properties"]) == ORDER
    assert list(body["text"]["format"]["schema"]["properties"]) == ORDER
    assert next(iter(body["text"]["format"]["schema"])) == "additionalProperties"


def test_anthropic_output_format_keeps_field_order() -> None:
    body: dict[str, Any] = {
        "messages": [],
        "output_config": {"format": {"schema": answer_schema(), "type": "json_schema"}, "effort": "low"},
        "output_format": {"schema": answer_schema(), "type": "json_schema"},
    }
    canonicalize_body("anthropic", body)
    for fmt in (body["output_config"]["format"], body["output_format"]):
        assert list(fmt) == ["schema", "type"]
        assert list(fmt["schema"]["properties"]) == ORDER
        assert next(iter(fmt["schema"])) == "additionalProperties"
    assert list(body["output_config"]) == ["format", "effort"]  # not a format: left as sent


def test_tool_schemas_keep_field_order_and_descriptions_are_instruction_text() -> None:
    body: dict[str, Any] = {
        "model": "gpt-4o",
        "messages": [],
        "tools": [
            {
                "function": {"parameters": answer_schema(), "name": "submit", "description": "Submit.  \r\n"},
                "type": "function",
            }
        ],
    }
    canonicalize_body("openai", body)
    tool = body["tools"][0]
    assert list(tool) == ["function", "type"] and list(tool["function"]) == ["description", "name", "parameters"]
    assert tool["function"]["description"] == "Submit."
    assert list(tool["function"]["parameters"]["properties"]) == ORDER


# -- tool order ---------------------------------------------------------------------------------


def test_tools_are_sorted_unless_the_client_marked_them() -> None:
    def tools(marked: bool) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = [
            {"name": "zeta", "input_schema": {"type": "object"}},
            {"name": "alpha", "input_schema": {"type": "object"}},
        ]
        if marked:
            listed[-1]["cache_control"] = {"type": "ephemeral"}
        return listed

    plain: dict[str, Any] = {"messages": [], "tools": tools(False)}
    canonicalize_body("anthropic", plain)
    assert [t["name"] for t in plain["tools"]] == ["alpha", "zeta"]
    marked: dict[str, Any] = {"messages": [], "tools": tools(True)}
    canonicalize_body("anthropic", marked)
    assert [t["name"] for t in marked["tools"]] == ["zeta", "alpha"]
    assert "cache_control" in marked["tools"][-1]
    # LiteLLM's OpenAI form carries the marker on the tool or in its function.
    openai_tools = [
        {"type": "function", "function": {"name": "zeta"}},
        {"type": "function", "function": {"name": "alpha", "cache_control": {"type": "ephemeral"}}},
    ]
    body: dict[str, Any] = {"messages": [], "tools": openai_tools}
    canonicalize_body("openai", body)
    assert [t["function"]["name"] for t in body["tools"]] == ["zeta", "alpha"]


# -- property tests -------------------------------------------------------------------------

_names = st.text("abcdefghij_", min_size=1, max_size=8)
_leaf_schema = st.fixed_dictionaries(
    {"type": st.sampled_from(["string", "integer", "boolean"])},
    optional={"description": st.text("ab cd", max_size=6), "enum": st.lists(st.integers(0, 3), max_size=3)},
)
_schema = st.recursive(
    _leaf_schema,
    lambda inner: st.fixed_dictionaries(
        {"type": st.just("object"), "properties": st.dictionaries(_names, inner, max_size=4)},
        optional={
            "required": st.lists(_names, max_size=2),
            "anyOf": st.lists(inner, max_size=2),
            "additionalProperties": st.booleans(),
        },
    ),
    max_leaves=10,
)
_noisy_text = st.lists(
    st.tuples(
        st.sampled_from(["", "  ", "\t"]), st.text("abc xyz(){}:", max_size=12), st.sampled_from(["", " ", "\t"])
    ),
    min_size=1,
    max_size=5,
).map(lambda lines: "".join(f"{a}{b}{c}" for a, b, c in lines))


@st.composite
def openai_bodies(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(_names, min_size=0, max_size=5, unique=True))
    tools = [
        {"type": "function", "function": {"name": n, "description": draw(_noisy_text), "parameters": draw(_schema)}}
        for n in names
    ]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    system = newline.join(draw(st.lists(_noisy_text, min_size=1, max_size=4)))
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for i in range(draw(st.integers(0, 4))):
        messages.append({"role": "user", "content": f"q{i} " + draw(_noisy_text)})
        args = json.dumps(draw(_schema))
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": f"c{i}", "type": "function", "function": {"name": "f", "arguments": args}}],
            }
        )
        messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": draw(_noisy_text)})
    messages.append({"role": "user", "content": "last " + draw(_noisy_text)})
    body: dict[str, Any] = {"model": "gpt-4o", "messages": messages}
    if tools:
        body["tools"] = tools
    return body


def _shuffle_keys(value: Any, rnd: Any, names: bool = False) -> Any:
    """What a client re-renders: key order everywhere except the field names in ``properties``."""
    if isinstance(value, dict):
        keys = list(value)
        if not names:
            rnd.shuffle(keys)
        return {k: _shuffle_keys(value[k], rnd, names=k == "properties" and not names) for k in keys}
    if isinstance(value, list):
        return [_shuffle_keys(v, rnd) for v in value]
    return value


def _field_orders(value: Any, names: bool = False) -> list[list[str]]:
    if isinstance(value, dict):
        found = [list(value)] if names else []
        for key, sub in value.items():
            found += _field_orders(sub, names=key == "properties" and not names)
        return found
    if isinstance(value, list):
        return [order for v in value for order in _field_orders(v)]
    return []


@settings(max_examples=60, deadline=None)
@given(openai_bodies(), st.randoms(use_true_random=False))
def test_shuffled_tools_and_schema_keywords_give_identical_bytes(body: dict[str, Any], rnd: Any) -> None:
    noisy = copy.deepcopy(body)
    if "tools" in noisy:
        rnd.shuffle(noisy["tools"])
        noisy["tools"] = _shuffle_keys(noisy["tools"], rnd)
    canonicalize_body("openai", body)
    canonicalize_body("openai", noisy)
    assert dumps(body) == dumps(noisy)


@settings(max_examples=60, deadline=None)
@given(openai_bodies())
def test_idempotent(body: dict[str, Any]) -> None:
    canonicalize_body("openai", body)
    once = dumps(body)
    canonicalize_body("openai", body)
    assert dumps(body) == once


@settings(max_examples=60, deadline=None)
@given(openai_bodies())
def test_conversation_bytes_and_field_orders_preserved(body: dict[str, Any]) -> None:
    before = copy.deepcopy(body)
    canonicalize_body("openai", body)
    assert body["messages"][0]["content"] == canonical_text(before["messages"][0]["content"])
    assert dumps({"m": body["messages"][1:]}) == dumps({"m": before["messages"][1:]})
    by_name = {t["function"]["name"]: t for t in before.get("tools", [])}
    for tool in body.get("tools", []):
        old = by_name[tool["function"]["name"]]["function"]["parameters"]
        # Every ``properties`` map keeps its field order (keywords around them may move).
        assert sorted(_field_orders(tool["function"]["parameters"])) == sorted(_field_orders(old))


@settings(max_examples=40, deadline=None)
@given(st.lists(_names, min_size=1, max_size=6, unique=True), _schema, st.randoms(use_true_random=False))
def test_anthropic_tools_are_canonical_and_history_untouched(names: list[str], schema: Any, rnd: Any) -> None:
    def body(order: list[str]) -> dict[str, Any]:
        return {
            "model": "claude-sonnet-4-5",
            "max_tokens": 10,
            "system": "Rules.  \r\n",
            "tools": [{"name": n, "description": "d", "input_schema": _shuffle_keys(schema, rnd)} for n in order],
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": schema}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "ok \r\n"}]},
            ],
        }

    shuffled = list(names)
    rnd.shuffle(shuffled)
    a, b = body(names), body(shuffled)
    canonicalize_body("anthropic", a)
    canonicalize_body("anthropic", b)
    assert dumps(a) == dumps(b)
    assert a["system"] == "Rules."
    assert [t["name"] for t in a["tools"]] == sorted(names)
    assert dumps({"m": a["messages"]}) == dumps({"m": body(names)["messages"]})


# -- through the proxy -----------------------------------------------------------------------


@pytest.mark.in_process
async def test_noisy_requests_reach_the_provider_as_identical_prefixes(
    fake: FakeProvider, make_settings: Callable[..., Settings]
) -> None:
    tools = [
        {
            "type": "function",
            "function": {"name": n, "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}},
        }
        for n in ("search", "fetch", "calc")
    ]
    async with in_process(fake, make_settings()) as http:
        client = async_openai(http, api_key="sk-test-key-123456")
        await client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "system", "content": "Be useful.  \r\n\r\n"}, {"role": "user", "content": "a"}],
            tools=tools,  # type: ignore[arg-type]
        )
        reordered = [
            {
                "function": {"parameters": {"properties": {"q": {"type": "string"}}, "type": "object"}, "name": n},
                "type": "function",
            }
            for n in ("calc", "search", "fetch")
        ]
        await client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "system", "content": "\nBe useful.\n"}, {"role": "user", "content": "b"}],
            tools=reordered,  # type: ignore[arg-type]
        )
    first, second = (r.body for r in fake.requests)
    assert dumps(first["tools"]) == dumps(second["tools"])
    assert first["messages"][0] == second["messages"][0] == {"role": "system", "content": "Be useful."}
    assert [t["function"]["name"] for t in first["tools"]] == ["calc", "fetch", "search"]


@pytest.mark.in_process
async def test_bypass_leaves_the_request_as_sent(fake: FakeProvider, make_settings: Callable[..., Settings]) -> None:
    async with in_process(fake, make_settings()) as http:
        client = async_openai(http, api_key="sk-test-key-123456")
        await client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "system", "content": "Raw.  \r\n"}, {"role": "user", "content": "a"}],
            extra_body={"lc_bypass_cache": True},
        )
    assert fake.requests[0].body["messages"][0]["content"] == "Raw.  \r\n"
