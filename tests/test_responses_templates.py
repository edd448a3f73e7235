"""Templates and enhancements on the Responses API: the template's system prompt joins
``instructions``, its context is a leading developer item (L1), its tools take the flat
Responses form, and enhancements are ``input_text`` parts at L3 before the newest input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest

from layercache_asgi import Settings
from layercache_asgi.enhancements._builtin import CHAIN_OF_THOUGHT
from layercache_asgi.testing import FakeProvider, in_process

from .conftest import ADMIN, async_openai

pytestmark = [pytest.mark.postgres, pytest.mark.in_process]

TEMPLATE: dict[str, Any] = {
    "name": "support",
    "system": "You are Acme's support assistant.",
    "context": "Acme sells anvils.",
    "tools": [{"name": "lookup_order", "description": "Find an order", "input_schema": {"type": "object"}}],
}


async def test_template_on_a_responses_request(make_settings: Callable[..., Settings], fake: FakeProvider) -> None:
    async with in_process(fake, make_settings()) as http:
        created = await http.post("/v1/prompts/templates", json=TEMPLATE, headers=ADMIN, timeout=30)
        assert created.status_code in (200, 201), created.text
        raw = await async_openai(http, api_key="sk-x").responses.with_raw_response.create(
            model="gpt-4o",
            instructions="Reply in French.",
            input="Where is order 42?",
            extra_body={"lc_template": "support"},
        )
    assert raw.headers["x-layercache-template"] == "support@1"
    sent = fake.requests[-1].body
    assert sent["instructions"] == "You are Acme's support assistant.\n\nReply in French."
    assert sent["input"] == [
        {"role": "developer", "content": "Acme sells anvils."},
        {"role": "user", "content": "Where is order 42?"},
    ]
    assert sent["tools"] == [
        {"type": "function", "name": "lookup_order", "description": "Find an order", "parameters": {"type": "object"}}
    ]
    assert "lc_template" not in sent


async def test_enhancement_is_an_input_text_part_before_the_newest_input(
    aopenai: openai.AsyncOpenAI, fake: FakeProvider
) -> None:
    history: list[Any] = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "First"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "One"}]},
        {"role": "user", "content": "Newest question"},
    ]
    await aopenai.responses.create(model="gpt-4o", input=history)
    await aopenai.responses.create(model="gpt-4o", input=history, extra_body={"lc_enhancements": ["chain_of_thought"]})
    plain, enhanced = (r.body for r in fake.requests)
    assert enhanced["input"][:3] == plain["input"][:3]
    assert enhanced["input"][3]["content"] == [
        {"type": "input_text", "text": CHAIN_OF_THOUGHT},
        {"type": "input_text", "text": "Newest question"},
    ]
    assert plain["prompt_cache_key"] == enhanced["prompt_cache_key"]
    await aopenai.responses.create(
        model="gpt-4o", input="plain string", extra_body={"lc_enhancements": ["structured_json"]}
    )
    last = fake.requests[-1].body
    assert last["input"][0]["content"][-1] == {"type": "input_text", "text": "plain string"}
    assert last["text"] == {"format": {"type": "json_object"}}
