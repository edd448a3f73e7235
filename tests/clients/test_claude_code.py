"""Claude Code (npm ``@anthropic-ai/claude-code``, pinned in .clients/package.json) through the proxy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from layercache_asgi.testing import FakeProvider, count_tokens

from ._session import billed_cache_read
from .conftest import client_env, node_tool, run

pytestmark = pytest.mark.clients

MODEL = "claude-sonnet-4-6"


def claude(proxy: str, home: Path, workdir: Path, *args: str) -> str:
    env = client_env(home, ANTHROPIC_BASE_URL=proxy, ANTHROPIC_API_KEY="sk-ant-test-client-key-1")
    return run([node_tool("claude"), "-p", "--model", MODEL, *args], env=env, cwd=workdir).stdout


def turns(fake: FakeProvider) -> list[Any]:
    """The conversation requests that reached the provider (not Claude Code's Warmup or title calls)."""
    return [r for r in fake.requests if r.path == "/v1/messages" and "say" in json.dumps(r.body["messages"][-1])]


def test_two_turn_session_second_streamed_as_json(
    proxy: str, fake: FakeProvider, scratch_home: Path, tmp_path: Path
) -> None:
    workdir = tmp_path / "project"
    workdir.mkdir()

    first = claude(proxy, scratch_home, workdir, "say hi")
    assert first.strip().startswith("Echo:")
    assert first.strip().endswith("say hi")

    streamed = ("--output-format", "stream-json", "--verbose")
    stream = claude(proxy, scratch_home, workdir, "--continue", *streamed, "say bye")
    events = [json.loads(line) for line in stream.splitlines() if line.strip()]
    result = next(e for e in events if e.get("type") == "result")
    assert result["subtype"] == "success", result
    assert result["result"].startswith("Echo:") and result["result"].endswith("say bye")
    assistant = [e for e in events if e.get("type") == "assistant"]
    assert assistant and assistant[-1]["message"]["content"][-1]["text"] == result["result"]

    sent = turns(fake)
    assert len(sent) == 2, [r.body["messages"][-1] for r in fake.requests if r.path == "/v1/messages"]
    second = sent[1]
    # The usage Claude Code reports for the turn is what the provider billed for it, and the second
    # turn read the prefix the first one cached, through Claude Code's own markers.
    billed = fake.usage_of(second)  # type: ignore[attr-defined]
    assert result["usage"]["output_tokens"] == billed.output == count_tokens(result["result"])
    assert result["usage"]["input_tokens"] == billed.uncached_input
    assert result["usage"]["cache_creation_input_tokens"] == billed.cache_write
    assert result["usage"]["cache_read_input_tokens"] == billed_cache_read(fake, second)
    # --continue replays the first turn: its question and the proxy's answer are history now.
    roles = [m["role"] for m in second.body["messages"]]
    assert roles[-3:] == ["user", "assistant", "user"], roles
    replayed = second.body["messages"][-2]["content"]
    replayed_text = replayed if isinstance(replayed, str) else "".join(b.get("text", "") for b in replayed)
    assert replayed_text.strip() == first.strip()
    # Streamed, with Claude Code's own cache markers intact on the system blocks and newest user block.
    assert second.body["stream"] is True
    assert any("cache_control" in block for block in second.body["system"] if isinstance(block, dict))
    last_content = second.body["messages"][-1]["content"]
    assert isinstance(last_content, list) and "cache_control" in last_content[-1]
    assert "anthropic-beta" in second.headers
