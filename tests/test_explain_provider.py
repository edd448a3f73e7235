"""The provider's cache diagnosis beside the proxy's diff: asked on the Anthropic fast path, shown in
``x-layercache-prefix``, the metrics and the dashboard, and taken out of answers for clients that did
not ask for it (JSON and streams), against the fake provider's diagnostics."""
# On sockets: one test needs an upstream that streams as it goes (said there); the others are in-process.

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings, _logging
from layercache_asgi.explain import BETA, Diagnosis
from layercache_asgi.testing import FakeProvider, in_process, serve

from .conftest import async_anthropic, async_openai, providers_at

pytestmark = pytest.mark.in_process

HEADER = "x-layercache-prefix"
MODEL = "claude-sonnet-4-5"
SYSTEM = "You are a careful assistant. " * 40


def details(header: str) -> dict[str, str]:
    """``x-layercache-prefix`` as a dict: the verdict under "verdict", then its key=value details."""
    verdict, *rest = header.split("; ")
    found = {"verdict": verdict}
    for item in rest:
        key, _, value = item.partition("=")
        found[key] = value or "yes"
    return found


@pytest.fixture
def claude(http: httpx.AsyncClient) -> anthropic.AsyncAnthropic:
    return async_anthropic(http, api_key="sk-ant-test-key-1")


async def ask(claude: anthropic.AsyncAnthropic, system: str = SYSTEM, question: str = "Q1", **extra: Any) -> Any:
    return await claude.messages.with_raw_response.create(
        model=MODEL, max_tokens=20, system=system, messages=[{"role": "user", "content": question}], **extra
    )


def anthropic_requests(fake: FakeProvider) -> list[Any]:
    return [r for r in fake.requests if r.path.endswith("/v1/messages")]


async def test_the_proxy_asks_and_shows_the_providers_reason_beside_its_own(
    fake: FakeProvider, claude: anthropic.AsyncAnthropic
) -> None:
    first = await ask(claude)
    assert details(first.headers[HEADER]) == {"verdict": "new"}
    sent = anthropic_requests(fake)[-1]
    assert sent.body["diagnostics"] == {"previous_message_id": None}  # opts in: the next one can compare
    assert BETA in sent.headers["anthropic-beta"].split(",")
    first_id = (await first.parse()).id

    second = await ask(claude, system=SYSTEM + " Answer in French.")
    assert anthropic_requests(fake)[-1].body["diagnostics"] == {"previous_message_id": first_id}
    shown = details(second.headers[HEADER])
    assert shown["verdict"] == "changed:L0 system"
    assert shown["provider"] == "system_changed"
    assert "disagree" not in shown
    assert (await second.parse()).model_dump().get("diagnostics") is None  # the SDK sees no diagnostics

    # The same system, a follow-up turn: both say nothing diverged.
    second_id = (await second.parse()).id
    follow = await claude.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=20,
        system=SYSTEM + " Answer in French.",
        messages=[
            {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": "Echo: Q1"},
            {"role": "user", "content": "Q2"},
        ],
    )
    assert anthropic_requests(fake)[-1].body["diagnostics"] == {"previous_message_id": second_id}
    assert details(follow.headers[HEADER]) == {"verdict": "stable", "provider": "none"}


async def test_json_answers_are_unchanged_for_clients_that_did_not_ask(http: httpx.AsyncClient) -> None:
    body = {"model": MODEL, "max_tokens": 20, "system": SYSTEM, "messages": [{"role": "user", "content": "Q1"}]}
    headers = {"x-api-key": "sk-ant-test-key-1", "anthropic-version": "2023-06-01"}
    await http.post("/v1/messages", json=body, headers=headers)
    body["system"] = SYSTEM + " v2"
    answer = await http.post("/v1/messages", json=body, headers=headers)
    assert details(answer.headers[HEADER])["provider"] == "system_changed"
    doc = answer.json()
    assert "diagnostics" not in doc
    # The provider's own spacing is kept byte for byte (the fake writes json.dumps' default ", " / ": ").
    assert answer.content == json.dumps(doc).encode()
    assert int(answer.headers["content-length"]) == len(answer.content)


