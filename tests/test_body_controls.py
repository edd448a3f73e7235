"""The request body never steers the provider call: LiteLLM's call settings are refused by name.

An "attacker" FakeProvider stands where a body field would redirect the call; after every
request it must have received nothing, and no text of the caller's choosing is served.
"""
# On sockets: the LiteLLM path makes its own HTTP calls, and the attacker's fake must be a reachable URL.

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve
from layercache_asgi.wire._fields import WIRE_FIELDS

# A translated request per wire format: OpenAI format to Claude, Anthropic format to GPT.
TRANSLATED = {"openai": "claude-sonnet-4-6", "anthropic": "gpt-4o-mini"}
HELLO: Any = [{"role": "user", "content": "hello"}]


@functools.cache
def _litellm() -> Any:
    import litellm  # imported here: collecting the tests stays cheap

    return litellm


def completion_kwargs(wire: str) -> list[str]:
    """Every named parameter of ``litellm.completion`` that is not a field of ``wire``'s own API."""
    params = inspect.signature(_litellm().completion).parameters.values()
    return sorted(p.name for p in params if p.kind is not p.VAR_KEYWORD and p.name not in WIRE_FIELDS[wire])


def internal_kwargs(wire: str) -> list[str]:
    """LiteLLM's declared list of the kwargs it owns (prices, callbacks, mocks...), plus its internal prefix."""
    from litellm.types.utils import all_litellm_params

    names = {*all_litellm_params, "mock_delay", "mock_tool_calls", "drop_params", "_litellm_anything"}
    return sorted(names - WIRE_FIELDS[wire])


@pytest.fixture
def attacker() -> Iterator[tuple[FakeProvider, str]]:
    fake = FakeProvider(name="attacker")
    with serve(fake) as url:
        yield fake, url


def _sdk_call(wire: str, url: str, key: str, extra: dict[str, Any]) -> tuple[int, str, str | None]:
    """(status, error message, OpenAI ``param``) of one translated request through the official SDK."""
    try:
        if wire == "openai":
            client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
            client.chat.completions.create(model=TRANSLATED[wire], messages=HELLO, max_tokens=20, extra_body=extra)
        else:
            client_a = anthropic.Anthropic(base_url=url, api_key=key, max_retries=0)
            client_a.messages.create(model=TRANSLATED[wire], messages=HELLO, max_tokens=20, extra_body=extra)
    except (openai.APIStatusError, anthropic.APIStatusError) as exc:
        body = exc.body if isinstance(exc.body, dict) else {}
        error = body.get("error", body)
        return exc.status_code, str(error.get("message", "")), error.get("param")
    return 200, "", None


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_every_completion_kwarg_is_refused_by_name(
    wire: str, proxy: str, fake: FakeProvider, attacker: tuple[FakeProvider, str]
) -> None:
    evil, evil_url = attacker
    names = completion_kwargs(wire)
    assert {"api_key", "base_url", "timeout", "extra_headers", "deployment_id"} <= set(names)
    for name in names:
        status, message, param = _sdk_call(wire, proxy, "sk-client-key-123", {name: f"{evil_url}/v1"})
        assert status == 400, (name, status, message)
        assert f"'{name}'" in message
        if wire == "openai":
            assert param == name
    assert evil.requests == [] and fake.requests == []


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_every_litellm_owned_kwarg_is_refused_on_the_raw_wire(
    wire: str, proxy: str, fake: FakeProvider, attacker: tuple[FakeProvider, str]
) -> None:
    evil, evil_url = attacker
    path = "/v1/chat/completions" if wire == "openai" else "/v1/messages"
    names = internal_kwargs(wire)
    assert {"api_base", "mock_response", "custom_llm_provider", "input_cost_per_token", "num_retries"} <= set(names)
    with httpx.Client(base_url=proxy, headers={"authorization": "Bearer sk-client-key-123"}) as client:
        for name in names:
            body = {"model": TRANSLATED[wire], "messages": HELLO, "max_tokens": 20, name: f"{evil_url}/v1"}
            response = client.post(path, json=body)
            assert response.status_code == 400, (name, response.text)
            assert f"'{name}'" in response.text
            assert "Echo" not in response.text
    assert evil.requests == [] and fake.requests == []


def test_mock_response_serves_no_mock_text(proxy: str, fake: FakeProvider) -> None:
    client = openai.OpenAI(base_url=f"{proxy}/v1", api_key="sk-client-key-123", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=TRANSLATED["openai"], messages=HELLO, extra_body={"mock_response": "pwned, no provider asked"}
        )
    assert "pwned" not in caught.value.message and "'mock_response'" in caught.value.message
    assert fake.requests == []


def test_base_url_refused_in_proxy_key_mode(
    make_settings: Callable[..., Settings], attacker: tuple[FakeProvider, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The operator's Anthropic key and the default base URL: the case where a redirect would leak the key.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-operator-secret")
    evil, evil_url = attacker
    settings = make_settings(proxy={"proxy_api_key": "proxy-key-1234"}, providers={"anthropic": {"api_base": None}})
    with serve(LayerCacheApp(settings)) as url:
        for field in ("base_url", "api_base"):
            status, message, param = _sdk_call("openai", url, "proxy-key-1234", {field: evil_url})
            assert (status, param) == (400, field) and f"'{field}'" in message
    assert evil.requests == []


def test_wire_fields_still_reach_the_provider(openai_client: openai.OpenAI, proxy: str, fake: FakeProvider) -> None:
    openai_client.chat.completions.create(
        model=TRANSLATED["openai"], messages=HELLO, max_tokens=20, stop=["STOP"], user="user-7", temperature=0.3
    )
    sent = fake.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.body["stop_sequences"] == ["STOP"]
    assert sent.body["metadata"] == {"user_id": "user-7"}
    assert sent.body["temperature"] == 0.3

    client = anthropic.Anthropic(base_url=proxy, api_key="sk-x", max_retries=0)
    client.messages.create(
        model=TRANSLATED["anthropic"],
        messages=HELLO,
        max_tokens=20,
        stop_sequences=["END"],
        metadata={"user_id": "user-9"},
        extra_body={"temperature": 0.4, "top_k": 5},  # sampling fields this SDK release no longer names
    )
    sent = fake.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert (sent.body["temperature"], sent.body["top_k"], sent.body["stop"]) == (0.4, 5, ["END"])
    assert sent.body["user"] == "user-9"


def test_unknown_field_is_refused_when_translated_but_passes_on_the_fast_path(
    openai_client: openai.OpenAI, fake: FakeProvider
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(model=TRANSLATED["openai"], messages=HELLO, extra_body={"vendor_knob": 1})
    assert caught.value.body["param"] == "vendor_knob"  # type: ignore[index]
    assert fake.requests == []
    # Same-format requests go to the configured base URL only, which judges the field itself.
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, extra_body={"vendor_knob": 1})
    assert fake.requests[-1].body["vendor_knob"] == 1


def test_allowlists_cover_the_official_sdks_request_fields() -> None:
    # The installed SDKs spell each API's request body; a field they add must be added here too.
    from anthropic.types.beta.message_create_params import MessageCreateParamsBase as AnthropicParams
    from openai.types.chat.completion_create_params import CompletionCreateParamsBase as OpenAIParams

    assert set(OpenAIParams.__annotations__) | {"stream"} <= WIRE_FIELDS["openai"]
    headers = {"betas", "user_profile_id", "workspace_id"}  # the SDK sends these as headers
    assert set(AnthropicParams.__annotations__) - headers | {"stream"} <= WIRE_FIELDS["anthropic"]
