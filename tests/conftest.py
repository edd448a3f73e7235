"""Shared fixtures: a fake provider served by uvicorn, LayerCacheApp served in front of it.

The database backend comes from ``LAYERCACHE_TEST_DB`` (``sqlite``, the default, or
``postgres``, which uses ``LAYERCACHE_TEST_PG_URL`` or the local server).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.semantic._embedder import Embedder
from layercache_asgi.semantic._guard import Guard
from layercache_asgi.semantic._lexicon import load_lexicon
from layercache_asgi.semantic._thresholds import thresholds_for
from layercache_asgi.testing import FakeProvider, in_process, serve

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

REPO = Path(__file__).resolve().parents[1]
MODEL_DIR = REPO.parent / "shared" / "models" / "all-MiniLM-L6-v2-int8"
TEST_DB = os.environ.get("LAYERCACHE_TEST_DB", "sqlite")
# Every test app has this admin key (management routes and the dashboard are off without one);
# ADMIN is the header that presents it.
ADMIN_KEY = "admin-key-0123456789"
ADMIN = {"authorization": f"Bearer {ADMIN_KEY}"}
PG_URL = os.environ.get("LAYERCACHE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test, on the backend under test."""
    if TEST_DB == "postgres":
        from tests._pg import fresh_postgres_database

        with fresh_postgres_database(PG_URL) as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'layercache.db'}"


def providers_at(url: str, *names: str) -> dict[str, dict[str, str]]:
    """The ``providers`` settings that point ``names`` (default: all three) at a fake served at ``url``."""
    bases = {"openai": f"{url}/v1", "anthropic": url, "gemini": url}
    return {name: {"api_base": bases[name]} for name in names or bases}


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def served_fake() -> Iterator[Callable[[Any], str]]:
    """Serve another fake provider (any ASGI app) until the test ends: ``url = served_fake(FakeGemini())``."""
    with contextlib.ExitStack() as stack:
        yield lambda app: stack.enter_context(serve(app))


# Under @pytest.mark.in_process the fake is reached through the app's transport (testing.in_process);
# this host resolves nowhere, so a call that bypassed the transport fails instead of going out.
IN_PROCESS_UPSTREAM = "http://provider.test"


@pytest.fixture
def upstream(fake: FakeProvider, request: pytest.FixtureRequest) -> Iterator[str]:
    if request.node.get_closest_marker("in_process"):
        yield IN_PROCESS_UPSTREAM
        return
    with serve(fake) as url:
        yield url


@pytest.fixture
def make_settings(upstream: str, database_url: str) -> Callable[..., Settings]:
    """Settings pointing every provider at the fake, admin key ADMIN_KEY; keyword dicts deep-merge over them."""

    def make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "proxy": {"admin_api_key": ADMIN_KEY},
            "providers": providers_at(upstream),
            "database": {"url": database_url, "auto_upgrade": True},
            "caching": {"semantic": {"model_path": str(MODEL_DIR), "enabled": False}},
            "logging": {"format": "console"},
        }
        return Settings.model_validate(_deep_merge(base, overrides))

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def proxy(settings: Settings) -> Iterator[str]:
    """LayerCacheApp served standalone; yields its base URL."""
    with serve(LayerCacheApp(settings)) as url:
        yield url


@pytest.fixture
def openai_client(proxy: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{proxy}/v1", api_key="sk-test-client-key-1", max_retries=0)


@pytest.fixture
def anthropic_client(proxy: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy, api_key="sk-ant-test-client-key-1", max_retries=0)


@pytest.fixture
async def http(settings: Settings, fake: FakeProvider) -> AsyncIterator[httpx.AsyncClient]:
    """Under @pytest.mark.in_process: a client of the proxy (in front of ``fake``), no socket, no thread."""
    async with in_process(fake, settings) as client:
        yield client


@contextlib.asynccontextmanager
async def client_of(app: LayerCacheApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` with no socket, for tests that read the app (its runtime) as well; the app
    is shut down afterwards. Build it with ``transport=httpx.ASGITransport(app=fake)``."""
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy.test") as http:
            yield http
    finally:
        await app.shutdown()


def client_with(
    http: httpx.AsyncClient, path: str = "", headers: dict[str, str] | None = None, **options: Any
) -> httpx.AsyncClient:
    """Another client of the same in-process app as ``http`` (its own cookies): its own base path, headers, options."""
    transport = http._transport
    return httpx.AsyncClient(transport=transport, base_url=str(http.base_url.join(path)), headers=headers, **options)


def _sdk_http(http: httpx.AsyncClient) -> httpx2.AsyncClient:
    # The SDKs take an httpx2 client: one on the same in-process app (in_process's ASGITransport).
    app = http._transport.app  # type: ignore[attr-defined]
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=str(http.base_url))


def async_openai(http: httpx.AsyncClient, **options: Any) -> openai.AsyncOpenAI:
    """The OpenAI SDK talking to an in-process proxy (``http``)."""
    options = {"api_key": "sk-test-client-key-1", "max_retries": 0, **options}
    return openai.AsyncOpenAI(base_url=str(http.base_url.join("/v1")), http_client=_sdk_http(http), **options)


def async_anthropic(http: httpx.AsyncClient, **options: Any) -> anthropic.AsyncAnthropic:
    """The Anthropic SDK talking to an in-process proxy (``http``)."""
    options = {"api_key": "sk-ant-test-client-key-1", "max_retries": 0, **options}
    return anthropic.AsyncAnthropic(base_url=str(http.base_url), http_client=_sdk_http(http), **options)


@pytest.fixture
def aopenai(http: httpx.AsyncClient) -> openai.AsyncOpenAI:
    return async_openai(http)


@pytest.fixture
def aanthropic(http: httpx.AsyncClient) -> anthropic.AsyncAnthropic:
    return async_anthropic(http)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def lexicon() -> None:
    """The guard's word table, read now: the guard reads it in the background otherwise."""
    load_lexicon()


@pytest.fixture
async def guard(lexicon: None) -> AsyncIterator[Guard]:
    """The guard as the proxy builds it for the test model: its measured word cut and weighing cuts."""
    embedder = Embedder(model_path=str(MODEL_DIR))
    row = thresholds_for("", str(MODEL_DIR))
    yield Guard(embedder, word_cut=row.word_cut, weighing=row.weighing)
    await embedder.close()
