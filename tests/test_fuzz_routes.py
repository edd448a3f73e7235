"""Property test: whatever a client posts to any POST route, the answer is < 500 and in the route's own shape.

Generated bodies (random JSON, chat bodies with wrong types in known fields, deep nesting,
lone surrogates, numbers beyond a double, broken UTF-8, truncated JSON), headers (right,
wrong and no key, a random tenant) and content types go to every POST route of one app
served by uvicorn, the semantic cache on. After each, ``/metrics`` must still render.
"""
# On sockets: its contract is the served app: whatever reaches uvicorn answers < 500.

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve

from .conftest import MODEL_DIR, PG_URL, TEST_DB

KEY = "proxy-key-0123456789"
EXAMPLES = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


@dataclass
class Served:
    base: str
    cookies: dict[str, str]  # a logged-in dashboard session
    csrf: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    fake = FakeProvider()
    with serve(fake) as upstream, _database(tmp_path_factory.mktemp("fuzz")) as database_url:
        app_settings = Settings.model_validate(
            {
                # One key for both roles here: listed as a client key too, it opens every route.
                "proxy": {
                    "proxy_api_key": KEY,
                    "admin_api_key": KEY,
                    "tenant_header": "x-tenant",
                    "max_body_bytes": 256 * 1024,
                },
                "providers": {
                    "openai": {"api_base": f"{upstream}/v1"},
                    "anthropic": {"api_base": upstream},
                    "gemini": {"api_base": upstream},
                },
                "database": {"url": database_url, "auto_upgrade": True},
                "caching": {"semantic": {"model_path": str(MODEL_DIR), "enabled": True}},
                "logging": {"format": "console", "level": "ERROR"},
            }
        )
        with serve(LayerCacheApp(app_settings)) as base, httpx.Client(base_url=base, timeout=60) as tab:
            token = _csrf(tab.get("/dashboard/login").text)
            assert tab.post("/dashboard/login", data={"key": KEY, "csrf_token": token}).status_code == 303
            csrf = _csrf(tab.get("/dashboard/templates").text)
            yield Served(base, dict(tab.cookies), csrf)


def _database(folder: Path) -> Any:
    if TEST_DB == "postgres":
        from tests._pg import fresh_postgres_database

        return fresh_postgres_database(PG_URL)
    import contextlib

    return contextlib.nullcontext(f"sqlite+aiosqlite:///{folder / 'layercache.db'}")


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


# -- what gets sent ----------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
MODELS = st.sampled_from(
    ["gpt-4o-mini", "claude-sonnet-4-6", "openai/gpt-4o", "anthropic/claude-haiku-4-5", "no-such-model", "", "g" * 300]
) | st.text(max_size=12)
ROLES = st.sampled_from(["user", "assistant", "system", "tool", "developer", "function"]) | ANY_JSON
CONTENT = (
    st.text(max_size=40)
    | ANY_JSON
    | st.lists(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["text", "image", "tool_result", "tool_use"]), "text": ANY_JSON}
        ),
        max_size=3,
    )
)
MESSAGE = st.fixed_dictionaries(
    {"role": ROLES, "content": CONTENT}, optional={"tool_calls": ANY_JSON, "name": ANY_JSON, "cache_control": ANY_JSON}
)
KNOWN_FIELDS = [
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "max_tokens",
    "temperature",
    "n",
    "system",
    "metadata",
    "response_format",
    "lc_template",
    "lc_enhancements",
    "lc_cache_ttl",
    "lc_layer_hints",
    "lc_skip_semantic_cache",
    "lc_bypass_cache",
    "lc_warmup",
    "lc_unknown",
    "name",
    "context",
    "templates",
]
CHAT_BODY = st.fixed_dictionaries(
    {"model": MODELS, "messages": st.lists(MESSAGE, max_size=3) | ANY_JSON},
    optional={"max_tokens": st.integers(min_value=-5, max_value=2**70) | ANY_JSON},
).flatmap(
    lambda body: st.dictionaries(st.sampled_from(KNOWN_FIELDS), ANY_JSON, max_size=4).map(
        lambda extra: {**body, **extra}
    )
)


