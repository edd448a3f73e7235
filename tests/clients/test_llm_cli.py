"""Simon Willison's ``llm`` CLI (PyPI ``llm``, the ``clients`` extra) through the proxy, as an
OpenAI-compatible model declared in ``extra-openai-models.yaml``."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from layercache_asgi.testing import FakeProvider

from ._session import SYSTEM, billed_cache_read, billed_output, conversation_requests, roles
from .conftest import client_env, missing, run

pytestmark = pytest.mark.clients

MODELS = """\
- model_id: lc-gpt-4o
  model_name: gpt-4o
  api_base: "{proxy}/v1"
  api_key_name: lc
  supports_tools: true
"""


def llm_cli(proxy: str, home: Path) -> list[str]:
    path = shutil.which("llm", path=str(Path(sys.executable).parent)) or shutil.which("llm")
    if path is None:
        missing("the llm CLI")
    assert path is not None
    user = home / "llm"
    user.mkdir(exist_ok=True)
    (user / "extra-openai-models.yaml").write_text(MODELS.format(proxy=proxy))
    (user / "keys.json").write_text(json.dumps({"lc": "sk-test-client-key-1"}))
    return [path]


def test_two_turn_conversation(proxy: str, fake: FakeProvider, scratch_home: Path, tmp_path: Path) -> None:
    llm = llm_cli(proxy, scratch_home)
    env = client_env(scratch_home, LLM_USER_PATH=str(scratch_home / "llm"))
    hi = run([*llm, "-m", "lc-gpt-4o", "-s", SYSTEM, "say hi"], env=env, cwd=tmp_path).stdout.strip()
    bye = run([*llm, "-c", "say bye"], env=env, cwd=tmp_path).stdout.strip()  # continues the conversation
    assert (hi, bye) == ("Echo: say hi", "Echo: say bye")
    first, second = conversation_requests(fake, "/v1/chat/completions")
    assert first.body["stream"] is True and second.body["stream"] is True  # llm streams by default
    assert roles(second.body) == ["system", "user", "assistant", "user"]
    assert second.body["messages"][0]["content"] == SYSTEM  # the system prompt reached the provider as sent
    assert billed_cache_read(fake) > 0  # the second turn read what the first one cached
    # `llm logs` shows the usage the proxy relayed (llm asks for it with stream_options).
    logged = run([*llm, "logs", "--json", "-n", "1"], env=env, cwd=tmp_path).stdout
    [entry] = json.loads(logged)
    assert entry["response"] == "Echo: say bye"
    assert entry["output_tokens"] == billed_output("Echo: say bye")
