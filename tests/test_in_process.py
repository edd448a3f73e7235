"""testing.in_process: a proxy and its fake provider in one process, no socket opened."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pytest

from layercache_asgi import Settings
from layercache_asgi.testing import FakeProvider, HostRouter, in_process

from .conftest import async_openai

pytestmark = pytest.mark.in_process


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connect or bind from here on fails the test: everything must travel through ASGI transports."""

    def refuse(self: socket.socket, *args: Any) -> None:
        raise AssertionError(f"a socket was used: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket.socket, "bind", refuse)


async def test_fast_path_stream_models_and_count_tokens_reach_the_fake(
    make_settings: Callable[..., Settings], fake: FakeProvider, no_sockets: None
) -> None:
    fake.models = ["in-process-model"]
    async with in_process(fake, make_settings()) as client:
        sdk = async_openai(client, api_key="sk-client-key-1")
        answer = await sdk.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello"}])
        assert answer.choices[0].message.content == "Echo: hello"
        assert fake.requests[-1].path.endswith("/v1/chat/completions")
        assert fake.requests[-1].headers["authorization"] == "Bearer sk-client-key-1"

        chunks = [
            c
            async for c in await sdk.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "stream me"}], stream=True
            )
        ]
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: stream me"

        # The model list is fetched from the provider through the same transport.
        assert "in-process-model" in [m.id async for m in sdk.models.list()]
        assert any(r.path.endswith("/models") for r in fake.requests)

        # So is Anthropic's count_tokens, relayed from the fake's own count.
        count = await client.post(
            "/v1/messages/count_tokens",
            headers={"x-api-key": "sk-ant-client-1", "anthropic-version": "2023-06-01"},
            json={"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "count these words"}]},
        )
        assert count.status_code == 200, count.text
        assert fake.requests[-1].path.endswith("/v1/messages/count_tokens")
        assert count.json()["input_tokens"] > 0


async def test_the_app_starts_on_the_first_request_and_is_closed_after_the_block(
    make_settings: Callable[..., Settings], fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layercache_asgi import _runtime

    started: list[_runtime.Runtime] = []
    closed: list[_runtime.Runtime] = []
    real_start, real_close = _runtime.Runtime.start, _runtime.Runtime.close

    async def start(self: _runtime.Runtime, starters: Sequence[_runtime.Starter] = ()) -> None:
        started.append(self)
        await real_start(self, starters)

    async def close(self: _runtime.Runtime) -> None:
        closed.append(self)
        await real_close(self)

    monkeypatch.setattr(_runtime.Runtime, "start", start)
    monkeypatch.setattr(_runtime.Runtime, "close", close)
    async with in_process(fake, make_settings()) as client:
        assert started == []  # nothing runs until a request arrives, as when mounted
        health = await client.get("/health")
        assert health.json()["status"] == "healthy"
        assert len(started) == 1 and closed == []
    assert closed == started
    assert client.is_closed


async def test_a_host_map_puts_each_provider_behind_its_own_host(
    make_settings: Callable[..., Settings], no_sockets: None
) -> None:
    openai_fake, anthropic_fake = FakeProvider(name="openai-side"), FakeProvider(name="anthropic-side")
    settings = make_settings(
        providers={"openai": {"api_base": "http://oai.test/v1"}, "anthropic": {"api_base": "http://ant.test"}}
    )
    async with in_process({"oai.test": openai_fake, "ant.test": anthropic_fake}, settings) as client:
        chat = await client.post(
            "/v1/chat/completions",
            headers={"authorization": "Bearer sk-client-key-1"},
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "to openai"}]},
        )
        messages = await client.post(
            "/v1/messages",
            headers={"x-api-key": "sk-ant-client-1", "anthropic-version": "2023-06-01"},
            json={"model": "claude-sonnet-4-5", "max_tokens": 20, "messages": [{"role": "user", "content": "to ant"}]},
        )
    assert chat.status_code == 200 and chat.json()["choices"][0]["message"]["content"] == "Echo: to openai"
    assert messages.status_code == 200 and messages.json()["content"][0]["text"] == "Echo: to ant"
    assert [r.path for r in openai_fake.requests] == ["/v1/chat/completions"]
    assert [r.path for r in anthropic_fake.requests] == ["/v1/messages"]


async def test_a_host_not_in_the_map_is_unreachable_not_looked_up(
    make_settings: Callable[..., Settings], fake: FakeProvider, no_sockets: None
) -> None:
    router = HostRouter({"known.test": fake})
    async with httpx.AsyncClient(transport=router) as direct:
        with pytest.raises(httpx.ConnectError, match=r"no in-process app for host 'elsewhere\.test'.*known\.test"):
            await direct.get("http://elsewhere.test/v1/models")
        assert (await direct.get("http://KNOWN.test:8080/v1/models")).status_code == 200  # case and port ignored

    # Through the proxy, as a provider that cannot be reached: 502, and the fake saw nothing of it.
    fake.requests.clear()
    settings = make_settings(providers={"openai": {"api_base": "http://elsewhere.test/v1"}})
    async with in_process({"known.test": fake}, settings) as client:
        r = await client.post(
            "/v1/chat/completions",
            headers={"authorization": "Bearer sk-client-key-1"},
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]},
        )
    assert r.status_code == 502, r.text
    assert "unreachable" in r.json()["error"]["message"]
    assert fake.requests == []


@pytest.mark.parametrize("apps", [{}, {"http://a.test": FakeProvider()}, {"a.test:80": FakeProvider()}])
def test_a_host_router_takes_bare_host_names(apps: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        HostRouter(apps)


async def test_an_app_that_fails_mid_answer_drops_the_connection_as_a_served_one_would(no_sockets: None) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/early":
            raise RuntimeError("before the answer")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first part ", "more_body": True})
        raise ConnectionError("gone")

    async with httpx.AsyncClient(transport=HostRouter({"app.test": app}), base_url="http://app.test") as client:
        assert (await client.get("/early")).status_code == 500
        async with client.stream("GET", "/late") as r:
            assert r.status_code == 200
            read: list[bytes] = []
            with pytest.raises(httpx.RemoteProtocolError, match="gone"):
                async for chunk in r.aiter_raw():
                    read.append(chunk)
    assert b"".join(read) == b"first part "
