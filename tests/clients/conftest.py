"""Fixtures for the real-client tests (``pytest -m clients``).

Each client is the real thing, installed at a pinned version by ``scripts/setup-test-env.sh``
(npm packages under ``.clients/``, Python ones from the ``clients`` extra), pointed at the proxy
on 127.0.0.1, which forwards to a served :class:`EchoProvider`, a fake provider that bills prompt
tokens as the providers' prefix caches do. Nothing reaches the internet.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings, Usage
from layercache_asgi._types import Message, Receive, Scope, Send
from layercache_asgi.testing import FakeProvider, PrefixCacheSimulator, RecordedRequest, serve
from layercache_asgi.wire._completion import Completion
from tests.conftest import REPO

CLIENTS = REPO / ".clients"
NODE_BIN = CLIENTS / "node_modules" / ".bin"
SETUP_HINT = "run scripts/setup-test-env.sh"
TIMEOUT = 120  # seconds a client subprocess may take before the test fails


@dataclass
class EchoProvider(PrefixCacheSimulator):
    """The prefix-cache simulator, minus tool calls: agent clients send tools with every request, and a call
    to the first one would make Claude Code or Codex run it on this machine. The answer stays
    "Echo: <newest user text>", so each turn is one upstream request."""

    billed: list[tuple[dict[str, Any], Usage]] = field(default_factory=list)

    def answer(self, wire: str, body: dict[str, Any]) -> Completion:
        return super().answer(wire, {k: v for k, v in body.items() if k != "tools"})

    def usage_for(self, wire: str, body: dict[str, Any], completion: Completion) -> Usage:
        usage = super().usage_for(wire, body, completion)
        self.billed.append((body, usage))
        return usage

    def usage_of(self, request: RecordedRequest) -> Usage:
        """What the provider billed for this request (clients send others between their turns)."""
        return next(usage for body, usage in self.billed if body is request.body)


def missing(what: str) -> None:
    """Skip when a client is not installed; in CI (``CI`` set) that is a failure instead."""
    message = f"{what} is not installed: {SETUP_HINT}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def node_tool(name: str) -> Path:
    path = NODE_BIN / name
    if not path.exists():
        missing(f".clients/node_modules/.bin/{name}")
    return path


def node_package(name: str) -> None:
    if not (CLIENTS / "node_modules" / name / "package.json").exists():
        missing(f"the npm package {name}")


def python_client(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        missing(f"the Python package providing {module}")


@pytest.fixture
def fake() -> EchoProvider:
    return EchoProvider()


PROBE = "x-layercache-test-probe"


class StatusLog:
    """ASGI wrapper noting each answer's status: a client that retries (Claude Code drops a beta and
    tries again after a 400, Codex reconnects after a 5xx) can succeed over a proxy error."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.answers: list[tuple[str, str, int]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (PROBE.encode(), b"1") in scope["headers"]:
            await self.app(scope, receive, send)
            return

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.answers.append((scope["method"], scope["path"], int(message["status"])))
            await send(message)

        await self.app(scope, receive, noting)


@pytest.fixture
def proxy(settings: Settings) -> Iterator[str]:
    """The proxy, served; when the test ends, no client request may have met a proxy error. Only
    404 and 405 are fine: clients probe routes the proxy does not serve (``HEAD /``, event logging)."""
    log = StatusLog(LayerCacheApp(settings))
    with serve(log) as url:
        yield url
    errors = [answer for answer in log.answers if answer[2] >= 400 and answer[2] not in (404, 405)]
    assert not errors, f"the proxy answered errors: {errors}"


@pytest.fixture
def responses_api(proxy: str, fake: FakeProvider) -> None:
    """Skip while the proxy has no ``POST /v1/responses`` (it answers 404); run once it does.

    The probe body is empty, which any Responses implementation refuses before going upstream."""
    headers = {"authorization": "Bearer sk-test", PROBE: "1"}
    status = httpx.post(f"{proxy}/v1/responses", json={}, headers=headers).status_code
    fake.requests.clear()
    if status == 404:
        pytest.skip("POST /v1/responses answers 404: this build has no Responses API yet")


@pytest.fixture
def scratch_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def client_env(home: Path, **extra: str) -> dict[str, str]:
    """A minimal environment: a scratch HOME, PATH for node, no proxy variables, no real keys."""
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    env.update(extra)
    return env


def run(args: list[str | Path], *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a client; its output is in the assertion message when it fails."""
    done = subprocess.run(
        [str(a) for a in args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, f"{args[0]} exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done


def node() -> str:
    path = shutil.which("node")
    if path is None:
        missing("node (20 or newer)")
    assert path is not None
    return path
