"""Every input path is bounded: content type, key before body, sizes, time, nesting, text, numbers, names."""
# On sockets: slow clients and body time limits need a real connection.

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve

from .conftest import ADMIN, ADMIN_KEY

KEY = "proxy-key-0123456789"
JSON = {"content-type": "application/json"}
OPENAI_BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
ANTHROPIC_BODY = {"model": "claude-sonnet-4-6", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
# (path, a valid body, the wire format of its errors)
BODY_ROUTES = [
    ("/v1/chat/completions", OPENAI_BODY, "openai"),
    ("/chat/completions", OPENAI_BODY, "openai"),
    ("/v1/messages", ANTHROPIC_BODY, "anthropic"),
    ("/v1/messages/count_tokens", ANTHROPIC_BODY, "anthropic"),
    ("/v1/prompts/templates", {"name": "t1", "system": "s"}, "openai"),
]


def assert_error_shape(response: httpx.Response | tuple[int, bytes], wire: str, status: int) -> dict[str, Any]:
    code, raw = (response.status_code, response.content) if isinstance(response, httpx.Response) else response
    assert code == status, raw
    doc = json.loads(raw)
    if wire == "anthropic":
        assert doc["type"] == "error" and isinstance(doc["error"]["message"], str), doc
    else:
        assert set(doc) == {"error"} and isinstance(doc["error"]["message"], str), doc
    return dict(doc["error"])


def raw_request(base: str, head: bytes, body: bytes = b"", *, timeout: float = 15.0) -> tuple[int, bytes]:
    """Send bytes as they are and read one response (status, body); the socket times out rather than hang."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, "connection closed without a response"
            data += chunk
        header, _, rest = data.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed mid-response"
            rest += chunk
        return int(lines[0].split()[1]), rest[:length]


def head_of(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture
def keyed(make_settings: Callable[..., Settings]) -> Iterator[str]:
    """A proxy with a proxy key, a small body limit and a short body time limit."""
    settings = make_settings(
        proxy={
            "proxy_api_key": KEY,
            "max_body_bytes": 4096,
            "body_timeout_seconds": 1.0,
            "admin_api_key": KEY,  # also a client key here: one header opens every route
        }
    )
    with serve(LayerCacheApp(settings)) as url:
        yield url


@pytest.fixture
def open_proxy(make_settings: Callable[..., Settings]) -> Iterator[str]:
    with serve(LayerCacheApp(make_settings())) as url:
        yield url


AUTH = {"authorization": f"Bearer {KEY}"}


# -- item 2: content type -----------------------------------------------------------------------


@pytest.mark.parametrize(("path", "body", "wire"), BODY_ROUTES)
def test_a_json_route_refuses_other_content_types(
    keyed: str, fake: FakeProvider, path: str, body: Any, wire: str
) -> None:
    # text/plain and forms are what a web page may post cross-origin without a preflight.
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = httpx.post(keyed + path, content=json.dumps(body), headers={**AUTH, "content-type": content_type})
        assert_error_shape(response, wire, 415)
    no_type = httpx.post(keyed + path, content=json.dumps(body), headers=AUTH)
    assert_error_shape(no_type, wire, 415)
    assert fake.requests == []
    # application/json with a charset, and any +json type, are JSON.
    for content_type in ("application/json; charset=utf-8", "application/vnd.example+json"):
        ok = httpx.post(keyed + path, content=json.dumps(body), headers={**AUTH, "content-type": content_type})
        assert ok.status_code in (200, 201), ok.text


def test_the_templates_api_also_takes_yaml(keyed: str) -> None:
    response = httpx.post(
        keyed + "/v1/prompts/templates", content="name: y1\nsystem: hi\n", headers={**AUTH, "content-type": "text/yaml"}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("path", ["/v1/config/reload", "/v1/prompts/reload"])
def test_bodyless_management_posts_refuse_a_form_or_text(keyed: str, path: str) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = httpx.post(keyed + path, content=b"x=1", headers={**AUTH, "content-type": content_type})
        assert_error_shape(response, "openai", 415)
    # Without a body no content type is needed: what `curl -X POST` sends.
    assert httpx.post(keyed + path, headers=AUTH).status_code not in (415, 500)


# -- item 3: text that is not Unicode --------------------------------------------------------------


SURROGATE_OPENAI = [
    b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a \\ud800 b"}]}',
    b'{"model":"gpt-4o-mini\\udfff","messages":[{"role":"user","content":"hi"}]}',
    b'{"model":"gpt-4o-mini","lc_bypass_cache":true,"messages":[{"role":"user","content":"\\ud800"}]}',
    b'{"model":"gpt-4o-mini","lc_template":"\\ud800","messages":[{"role":"user","content":"hi"}]}',
    b'{"model":"gpt-4o-mini","tools":[{"type":"function","function":{"name":"f\\udc00"}}],'
    b'"messages":[{"role":"user","content":"hi"}]}',
    b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi","\\ud800":1}]}',
]


@pytest.mark.parametrize("raw", SURROGATE_OPENAI)
def test_a_lone_surrogate_is_a_400_in_the_openai_format(proxy: str, fake: FakeProvider, raw: bytes) -> None:
    response = httpx.post(proxy + "/v1/chat/completions", content=raw, headers={**JSON, "authorization": "Bearer sk-x"})
    error = assert_error_shape(response, "openai", 400)
    assert "surrogate" in error["message"]
    assert fake.requests == []
    assert httpx.get(proxy + "/metrics").status_code == 200


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
def test_a_lone_surrogate_is_a_400_in_the_anthropic_format(proxy: str, fake: FakeProvider, path: str) -> None:
    raw = (
        b'{"model":"claude-sonnet-4-6","max_tokens":8,"lc_bypass_cache":true,'
        b'"system":"\\udbff","messages":[{"role":"user","content":"hi"}]}'
    )
    error = assert_error_shape(httpx.post(proxy + path, content=raw, headers=JSON), "anthropic", 400)
    assert "surrogate" in error["message"]
    assert fake.requests == []


def test_an_escaped_surrogate_pair_is_text(openai_client: Any, fake: FakeProvider, proxy: str) -> None:
    raw = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"smile \\ud83d\\ude00"}]}'
    response = httpx.post(proxy + "/v1/chat/completions", content=raw, headers=JSON)
    assert response.status_code == 200, response.text
    assert fake.requests[-1].body["messages"][-1]["content"] == "smile \U0001f600"


# -- item 5: the key and the size before the body ----------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages", "/v1/messages/count_tokens"])
def test_a_wrong_key_is_refused_before_the_body_is_read(keyed: str, path: str) -> None:
    # Headers announce 30 MB and no byte of it is sent: the answer must not wait for it.
    head = head_of(path, {"content-type": "application/json", "content-length": str(30 * 1024 * 1024)})
    status, _ = raw_request(keyed, head)
    assert status == 401


@pytest.mark.parametrize(("path", "body", "wire"), BODY_ROUTES)
def test_a_declared_length_over_the_limit_is_refused_before_reading(
    keyed: str, path: str, body: Any, wire: str
) -> None:
    head = head_of(path, {**AUTH, "content-type": "application/json", "content-length": "5000"})
    assert_error_shape(raw_request(keyed, head), wire, 413)


@pytest.mark.parametrize(("path", "body", "wire"), BODY_ROUTES)
def test_a_chunked_body_is_counted_while_it_arrives(
    keyed: str, fake: FakeProvider, path: str, body: Any, wire: str
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model":"claude-sonnet-4-6","name":"big","system":"'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    response = httpx.post(keyed + path, content=chunks(), headers={**AUTH, **JSON})
    assert_error_shape(response, wire, 413)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("path", "body", "wire"), [r for r in BODY_ROUTES if r[0] != "/v1/prompts/templates"], ids=lambda v: str(v)[:30]
)
def test_model_names_are_capped(proxy: str, fake: FakeProvider, path: str, body: Any, wire: str) -> None:
    prefix = "gpt-" if wire == "openai" else "claude-"
    long_name = prefix + "x" * (257 - len(prefix))
    error = assert_error_shape(httpx.post(proxy + path, json={**body, "model": long_name}), wire, 400)
    assert "256" in error["message"]
    assert fake.requests == []
    at_the_cap = httpx.post(proxy + path, json={**body, "model": long_name[:256]})
    assert at_the_cap.status_code == 200, at_the_cap.text


BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_yaml_alias_expansion_is_bounded(open_proxy: str) -> None:
    headers = {"content-type": "application/yaml", **ADMIN}
    response = httpx.post(open_proxy + "/v1/prompts/templates", content=BILLION_LAUGHS, headers=headers)
    error = assert_error_shape(response, "openai", 400)
    assert "aliases expand" in error["message"]
    # A few aliases sharing a definition are fine.
    shared = "name: shared\nsystem: &s You help.\ncontext: *s\n"
    assert httpx.post(open_proxy + "/v1/prompts/templates", content=shared, headers=headers).status_code == 201


# -- item 8: bad input answered in the route's shape ----------------------------------------------------


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [129, 490, 1000, 100_000])
@pytest.mark.parametrize(("path", "body", "wire"), BODY_ROUTES)
def test_deep_nesting_is_a_400(
    open_proxy: str, fake: FakeProvider, path: str, body: Any, wire: str, depth: int
) -> None:
    doc = json.dumps({**body, "messages": [{"role": "user", "content": "hi", "extra": "@"}], "tools": "@"})
    raw = doc.replace('"@"', _nested(depth)).encode()
    key = ADMIN if path.startswith("/v1/prompts") else {}
    error = assert_error_shape(httpx.post(open_proxy + path, content=raw, headers={**JSON, **key}), wire, 400)
    assert "nested deeper than 128" in error["message"]
    assert fake.requests == []


def test_bad_json_is_a_400_on_count_tokens(proxy: str) -> None:
    response = httpx.post(proxy + "/v1/messages/count_tokens", content=b'{"model": "claude', headers=JSON)
    assert_error_shape(response, "anthropic", 400)


@pytest.mark.parametrize(
    "change",
    [
        {"stream": True, "stream_options": 5},
        {"stream_options": "yes"},
        {"messages": [{"role": "assistant", "content": None, "tool_calls": 5}, {"role": "user", "content": "x"}]},
        {"messages": [{"role": "assistant", "content": None, "tool_calls": [5]}, {"role": "user", "content": "x"}]},
    ],
)
@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-sonnet-4-6"])  # fast path and LiteLLM path
def test_wrong_types_in_known_fields_are_400(
    proxy: str, fake: FakeProvider, change: dict[str, Any], model: str
) -> None:
    body = {**OPENAI_BODY, "model": model, **change}
    assert_error_shape(httpx.post(proxy + "/v1/chat/completions", json=body), "openai", 400)
    assert fake.requests == []


def test_tool_call_arguments_nested_deep_inside_their_string_are_passed_on(proxy: str, fake: FakeProvider) -> None:
    # The body itself is shallow; the arguments string holds JSON 600 deep, which canonicalisation parses.
    arguments = "[" * 600 + "]" * 600
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": arguments}}
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "done"},
    ]
    response = httpx.post(proxy + "/v1/chat/completions", json={**OPENAI_BODY, "messages": messages}, timeout=60)
    assert response.status_code == 200, response.text
    assert fake.requests[-1].body["messages"][1]["tool_calls"][0]["function"]["arguments"] == arguments


def test_a_cache_ttl_beyond_a_year_is_a_400(proxy: str, fake: FakeProvider) -> None:
    # 10**12 seconds would overflow the expiry datetime when the answer is written behind.
    body = {**OPENAI_BODY, "lc_cache_ttl": 10**12}
    error = assert_error_shape(httpx.post(proxy + "/v1/chat/completions", json=body), "openai", 400)
    assert error["param"] == "lc_cache_ttl"
    assert fake.requests == []


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-sonnet-4-6"])
def test_a_number_beyond_a_double_is_a_400(proxy: str, fake: FakeProvider, model: str) -> None:
    raw = json.dumps({**OPENAI_BODY, "model": model, "temperature": "@"}).replace('"@"', "1e999").encode()
    error = assert_error_shape(httpx.post(proxy + "/v1/chat/completions", content=raw, headers=JSON), "openai", 400)
    assert "1e999" in error["message"]
    assert fake.requests == []


def test_a_missing_static_file_is_a_404(proxy: str) -> None:
    for path in ("/dashboard/static/%2e%2e/%2e%2e/etc/passwd", "/dashboard/static/nope.css"):
        assert httpx.get(proxy + path).status_code == 404


def test_a_dashboard_form_field_over_a_megabyte_is_refused(make_settings: Callable[..., Settings]) -> None:
    app = LayerCacheApp(make_settings())
    with serve(app) as base, httpx.Client(base_url=base, timeout=30) as tab:
        token = tab.get("/dashboard/login").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        assert tab.post("/dashboard/login", data={"key": ADMIN_KEY, "csrf_token": token}).status_code == 303
        for form in (
            {"data": {"yaml": "x" * (1024 * 1024 + 10)}},
            {"files": {"yaml": (None, "y" * (1024 * 1024 + 10))}},
        ):
            response = tab.post("/dashboard/config", **form)
            assert response.status_code == 413
            assert "text/html" in response.headers["content-type"] and "maximum size" in response.text


# -- item 10: slow bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "body", "wire"), BODY_ROUTES)
def test_a_body_that_trickles_gets_a_408(keyed: str, path: str, body: Any, wire: str) -> None:
    # Announces 100 bytes, sends 10 and stalls: the proxy gives up after body_timeout_seconds (1 s here).
    head = head_of(path, {**AUTH, "content-type": "application/json", "content-length": "100"})
    assert_error_shape(raw_request(keyed, head, b'{"model":"'), wire, 408)


def test_a_dashboard_form_that_trickles_gets_a_408(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(proxy={"body_timeout_seconds": 1.0})
    with serve(LayerCacheApp(settings)) as base, httpx.Client(base_url=base, timeout=30) as tab:
        token = tab.get("/dashboard/login").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        assert tab.post("/dashboard/login", data={"key": ADMIN_KEY, "csrf_token": token}).status_code == 303
        cookie = "; ".join(f"{k}={v}" for k, v in tab.cookies.items())
        headers = {"content-type": "application/x-www-form-urlencoded", "content-length": "100", "cookie": cookie}
        status, body = raw_request(base, head_of("/dashboard/config", headers), b"yaml=")
        assert status == 408 and b"in time" in body
