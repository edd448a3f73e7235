"""A client that goes away cancels its upstream call: nothing waits or calls for a client that left.

The fake provider answers slowly (a 30 s delay before it answers, or in mid-stream)
and counts the requests it is still answering; a raw httpx client sends a request and
closes its connection early. The proxy must close the upstream request well before the
delay is over, on every path, and count the request as ``status="499"``.
"""
# On sockets: a client leaving mid-stream, which needs a real connection (ASGITransport buffers whole answers).

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi._disconnect import ClientDisconnected, DisconnectWatch
from layercache_asgi.testing import FakeProvider, serve
from layercache_asgi.upstream._pool_reaper import reap_orphan_connections
from tests._metrics import prometheus, sample
from tests.conftest import unique

SLOW = 30.0  # the fake's delay: far longer than any wait below
SOON = 10.0  # the bound on "promptly": well below SLOW


def eventually(check: Callable[[], bool], within: float = SOON) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def request_for(route: str, model: str, stream: bool, text: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": text or unique("q")}], **extra}
    if route == "/v1/messages":
        body["max_tokens"] = 20
    if stream:
        body["stream"] = True
    return body


HEADERS = {"authorization": "Bearer sk-test-client-key-1", "x-api-key": "sk-test-client-key-1"}


def connect_and_send(url: str, route: str, body: dict[str, Any]) -> socket.socket:
    """A raw HTTP/1.1 request on a connection the test closes when it wants."""
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps(body).encode()
    head = [f"POST {route} HTTP/1.1", f"host: {host}", "content-type: application/json"]
    head += [f"{k}: {v}" for k, v in HEADERS.items()] + [f"content-length: {len(payload)}", "", ""]
    sock = socket.create_connection((host, int(port)), timeout=SOON)
    sock.sendall("\r\n".join(head).encode() + payload)
    return sock


def abandon(url: str, route: str, body: dict[str, Any], fake: FakeProvider) -> None:
    """Send a request and close the connection once it reached the provider (streams: once it started)."""
    before = len(fake.requests)
    with connect_and_send(url, route, body) as sock:
        if body.get("stream"):
            received = b""
            while b"data:" not in received:  # the first event has arrived: the stream is under way
                chunk = sock.recv(65536)
                assert chunk, "the proxy closed the stream"
                received += chunk
            assert received.startswith(b"HTTP/1.1 200")
        else:
            assert eventually(lambda: len(fake.requests) > before)


def ready(url: str, fake: FakeProvider) -> None:
    """Answer one request on each path first (LiteLLM's first import blocks for seconds), then forget them."""
    delay, fake.delay = fake.delay, 0.0
    for route, model in (("/v1/chat/completions", "gpt-4o-mini"), ("/v1/chat/completions", "claude-haiku-4-5")):
        answer = httpx.post(url + route, json=request_for(route, model, False), headers=HEADERS, timeout=60)
        assert answer.status_code == 200
    fake.delay = delay
    fake.requests.clear()


@pytest.fixture
def slow_proxy(fake: FakeProvider, make_settings: Callable[..., Settings]) -> Iterator[tuple[str, LayerCacheApp]]:
    fake.delay = SLOW
    app = LayerCacheApp(make_settings())
    with serve(app) as url:
        ready(url, fake)
        yield url, app


PATHS = [
    pytest.param("/v1/chat/completions", "gpt-4o-mini", id="openai-fast"),
    pytest.param("/v1/messages", "claude-haiku-4-5", id="anthropic-fast"),
    pytest.param("/v1/chat/completions", "claude-haiku-4-5", id="openai-to-claude-litellm"),
    pytest.param("/v1/messages", "gpt-4o-mini", id="anthropic-to-gpt-litellm"),
]


@pytest.mark.parametrize(("route", "model"), PATHS)
def test_json_request_of_a_client_that_left_is_cancelled_upstream(
    slow_proxy: tuple[str, LayerCacheApp], fake: FakeProvider, route: str, model: str
) -> None:
    url, _ = slow_proxy
    abandon(url, route, request_for(route, model, stream=False), fake)
    assert eventually(lambda: fake.abandoned == 1 and fake.in_flight == 0)
    assert len(fake.requests) == 1


@pytest.mark.parametrize(("route", "model"), PATHS)
def test_stream_of_a_client_that_left_is_closed_upstream(
    slow_proxy: tuple[str, LayerCacheApp], fake: FakeProvider, route: str, model: str
) -> None:
    url, _ = slow_proxy
    fake.delay = 0.0
    fake.stall_stream_after, fake.stall_seconds = 3, SLOW  # the stream starts (with text), then stalls
    abandon(url, route, request_for(route, model, stream=True), fake)
    assert eventually(lambda: fake.abandoned == 1 and fake.in_flight == 0)


def test_abandoned_requests_are_counted_as_499_and_logged(
    slow_proxy: tuple[str, LayerCacheApp], fake: FakeProvider
) -> None:
    url, app = slow_proxy
    abandon(url, "/v1/chat/completions", request_for("/v1/chat/completions", "gpt-4o-mini", stream=False), fake)
    assert eventually(
        lambda: sample(prometheus(url), "layercache_requests_total", model="gpt-4o-mini", status="499") == 1
    )
    route = "/v1/chat/completions"
    assert eventually(lambda: sample(prometheus(url), "layercache_responses_total", route=route, status="499") == 1)
    samples = prometheus(url)
    assert sample(samples, "layercache_requests_total", status="500") == 0
    assert sample(samples, "layercache_responses_total", status="500") == 0
    assert sample(samples, "layercache_upstream_errors_total") == 0  # the provider did nothing wrong
    logs = app.runtime.logs
    assert logs is not None
    [line] = [line for line in logs.tail(1000) if line.get("event") == "client_closed"]
    assert not [line for line in logs.tail(1000) if line.get("event") == "request_rejected"]
    assert line["status"] == 499 and line["request_id"]


def test_abandoned_requests_do_not_hold_the_connection_pool(
    fake: FakeProvider, make_settings: Callable[..., Settings]
) -> None:
    fake.delay = SLOW
    with serve(LayerCacheApp(make_settings(upstream={"max_connections": 2}))) as url:
        ready(url, fake)
        route = "/v1/chat/completions"
        sockets = [connect_and_send(url, route, request_for(route, "gpt-4o-mini", False)) for _ in range(5)]
        assert eventually(lambda: fake.in_flight == 2)  # the pool is full; three more wait for it
        for sock in sockets:
            sock.close()
        assert eventually(lambda: fake.in_flight == 0)
        fake.delay = 0.0
        answer = httpx.post(url + route, json=request_for(route, "gpt-4o-mini", False, "hello"), timeout=SOON)
    assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["content"] == "Echo: hello"
    # Every abandoned request that reached the provider was closed there; none still holds a connection.
    assert fake.abandoned == len(fake.requests) - 1 and fake.in_flight == 0


def test_a_client_that_answers_normally_is_unaffected(
    slow_proxy: tuple[str, LayerCacheApp], fake: FakeProvider
) -> None:
    url, _ = slow_proxy
    fake.delay = 0.0
    for stream in (False, True):
        body = request_for("/v1/chat/completions", "gpt-4o-mini", stream, "fine")
        answer = httpx.post(url + "/v1/chat/completions", json=body, headers=HEADERS, timeout=SOON)
        assert answer.status_code == 200 and "Echo: fine" in answer.text
    assert sample(prometheus(url), "layercache_requests_total", status="499") == 0
    assert fake.abandoned == 0


# -- requests held by the warm-up gate or the single flight ---------------------------------

SYSTEM = " ".join(f"Rule {i}: check the facts, cite the source and keep answers short." for i in range(160))


def shared_prefix(text: str) -> dict[str, Any]:
    return request_for("/v1/messages", "claude-sonnet-4-5", False, text, system=SYSTEM)


def answer_in_thread(url: str, route: str, body: dict[str, Any]) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []

    def post() -> None:
        answers.append(httpx.post(url + route, json=body, headers=HEADERS, timeout=SOON))

    thread = threading.Thread(target=post)
    thread.start()
    return thread, answers


@pytest.fixture
def gated_proxy(fake: FakeProvider, make_settings: Callable[..., Settings]) -> Iterator[str]:
    fake.delay = SLOW
    with serve(LayerCacheApp(make_settings(caching={"warmup_wait_seconds": SLOW}))) as url:
        ready(url, fake)
        yield url


def test_a_request_held_by_the_warmup_gate_never_goes_upstream_after_its_client_left(
    gated_proxy: str, fake: FakeProvider
) -> None:
    with connect_and_send(gated_proxy, "/v1/messages", shared_prefix("leader")):
        assert eventually(lambda: len(fake.requests) == 1)
        follower = connect_and_send(gated_proxy, "/v1/messages", shared_prefix("follower"))
        time.sleep(0.5)  # let it reach the gate
        follower.close()
        time.sleep(0.5)
    # The leader's client left too: the gate opens. A follower still waiting there would go now.
    assert eventually(lambda: fake.in_flight == 0 and fake.abandoned == 1)
    time.sleep(1.0)
    assert len(fake.requests) == 1


def test_a_gate_leader_whose_client_left_releases_its_followers(gated_proxy: str, fake: FakeProvider) -> None:
    with connect_and_send(gated_proxy, "/v1/messages", shared_prefix("leader")):
        assert eventually(lambda: len(fake.requests) == 1)
        thread, answers = answer_in_thread(gated_proxy, "/v1/messages", shared_prefix("follower"))
        time.sleep(0.5)  # held behind the leader, for up to SLOW seconds
        fake.delay = 0.0
    thread.join()
    # Answered within SOON (the client's timeout), not after the gate's SLOW wait.
    [answer] = answers
    assert answer.status_code == 200 and answer.json()["content"][0]["text"] == "Echo: follower"
    assert fake.abandoned == 1 and len(fake.requests) == 2


def test_a_gate_leader_whose_client_left_hands_over_to_one_follower(gated_proxy: str, fake: FakeProvider) -> None:
    route = "/v1/messages"
    with connect_and_send(gated_proxy, route, shared_prefix("leader")):
        assert eventually(lambda: len(fake.requests) == 1)
        followers = [connect_and_send(gated_proxy, route, shared_prefix(f"follower {i}")) for i in range(3)]
        time.sleep(0.5)  # all three held behind the leader
    # One follower writes the prefix in the leader's place; the other two wait for it, not write too.
    assert eventually(lambda: len(fake.requests) == 2 and fake.abandoned == 1)
    time.sleep(1.0)
    assert len(fake.requests) == 2 and fake.in_flight == 1
    for sock in followers:
        sock.close()
    assert eventually(lambda: fake.in_flight == 0)


@pytest.fixture
def single_flight_proxy(fake: FakeProvider, make_settings: Callable[..., Settings]) -> Iterator[str]:
    fake.delay = SLOW
    semantic = {"enabled": True, "single_flight_wait_seconds": SLOW}
    with serve(LayerCacheApp(make_settings(caching={"semantic": semantic}))) as url:
        ready(url, fake)
        yield url


QUESTION = request_for("/v1/chat/completions", "gpt-4o-mini", False, "Why is the sky blue?")


@pytest.mark.postgres
def test_a_single_flight_leader_whose_client_left_lets_its_followers_go(
    single_flight_proxy: str, fake: FakeProvider
) -> None:
    url, route = single_flight_proxy, "/v1/chat/completions"
    with connect_and_send(url, route, QUESTION):
        assert eventually(lambda: len(fake.requests) == 1)
        waiting = [answer_in_thread(url, route, QUESTION) for _ in range(2)]
        time.sleep(0.5)  # both follow the leader, for up to SLOW seconds
        fake.delay = 0.0
    for thread, _ in waiting:
        thread.join()
    answers = [answer for _, answers in waiting for answer in answers]
    assert [a.status_code for a in answers] == [200, 200]
    assert {a.json()["choices"][0]["message"]["content"] for a in answers} == {"Echo: Why is the sky blue?"}
    # One follower took over the flight and the other shared its answer: one more call, not two.
    assert len(fake.requests) == 2 and fake.abandoned == 1 and fake.in_flight == 0


@pytest.mark.postgres
def test_a_single_flight_follower_whose_client_left_does_not_cancel_the_leader(
    single_flight_proxy: str, fake: FakeProvider
) -> None:
    url, route = single_flight_proxy, "/v1/chat/completions"
    with connect_and_send(url, route, QUESTION):
        assert eventually(lambda: len(fake.requests) == 1)
        with connect_and_send(url, route, QUESTION):
            time.sleep(0.5)  # following the leader
        assert eventually(lambda: sample(prometheus(url), "layercache_requests_total", status="499") == 1)
        assert fake.in_flight == 1 and fake.abandoned == 0  # the leader's call goes on
    assert eventually(lambda: fake.in_flight == 0 and fake.abandoned == 1)
    assert len(fake.requests) == 1


# -- at the ASGI level: a server that fails the send, and nothing left behind ------------------


def scope_for(route: str) -> dict[str, Any]:
    headers = [(b"content-type", b"application/json"), *((k.encode(), v.encode()) for k, v in HEADERS.items())]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def call_directly(app: LayerCacheApp, body: dict[str, Any], send: Callable[[Any], Any]) -> set[str]:
    """Call the app as a server would that never reports a disconnect; names of tasks it left behind."""
    route = "/v1/chat/completions"
    raw = json.dumps(body).encode()
    read = False

    async def receive() -> dict[str, Any]:
        nonlocal read
        if not read:
            read = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await asyncio.Event().wait()  # this server never says the client left
        raise AssertionError("unreachable")

    before = asyncio.all_tasks()
    await asyncio.wait_for(app(scope_for(route), receive, send), SOON)
    return {getattr(task.get_coro(), "__qualname__", repr(task)) for task in asyncio.all_tasks() - before}


def test_a_failed_send_closes_the_upstream_stream(fake: FakeProvider, make_settings: Callable[..., Settings]) -> None:
    fake.stall_stream_after, fake.stall_seconds = 3, SLOW
    app = LayerCacheApp(make_settings())

    async def closed_connection(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            raise OSError("connection reset by peer")  # ASGI: a send to a closed connection raises OSError

    async def run() -> list[dict[str, Any]]:
        await app.startup()
        try:
            await call_directly(app, request_for("/v1/chat/completions", "gpt-4o-mini", True), closed_connection)
            return app.runtime.logs.tail(1000) if app.runtime.logs is not None else []
        finally:
            await app.shutdown()

    events = [line.get("event") for line in asyncio.run(run())]
    assert eventually(lambda: fake.abandoned == 1 and fake.in_flight == 0)
    assert "client_closed" in events
    assert "internal_error" not in events and "upstream_stream_broken" not in events


def test_no_watcher_outlives_a_normal_response(fake: FakeProvider, make_settings: Callable[..., Settings]) -> None:
    app = LayerCacheApp(make_settings())
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> list[set[str]]:
        await app.startup()
        try:
            return [
                await call_directly(app, request_for("/v1/chat/completions", "gpt-4o-mini", stream), send)
                for stream in (False, True)
            ]
        finally:
            await app.shutdown()

    left_behind = asyncio.run(run())
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200, 200]
    assert not any("DisconnectWatch" in name for names in left_behind for name in names), left_behind


# -- the watch itself -------------------------------------------------------------------------


class Connection:
    """A server's receive: the disconnect arrives when the test says so."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.closed.wait()
        return {"type": "http.disconnect"}


def test_a_cancellation_from_elsewhere_is_not_taken_for_the_client_leaving() -> None:
    async def run() -> None:
        connection = Connection()

        async def serve_request() -> None:
            async with DisconnectWatch(connection.receive):
                await asyncio.sleep(SLOW)

        task = asyncio.create_task(serve_request())
        await asyncio.sleep(0.01)
        task.cancel()  # e.g. the server shutting down
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())


def test_a_disconnect_after_the_complete_answer_cancels_nothing() -> None:
    async def run() -> list[str]:
        connection, sent, left = Connection(), [], []

        async def send(message: Any) -> None:
            sent.append(message["type"])

        async with DisconnectWatch(connection.receive, lambda: left.append("left")) as watch:
            send_watched = watch.wrap(send)
            await send_watched({"type": "http.response.start", "status": 200})
            await send_watched({"type": "http.response.body", "body": b"{}", "more_body": False})
            connection.closed.set()  # uvicorn reports a disconnect once the answer is complete
            await asyncio.sleep(0.01)  # work after the answer (metrics) goes on
            assert await watch.replay(lambda: b"x")() == {"type": "http.request", "body": b"x", "more_body": False}
        return left

    assert asyncio.run(run()) == []


def test_the_stages_are_cancelled_and_their_receive_says_the_client_left() -> None:
    async def run() -> None:
        connection = Connection()
        seen: list[str] = []

        async def serve_request() -> None:
            async with DisconnectWatch(connection.receive) as watch:
                receive = watch.replay(lambda: b"{}")
                seen.append((await receive())["type"])
                try:
                    await asyncio.sleep(SLOW)  # the upstream call
                finally:
                    seen.append((await receive())["type"])  # clean-up may still ask: the client is gone

        task = asyncio.create_task(serve_request())
        await asyncio.sleep(0.01)
        connection.closed.set()
        with pytest.raises(ClientDisconnected):
            await task
        assert seen == ["http.request", "http.disconnect"]

    asyncio.run(run())


def test_cancelled_calls_waiting_for_the_pool_do_not_keep_its_slots(upstream: str) -> None:
    """httpcore 1.0.9 leaks such slots (encode/httpcore#1093): the reaper gives them back."""

    async def run() -> tuple[int, int, str]:
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(SOON, pool=2.0)) as client:
            calls = [asyncio.create_task(client.get(f"{upstream}/health")) for _ in range(2)]
            await asyncio.sleep(0)  # both queued, one given a connection that is not open yet
            for call in calls:
                call.cancel()
            await asyncio.gather(*calls, return_exceptions=True)
            reaped = await reap_orphan_connections(client)
            left = len(client._transport._pool.connections)  # type: ignore[attr-defined]
            answer = await client.post(
                f"{upstream}/v1/chat/completions", json=request_for("/v1/chat/completions", "gpt-4o-mini", False, "hi")
            )
            return reaped, left, answer.json()["choices"][0]["message"]["content"]

    assert asyncio.run(run()) == (1, 0, "Echo: hi")
