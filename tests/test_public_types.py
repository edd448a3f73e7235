"""layercache_asgi.types: what a stage author imports to type a stage (no private module)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette import types as starlette_types
from starlette.middleware import Middleware

from layercache_asgi import DEFAULT_STAGES, Settings, get_exchange, types
from layercache_asgi.testing import FakeProvider, in_process
from layercache_asgi.types import ASGIApp, Message, Receive, Scope, Send, Wire

pytestmark = pytest.mark.in_process


class SeenWire:
    """A user stage typed only with the public aliases: it notes each request's wire format."""

    def __init__(self, app: ASGIApp, *, seen: list[Wire]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is None:  # not a proxied request
            await self.app(scope, receive, send)
            return
        wire: Wire = exchange.request.wire
        self.seen.append(wire)

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-seen-wire", wire.encode())]
            await send(message)

        await self.app(scope, receive, tagged)


def test_the_public_module_exports_the_asgi_aliases() -> None:
    assert set(types.__all__) == {"ASGIApp", "Message", "Receive", "Scope", "Send", "Wire"}
    # Structurally Starlette's own, so a stage typed with either fits either.
    assert Scope == starlette_types.Scope and Message == starlette_types.Message


async def test_a_stage_typed_with_the_public_aliases_runs_in_the_stack(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    seen: list[Wire] = []
    stages = [*DEFAULT_STAGES, Middleware(SeenWire, seen=seen)]
    async with in_process(fake, make_settings(), stages=stages) as client:
        response = await client.post(
            "/v1/messages",
            headers={"x-api-key": "sk-ant-client-1", "anthropic-version": "2023-06-01"},
            json={"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 200, response.text
    assert response.headers["x-seen-wire"] == "anthropic"
    assert seen == ["anthropic"]
