"""Claude Code 2.1.154+ puts ``role: "system"`` messages inside ``messages`` and new content
block types appear every few months: the proxy passes what it does not need to understand."""
# On sockets: one test translates for another provider, the LiteLLM path; the others are in-process.

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest

from layercache_asgi.prompt._layers import stratify, strip_markers
from layercache_asgi.testing import FakeProvider

MODEL = "claude-sonnet-4-6"

CONVERSATION: Any = [
    {"role": "user", "content": "list the files"},
    {"role": "assistant", "content": "README.md and setup.py"},
    {"role": "system", "content": "<system-reminder>The user switched to plan mode.</system-reminder>"},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "now plan the change"},
            {"type": "future_block_2027", "payload": {"x": [1, 2.50, "é"]}},
        ],
    },
]


@pytest.mark.in_process
async def test_mid_conversation_system_message_and_unknown_blocks_reach_anthropic_unchanged(
    aanthropic: anthropic.AsyncAnthropic, fake: FakeProvider
) -> None:
    message = await aanthropic.beta.messages.create(
        model=MODEL,
        max_tokens=64,
        system=[{"type": "text", "text": "You are Claude Code."}],
        messages=CONVERSATION,
        betas=["mid-conversation-system-2026-04-07"],
    )
    assert message.content[0].type == "text"
    sent = fake.requests[-1]
    # The client's beta as sent, then the one of the cache diagnostics the proxy asks for.
    assert sent.headers["anthropic-beta"] == "mid-conversation-system-2026-04-07,cache-diagnosis-2026-04-07"
    # Same messages, same order; only the proxy's cache markers are added.
    assert strip_markers(sent.body["messages"]) == CONVERSATION
    assert b'{"type":"future_block_2027","payload":{"x":[1,2.5,"\xc3\xa9"]}}' in sent.raw


def test_a_system_message_is_history_at_its_position() -> None:
    layers = stratify("anthropic", {"model": MODEL, "messages": CONVERSATION})
    # [user, assistant] are L2, the system reminder after the last assistant joins the newest input.
    assert layers.message_layers == (2, 2, 4, 4)
    earlier = [CONVERSATION[0], CONVERSATION[2], CONVERSATION[1], CONVERSATION[3]]
    assert stratify("anthropic", {"model": MODEL, "messages": earlier}).message_layers == (2, 2, 2, 4)


# On sockets: the translation is the LiteLLM path, which makes its own HTTP calls to the fake.
def test_system_message_is_translated_for_other_providers(
    anthropic_client: anthropic.Anthropic, fake: FakeProvider
) -> None:
    messages: Any = [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi"},
        {"role": "system", "content": "Answer in French from now on."},
        {"role": "user", "content": "how are you"},
    ]
    anthropic_client.messages.create(model="openai/gpt-4o", max_tokens=32, messages=messages)
    sent = fake.requests[-1]
    assert sent.path.endswith("/chat/completions")
    roles = [(m["role"], json.dumps(m.get("content"))) for m in sent.body["messages"]]
    # LiteLLM keeps it in place, as a system turn where the target takes one, else as a user turn.
    assert [r for r, _ in roles][:2] == ["user", "assistant"]
    assert roles[2][0] in ("system", "developer", "user")
    assert "Answer in French from now on." in roles[2][1]
    assert "how are you" in roles[-1][1]
