"""``/v1/messages/count_tokens`` always answers Anthropic's ``{"input_tokens": N}``.

The provider's count is relayed when it gives one. When it cannot count (a gateway
without the endpoint, a 5xx, a timeout, a refused connection, a 200 that is not a
count) the proxy counts locally, logs it once and counts it in
``layercache_count_tokens_total{source}``; the provider's refusal of the request itself
stays an error in Anthropic's shape. A client that leaves cancels the provider call.
"""
# On sockets: an unreachable upstream (a refused connection) and a client leaving mid-count.

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, count_tokens, serve
from tests._metrics import prometheus, sample
from tests.test_client_disconnect import HEADERS, SLOW, connect_and_send, eventually

MODEL = "claude-haiku-4-5"
MESSAGES: Any = [{"role": "user", "content": "How many tokens are in this question about anvils?"}]
SYSTEM = "You answer questions about Acme's anvils, briefly."
ROUTE = "/v1/messages/count_tokens"


@pytest.fixture
def served(fake: FakeProvider, make_settings: Callable[..., Settings]) -> Iterator[tuple[str, LayerCacheApp]]:
    # A short upstream timeout, so the timeout case does not wait the default count bound.
    app = LayerCacheApp(make_settings(upstream={"timeout": 1.0}))
    with serve(app) as url:
        yield url, app


def client_for(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key="sk-ant-test-client-key-1", max_retries=0)


def local_lines(app: LayerCacheApp) -> list[dict[str, Any]]:
    logs = app.runtime.logs
    assert logs is not None
    return [line for line in logs.tail(1000) if line.get("event") == "count_tokens_local"]


def test_a_working_upstream_count_is_relayed(served: tuple[str, LayerCacheApp], fake: FakeProvider) -> None:
    url, app = served
    client = client_for(url)
    counted = client.messages.count_tokens(model=MODEL, system=SYSTEM, messages=MESSAGES)
    beta = client.beta.messages.count_tokens(model=MODEL, system=SYSTEM, messages=MESSAGES)
    # The fake's own count of what reached it: the number is the provider's, not the proxy's.
    assert [r.path for r in fake.requests] == [ROUTE, ROUTE]
    sent = fake.requests[0].body
    expected = count_tokens({k: sent[k] for k in ("system", "messages")})
    assert counted.input_tokens == beta.input_tokens == expected
    samples = prometheus(url)
    assert sample(samples, "layercache_count_tokens_total", source="upstream") == 2
    assert sample(samples, "layercache_count_tokens_total", source="local") == 0
    assert sample(samples, "layercache_responses_total", route=ROUTE, method="POST", status="200") == 2
    assert local_lines(app) == []


CANNOT_COUNT = [
    pytest.param({"count_tokens_status": 404}, id="no-such-endpoint"),
    pytest.param({"count_tokens_status": 404, "count_tokens_body": b"<html>Not Found</html>"}, id="404-html"),
    pytest.param({"count_tokens_status": 500}, id="500"),
    pytest.param({"count_tokens_status": 529}, id="overloaded"),
    pytest.param({"count_tokens_status": 429}, id="rate-limited"),
    pytest.param({"count_tokens_body": {"tokens": 12}}, id="200-without-input_tokens"),
    pytest.param({"count_tokens_body": {"input_tokens": "12"}}, id="200-count-as-text"),
    pytest.param({"count_tokens_body": [{"input_tokens": 12}]}, id="200-a-list"),
    pytest.param({"count_tokens_body": b"<html>gateway</html>"}, id="200-html"),
    pytest.param({"count_tokens_delay": 5.0}, id="timeout"),
]


@pytest.mark.parametrize("script", CANNOT_COUNT)
def test_an_upstream_that_cannot_count_is_counted_locally(
    served: tuple[str, LayerCacheApp], fake: FakeProvider, script: dict[str, Any]
) -> None:
    url, app = served
    for name, value in script.items():
        setattr(fake, name, value)
    client = client_for(url)
    raw = client.messages.with_raw_response.count_tokens(model=MODEL, system=SYSTEM, messages=MESSAGES)
    beta = client.beta.messages.count_tokens(model=MODEL, system=SYSTEM, messages=MESSAGES)
    assert raw.status_code == 200
    assert raw.http_response.json() == {"input_tokens": raw.parse().input_tokens}  # nothing of the upstream's
    assert raw.parse().input_tokens == beta.input_tokens > 0
    assert [r.path for r in fake.requests] == [ROUTE, ROUTE]  # asked first, counted after
    samples = prometheus(url)
    assert sample(samples, "layercache_count_tokens_total", source="local") == 2
    assert sample(samples, "layercache_count_tokens_total", source="upstream") == 0
    lines = local_lines(app)
    assert len(lines) == 2 and all(line["reason"] and line["model"] for line in lines)


