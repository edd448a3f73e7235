"""Routing: failover between deployments, and LiteLLM translating between wire formats."""
# On sockets: routes through LiteLLM, which makes its own HTTP calls.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings, Usage
from layercache_asgi.testing import FakeProvider, serve
from layercache_asgi.wire._completion import Completion

from .conftest import ADMIN


def _two_deployments(make_settings: Callable[..., Settings], first: str, second: str, **extra: Any) -> Settings:
    return make_settings(
        models=[
            {"name": "primary", "model": "openai/gpt-4o", "api_base": f"{first}/v1"},
            {"name": "backup", "model": "openai/gpt-4o-mini", "api_base": f"{second}/v1"},
        ],
        fallbacks={"primary": ["backup"]},
        **extra,
    )


@pytest.mark.parametrize("stream", [False, True])
def test_failover_on_5xx(make_settings: Callable[..., Settings], stream: bool) -> None:
    first, second = FakeProvider(name="first", fail_next=[503]), FakeProvider(name="second")
    with serve(first) as a, serve(second) as b, serve(LayerCacheApp(_two_deployments(make_settings, a, b))) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x", max_retries=0)
        if stream:
            chunks = client.chat.completions.create(
                model="primary", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        else:
            response = client.chat.completions.create(model="primary", messages=[{"role": "user", "content": "hi"}])
            text = response.choices[0].message.content or ""
    assert text == "Echo: hi"
    assert len(first.requests) == 1 and len(second.requests) == 1
    assert second.requests[0].body["model"] == "gpt-4o-mini"


def test_failover_on_timeout(make_settings: Callable[..., Settings]) -> None:
    first, second = FakeProvider(name="first", delay=3.0), FakeProvider(name="second")
    with serve(first) as a, serve(second) as b:
        settings = _two_deployments(make_settings, a, b, upstream={"timeout": 0.5})
        with serve(LayerCacheApp(settings)) as url:
            client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x", max_retries=0)
            response = client.chat.completions.create(model="primary", messages=[{"role": "user", "content": "hi"}])
    assert response.choices[0].message.content == "Echo: hi"
    assert len(second.requests) == 1


def test_no_failover_on_4xx(make_settings: Callable[..., Settings]) -> None:
    first, second = FakeProvider(name="first", fail_next=[400]), FakeProvider(name="second")
    with serve(first) as a, serve(second) as b, serve(LayerCacheApp(_two_deployments(make_settings, a, b))) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x", max_retries=0)
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="primary", messages=[{"role": "user", "content": "hi"}])
    assert second.requests == []


def test_all_deployments_down(make_settings: Callable[..., Settings]) -> None:
    first, second = FakeProvider(fail_next=[500]), FakeProvider(fail_next=[502])
    with serve(first) as a, serve(second) as b, serve(LayerCacheApp(_two_deployments(make_settings, a, b))) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x", max_retries=0)
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="primary", messages=[{"role": "user", "content": "hi"}])


class AnthropicCachingFake(FakeProvider):
    def usage_for(self, wire: str, body: dict[str, Any], completion: Completion) -> Usage:
        return Usage(uncached_input=5, cache_read=100, cache_write=20, output=4)


