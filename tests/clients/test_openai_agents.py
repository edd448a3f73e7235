"""openai-agents (PyPI ``openai-agents``, the ``clients`` extra) through the proxy, in process."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from layercache_asgi.testing import FakeProvider

from ._session import SYSTEM, billed_cache_read, billed_output, conversation_requests, roles
from .conftest import python_client

pytestmark = pytest.mark.clients


async def two_turns(agent: Any, run_config: Any) -> tuple[str, str, Any, Any]:
    """``run_config`` must disable tracing: the default trace exporter would call api.openai.com."""
    agents = python_client("agents")
    first = await agents.Runner.run(agent, "say hi", run_config=run_config)
    streamed = agents.Runner.run_streamed(
        agent, [*first.to_input_list(), {"role": "user", "content": "say bye"}], run_config=run_config
    )
    async for _ in streamed.stream_events():
        pass
    return first.final_output, streamed.final_output, first.context_wrapper.usage, streamed.context_wrapper.usage


def client(proxy: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{proxy}/v1", api_key="sk-test-client-key-1", max_retries=0)


async def test_chat_completions_model(proxy: str, fake: FakeProvider) -> None:
    agents = python_client("agents")
    model = agents.OpenAIChatCompletionsModel(model="gpt-4o", openai_client=client(proxy))
    # The SDK asks for usage in streams only from api.openai.com; any other base URL must say so.
    settings = agents.ModelSettings(include_usage=True)
    agent = agents.Agent(name="terse", instructions=SYSTEM, model=model, model_settings=settings)
    hi, bye, usage1, usage2 = await two_turns(agent, agents.RunConfig(tracing_disabled=True))
    assert (hi, bye) == ("Echo: say hi", "Echo: say bye")
    assert usage1.output_tokens == billed_output(hi)
    assert usage2.output_tokens == billed_output(bye)
    assert usage2.input_tokens > usage1.input_tokens > 0
    assert usage2.input_tokens_details.cached_tokens == billed_cache_read(fake)
    first, second = conversation_requests(fake, "/v1/chat/completions")
    assert second.body["stream"] is True and second.body["stream_options"] == {"include_usage": True}
    assert roles(second.body) == ["system", "user", "assistant", "user"]
    assert first.body["prompt_cache_key"] == second.body["prompt_cache_key"]


async def test_default_model_uses_responses(proxy: str, fake: FakeProvider, responses_api: None) -> None:
    agents = python_client("agents")
    provider = agents.OpenAIProvider(openai_client=client(proxy))  # use_responses defaults to True
    agent = agents.Agent(name="terse", instructions=SYSTEM, model="gpt-4o")
    hi, bye, usage1, usage2 = await two_turns(agent, agents.RunConfig(model_provider=provider, tracing_disabled=True))
    assert (hi, bye) == ("Echo: say hi", "Echo: say bye")
    assert usage1.output_tokens == billed_output(hi)
    assert usage2.output_tokens == billed_output(bye)
    assert usage2.input_tokens_details.cached_tokens == billed_cache_read(fake)
    first, second = conversation_requests(fake, "/v1/responses")
    assert second.body["stream"] is True
    assert second.body["instructions"] == SYSTEM
    assert first.body["prompt_cache_key"] == second.body["prompt_cache_key"]
