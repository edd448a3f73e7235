"""The LiteLLM SDK used as a client (``litellm.completion`` against the proxy's base URL), with
``openai/`` and ``litellm_proxy/`` model prefixes; the latter calls ``/chat/completions`` without ``/v1``."""

from __future__ import annotations

from typing import Any

import pytest

from layercache_asgi.testing import FakeProvider

from ._session import SYSTEM, billed_cache_read, billed_output, conversation_requests, roles
from .conftest import python_client

pytestmark = pytest.mark.clients


@pytest.mark.parametrize(("model", "suffix"), [("openai/gpt-4o", "/v1"), ("litellm_proxy/gpt-4o", "")])
def test_two_turns(proxy: str, fake: FakeProvider, model: str, suffix: str) -> None:
    litellm = python_client("litellm")
    options: dict[str, Any] = {"model": model, "api_base": f"{proxy}{suffix}", "api_key": "sk-test-client-key-1"}
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "say hi"}]
    first = litellm.completion(messages=messages, **options)
    hi = first.choices[0].message.content
    messages += [{"role": "assistant", "content": hi}, {"role": "user", "content": "say bye"}]
    chunks = list(litellm.completion(messages=messages, stream=True, stream_options={"include_usage": True}, **options))
    bye = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert (hi, bye) == ("Echo: say hi", "Echo: say bye")
    assert first.usage.completion_tokens == billed_output(hi)
    usage = next(c.usage for c in reversed(chunks) if getattr(c, "usage", None))
    assert usage.prompt_tokens_details.cached_tokens == billed_cache_read(fake)
    first_sent, second_sent = conversation_requests(fake, "/v1/chat/completions")
    assert roles(second_sent.body) == ["system", "user", "assistant", "user"]
    assert second_sent.body["stream"] is True and first_sent.body["messages"][0]["content"] == SYSTEM