def test_an_unreachable_upstream_is_counted_locally(make_settings: Callable[..., Settings]) -> None:
    with socket.socket() as closed:  # a port nothing listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = make_settings(providers={"anthropic": {"api_base": f"http://127.0.0.1:{port}"}})
    with serve(LayerCacheApp(settings)) as url:
        counted = client_for(url).messages.count_tokens(model=MODEL, messages=MESSAGES)
        assert counted.input_tokens > 0
        assert sample(prometheus(url), "layercache_count_tokens_total", source="local") == 1


def test_the_same_request_counts_the_same_locally_whichever_way_the_upstream_fails(
    served: tuple[str, LayerCacheApp], fake: FakeProvider
) -> None:
    url, _ = served
    client = client_for(url)
    fake.count_tokens_status = 404
    missing = client.messages.count_tokens(model=MODEL, system=SYSTEM, messages=MESSAGES)
    fake.count_tokens_status, fake.count_tokens_body = None, {"nope": True}
    garbage = client.messages.count_tokens(model=MODEL, system=SYSTEM, messages=MESSAGES)
    turns: Any = [
        *MESSAGES,
        {"role": "assistant", "content": "Anvils are heavy."},
        {"role": "user", "content": "And how heavy is the largest one you sell?"},
    ]
    longer = client.messages.count_tokens(model=MODEL, system=SYSTEM, messages=turns)
    assert missing.input_tokens == garbage.input_tokens < longer.input_tokens


def test_the_providers_refusal_stays_an_error_in_anthropics_shape_without_keys(
    served: tuple[str, LayerCacheApp], fake: FakeProvider
) -> None:
    url, app = served
    client = client_for(url)
    fake.count_tokens_status = 400
    fake.count_tokens_body = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "bad request for key sk-ant-test-client-key-1"},
    }
    with pytest.raises(anthropic.BadRequestError) as bad:
        client.messages.count_tokens(model=MODEL, messages=MESSAGES)
    assert bad.value.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "bad request for key [redacted]"},
    }
    fake.count_tokens_status, fake.count_tokens_body = 401, None
    with pytest.raises(anthropic.AuthenticationError) as unauthorized:
        client.beta.messages.count_tokens(model=MODEL, messages=MESSAGES)
    assert isinstance(unauthorized.value.body, dict)
    assert unauthorized.value.body["type"] == "error"
    assert unauthorized.value.body["error"]["type"] == "authentication_error"
    samples = prometheus(url)
    assert sample(samples, "layercache_count_tokens_total") == 0
    assert sample(samples, "layercache_responses_total", route=ROUTE, status="400") == 1
    assert sample(samples, "layercache_responses_total", route=ROUTE, status="401") == 1
    assert local_lines(app) == []


def test_a_client_that_leaves_cancels_the_count_and_is_counted_as_499(
    fake: FakeProvider, make_settings: Callable[..., Settings]
) -> None:
    fake.count_tokens_delay = SLOW
    # The default upstream timeout, so only the client's leaving can end the provider call early.
    with serve(LayerCacheApp(make_settings())) as url:
        body = {"model": MODEL, "messages": MESSAGES}
        with connect_and_send(url, ROUTE, body):
            assert eventually(lambda: fake.in_flight == 1)
        assert eventually(lambda: fake.abandoned == 1 and fake.in_flight == 0)
        assert eventually(lambda: sample(prometheus(url), "layercache_responses_total", route=ROUTE, status="499") == 1)
        samples = prometheus(url)
        assert sample(samples, "layercache_responses_total", route=ROUTE, status="500") == 0
        assert sample(samples, "layercache_count_tokens_total") == 0
        # The next request is served as usual.
        fake.count_tokens_delay = 0.0
        answer = httpx.post(url + ROUTE, json=body, headers=HEADERS, timeout=SLOW)
    assert answer.status_code == 200 and answer.json()["input_tokens"] > 0