async def stream_raw(http: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    sent = {"x-api-key": "sk-ant-test-key-1", "anthropic-version": "2023-06-01", **headers}
    return await http.post("/v1/messages", json={**body, "stream": True}, headers=sent)


def events_of(response: httpx.Response) -> list[dict[str, Any]]:
    found = []
    for block in response.text.split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: "):
                data = line[6:]
                assert data == json.dumps(json.loads(data), separators=(",", ":"))  # bytes as the provider wrote
                found.append(json.loads(data))
    return found


@pytest.mark.parametrize("place", ["message_start", "message_delta"])
async def test_streams_are_read_and_stripped_wherever_the_diagnosis_comes(
    fake: FakeProvider, make_settings: Callable[..., Settings], served_fake: Callable[[Any], str], place: str
) -> None:
    # On sockets: only an upstream that streams as it goes (not ASGITransport, which hands the proxy
    # the whole stream at once) has the headers leave before a diagnosis in message_delta arrives.
    fake.diagnostics.place = place  # type: ignore[assignment]
    settings = make_settings(providers=providers_at(served_fake(fake)))
    with serve(LayerCacheApp(settings)) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            body = {"model": MODEL, "max_tokens": 20, "system": SYSTEM, "messages": [{"role": "user", "content": "Q1"}]}
            await stream_raw(http, body)
            tools = [{"name": "lookup", "description": "Look up", "input_schema": {"type": "object"}}]
            answer = await stream_raw(http, {**body, "tools": tools})
            text = (await http.get("/metrics")).text
    assert b"diagnostics" not in answer.content
    events = events_of(answer)
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    shown = details(answer.headers[HEADER])
    assert shown["verdict"] == "changed:L1 tools[0]"
    if place == "message_start":  # read before the headers left
        assert shown["provider"] == "tools_changed"
    else:  # too late for the header; the metrics still have it
        assert "provider" not in shown
    assert f'layercache_prefix_changes_total{{cause="tools_changed",model="{MODEL}",source="provider"}} 1.0' in text
    assert f'layercache_prefix_changes_total{{cause="L1",model="{MODEL}",source="proxy"}} 1.0' in text


async def test_the_sdk_stream_still_parses(claude: anthropic.AsyncAnthropic) -> None:
    await ask(claude)
    async with claude.messages.stream(
        model=MODEL, max_tokens=20, system=SYSTEM + "!", messages=[{"role": "user", "content": "Q1"}]
    ) as stream:
        final = await stream.get_final_message()
    assert final.content[0].text == "Echo: Q1"  # type: ignore[union-attr]
    assert final.diagnostics is None


async def test_a_client_that_asks_itself_gets_its_own_field_and_the_answer_as_is(
    fake: FakeProvider, claude: anthropic.AsyncAnthropic
) -> None:
    first = await ask(claude, diagnostics={"previous_message_id": None})
    assert (await first.parse()).diagnostics is None
    assert "provider" not in details(first.headers[HEADER])  # it only opted in: nothing was compared
    second = await ask(claude, system=SYSTEM + " v2", diagnostics={"previous_message_id": (await first.parse()).id})
    sent = anthropic_requests(fake)[-1]
    assert sent.body["diagnostics"] == {"previous_message_id": (await first.parse()).id}  # the client's, untouched
    reason = (await second.parse()).diagnostics
    assert reason is not None and reason.cache_miss_reason is not None
    assert reason.cache_miss_reason.type == "system_changed"
    assert details(second.headers[HEADER])["provider"] == "system_changed"


async def test_other_wires_and_the_setting_off_send_nothing(
    fake: FakeProvider, make_settings: Callable[..., Settings]
) -> None:
    async with in_process(fake, make_settings(caching={"provider_diagnostics": False})) as http:
        claude = async_anthropic(http, api_key="sk-ant-test-key-1")
        await ask(claude)
        second = await ask(claude, system=SYSTEM + " v2")
        assert "diagnostics" not in anthropic_requests(fake)[-1].body
        assert "provider" not in details(second.headers[HEADER])
        gpt = async_openai(http, api_key="sk-test-1")
        await gpt.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert "diagnostics" not in fake.requests[-1].body


async def test_an_endpoint_that_refuses_the_field_is_asked_once_then_never(
    fake: FakeProvider, claude: anthropic.AsyncAnthropic
) -> None:
    fake.diagnostics.supported = False
    answer = await ask(claude)
    assert (await answer.parse()).content[0].text == "Echo: Q1"
    tried = anthropic_requests(fake)
    assert "diagnostics" in tried[-2].body and "diagnostics" not in tried[-1].body
    await ask(claude, question="Q2")
    assert len(anthropic_requests(fake)) == len(tried) + 1
    assert "diagnostics" not in anthropic_requests(fake)[-1].body


async def test_a_failover_to_another_model_is_flagged_as_a_disagreement(
    fake: FakeProvider, make_settings: Callable[..., Settings]
) -> None:
    # The provider sees the model change; the proxy compares requests of one client model name.
    settings = make_settings(
        models=[
            {"name": "claude-main", "model": "anthropic/claude-sonnet-4-5"},
            {"name": "claude-backup", "model": "anthropic/claude-haiku-4-5"},
        ],
        fallbacks={"claude-main": ["claude-backup"]},
    )
    async with in_process(fake, settings) as http:
        claude = async_anthropic(http, api_key="sk-ant-test-key-1")

        async def send() -> Any:
            return await claude.messages.with_raw_response.create(
                model="claude-main", max_tokens=20, system=SYSTEM, messages=[{"role": "user", "content": "Q1"}]
            )

        await send()
        fake.fail_next = [500]
        moved = await send()
        shown = details(moved.headers[HEADER])
        assert shown == {"verdict": "stable", "provider": "model_changed", "disagree": "yes"}
        text = (await http.get("/metrics")).text
        assert 'layercache_prefix_disagreements_total{model="claude-main"} 1.0' in text


def test_agreement_rules() -> None:
    def verdict(proxy: str | None, reason: str, previous: str | None = "msg_1") -> bool | None:
        diagnosis = Diagnosis(previous_id=previous, client_asked=False, proxy_field=proxy)
        diagnosis.reason = reason
        return diagnosis.agrees

    assert verdict("system", "system_changed") is True
    assert verdict("tools", "system_changed") is False
    assert verdict(None, "none") is True
    assert verdict("messages", "none") is False
    assert verdict("system", "previous_message_not_found") is None  # nothing to compare
    assert verdict("system", "pending") is None
    assert verdict("system", "system_changed", previous=None) is None


async def test_pending_and_forgotten_diagnoses_are_shown_but_never_flagged(
    fake: FakeProvider, claude: anthropic.AsyncAnthropic
) -> None:
    await ask(claude)
    fake.diagnostics.pending = True  # Anthropic had not finished comparing when it answered
    shown = details((await ask(claude, system=SYSTEM + " v2")).headers[HEADER])
    assert (shown["verdict"], shown["provider"], "disagree" in shown) == ("changed:L0 system", "pending", False)
    fake.diagnostics.pending = False
    fake.diagnostics.fingerprints.clear()  # its fingerprints expired
    shown = details((await ask(claude, system=SYSTEM + " v3")).headers[HEADER])
    assert (shown["provider"], "disagree" in shown) == ("previous_message_not_found", False)
    assert shown["block"] == "system" and int(shown["byte"]) == len(SYSTEM) // 64 * 64  # the appended words' chunk


@pytest.mark.parametrize("level", ["WARNING", "INFO"])
async def test_info_lines_are_not_built_at_a_level_that_drops_them(
    fake: FakeProvider, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, level: str
) -> None:
    from layercache_asgi.stages import explain_misses

    built: list[str] = []

    class Spy:  # stands in for the stage's logger: records what the stage asks it to log
        def info(self, event: str, **fields: Any) -> None:
            built.append(event)

    monkeypatch.setattr(explain_misses, "log", Spy())
    # The process's level is the lowest of its live apps' levels: an app another test left alive at
    # INFO would keep the lines wanted, so this app is the only one here.
    monkeypatch.setattr(_logging, "_live", weakref.WeakValueDictionary())
    async with in_process(fake, make_settings(logging={"level": level})) as http:
        claude = async_anthropic(http, api_key="sk-ant-test-key-1")
        await ask(claude)
        # The proxy sees the system change; the provider is made to name the tools instead.
        monkeypatch.setattr(
            fake.diagnostics, "diagnose", lambda body, count: (True, {"cache_miss_reason": {"type": "tools_changed"}})
        )
        shown = details((await ask(claude, system=SYSTEM + " v2")).headers[HEADER])
    assert (shown["verdict"], shown["provider"], shown["disagree"]) == ("changed:L0 system", "tools_changed", "yes")
    assert built == ([] if level == "WARNING" else ["prefix_changed", "prefix_verdicts_differ"])
