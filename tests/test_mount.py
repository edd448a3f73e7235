"""Mounted under a prefix, started lazily or by a host lifespan, configured from YAML."""
# On sockets: host frameworks (FastAPI, Starlette) served with uvicorn, some in a subprocess.

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
import yaml
from fastapi import FastAPI

from layercache_asgi import LayerCacheApp, LayerCacheError, Settings, load_settings
from layercache_asgi.testing import FakeProvider, serve


def _host_app(llm: LayerCacheApp, *, with_lifespan: bool) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with llm.lifespan():
            yield

    host = FastAPI(lifespan=lifespan if with_lifespan else None)

    @host.get("/items")
    async def items() -> dict[str, list[int]]:
        return {"items": [1, 2, 3]}

    host.mount("/llm", llm)
    return host


@pytest.mark.parametrize("with_lifespan", [False, True])
def test_sdks_through_a_fastapi_mount(settings: Settings, fake: FakeProvider, with_lifespan: bool) -> None:
    llm = LayerCacheApp(settings)
    with serve(_host_app(llm, with_lifespan=with_lifespan)) as url:
        if with_lifespan:
            assert llm.runtime is not None  # started by the host's lifespan, before any request
        assert httpx.get(f"{url}/items").json() == {"items": [1, 2, 3]}
        assert httpx.get(f"{url}/llm/health").json()["status"] == "healthy"
        oc = openai.OpenAI(base_url=f"{url}/llm/v1", api_key="sk-x", max_retries=0)
        assert (
            oc.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "mounted"}])
            .choices[0]
            .message.content
            == "Echo: mounted"
        )
        ac = anthropic.Anthropic(base_url=f"{url}/llm", api_key="sk-ant-x", max_retries=0)
        with ac.messages.stream(
            model="claude-sonnet-4-6", max_tokens=10, messages=[{"role": "user", "content": "mounted too"}]
        ) as stream:
            assert stream.get_final_message().content[0].text == "Echo: mounted too"  # type: ignore[union-attr]
        assert "fake-gpt-1" in [m.id for m in oc.models.list()]  # the provider's own list
        assert httpx.get(f"{url}/v1/models").status_code == 404  # nothing leaks outside the prefix


async def test_lazy_start_without_any_lifespan(settings: Settings) -> None:
    llm = LayerCacheApp(settings)
    transport = httpx.ASGITransport(app=_host_app(llm, with_lifespan=False))  # sends no lifespan events
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/llm/health")).status_code == 200
    await llm.shutdown()


async def test_construction_does_no_io(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real_open = io.open

    def recording_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    def no_socket(self: socket.socket, *args: Any) -> None:
        raise AssertionError(f"a socket was used: {args}")

    monkeypatch.setattr(io, "open", recording_open)  # what Path.read_text / Path.open call
    monkeypatch.setattr(socket.socket, "connect", no_socket)
    monkeypatch.setenv("LAYERCACHE_CONFIG", str(tmp_path / "missing.yaml"))
    from_env = LayerCacheApp()
    explicit = LayerCacheApp(tmp_path / "also-missing.yaml")
    assert opened == []  # neither config file was looked at
    # The files are read at start-up: only now does the missing one show.
    for app, name in ((from_env, "missing.yaml"), (explicit, "also-missing.yaml")):
        with pytest.raises(LayerCacheError, match=name):
            await app.startup()
    assert [Path(f).name for f in opened] == ["missing.yaml", "also-missing.yaml"]


def _write_config(path: Path, upstream: str, db: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "providers": {"openai": {"api_base": f"{upstream}/v1"}},
                "database": {"url": db, "auto_upgrade": True},
                "models": [{"name": "from-yaml", "model": "openai/gpt-4o"}],
                "caching": {"semantic": {"enabled": False}},
            }
        )
    )
    return path


def test_config_sources(tmp_path: Path, upstream: str, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _write_config(tmp_path / "conf.yaml", upstream, database_url)
    assert load_settings(config).models[0].name == "from-yaml"
    monkeypatch.setenv("LAYERCACHE_CONFIG", str(config))
    assert load_settings().models[0].name == "from-yaml"
    monkeypatch.delenv("LAYERCACHE_CONFIG")
    monkeypatch.chdir(tmp_path)
    assert load_settings().models == []  # no ./layercache.yaml: defaults
    (tmp_path / "layercache.yaml").write_text(config.read_text())
    assert load_settings().models[0].name == "from-yaml"

    for app in (LayerCacheApp(), LayerCacheApp(str(config))):
        with serve(app) as url:
            client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x", max_retries=0)
            assert next(m.id for m in client.models.list()) == "from-yaml"


def test_bad_config_fails_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("upstream:\n  timeout: -3\n")
    with serve(LayerCacheApp(bad), lifespan="off") as url:  # mounted: lazy start on first request
        response = httpx.get(f"{url}/health")
    assert response.status_code == 503
    assert "timeout" in response.json()["error"]["message"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_standalone_uvicorn_module_app(tmp_path: Path, upstream: str, database_url: str) -> None:
    config = _write_config(tmp_path / "conf.yaml", upstream, database_url)
    port = _free_port()
    env = {**os.environ, "LAYERCACHE_CONFIG": str(config)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "layercache_asgi:app", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health")
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert health.json()["status"] == "healthy"
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-x", max_retries=0)
        assert (
            client.chat.completions.create(model="from-yaml", messages=[{"role": "user", "content": "standalone"}])
            .choices[0]
            .message.content
            == "Echo: standalone"
        )
    finally:
        proc.terminate()
        proc.wait(10)


def test_import_is_cheap() -> None:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import layercache_asgi, layercache_asgi.testing"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in out.splitlines() if "|" in line}
    assert "litellm" not in imported
    assert "fastembed" not in imported
    assert "onnxruntime" not in imported


def test_two_apps_in_one_process_are_independent(make_settings: Callable[..., Settings]) -> None:
    one = LayerCacheApp(make_settings(models=[{"name": "one", "model": "openai/gpt-4o"}]))
    two = LayerCacheApp(make_settings(models=[{"name": "two", "model": "openai/gpt-4o"}]))
    with serve(one) as a, serve(two) as b:
        assert httpx.get(f"{a}/v1/models").json()["data"][0]["id"] == "one"
        assert httpx.get(f"{b}/v1/models").json()["data"][0]["id"] == "two"
        chat = {"model": "one", "messages": [{"role": "user", "content": "hi"}]}
        answer = httpx.post(f"{a}/v1/chat/completions", json=chat, headers={"authorization": "Bearer sk-client-1"})
        assert answer.status_code == 200, answer.text
        # Each app has its own Prometheus registry: the request to one is counted there only.
        metrics_a, metrics_b = httpx.get(f"{a}/metrics"), httpx.get(f"{b}/metrics")
        assert metrics_a.status_code == metrics_b.status_code == 200
        counted = [line for line in metrics_a.text.splitlines() if line.startswith("layercache_requests_total{")]
        assert any('route="/v1/chat/completions"' in line and line.endswith(" 1.0") for line in counted), counted
        assert "/v1/chat/completions" not in metrics_b.text