def test_openai_client_to_anthropic_model_via_litellm(make_settings: Callable[..., Settings]) -> None:
    fake = AnthropicCachingFake()
    with serve(fake) as up, serve(LayerCacheApp(make_settings(providers={"anthropic": {"api_base": up}}))) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-ant-x", max_retries=0)
        response = client.chat.completions.create(
            model="anthropic/claude-sonnet-4-5",
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "translate me"}],
            max_tokens=100,
        )
        assert response.choices[0].message.content == "Echo: translate me"
        sent = fake.requests[-1]
        assert sent.path == "/v1/messages" and sent.headers["x-api-key"] == "sk-ant-x"
        assert sent.body["system"][0]["text"] == "Be brief." if isinstance(sent.body["system"], list) else True
        # Usage mapped from Anthropic's split into OpenAI's shape, nothing lost.
        usage = response.usage
        assert usage is not None and usage.prompt_tokens_details is not None
        assert usage.prompt_tokens == 125
        assert usage.prompt_tokens_details.cached_tokens == 100
        assert usage.completion_tokens == 4

        chunks = list(
            client.chat.completions.create(
                model="anthropic/claude-sonnet-4-5",
                messages=[{"role": "user", "content": "stream translate"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: stream translate"
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


def test_anthropic_client_to_openai_model_via_litellm(proxy: str, fake: FakeProvider) -> None:
    client = anthropic.Anthropic(base_url=proxy, api_key="sk-x", max_retries=0)
    message = client.messages.create(
        model="openai/gpt-4o", max_tokens=50, system="Be brief.", messages=[{"role": "user", "content": "hola"}]
    )
    assert message.content[0].text == "Echo: hola"  # type: ignore[union-attr]
    assert fake.requests[-1].path == "/v1/chat/completions"
    assert fake.requests[-1].body["messages"][0] == {"role": "system", "content": "Be brief."}
    with client.messages.stream(
        model="openai/gpt-4o", max_tokens=50, messages=[{"role": "user", "content": "stream hola"}]
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == "Echo: stream hola"  # type: ignore[union-attr]
    assert final.usage.output_tokens > 0


def test_bare_claude_name_on_messages_goes_to_anthropic(
    anthropic_client: anthropic.Anthropic, fake: FakeProvider
) -> None:
    anthropic_client.messages.create(
        model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "x"}]
    )
    assert fake.requests[-1].path == "/v1/messages"
    assert fake.requests[-1].body["model"] == "claude-haiku-4-5"


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_translated_stream_that_fails_before_starting_fails_over(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, wire: str
) -> None:
    # The backup lives at another base URL, so it is called with the server's key, not the client's.
    monkeypatch.setenv("ANTHROPIC_API_KEY" if wire == "openai" else "OPENAI_API_KEY", "sk-server-key")
    first, second = FakeProvider(name="first", fail_next=[500]), FakeProvider(name="second")
    with serve(first) as a, serve(second) as b:
        # Each deployment needs LiteLLM's translation: the client's format is not the provider's.
        target = "anthropic/claude-sonnet-4-5" if wire == "openai" else "openai/gpt-4o"
        settings = make_settings(
            models=[
                {"name": "primary", "model": target, "api_base": a if wire == "openai" else f"{a}/v1"},
                {"name": "backup", "model": target, "api_base": b if wire == "openai" else f"{b}/v1"},
            ],
            fallbacks={"primary": ["backup"]},
        )
        with serve(LayerCacheApp(settings)) as url:
            if wire == "openai":
                client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x", max_retries=0)
                chunks = client.chat.completions.create(
                    model="primary", messages=[{"role": "user", "content": "hi"}], stream=True
                )
                text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            else:
                aclient = anthropic.Anthropic(base_url=url, api_key="sk-x", max_retries=0)
                with aclient.messages.stream(
                    model="primary", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
                ) as stream:
                    text = stream.get_final_message().content[0].text  # type: ignore[union-attr]
    assert text == "Echo: hi"
    assert len(first.requests) == 1 and len(second.requests) == 1


# -- /v1/messages/count_tokens counts what /v1/messages would send -----------------------------


def _counting_app(make_settings: Callable[..., Settings]) -> LayerCacheApp:
    return LayerCacheApp(
        make_settings(
            models=[
                {"name": "smart", "model": "anthropic/claude-sonnet-4-6"},
                {"name": "fast", "model": "openai/gpt-4o-mini"},
            ],
        )
    )


SUPPORT_TEMPLATE = {
    "name": "support",
    "system": "You are Acme's support assistant.",
    "context": "Acme sells anvils. Returns are accepted within 30 days.",
    "enhancements": ["self_critique"],
}


def test_count_tokens_resolves_aliases_and_counts_the_template_and_enhancements(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    from layercache_asgi.enhancements._builtin import CHAIN_OF_THOUGHT, SELF_CRITIQUE
    from layercache_asgi.prompt._layers import strip_markers

    with serve(_counting_app(make_settings)) as url:
        assert httpx.post(f"{url}/v1/prompts/templates", json=SUPPORT_TEMPLATE, headers=ADMIN).status_code == 201
        client = anthropic.Anthropic(base_url=url, api_key="sk-ant-count", max_retries=0)
        messages: Any = [{"role": "user", "content": "Where is order 42?"}]
        extra = {"lc_template": "support", "lc_enhancements": ["chain_of_thought"], "lc_cache_ttl": 0}
        plain = client.messages.count_tokens(model="smart", messages=messages)
        counted = client.messages.with_raw_response.count_tokens(
            model="smart", system="Reply in French.", messages=messages, extra_body=extra
        )
        client.messages.create(
            model="smart", max_tokens=16, system="Reply in French.", messages=messages, extra_body=extra
        )
    asked, sent = fake.requests[-2], fake.requests[-1]
    assert asked.path == "/v1/messages/count_tokens" and sent.path == "/v1/messages"
    assert asked.body["model"] == sent.body["model"] == "claude-sonnet-4-6"
    assert not [k for k in asked.body if k.startswith("lc_")]
    assert counted.headers["x-layercache-template"] == "support@1"
    # The same system blocks and the same newest turn as the real request (its cache markers aside).
    for part in ("system", "messages"):
        assert strip_markers(asked.body[part]) == strip_markers(sent.body[part]), part
    texts = [b["text"] for b in asked.body["messages"][0]["content"]]
    assert texts == [SELF_CRITIQUE, CHAIN_OF_THOUGHT, "Where is order 42?"]
    assert counted.parse().input_tokens > plain.input_tokens


def test_count_tokens_for_an_alias_of_another_provider_counts_locally(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    with serve(_counting_app(make_settings)) as url:
        assert httpx.post(f"{url}/v1/prompts/templates", json=SUPPORT_TEMPLATE, headers=ADMIN).status_code == 201
        client = anthropic.Anthropic(base_url=url, api_key="sk-ant-count", max_retries=0)
        messages: Any = [{"role": "user", "content": "Where is order 42?"}]
        plain = client.messages.count_tokens(model="fast", messages=messages)
        templated = client.messages.count_tokens(model="fast", messages=messages, extra_body={"lc_template": "support"})
        with pytest.raises(anthropic.BadRequestError, match="unknown enhancement 'nope'"):
            client.messages.count_tokens(model="fast", messages=messages, extra_body={"lc_enhancements": ["nope"]})
    assert fake.requests == []  # counted by the proxy itself
    assert 5 <= plain.input_tokens < templated.input_tokens
