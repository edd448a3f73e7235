"""Canonicalize: the same intent gives the same bytes, and meaning never changes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import openai
from hypothesis import given, settings
from hypothesis import strategies as st

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi._canonical import canonical_arguments, canonical_text, canonicalize_body
from layercache_asgi.testing import FakeProvider, serve


def dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# -- text --------------------------------------------------------------------------------


def test_text_normalises_line_endings_trailing_space_and_blank_edges() -> None:
    assert canonical_text("\r\n\n  \nYou are helpful.  \r\nBe brief.\t\r\n\r\n\n") == "You are helpful.\nBe brief."


def test_text_keeps_indentation_and_inner_blank_lines() -> None:
    code = "def f(x):\n    if x:\n        return 1\n\n\n    return 2"
    assert canonical_text(code) == code
    assert canonical_text("\n\n    indented first line") == "    indented first line"


def test_arguments_sorted_minified_numbers_keep_spelling() -> None:
    assert canonical_arguments('{ "b": 1e3, "a": {"z": 1.50, "y": "1e3"} }') == '{"a":{"y":"1e3","z":1.50},"b":1e3}'


def test_arguments_that_are_not_json_or_have_duplicate_keys_stay() -> None:
    assert canonical_arguments("{not json") == "{not json"
    assert canonical_arguments('{"a": 1, "a": 2}') == '{"a": 1, "a": 2}'


def test_strings_that_look_like_json_are_never_reserialised() -> None:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": '{"x": 1e3}'}], "model": "m"}
    canonicalize_body("openai", body)
    assert body["messages"][0]["content"] == '{"x": 1e3}'


# -- property tests -------------------------------------------------------------------------

_names = st.text("abcdefghij_", min_size=1, max_size=8)
_leaf = st.one_of(st.integers(-5, 5), st.booleans(), st.text(max_size=5), st.none())
_schema = st.recursive(
    st.dictionaries(_names, _leaf, max_size=4),
    lambda inner: st.dictionaries(_names, st.one_of(inner, st.lists(_leaf, max_size=3)), max_size=4),
    max_leaves=12,
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


def _shuffle_keys(value: Any, rnd: Any) -> Any:
    if isinstance(value, dict):
        keys = list(value)
        rnd.shuffle(keys)
        return {k: _shuffle_keys(value[k], rnd) for k in keys}
    if isinstance(value, list):
        return [_shuffle_keys(v, rnd) for v in value]
    return value


@settings(max_examples=60, deadline=None)
@given(openai_bodies(), st.randoms(use_true_random=False))
def test_shuffled_tools_and_schema_keys_give_identical_bytes(body: dict[str, Any], rnd: Any) -> None:
    noisy = copy.deepcopy(body)
    if "tools" in noisy:
        rnd.shuffle(noisy["tools"])
        noisy["tools"] = _shuffle_keys(noisy["tools"], rnd)
    for message in noisy["messages"]:
        for call in message.get("tool_calls") or []:
            call["function"]["arguments"] = json.dumps(_shuffle_keys(json.loads(call["function"]["arguments"]), rnd))
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
def test_conversation_order_and_fields_preserved(body: dict[str, Any]) -> None:
    before = copy.deepcopy(body)
    canonicalize_body("openai", body)
    assert [m["role"] for m in body["messages"]] == [m["role"] for m in before["messages"]]
    assert [sorted(m) for m in body["messages"]] == [sorted(m) for m in before["messages"]]
    for old, new in zip(before["messages"], body["messages"], strict=True):
        if isinstance(old.get("content"), str):
            assert new["content"] == canonical_text(old["content"])
        for old_call, new_call in zip(old.get("tool_calls") or [], new.get("tool_calls") or [], strict=True):
            assert json.loads(new_call["function"]["arguments"]) == json.loads(old_call["function"]["arguments"])


@settings(max_examples=40, deadline=None)
@given(st.lists(_names, min_size=1, max_size=6, unique=True), _schema, st.randoms(use_true_random=False))
def test_anthropic_tools_and_tool_use_input_are_canonical(names: list[str], schema: Any, rnd: Any) -> None:
    def body(order: list[str], input_: Any) -> dict[str, Any]:
        return {
            "model": "claude-sonnet-4-5",
            "max_tokens": 10,
            "system": "Rules.  \r\n",
            "tools": [{"name": n, "description": "d", "input_schema": _shuffle_keys(schema, rnd)} for n in order],
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": input_}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "ok \r\n"}]},
            ],
        }

    shuffled = list(names)
    rnd.shuffle(shuffled)
    a, b = body(names, schema), body(shuffled, _shuffle_keys(schema, rnd))
    canonicalize_body("anthropic", a)
    canonicalize_body("anthropic", b)
    assert dumps(a) == dumps(b)
    assert a["system"] == "Rules."
    assert [t["name"] for t in a["tools"]] == sorted(names)


# -- through the proxy -----------------------------------------------------------------------


def test_noisy_requests_reach_the_provider_as_identical_prefixes(
    fake: FakeProvider, make_settings: Callable[..., Settings]
) -> None:
    tools = [
        {
            "type": "function",
            "function": {"name": n, "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}},
        }
        for n in ("search", "fetch", "calc")
    ]
    with serve(LayerCacheApp(make_settings())) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test-key-123456", max_retries=0)
        client.chat.completions.create(
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
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "system", "content": "\nBe useful.\n"}, {"role": "user", "content": "b"}],
            tools=reordered,  # type: ignore[arg-type]
        )
    first, second = (r.body for r in fake.requests)
    assert dumps(first["tools"]) == dumps(second["tools"])
    assert first["messages"][0] == second["messages"][0] == {"role": "system", "content": "Be useful."}
    assert [t["function"]["name"] for t in first["tools"]] == ["calc", "fetch", "search"]


def test_bypass_leaves_the_request_as_sent(fake: FakeProvider, make_settings: Callable[..., Settings]) -> None:
    with serve(LayerCacheApp(make_settings())) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test-key-123456", max_retries=0)
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "system", "content": "Raw.  \r\n"}, {"role": "user", "content": "a"}],
            extra_body={"lc_bypass_cache": True},
        )
    assert fake.requests[0].body["messages"][0]["content"] == "Raw.  \r\n"
