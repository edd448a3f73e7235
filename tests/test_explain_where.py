"""The explainer shows where: the first differing block, the byte offset in it, lengths and hashes on
both sides, text only with ``log_prompts``, and values that change by themselves named as volatile."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from layercache_asgi import Settings
from layercache_asgi.explain import (
    EventFilter,
    block_texts,
    chunk_print,
    first_block_difference,
    locate,
    prints_of,
    remove_member,
)
from layercache_asgi.explain._strip import found
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import ADMIN_KEY, async_anthropic, client_with

HEADER = "x-layercache-prefix"
MODEL = "claude-sonnet-4-5"
RULES = "Follow the house rules. " * 60  # ~1.4 KB
TOOLS = [
    {"name": f"tool_{i}", "description": f"Tool number {i}.", "input_schema": {"type": "object"}} for i in range(20)
]


def billing(cch: str) -> str:
    return f"x-anthropic-billing-header: cc_version=2.1.37.0d9; cc_entrypoint=cli; cch={cch};"


def where(current: dict[str, Any], previous: dict[str, Any], *, keep_text: bool = False) -> Any:
    now, before = block_texts("anthropic", current), block_texts("anthropic", previous)
    mine, theirs = prints_of(now), prints_of(before)
    index = first_block_difference(mine, theirs)
    assert index is not None
    old = before[index][1] if index < len(before) else None
    return locate(
        mine[index] if index < len(mine) else None,
        theirs[index] if index < len(theirs) else None,
        now[index][1] if index < len(now) else None,
        chunk_print(old) if old is not None else None,
        old if keep_text else None,
    )


def body(system: Any = RULES, tools: list[Any] | None = None, messages: list[Any] | None = None) -> dict[str, Any]:
    return {"system": system, "tools": tools or [], "messages": messages or [{"role": "user", "content": "hi"}]}


def test_the_first_differing_content_block_is_named_with_both_sides() -> None:
    history = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": [{"type": "text", "text": "A1"}, {"type": "text", "text": "more"}]},
        {"role": "user", "content": "Q2"},
    ]
    edited = [
        history[0],
        {"role": "assistant", "content": [{"type": "text", "text": "A1"}, {"type": "text", "text": "MORE"}]},
    ]
    found_at = where(body(messages=[*edited, history[2]]), body(messages=history))
    assert found_at.path == "messages[1].content[1]"
    assert (found_at.length, found_at.previous_length) == (4, 4)
    assert found_at.digest != found_at.previous_digest and len(found_at.digest) == 16
    assert found_at.text is None and found_at.previous_text is None  # no log_prompts: no text


def test_offsets_are_exact_to_the_chunk_without_text_and_to_the_byte_with_it() -> None:
    edited = RULES[:1000] + "Also be brief. " + RULES[1000:]
    rough = where(body(system=edited), body())
    assert rough.path == "system" and rough.precision == 64 and rough.offset == 960
    assert rough.describe() == "system at byte 960 (±64)"
    exact = where(body(system=edited), body(), keep_text=True)
    assert exact.offset == 1000 and exact.precision == 1
    assert exact.text is not None and "Also be brief." in exact.text
    assert exact.previous_text is not None and "Also be brief." not in exact.previous_text
    assert (exact.length, exact.previous_length) == (len(edited), len(RULES))


def test_a_tool_change_names_the_tool() -> None:
    changed = [*TOOLS[:17], {**TOOLS[17], "description": "Tool number 17, now faster."}, *TOOLS[18:]]
    assert where(body(tools=changed), body(tools=TOOLS)).path == "tools[17]"


def test_volatile_values_are_named() -> None:
    dated = [{"type": "text", "text": RULES + "Today is 2026-12-01."}]
    next_day = [{"type": "text", "text": RULES + "Today is 2026-12-02."}]
    found_at = where(body(system=next_day), body(system=dated))
    assert found_at.volatile == "date"
    assert found_at.describe() == f"volatile: date in system[0] at byte {len(RULES) + 9}"

    claude_code = [{"type": "text", "text": billing("fa690")}, {"type": "text", "text": RULES}]
    next_turn = [{"type": "text", "text": billing("0aaa9")}, {"type": "text", "text": RULES}]
    assert where(body(system=next_turn), body(system=claude_code)).describe() == (
        "volatile: billing header in system[0] at byte 0"
    )

    session = f"Session {uuid.uuid4()}. " + RULES
    other = f"Session {uuid.uuid4()}. " + RULES
    assert where(body(system=other), body(system=session)).volatile == "uuid"
    assert where(
        body(system=RULES + "Trace 9f86d081884c7d65."), body(system=RULES + "Trace 1b4f0e9851971998.")
    ).volatile == ("hex id")
    clock = where(body(system=RULES + "It is 09:41:07 now."), body(system=RULES + "It is 09:42:13 now."))
    assert clock.volatile == "time" and clock.offset == len(RULES) + 6
    epoch = where(body(system=RULES + "ts=1764580000."), body(system=RULES + "ts=1764583600."))
    assert epoch.volatile == "timestamp"
    plain = where(body(system=RULES.replace("house", "HOUSE", 1)), body())
    assert plain.volatile is None and plain.offset == 0


def test_memory_stays_bounded() -> None:
    big = ("x" * 1000 + "\n") * 400  # 400 KB in one block
    prints = chunk_print(big.encode())
    assert len(prints.hashes) <= 256 * 4 and prints.size >= 1024
    printed = prints_of(block_texts("anthropic", body(system=big)))
    assert printed[0].length == len(big) and len(printed[0].digest) == 16  # no text kept


def test_members_are_taken_out_without_touching_other_bytes() -> None:
    raw = b'{"id": "msg_1",  "content": [{"text": "a \\"diagnostics\\" b"}], "diagnostics": {"x": [1, "}"]}, "z": 1.50}'
    stripped, value = remove_member(raw, ("diagnostics",))
    assert value == {"x": [1, "}"]}
    assert stripped == b'{"id": "msg_1",  "content": [{"text": "a \\"diagnostics\\" b"}], "z": 1.50}'
    last, value = remove_member(b'{"a":1,"diagnostics":null}', ("diagnostics",))
    assert (last, value) == (b'{"a":1}', None)
    untouched, value = remove_member(b'{"a":1}', ("diagnostics",))
    assert untouched == b'{"a":1}' and not found(value)

    seen: list[Any] = []
    events = EventFilter(seen.append, strip=True)
    stream = (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","diagnostics":null,"usage":{}}}\n\n'
        b'event: ping\ndata: {"type": "ping"}\n\n'
    )
    out = b"".join(events.feed(stream[i : i + 7]) for i in range(0, len(stream), 7)) + events.flush()
    assert out == stream.replace(b',"diagnostics":null', b"")
    assert seen == [None]


@pytest.mark.in_process
async def test_through_the_proxy_the_header_and_the_prefix_page_say_where(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    settings = make_settings(logging={"format": "console", "log_prompts": False})
    async with in_process(fake, settings) as http:
        claude = async_anthropic(http, api_key="sk-ant-test-key-1")

        async def send(cch: str) -> str:
            raw = await claude.messages.with_raw_response.create(
                model=MODEL,
                max_tokens=20,
                system=[{"type": "text", "text": billing(cch)}, {"type": "text", "text": RULES}],
                messages=[{"role": "user", "content": "secret question"}],
            )
            return raw.headers[HEADER]

        await send("fa690")
        header = await send("0aaa9")
        assert header.startswith("changed:L0 system[0]; block=system[0]; byte=0; volatile=billing header")
        assert "provider=system_changed" in header
        page = await dashboard_prefix(http)
        assert "volatile: billing header" in page and "system_changed" in page
        assert "secret question" not in page and "cch=" not in page  # no text without log_prompts


@pytest.mark.in_process
async def test_with_log_prompts_the_page_shows_the_text(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    settings = make_settings(logging={"format": "console", "log_prompts": True})
    async with in_process(fake, settings) as http:
        claude = async_anthropic(http, api_key="sk-ant-test-key-1")
        for day in ("2026-12-01", "2026-12-02"):
            await claude.messages.create(
                model=MODEL,
                max_tokens=20,
                system=f"Today is {day}. " + RULES,
                messages=[{"role": "user", "content": "q"}],
            )
        page = await dashboard_prefix(http)
        assert "volatile: date" in page and "at byte 9" in page
        assert "Today is 2026-12-02" in page and "Today is 2026-12-01" in page


async def dashboard_prefix(http: httpx.AsyncClient) -> str:
    async with client_with(http, follow_redirects=True) as tab:
        login = (await tab.get("/dashboard/login")).text
        token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        await tab.post("/dashboard/login", data={"key": ADMIN_KEY, "csrf_token": token})
        return (await tab.get("/dashboard/prefix")).text
