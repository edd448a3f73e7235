"""mount_asgi: a prefix goes to one app, everything else to another, like Starlette's Mount."""
# On sockets: mount_asgi served under a root path, as uvicorn --root-path gives it.

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from layercache_asgi.integrations import mount_asgi
from layercache_asgi.types import Receive, Scope, Send


class Recorder:
    """Answers with the path and root_path it was given."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lifespan_scopes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            self.lifespan_scopes += 1
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = f"{self.name} {scope['path']} {scope.get('root_path', '')}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


async def _get(app: Any, path: str, root_path: str = "") -> str:
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return (await client.get(path)).text


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/llm/v1/models", "proxy /llm/v1/models /llm"),
        ("/llm", "proxy /llm /llm"),
        ("/llm/", "proxy /llm/ /llm"),
        ("/llmx/v1", "host /llmx/v1 "),
        ("/", "host / "),
        ("/items/llm/", "host /items/llm/ "),
    ],
)
async def test_dispatch_keeps_path_and_extends_root_path(path: str, expected: str) -> None:
    app = mount_asgi("/llm/", Recorder("proxy"), Recorder("host"))
    assert await _get(app, path) == expected


async def test_same_scope_as_starlette_mount() -> None:
    ours = mount_asgi("/llm", Recorder("x"), Recorder("host"))
    starlettes = Starlette(routes=[Mount("/llm", app=Recorder("x"))])
    for path in ("/llm/v1/messages", "/llm/dashboard/static/app.js"):
        assert await _get(ours, path) == await _get(starlettes, path)


async def test_under_a_server_root_path() -> None:
    # e.g. `uvicorn --root-path /svc`: the dispatcher matches below it and extends it.
    app = mount_asgi("/llm", Recorder("proxy"), Recorder("host"))
    assert await _get(app, "/svc/llm/health", root_path="/svc") == "proxy /svc/llm/health /svc/llm"
    assert await _get(app, "/svc/items", root_path="/svc") == "host /svc/items /svc"


async def test_lifespan_goes_to_the_mounted_app_only() -> None:
    proxy, host = Recorder("proxy"), Recorder("host")
    app = mount_asgi("/llm", proxy, host)
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert (proxy.lifespan_scopes, host.lifespan_scopes) == (1, 0)


@pytest.mark.parametrize("prefix", ["llm", "/", ""])
def test_prefix_must_be_a_path(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        mount_asgi(prefix, Recorder("a"), Recorder("b"))
