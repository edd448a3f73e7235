"""The Responses API to providers without one (claude-*), through LiteLLM's Responses bridge;
state stored at OpenAI (``previous_response_id``, ``store: true``) only to OpenAI deployments."""
# On sockets: the Responses API bridged through LiteLLM, which makes its own HTTP calls.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve

CLAUDE = "claude-sonnet-4-5"


def test_claude_json(openai_client: openai.OpenAI, fake: FakeProvider) -> None:
    response = openai_client.responses.create(
        model=CLAUDE, instructions="Be brief.", input="hello", max_output_tokens=99
    )
    assert response.output_text == "Echo: hello"
    assert response.usage is not None and response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    [sent] = fake.requests
    assert sent.path == "/v1/messages"  # translated: the fake's Anthropic endpoint
    assert sent.body["max_tokens"] == 99
    assert sent.body["messages"][-1]["content"][0]["text"] == "hello"
    assert "Be brief." in str(sent.body["system"])


def test_claude_stream(openai_client: openai.OpenAI, fake: FakeProvider) -> None:
    with openai_client.responses.stream(model=CLAUDE, input=[{"role": "user", "content": "stream me"}]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert final.output_text == "Echo: stream me"
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert fake.requests[0].path == "/v1/messages" and fake.requests[0].body["stream"] is True


def test_claude_function_call(openai_client: openai.OpenAI) -> None:
    tools: list[Any] = [{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}]
    response = openai_client.responses.create(model=CLAUDE, input="look it up", tools=tools)
    [call] = [item for item in response.output if item.type == "function_call"]
    assert call.name == "lookup"


@pytest.mark.parametrize(
    "extra,named",
    [
        ({"previous_response_id": "resp_123"}, "'previous_response_id'"),
        ({"store": True}, "'store'"),
        ({"conversation": "conv_1", "background": True}, "'conversation' and 'background'"),
    ],
)
def test_openai_state_to_another_provider_is_a_clear_400(
    proxy: str, fake: FakeProvider, extra: dict[str, Any], named: str
) -> None:
    body = {"model": CLAUDE, "input": "continue", **extra}
    r = httpx.post(f"{proxy}/v1/responses", json=body, headers={"authorization": "Bearer sk-x"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert named in error["message"] and "OpenAI deployment" in error["message"] and "anthropic" in error["message"]
    assert fake.requests == []


def test_openai_state_is_forwarded_to_openai(openai_client: openai.OpenAI, fake: FakeProvider) -> None:
    openai_client.responses.create(model="gpt-4o", input="continue", previous_response_id="resp_123", store=True)
    [sent] = fake.requests
    assert sent.path == "/v1/responses"
    assert sent.body["previous_response_id"] == "resp_123" and sent.body["store"] is True


def test_failover_from_openai_to_claude(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-server-key")
    first, second = FakeProvider(name="openai", fail_next=[500]), FakeProvider(name="anthropic")
    with serve(first) as a, serve(second) as b:
        settings = make_settings(
            providers={"openai": {"api_base": f"{a}/v1"}, "anthropic": {"api_base": b}},
            fallbacks={"gpt-4o": [CLAUDE]},
        )
        with serve(LayerCacheApp(settings)) as url:
            client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x", max_retries=0)
            with client.responses.stream(model="gpt-4o", input="hi", store=False) as stream:
                final = stream.get_final_response()
    assert final.output_text == "Echo: hi"
    assert [r.path for r in first.requests] == ["/v1/responses"]
    assert [r.path for r in second.requests] == ["/v1/messages"]
    assert "prompt_cache_key" not in second.requests[0].body
    assert second.requests[0].headers["x-api-key"] == "sk-ant-server-key"  # never the client's OpenAI key


def test_codex_request_to_claude(proxy: str, fake: FakeProvider) -> None:
    from tests.test_responses_api import CODEX_HISTORY, codex_body

    body = dict(codex_body(CODEX_HISTORY), model=CLAUDE)
    with httpx.stream("POST", f"{proxy}/v1/responses", json=body, headers={"authorization": "Bearer sk-x"}) as r:
        assert r.status_code == 200, r.read()
        text = b"".join(r.iter_raw()).decode()
    assert "event: response.completed" in text
    [sent] = fake.requests
    assert sent.path == "/v1/messages"
    assert "You are Codex" in str(sent.body["system"]) and "client_metadata" not in sent.body
    assert [m["role"] for m in sent.body["messages"]][-1] == "user"


def test_gemini(make_settings: Callable[..., Settings]) -> None:
    from layercache_asgi.testing import FakeGemini  # serves generateContent only (no stream)

    gemini = FakeGemini()
    with serve(gemini) as up, serve(LayerCacheApp(make_settings(providers={"gemini": {"api_base": up}}))) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="AIzaTestKey1234567890", max_retries=0)
        final = client.responses.create(model="gemini/gemini-2.5-flash", instructions="Be brief.", input="hi")
    assert "hi" in final.output_text
    [sent] = [r.body for r in gemini.requests if "generateContent" in r.path]
    assert "Be brief." in str(sent.get("systemInstruction") or sent.get("system_instruction"))


def test_claude_gets_breakpoints_through_the_bridge(make_settings: Callable[..., Settings]) -> None:
    from layercache_asgi.testing import PrefixCacheSimulator

    rules = " ".join(f"Rule {i}: check the facts, cite the source and keep answers short." for i in range(160))
    tools: list[Any] = [{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}]
    sim = PrefixCacheSimulator()
    with serve(sim) as up, serve(LayerCacheApp(make_settings(providers={"anthropic": {"api_base": up}}))) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x", max_retries=0)
        items: list[Any] = [{"role": "developer", "content": "Follow the rules."}, {"role": "user", "content": "q1"}]
        first = client.responses.create(model=CLAUDE, instructions=rules, tools=tools, input=items)
        items += [item.model_dump(exclude_none=True) for item in first.output]
        call = next(item for item in first.output if item.type == "function_call")
        items.append({"type": "function_call_output", "call_id": call.call_id, "output": "ok"})
        second = client.responses.create(model=CLAUDE, instructions=rules, tools=tools, input=items)
    assert first.usage is not None and second.usage is not None
    assert first.usage.input_tokens_details.cached_tokens == 0
    assert second.usage.input_tokens_details.cached_tokens >= 1024  # the first turn's prefix, read back
    sent = sim.requests[-1].body
    assert "cache_control" in sent["tools"][-1]
    assert any("cache_control" in str(m["content"]) for m in sent["messages"])
