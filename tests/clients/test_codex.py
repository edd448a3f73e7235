"""Codex CLI (npm ``@openai/codex``, pinned in .clients/package.json) through the proxy.

Codex speaks only the Responses API, so this runs once ``POST /v1/responses`` is served."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layercache_asgi.testing import FakeProvider

from ._session import billed_cache_read, billed_output, conversation_requests
from .conftest import client_env, node_tool, run

pytestmark = pytest.mark.clients

CONFIG = """\
model = "gpt-4o"
model_provider = "lc"
check_for_update_on_startup = false

[model_providers.lc]
name = "layercache"
base_url = "{proxy}/v1"
env_key = "LC_KEY"
wire_api = "responses"
"""


def codex(proxy: str, home: Path, workdir: Path, *args: str) -> str:
    codex_home = home / ".codex"
    codex_home.mkdir(exist_ok=True)
    (codex_home / "config.toml").write_text(CONFIG.format(proxy=proxy))
    env = client_env(home, CODEX_HOME=str(codex_home), LC_KEY="sk-test-client-key-1")
    return run([node_tool("codex"), "exec", *args], env=env, cwd=workdir).stdout


def test_two_turn_session(
    proxy: str, fake: FakeProvider, scratch_home: Path, tmp_path: Path, responses_api: None
) -> None:
    workdir = tmp_path / "project"
    workdir.mkdir()
    answer = tmp_path / "answer.txt"

    codex(proxy, scratch_home, workdir, "--skip-git-repo-check", "-o", str(answer), "say hi")
    assert answer.read_text().strip() == "Echo: say hi"

    out = codex(proxy, scratch_home, workdir, "resume", "--last", "--skip-git-repo-check", "--json", "say bye")
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    said = [e["item"]["text"] for e in events if e.get("type") == "item.completed" and "text" in e.get("item", {})]
    assert said[-1] == "Echo: say bye"
    usage = next(e for e in events if e.get("type") == "turn.completed")["usage"]
    # Codex reports the thread's usage so far: both turns, as the provider billed them.
    assert usage["output_tokens"] == billed_output("Echo: say hi", "Echo: say bye")
    assert usage["input_tokens"] > 0
    # Codex sums the thread; only the second turn can read what the first one cached.
    assert usage["cached_input_tokens"] == billed_cache_read(fake)

    first, second = conversation_requests(fake, "/v1/responses")
    for sent in (first, second):
        # What Codex sends reached the provider as sent: streamed, stateless, its own cache key.
        assert sent.body["stream"] is True and sent.body["store"] is False
        assert "reasoning.encrypted_content" in sent.body["include"]
    # One session, one key: Codex keys the prompt cache by its session id, and the proxy keeps it.
    assert first.body["prompt_cache_key"] == second.body["prompt_cache_key"]
    history = json.dumps(second.body["input"])
    assert "say hi" in history and "Echo: say hi" in history


def test_auto_compaction_runs_through_the_responses_route(
    proxy: str, fake: FakeProvider, scratch_home: Path, tmp_path: Path, responses_api: None
) -> None:
    # A custom provider (base_url pointed at the proxy) compacts with an ordinary streamed
    # /v1/responses turn, not OpenAI's /v1/responses/compact: the proxy serves it like any other.
    workdir = tmp_path / "project"
    workdir.mkdir()
    codex_home = scratch_home / ".codex"
    codex_home.mkdir(exist_ok=True)
    config = CONFIG.format(proxy=proxy).replace(
        "[model_providers", "model_auto_compact_token_limit = 300\n\n[model_providers"
    )
    (codex_home / "config.toml").write_text(config)
    env = client_env(scratch_home, CODEX_HOME=str(codex_home), LC_KEY="sk-test-client-key-1")
    run([node_tool("codex"), "exec", "--skip-git-repo-check", "say hi"], env=env, cwd=workdir)
    long_turn = "say bye " * 50
    done = run(
        [node_tool("codex"), "exec", "resume", "--last", "--skip-git-repo-check", long_turn], env=env, cwd=workdir
    )
    assert "context compacted" in done.stdout + done.stderr
    assert done.stdout.strip().startswith("Echo: say bye")
    assert [r.path for r in fake.requests] == ["/v1/responses"] * 3
    _first, compaction, after = (r.body for r in fake.requests)
    assert "continue the work" in json.dumps(compaction["input"][-1])  # Codex's summarisation prompt
    assert "say hi" in json.dumps(compaction["input"])
    assert "say bye" in json.dumps(after["input"][-1]) and "say bye" not in json.dumps(compaction["input"])
