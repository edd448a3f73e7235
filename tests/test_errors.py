"""Bad input gets a 4xx in the client's own error shape; upstream faults keep their meaning."""
# On sockets: only upstream, from an in-process app: a refused connection, and a timeout (ASGITransport has none).

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import async_anthropic, async_openai, client_of, providers_at

pytestmark = pytest.mark.in_process

OPENAI = "/v1/chat/completions"
ANTHROPIC = "/v1/messages"
ANTHROPIC_HEADERS = {"x-api-key": "sk-ant-x", "anthropic-version": "2023-06-01"}


async def _post(http: httpx.AsyncClient, path: str, raw: bytes | None = None, doc: Any = None) -> httpx.Response:
    headers = {"content-type": "application/json", "authorization": "Bearer sk-test"}
    return await http.post(path, content=raw, json=doc, headers=headers, timeout=30)


def _assert_openai_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"] and error["type"]
    assert "Traceback" not in response.text
    return dict(error)


def _assert_anthropic_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    doc = response.json()
    assert doc["type"] == "error" and doc["error"]["message"] and doc["error"]["type"]
    return dict(doc["error"])


@pytest.mark.parametrize(
    ("raw", "doc", "needle"),
    [
        (b"{not json", None, "not valid JSON"),
        (None, [1, 2], "JSON object"),
        (None, {"messages": [{"role": "user", "content": "x"}]}, "model"),
        (None, {"model": "gpt-4o"}, "messages"),
        (None, {"model": "gpt-4o", "messages": "hello"}, "messages"),
        (None, {"model": "gpt-4o", "messages": []}, "at least one"),
        (None, {"model": "gpt-4o", "messages": [{"role": "wizard", "content": "x"}]}, "role"),
        (None, {"model": "gpt-4o", "messages": [{"role": "user", "content": 5}]}, "content"),
        (None, {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "stream"),
        (None, {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "lc_cache_ttl": -1}, "lc_cache_ttl"),
        (None, {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "lc_nonsense": 1}, "lc_nonsense"),
    ],
)
async def test_bad_openai_requests(http: httpx.AsyncClient, raw: bytes | None, doc: Any, needle: str) -> None:
    error = _assert_openai_error(await _post(http, OPENAI, raw, doc), 400)
    assert needle in error["message"]


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
        ({"model": "claude-sonnet-4-6", "max_tokens": 5, "messages": [{"role": "wizard", "content": "x"}]}, "role"),
        (
            {
                "model": "claude-sonnet-4-6",
                "max_tokens": 5,
                "system": 3,
                "messages": [{"role": "user", "content": "x"}],
            },
            "system",
        ),
        (
            {
                "model": "claude-sonnet-4-6",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": "x"}],
                "lc_layer_hints": {"0": 9},
            },
            "layer",
        ),
    ],
)
async def test_bad_anthropic_requests(http: httpx.AsyncClient, doc: Any, needle: str) -> None:
    error = _assert_anthropic_error(await _post(http, ANTHROPIC, None, doc), 400)
    assert error["type"] == "invalid_request_error"
    assert needle in error["message"]


async def test_unknown_model_is_404_in_both_formats(http: httpx.AsyncClient) -> None:
    doc = {"model": "no-such-model-anywhere", "messages": [{"role": "user", "content": "x"}]}
    _assert_openai_error(await _post(http, OPENAI, None, doc), 404)
    _assert_anthropic_error(await _post(http, ANTHROPIC, None, {**doc, "max_tokens": 5}), 404)