def _mutate(raw: bytes, how: str, depth: int) -> bytes:
    """Byte-level damage no JSON encoder would produce."""
    if how == "deep":
        return raw.replace(b"null", b"[" * depth + b"]" * depth, 1) if b"null" in raw else b"[" * depth + b"]" * depth
    if how == "surrogate":
        damaged = raw.replace(b': "', b': "\\ud800', 1).replace(b'{"', b'{"\\udc00', 1)
        return damaged if damaged != raw else b'"\\udfff"'
    if how == "huge_number":
        return raw.replace(b"0", b"1e999", 1) if b"0" in raw else b"1e999"
    if how == "long_integer":
        return raw.replace(b"1", b"9" * 5000, 1) if b"1" in raw else b"9" * 5000
    if how == "bad_utf8":
        return raw[: len(raw) // 2] + b"\xff\xfe" + raw[len(raw) // 2 :]
    if how == "truncated":
        return raw[: len(raw) // 2]
    return raw


BODIES = st.tuples(
    CHAT_BODY | ANY_JSON,
    st.sampled_from(["none", "deep", "surrogate", "huge_number", "long_integer", "bad_utf8", "truncated"]),
    st.sampled_from([129, 490, 1000, 5000]),
).map(lambda t: _mutate(json.dumps(t[0]).encode(), t[1], t[2]))
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/vnd.example+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zzz",
        "application/yaml",
        "",
        "garbage/;;",
    ]
)
TOKEN = st.from_regex(r"[A-Za-z0-9._,=-]{0,20}", fullmatch=True)  # what h11 lets through as a header value
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "authorization": st.sampled_from([f"Bearer {KEY}", "Bearer wrong-key-123456", "Basic abc", "Bearer"]),
        "x-api-key": st.sampled_from([KEY, "nope"]),
        "x-tenant": TOKEN,
        "anthropic-version": st.sampled_from(["2023-06-01", "x"]),
        "anthropic-beta": TOKEN,
    },
)
# The right key most of the time, so bodies get past the key check and reach the parser and the stages.
AUTHED = st.one_of(st.just({"authorization": f"Bearer {KEY}"}), st.just({"authorization": f"Bearer {KEY}"}), HEADERS)

# (method, path, wire format of its errors)
API_ROUTES = [
    ("POST", "/v1/chat/completions", "openai"),
    ("POST", "/chat/completions", "openai"),
    ("POST", "/v1/messages", "anthropic"),
    ("POST", "/v1/messages?beta=true", "anthropic"),
    ("POST", "/v1/messages/count_tokens", "anthropic"),
    ("POST", "/v1/prompts/templates", "openai"),
    ("POST", "/v1/prompts/reload", "openai"),
    ("POST", "/v1/config/reload", "openai"),
    ("DELETE", "/v1/cache/entries", "openai"),
]


def _check_metrics(base: str) -> None:
    metrics = httpx.get(base + "/metrics", timeout=60)
    assert metrics.status_code == 200, metrics.text


def _assert_shape(response: httpx.Response, wire: str) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code < 400:
        return
    doc = response.json()
    if wire == "anthropic":
        assert doc.get("type") == "error" and isinstance(doc["error"]["message"], str), doc
    else:
        assert isinstance(doc.get("error"), dict) and isinstance(doc["error"]["message"], str), doc


@pytest.mark.parametrize(("method", "path", "wire"), API_ROUTES, ids=[f"{m} {p}" for m, p, _ in API_ROUTES])
@EXAMPLES
@given(body=BODIES, content_type=CONTENT_TYPES, headers=AUTHED)
def test_api_routes_answer_every_body_below_500_in_their_shape(
    served: Served, method: str, path: str, wire: str, body: bytes, content_type: str, headers: dict[str, str]
) -> None:
    sent = {**headers, **({"content-type": content_type} if content_type else {})}
    params = {"model": "gpt-4o-mini"} if method == "DELETE" else None
    response = httpx.request(method, served.base + path, content=body, headers=sent, params=params, timeout=60)
    _assert_shape(response, wire)
    _check_metrics(served.base)


FORM_ROUTES = [
    "/dashboard/login",
    "/dashboard/logout",
    "/dashboard/cache/invalidate",
    "/dashboard/templates/save",
    "/dashboard/templates/delete",
    "/dashboard/templates/import",
    "/dashboard/config",
]
FORM_FIELDS = st.dictionaries(
    st.sampled_from(
        ["key", "scope", "id", "model", "confirm", "name", "system", "tools", "enhancements", "document", "yaml"]
    ),
    st.text(max_size=40) | BODIES.map(lambda b: b.decode("utf-8", "replace")),
    max_size=4,
)


@pytest.mark.parametrize("path", FORM_ROUTES)
@EXAMPLES
# A field over Starlette's 1 MB limit in one example of ten: enough to keep it covered, cheap to send.
@given(
    fields=FORM_FIELDS, with_session=st.booleans(), multipart=st.booleans(), big=st.integers(0, 9).map(lambda n: n == 0)
)
def test_dashboard_forms_answer_below_500(
    served: Served, path: str, fields: dict[str, str], with_session: bool, multipart: bool, big: bool
) -> None:
    if big:
        fields = {**fields, "system": "x" * (1024 * 1024 + 1)}
    cookies = served.cookies if with_session else {}
    data = {**fields, "csrf_token": served.csrf} if with_session else fields
    with httpx.Client(base_url=served.base, cookies=cookies, timeout=60) as tab:
        if multipart:
            files: dict[str, tuple[str | None, bytes]] = {
                name: (None, value.encode("utf-8", "replace")) for name, value in data.items()
            }
            files["file"] = ("t.yaml", (fields.get("document") or "name: f").encode("utf-8", "replace"))
            response = tab.post(path, files=files)
        else:
            response = tab.post(path, data=data)
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        kind = response.headers.get("content-type", "")
        assert kind.startswith("text/html") or (kind.startswith("application/json") and "error" in response.json())
    _check_metrics(served.base)
