"""examples/fastapi_app: an existing FastAPI service with the proxy mounted at /llm."""
# On sockets: the example FastAPI service served as its users run it.

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve
from tests._hosted import (
    check_dashboard,
    check_openai,
    check_sdks,
    check_semantic_hit,
    run_documented_command,
    write_config,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fastapi_app" / "app.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_example_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # builds the module-level app: no I/O, no start-up
    return module


def test_the_service_and_the_proxy_share_one_server(example: ModuleType, settings: Settings) -> None:
    llm = LayerCacheApp(settings)
    with serve(example.create_app(llm)) as base:
        assert llm.runtime is not None  # started by the host's lifespan, before any request
        assert httpx.get(f"{base}/items").json() == {"1": {"name": "widget", "quantity": 3}}
        assert httpx.post(f"{base}/items", json={"name": "gear", "quantity": 2}).json() == {"id": 2}
        assert httpx.get(f"{base}/items/2").json() == {"name": "gear", "quantity": 2}
        assert httpx.get(f"{base}/items/9").status_code == 404
        check_sdks(base)
    with pytest.raises(RuntimeError):
        llm.runtime  # noqa: B018 -- the host's shutdown closed the proxy too


@pytest.mark.postgres
def test_semantic_cache_hit_under_the_mount(
    example: ModuleType, make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    llm = LayerCacheApp(make_settings(caching={"semantic": {"enabled": True}}))
    with serve(example.create_app(llm)) as base:
        check_semantic_hit(base, llm, fake)


def test_dashboard_under_the_mount(example: ModuleType, settings: Settings) -> None:
    llm = LayerCacheApp(settings)
    with serve(example.create_app(llm)) as base:
        check_dashboard(base, llm)


def test_module_level_app_reads_the_usual_config(example: ModuleType) -> None:
    mounted = [route for route in example.app.routes if getattr(route, "path", None) == "/llm"]
    assert len(mounted) == 1 and isinstance(mounted[0].app, LayerCacheApp)


def test_the_documented_command(tmp_path: Path, upstream: str, database_url: str) -> None:
    config = write_config(tmp_path, upstream, database_url)
    with run_documented_command(EXAMPLE.parent / "README.md", config) as base:
        assert httpx.get(f"{base}/items").json() == {"1": {"name": "widget", "quantity": 3}}
        assert httpx.get(f"{base}/llm/health").json()["status"] == "healthy"
        check_openai(base)
