"""The apps the overhead benchmark serves, one uvicorn process each (``--app-dir bench``)."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.prompt._layers import digest
from layercache_asgi.testing import FakeProvider, read_body
from layercache_asgi.testing._fake_diagnostics import FakeCacheDiagnostics


class _QuietFake(FakeProvider):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await super().__call__(scope, receive, send)
        self.requests.clear()  # a benchmark sends thousands: keep memory flat


class _NoFingerprints(FakeCacheDiagnostics):
    """Answers the proxy's cache-diagnosis request as the real API would for the bench's bodies, without
    fingerprinting the whole prompt in Python (~14 ms at 600 KB): that cost is the fake's, and only
    requests through the proxy ask for it, so it would be charged to the proxy.

    Within one body size the bench varies nothing but the last user message (same model, tools and
    system, a unique question: ``overhead.with_question``), so of the earlier request only its number
    of tools and its last message are kept and compared, in the real API's order: ``tools_changed``
    (a sweep moving between the chat-sized body and the agent ones, which differ in tools and system
    alike), ``messages_changed`` (what the real API says of every other bench request, and what the
    proxy sees), else ``null``. Other changes would go unseen; the bench makes none."""

    def __init__(self) -> None:
        super().__init__()
        # answer id -> (tools, messages, digest of the last message)
        self.last: dict[str, tuple[int, int, str]] = {}

    def diagnose(self, body: dict[str, Any], count: Any) -> tuple[bool, Any]:
        asked = body.get("diagnostics")
        if not isinstance(asked, dict):
            return False, None
        previous = asked.get("previous_message_id")
        if previous is None:
            return True, None
        old = self.last.get(str(previous))
        if old is None:
            return True, {"cache_miss_reason": {"type": "previous_message_not_found"}}
        tools, n, last = old
        messages = body.get("messages") or []
        if len(body.get("tools") or []) != tools:
            return True, {"cache_miss_reason": {"type": "tools_changed"}}
        if n and (len(messages) < n or digest(messages[n - 1]) != last):
            return True, {"cache_miss_reason": {"type": "messages_changed"}}
        return True, None

    def remember(self, message_id: str, body: dict[str, Any], count: Any) -> None:
        messages = body.get("messages") or []
        self.last[message_id] = (len(body.get("tools") or []), len(messages), digest(messages[-1]) if messages else "")
        if len(self.last) > 1000:  # a benchmark sends thousands: keep memory flat
            del self.last[next(iter(self.last))]


# Not strict either: the fake's checks of breakpoints and tool pairing walk every block of a
# marked body (only the proxy's bodies are marked). A real provider's time does not grow that way.
upstream = _QuietFake(strict=False, diagnostics=_NoFingerprints())

# What the floor forwards: the same path on the fake provider, with the client's auth headers.
_FORWARDED = (b"authorization", b"x-api-key", b"anthropic-version", b"content-type")


class Passthrough:
    """The floor: read the body, ``json.loads`` it, re-post it with one shared httpx client, relay the answer."""

    def __init__(self) -> None:
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                while (await receive())["type"] != "lifespan.shutdown":
                    await send({"type": "lifespan.startup.complete"})
                await send({"type": "lifespan.shutdown.complete"})
            return
        if self.client is None:
            self.client = httpx.AsyncClient(limits=httpx.Limits(max_connections=200), timeout=60)
        raw = await read_body(receive)
        if scope["method"] != "POST":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        body = json.loads(raw)
        headers = {k.decode(): v.decode() for k, v in scope["headers"] if k in _FORWARDED}
        response = await self.client.post(
            f"{os.environ['BENCH_UPSTREAM']}{scope['path']}", content=json.dumps(body).encode(), headers=headers
        )
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": response.content})


passthrough = Passthrough()


def layercache() -> LayerCacheApp:
    """Factory (``--factory``): providers pointed at the bench upstream, database in a temp file."""
    semantic: dict[str, Any] = {"enabled": os.environ.get("BENCH_SEMANTIC") == "1"}
    if os.environ.get("BENCH_MODEL_PATH"):
        semantic["model_path"] = os.environ["BENCH_MODEL_PATH"]
    return LayerCacheApp(
        Settings.model_validate(
            {
                "providers": {
                    "openai": {"api_base": f"{os.environ['BENCH_UPSTREAM']}/v1"},
                    "anthropic": {"api_base": os.environ["BENCH_UPSTREAM"]},
                },
                "database": {"url": os.environ["BENCH_DB_URL"]},
                "caching": {"semantic": semantic},
                "logging": {"level": "WARNING"},
            }
        )
    )


def profiled() -> Any:
    """Factory: :func:`layercache` under pyinstrument; the profile is written to ``$BENCH_PROFILE`` at shutdown."""
    from pyinstrument import Profiler

    inner = layercache()
    profiler = Profiler(interval=0.0005, async_mode="disabled")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            profiler.start()

            async def on_send(message: Any) -> None:
                if message["type"] == "lifespan.shutdown.complete":
                    profiler.stop()
                    with open(os.environ["BENCH_PROFILE"], "w") as out:
                        out.write(profiler.output_text(unicode=False, color=False, show_all=False))
                await send(message)

            await inner(scope, receive, on_send)
            return
        await inner(scope, receive, send)

    return app


__all__ = ["Passthrough", "layercache", "passthrough", "profiled", "upstream"]
