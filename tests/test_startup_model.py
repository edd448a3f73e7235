"""Start-up does not wait for an embedding model that has to be fetched: served at once, uncached.

Tried as a new user would: ``uvicorn layercache_asgi:app`` with the default embedding model
(fastembed loads it by name) and no model hub reachable. The proxy answers before the model
has loaded (it never will here), says once, in its own log format, what the semantic cache
waits for, and fastembed's own retry lines do not reach stderr in loguru's format.
"""
# On sockets: the app started by uvicorn in a subprocess.

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from layercache_asgi.testing import FakeProvider, serve

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: connections are refused at once


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def started(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``uvicorn layercache_asgi:app`` in a fresh process; yields its URL once it answers, and its stderr file."""
    with serve(FakeProvider()) as upstream:
        config = tmp_path / "layercache.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "providers": {"openai": {"api_base": f"{upstream}/v1"}},
                    "database": {"url": f"sqlite+aiosqlite:///{tmp_path}/lc.db"},
                    "logging": {"format": "console"},
                }
            )
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LAYERCACHE_CONFIG": str(config),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "FASTEMBED_CACHE_PATH": str(tmp_path / "fastembed"),  # nothing cached: it would have to download
            "HF_HUB_OFFLINE": "1",
            "HF_ENDPOINT": UNREACHABLE,
            **{name: UNREACHABLE for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")},
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        port = _free_port()
        stderr = tmp_path / "stderr.txt"
        with stderr.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "layercache_asgi:app", "--port", str(port)],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            url = f"http://127.0.0.1:{port}"
            try:
                deadline = time.monotonic() + 120  # a guard for a stuck process, not a timing assertion
                while time.monotonic() < deadline:
                    try:
                        httpx.get(f"{url}/health", timeout=2, trust_env=False)
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                yield url, stderr
            finally:
                proc.terminate()
                proc.wait(15)


def test_first_request_is_answered_while_the_model_cannot_load(started: tuple[str, Path]) -> None:
    url, stderr = started
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as client:
        health = client.get("/health").json()
        answer = client.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]},
            headers={"authorization": "Bearer sk-test-client-key-1"},
        )
        after = client.get("/health").json()
    assert health["status"] == "healthy"
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "Echo: hello there"
    # Served by a process whose semantic cache is not up yet (the model is still being fetched).
    assert health["semantic_cache"] is False and after["semantic_cache"] is False
    lines = stderr.read_text().splitlines()
    waiting = [line for line in lines if "semantic_cache_waiting" in line]
    assert len(waiting) == 1, lines
    assert "[layercache.semantic]" in waiting[0] and "requests are proxied uncached" in waiting[0]
    assert "BAAI/bge-small-en-v1.5" in waiting[0] or "model=" in waiting[0]
    # fastembed's own lines (loguru's "| ERROR    | fastembed..." format) do not reach stderr.
    assert not [line for line in lines if "| fastembed" in line or "fastembed.common" in line], lines
    # The model has not failed yet either: the answer did not wait for the download to give up.
    assert not [line for line in lines if "embedding_model_unavailable" in line], lines