async def test_sdk_sees_typed_errors(aopenai: openai.AsyncOpenAI, aanthropic: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(openai.BadRequestError):
        await aopenai.chat.completions.create(model="gpt-4o", messages=[])
    with pytest.raises(anthropic.NotFoundError):
        await aanthropic.messages.create(
            model="no-such-model-anywhere", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )


async def test_upstream_error_keeps_status_and_message(
    aopenai: openai.AsyncOpenAI, aanthropic: anthropic.AsyncAnthropic, fake: FakeProvider
) -> None:
    fake.fail_next = [429]
    with pytest.raises(openai.RateLimitError) as caught:
        await aopenai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert "failed with 429" in str(caught.value)
    fake.fail_next = [400]
    with pytest.raises(anthropic.BadRequestError):
        await aanthropic.messages.create(
            model="claude-sonnet-4-6", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )


async def test_upstream_timeout_is_504(
    make_settings: Callable[..., Settings], fake: FakeProvider, served_fake: Callable[[Any], str]
) -> None:
    # The fake is served: the timeout is the network transport's (the in-process one has none).
    fake.delay = 3.0
    settings = make_settings(upstream={"timeout": 0.5}, providers=providers_at(served_fake(fake)))
    async with client_of(LayerCacheApp(settings)) as http:
        response = await _post(http, OPENAI, None, {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})
        _assert_openai_error(response, 504)


async def test_upstream_down_is_502(make_settings: Callable[..., Settings]) -> None:
    # The app's own network transport, to an address where nothing listens: a refused connection.
    settings = make_settings(providers={"openai": {"api_base": "http://127.0.0.1:9/v1"}})
    async with client_of(LayerCacheApp(settings)) as http:
        response = await _post(http, OPENAI, None, {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})
        error = _assert_openai_error(response, 502)
        assert "unreachable" in error["message"]


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_stream_broken_midway_ends_with_error_event(
    http: httpx.AsyncClient, fake: FakeProvider, wire: str
) -> None:
    fake.break_stream_after = 2
    if wire == "openai":
        client = async_openai(http, api_key="sk-x")
        with pytest.raises(openai.APIError):
            async for _ in await client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "a b c"}], stream=True
            ):
                pass
    else:
        aclient = async_anthropic(http, api_key="sk-ant-x")
        with pytest.raises(anthropic.APIError):
            async with aclient.messages.stream(
                model="claude-sonnet-4-6", max_tokens=5, messages=[{"role": "user", "content": "a b c"}]
            ) as stream:
                async for _ in stream:
                    pass
    # What the SDKs raised on: the stream's last event is an error in the client's own shape.
    path, headers = (OPENAI, {"authorization": "Bearer sk-x"}) if wire == "openai" else (ANTHROPIC, ANTHROPIC_HEADERS)
    doc: dict[str, Any] = {"model": "gpt-4o" if wire == "openai" else "claude-sonnet-4-6", "max_tokens": 5}
    doc["stream"] = True
    doc["messages"] = [{"role": "user", "content": "a b c"}]
    async with http.stream("POST", path, json=doc, headers=headers, timeout=30) as response:
        assert response.status_code == 200  # the stream had started: the error can only come in-band
        events = (await response.aread()).decode().strip().split("\n\n")
    assert len(events) > 1  # what the provider sent before it broke reached the client first
    last = events[-1].splitlines()
    if wire == "anthropic":
        assert last[0] == "event: error"
    error = json.loads(last[-1].removeprefix("data: "))
    if wire == "anthropic":
        assert error["type"] == "error"
    assert error["error"]["type"] == "api_error"
    # The cause is named (the HTTP client's exception for the dropped connection), no traceback.
    assert error["error"]["message"].startswith("upstream stream interrupted: RemoteProtocolError")
    assert "Traceback" not in error["error"]["message"]
    assert "[DONE]" not in events[-1]


class LeakyFake(FakeProvider):
    """A provider whose error echoes the key it was given, as some do."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        headers = dict(scope["headers"])
        key = headers.get(b"authorization", b"").decode()
        error = {"message": f"Incorrect API key provided: {key}", "type": "invalid_request_error"}
        body = json.dumps({"error": error}).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


async def test_provider_keys_never_echoed(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-live-SUPERSECRET-0123456789"
    async with in_process(LeakyFake(), make_settings()) as http:
        response = await http.post(
            OPENAI,
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]},
            headers={"authorization": f"Bearer {secret}"},
        )
    assert response.status_code == 401
    assert secret not in response.text
    assert "SUPERSECRET" not in response.text
    out = capsys.readouterr()
    assert secret not in out.out + out.err


async def test_proxy_key_required_when_configured(
    make_settings: Callable[..., Settings], fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_TEST_OPENAI_KEY", "sk-server-side-key")
    settings = make_settings(
        proxy={"proxy_api_key": "proxy-secret"}, providers={"openai": {"api_key_env": "LC_TEST_OPENAI_KEY"}}
    )
    doc = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}
    async with in_process(fake, settings) as http:
        missing = await http.post(OPENAI, json=doc)
        _assert_openai_error(missing, 401)
        wrong = await http.post(OPENAI, json=doc, headers={"authorization": "Bearer nope"})
        _assert_openai_error(wrong, 401)
        anthropic_wrong = await http.post(ANTHROPIC, json={**doc, "max_tokens": 5}, headers={"x-api-key": "nope"})
        _assert_anthropic_error(anthropic_wrong, 401)
        client = async_openai(http, api_key="proxy-secret")
        answer = await client.chat.completions.create(**doc)  # type: ignore[call-overload]
        assert answer.choices[0].message.content == "Echo: x"
        # The provider got the server's key, never the proxy key.
        assert fake.requests[-1].headers["authorization"] == "Bearer sk-server-side-key"
        ok = await http.post(
            ANTHROPIC,
            json={**doc, "model": "claude-sonnet-4-6", "max_tokens": 5},
            headers={"x-api-key": "proxy-secret"},
        )
        assert ok.status_code == 200
