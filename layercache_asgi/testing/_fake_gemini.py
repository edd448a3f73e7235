"""A fake Gemini API: ``cachedContents`` creation and ``models/*:generateContent``.

Counts CachedContent creations (:attr:`FakeGemini.creations`), rejects a request that
names an unknown or expired cache, or that re-sends ``system_instruction`` / ``tools``
next to ``cachedContent`` (as Gemini does), and reports ``cachedContentTokenCount``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._types import Receive, Scope, Send
from ._fake_provider import RecordedRequest, _send, count_tokens

__all__ = ["FakeGemini"]


@dataclass
class FakeGemini:
    """ASGI app. Every request is recorded in :attr:`requests`; caches live in :attr:`caches`."""

    create_delay: float = 0.0
    clock: Callable[[], float] = time.time
    requests: list[RecordedRequest] = field(default_factory=list)
    caches: dict[str, dict[str, Any]] = field(default_factory=dict)
    creations: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        body = json.loads(raw or b"{}")
        self.requests.append(RecordedRequest(path, headers, body))
        if path.endswith("/cachedContents") and scope["method"] == "POST":
            await self._create(send, body)
        elif ":generateContent" in path:
            await self._generate(send, path, body)
        else:
            await _send(send, 404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}})

    async def _create(self, send: Send, body: dict[str, Any]) -> None:
        if self.create_delay:
            await asyncio.sleep(self.create_delay)
        self.creations += 1
        name = f"cachedContents/{uuid.uuid4().hex[:16]}"
        ttl = float(str(body.get("ttl", "3600s")).rstrip("s"))
        held: dict[str, Any] = {k: body[k] for k in ("systemInstruction", "contents", "tools") if k in body}
        tokens = count_tokens(held)
        self.caches[name] = {"model": body.get("model"), "expires": self.clock() + ttl, "tokens": tokens, **held}
        await _send(send, 200, {"name": name, "model": body.get("model"), "usageMetadata": {"totalTokenCount": tokens}})

    async def _generate(self, send: Send, path: str, body: dict[str, Any]) -> None:
        cached = 0
        name = body.get("cachedContent")
        if name:
            cache = self.caches.get(str(name))
            if cache is None or cache["expires"] <= self.clock():
                await _send(
                    send,
                    403,
                    {"error": {"code": 403, "message": "CachedContent not found", "status": "PERMISSION_DENIED"}},
                )
                return
            clash = [k for k in ("system_instruction", "systemInstruction", "tools", "toolConfig") if k in body]
            if clash:
                message = f"CachedContent can not be used with {clash[0]}"
                await _send(send, 400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})
                return
            cached = int(cache["tokens"])
        prompt = count_tokens({k: body.get(k) for k in ("contents", "system_instruction", "tools")}) + cached
        last = (body.get("contents") or [{}])[-1]
        text = " ".join(str(p.get("text", "")) for p in last.get("parts", []) if isinstance(p, dict))
        answer = {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": f"Echo: {text}"}]}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": prompt,
                "candidatesTokenCount": 3,
                "totalTokenCount": prompt + 3,
                **({"cachedContentTokenCount": cached} if cached else {}),
            },
            "modelVersion": path.rsplit("/", 1)[-1].split(":")[0],
        }
        await _send(send, 200, answer)
