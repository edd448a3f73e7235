"""Checks shared by the example tests: the proxy behaves the same under any host's /llm mount."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
import yaml

from layercache_asgi import LayerCacheApp
from layercache_asgi.testing import FakeProvider

PREFIX = "/llm"
REPO = Path(__file__).resolve().parents[1]


def check_sdks(base: str) -> None:
    """Both official SDKs, JSON and streaming, with only ``base_url`` changed."""
    assert httpx.get(f"{base}{PREFIX}/health").json()["status"] == "healthy"
    oc = openai.OpenAI(base_url=f"{base}{PREFIX}/v1", api_key="sk-host-test", max_retries=0)
    reply = oc.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "from the host"}])
    assert reply.choices[0].message.content == "Echo: from the host"
    assert reply.usage is not None and reply.usage.prompt_tokens > 0
    chunks = oc.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "streamed"}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: streamed"

    ac = anthropic.Anthropic(base_url=f"{base}{PREFIX}", api_key="sk-ant-host-test", max_retries=0)
    message = ac.messages.create(
        model="claude-sonnet-4-6", max_tokens=20, messages=[{"role": "user", "content": "hello claude"}]
    )
    assert message.content[0].type == "text" and message.content[0].text == "Echo: hello claude"
    with ac.messages.stream(
        model="claude-sonnet-4-6", max_tokens=20, messages=[{"role": "user", "content": "stream claude"}]
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "text" and final.content[0].text == "Echo: stream claude"
    assert httpx.get(f"{base}/v1/models").status_code == 404  # nothing of the proxy leaks outside /llm


def skip_unless_semantic_cache(llm: LayerCacheApp) -> None:
    """Skip when the semantic cache is genuinely absent; fail when it exists but did not start."""
    from layercache_asgi.semantic._start import start_semantic_cache

    if "Placeholder" in (start_semantic_cache.__doc__ or ""):
        pytest.skip("the semantic cache is not implemented yet (semantic/_start.py is still the placeholder)")
    assert llm.runtime.semantic is not None, "semantic cache enabled but not started (runtime.semantic is None)"


def check_semantic_hit(
    base: str, llm: LayerCacheApp, fake: FakeProvider, *, second: str | None = None, prefix: str = PREFIX
) -> None:
    """A repeated question is answered from the semantic cache, without calling the provider.

    ``second``: ask the repeat through another server (a replica sharing the database).
    """
    skip_unless_semantic_cache(llm)
    messages = [{"role": "user", "content": "What is the tallest mountain in Europe?"}]
    oc = openai.OpenAI(base_url=f"{base}{prefix}/v1", api_key="sk-host-semantic", max_retries=0)
    first = oc.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
    assert first.headers.get("x-layercache-cache") == "miss"
    answer = first.parse().choices[0].message.content
    for _ in range(50):  # the miss may be stored just after it was answered
        calls = len(fake.requests)
        again = oc.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
        if again.headers.get("x-layercache-cache") == "hit":
            break
        time.sleep(0.1)
    else:
        pytest.fail("the repeated question was never answered from the semantic cache")
    if second is not None:  # stored for sure now: the other replica must find it on its first try
        calls = len(fake.requests)
        other = openai.OpenAI(base_url=f"{second}{prefix}/v1", api_key="sk-host-semantic", max_retries=0)
        again = other.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
        assert again.headers.get("x-layercache-cache") == "hit", "the other replica did not find the stored answer"
    assert len(fake.requests) == calls  # the hit never reached the provider
    hit = again.parse()
    assert hit.choices[0].message.content == answer
    assert hit.choices[0].finish_reason == "stop"


def check_dashboard(base: str, llm: LayerCacheApp) -> None:
    """The dashboard answers under the prefix, and every link it makes stays under it."""
    from layercache_asgi.dashboard.routes import dashboard_routes

    if not dashboard_routes(lambda: llm.runtime, llm):
        pytest.skip("the dashboard is not implemented yet (dashboard_routes() returns no routes)")
    page = httpx.get(f"{base}{PREFIX}/dashboard", follow_redirects=True)
    assert page.status_code == 200
    assert page.url.path.startswith(f"{PREFIX}/")
    links = re.findall(r'(?:href|src|action|hx-get|hx-post|hx-delete)="(/[^"]*)"', page.text)
    assert links, "the dashboard page links nowhere"
    outside = [link for link in links if not link.startswith(f"{PREFIX}/")]
    assert not outside, f"links that escape the mount prefix: {outside}"
    for link in {link for link in links if "/static/" in link}:
        assert httpx.get(f"{base}{link}").status_code == 200, link


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> httpx.Response:
    """Poll ``url`` until the server in ``proc`` answers (bounded; fails with its stderr if it exits)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return httpx.get(url)
        except httpx.TransportError:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server exited") from None
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.2)


def documented_command(readme: Path) -> list[str]:
    """The one command a README gives to run its example (the line starting with ``uvicorn``)."""
    (line,) = [line for line in readme.read_text().splitlines() if line.startswith("uvicorn ")]
    return shlex.split(line)


@contextlib.contextmanager
def run_documented_command(readme: Path, config: Path) -> Iterator[str]:
    """Run the README's command from the repository root on a free port; yields the base URL."""
    port = free_port()
    words = documented_command(readme)
    words[words.index("--port") + 1] = str(port)
    env = {**os.environ, "LAYERCACHE_CONFIG": str(config)}
    proc = subprocess.Popen(
        [sys.executable, "-m", *words], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(15)


def write_config(folder: Path, upstream: str, database_url: str) -> Path:
    """A config file pointing the providers at the fake (for examples run as their own process)."""
    config = folder / "layercache.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "providers": {"openai": {"api_base": f"{upstream}/v1"}, "anthropic": {"api_base": upstream}},
                "database": {"url": database_url, "auto_upgrade": True},
                "caching": {"semantic": {"enabled": False}},
            }
        )
    )
    return config


def check_openai(base: str) -> None:
    oc = openai.OpenAI(base_url=f"{base}{PREFIX}/v1", api_key="sk-host-test", max_retries=0)
    reply = oc.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "documented"}])
    assert reply.choices[0].message.content == "Echo: documented"
