"""The provider's response headers that clients act on reach them; nothing else of the provider's does.

Clients back off on ``retry-after`` and the rate-limit headers and quote the provider's request
id; the proxy's own id travels as ``x-layercache-request-id``.
"""
# On sockets: the two LiteLLM-path tests (LiteLLM opens its own connections to the provider); the rest run in-process.

from __future__ import annotations

from collections.abc import Callable, Mapping

import anthropic
import httpx
import openai
import pytest

from layercache_asgi import Settings
from layercache_asgi.testing import FakeProvider, in_process
from layercache_asgi.upstream._headers import relay_headers

PROVIDER_HEADERS = {
    "x-request-id": "req_upstream_1",
    "request-id": "req_upstream_2",
    "x-ratelimit-remaining-requests": "9",
    "anthropic-ratelimit-requests-remaining": "7",
    "openai-processing-ms": "12",
    "x-provider-internal": "not for clients",
}
ACTED_ON = {k: v for k, v in PROVIDER_HEADERS.items() if k != "x-provider-internal"}
MESSAGES = [{"role": "user", "content": "hello"}]


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider(response_headers=PROVIDER_HEADERS)


def _relayed(headers: Mapping[str, str]) -> None:
    for name, value in ACTED_ON.items():
        assert headers.get(name) == value, name
    assert "x-provider-internal" not in headers
    assert headers["x-layercache-request-id"] not in ACTED_ON.values()


@pytest.mark.in_process
async def test_openai_json_and_stream(aopenai: openai.AsyncOpenAI) -> None:
    raw = await aopenai.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]
    assert raw.parse().choices[0].message.content == "Echo: hello"
    _relayed(raw.headers)
    async with aopenai.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
    ) as streamed:
        _relayed(streamed.headers)
        assert "Echo: hello" in "".join([text async for text in streamed.iter_text()])


@pytest.mark.in_process
async def test_anthropic_json_and_stream(aanthropic: anthropic.AsyncAnthropic) -> None:
    raw = await aanthropic.messages.with_raw_response.create(
        model="claude-haiku-4-5",
        max_tokens=20,
        messages=MESSAGES,  # type: ignore[arg-type]
    )
    assert (await raw.parse()).content[0].type == "text"
    _relayed(raw.headers)
    async with aanthropic.messages.with_streaming_response.create(
        model="claude-haiku-4-5",
        max_tokens=20,
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
    ) as streamed:
        _relayed(streamed.headers)
        assert "Echo: hello" in "".join([text async for text in streamed.iter_text()])


@pytest.mark.in_process
async def test_responses_json(aopenai: openai.AsyncOpenAI) -> None:
    raw = await aopenai.responses.with_raw_response.create(model="gpt-4o-mini", input="hello")
    assert raw.parse().output_text == "Echo: hello"
    _relayed(raw.headers)


@pytest.mark.in_process
async def test_errors_carry_them_too(fake: FakeProvider, aopenai: openai.AsyncOpenAI) -> None:
    fake.fail_next = [429]
    fake.error_headers = {"retry-after": "3", "retry-after-ms": "2500"}
    with pytest.raises(openai.RateLimitError) as caught:
        await aopenai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]
    headers = caught.value.response.headers
    _relayed(headers)
    assert headers["retry-after"] == "3" and headers["retry-after-ms"] == "2500"


def test_litellm_path_relays_the_providers_headers(openai_client: openai.OpenAI) -> None:
    # OpenAI's format to a Claude deployment: LiteLLM translates, and keeps Anthropic's headers.
    raw = openai_client.chat.completions.with_raw_response.create(
        model="claude-sonnet-4-5",
        max_tokens=20,
        messages=MESSAGES,  # type: ignore[arg-type]
    )
    assert raw.parse().choices[0].message.content == "Echo: hello"
    for name in ("x-request-id", "request-id", "anthropic-ratelimit-requests-remaining", "openai-processing-ms"):
        assert raw.headers[name] == PROVIDER_HEADERS[name], name
    # LiteLLM also names Anthropic's limit in OpenAI's terms for OpenAI-format clients.
    assert raw.headers["x-ratelimit-remaining-requests"] in ("7", "9")
    assert "x-provider-internal" not in raw.headers


@pytest.mark.in_process
async def test_the_clients_own_request_id_is_the_proxys(http: httpx.AsyncClient) -> None:
    body = {"model": "gpt-4o-mini", "messages": MESSAGES}
    r = await http.post(
        "/v1/chat/completions", json=body, headers={"authorization": "Bearer sk-x", "x-request-id": "mine-42"}
    )
    assert r.status_code == 200
    assert r.headers["x-layercache-request-id"] == "mine-42"
    assert r.headers["x-request-id"] == "req_upstream_1"  # the provider's, not ours


def test_only_named_headers_pass() -> None:
    sent = {
        "Connection": "keep-alive",
        "keep-alive": "timeout=5",
        "transfer-encoding": "chunked",
        "te": "trailers",
        "trailer": "x",
        "upgrade": "h2c",
        "proxy-authenticate": "Basic",
        "content-length": "99",
        "content-encoding": "gzip",
        "set-cookie": "session=secret",
        "Retry-After": "1",
        "x-ratelimit-reset-tokens": "6ms",
        "x-request-id": "bad\r\ninjected: yes",
    }
    assert relay_headers(sent) == {"retry-after": "1", "x-ratelimit-reset-tokens": "6ms"}


def test_litellms_raw_copy_wins_over_its_mapped_one() -> None:
    # LiteLLM maps Anthropic's limits onto OpenAI's names and keeps the raw ones as ``llm_provider-*``.
    additional = {"x-ratelimit-remaining-requests": "7", "llm_provider-x-ratelimit-remaining-requests": "9"}
    assert relay_headers(additional) == {"x-ratelimit-remaining-requests": "9"}


def test_litellm_responses_bridge_relays_them_on_streams(openai_client: openai.OpenAI) -> None:
    with openai_client.responses.with_streaming_response.create(
        model="claude-sonnet-4-5", input="hello", stream=True
    ) as streamed:
        assert streamed.headers["request-id"] == "req_upstream_2"
        assert streamed.headers["anthropic-ratelimit-requests-remaining"] == "7"
        assert "response.completed" in "".join(streamed.iter_text())


@pytest.mark.in_process
async def test_a_providers_cookie_never_goes_out_with_a_later_call(make_settings: Callable[..., Settings]) -> None:
    # One upstream client serves every tenant: a cookie one answer set (a load balancer's affinity,
    # say) would otherwise go out with the next tenant's call.
    setting = FakeProvider(response_headers={"set-cookie": "affinity=tenant-a; Path=/"})
    body = {"model": "gpt-4o-mini", "messages": MESSAGES}
    async with in_process(setting, make_settings()) as proxy:
        for key in ("sk-tenant-a", "sk-tenant-b"):
            r = await proxy.post("/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"})
            assert r.status_code == 200
            assert "set-cookie" not in r.headers
    assert len(setting.requests) == 2
    assert all("cookie" not in request.headers for request in setting.requests)
