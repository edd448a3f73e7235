"""A fake Gemini API: ``cachedContents`` creation and ``models/*:generateContent`` (also streamed).

Counts CachedContent creations (:attr:`FakeGemini.creations`) and TTL extensions
(``PATCH``, :attr:`FakeGemini.extensions`), rejects a request that
names an unknown or expired cache, or that re-sends ``system_instruction`` / ``tools``
next to ``cachedContent`` (as Gemini does), and a cache below the model's minimum.
Prompt tokens are billed by :attr:`FakeGemini.billing` (a :class:`PrefixCacheSimulator`:
explicit and implicit caching) and reported in ``usageMetadata`` as Gemini shapes it:
``promptTokenCount`` includes the ``cachedContentTokenCount`` read from either cache.

Answers "Echo: <last user text>"; with ``call_tools`` it calls the first declared
function (in the request or its cache) when the newest content is a user's question.
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
from ..prompt._prefix_minimums import min_prefix_tokens
from ._asgi import read_body
from ._fake_provider import RecordedRequest, _send, count_tokens
from ._prefix_cache_sim import PrefixCacheSimulator

__all__ = ["FakeGemini"]


def _error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


@dataclass
class FakeGemini:
    """ASGI app. Every request is recorded in :attr:`requests`; caches live in :attr:`caches`.

    ``delay``: seconds before a ``generateContent`` response starts (what it writes to the
    implicit cache is readable from then on). ``create_delay``: the same for creations.
    ``real_minimums``: a model's minimum cacheable prefix where it differs from the proxy's table.
    """

    create_delay: float = 0.0
    delay: float = 0.0
    call_tools: bool = False
    clock: Callable[[], float] = time.time
    billing: PrefixCacheSimulator = field(default_factory=PrefixCacheSimulator)
    requests: list[RecordedRequest] = field(default_factory=list)
    caches: dict[str, dict[str, Any]] = field(default_factory=dict)
    creations: int = 0
    extensions: int = 0
    real_minimums: dict[str, int] = field(default_factory=dict)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        arrival = self.clock()
        raw = await read_body(receive)
        path = scope["path"]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        body = json.loads(raw or b"{}")
        self.requests.append(RecordedRequest(path, headers, body))
        if path.endswith("/cachedContents") and scope["method"] == "POST":
            await self._create(send, body)
        elif scope["method"] == "PATCH" and "/cachedContents/" in path:
            await self._extend(send, "cachedContents/" + path.rsplit("/cachedContents/", 1)[1], body)
        elif ":generateContent" in path or ":streamGenerateContent" in path:
            await self._generate(send, path, body, arrival, stream=":streamGenerateContent" in path)
        else:
            await _send(send, 404, _error(404, "NOT_FOUND", f"no route {path}"))

    async def _create(self, send: Send, body: dict[str, Any]) -> None:
        if self.create_delay:
            await asyncio.sleep(self.create_delay)
        model = str(body.get("model", "")).removeprefix("models/")
        held: dict[str, Any] = {k: body[k] for k in ("systemInstruction", "contents", "tools") if k in body}
        tokens = self.billing.gemini_cache_tokens(held)
        minimum = self.real_minimums.get(model) or min_prefix_tokens("gemini", model) or 0
        if tokens < minimum:
            message = f"Cached content is too small. total_token_count={tokens}, min_total_token_count={minimum}"
            await _send(send, 400, _error(400, "INVALID_ARGUMENT", message))
            return
        self.creations += 1
        name = f"cachedContents/{uuid.uuid4().hex[:16]}"
        ttl = float(str(body.get("ttl", "3600s")).rstrip("s"))
        self.billing.gemini_cache_created(tokens, ttl)
        self.caches[name] = {"model": body.get("model"), "expires": self.clock() + ttl, "tokens": tokens, **held}
        await _send(send, 200, {"name": name, "model": body.get("model"), "usageMetadata": {"totalTokenCount": tokens}})

    async def _extend(self, send: Send, name: str, body: dict[str, Any]) -> None:
        """``PATCH cachedContents/{id}`` with a new ``ttl``: storage is billed to the new end."""
        cache = self.caches.get(name)
        if cache is None or cache["expires"] <= self.clock():
            await _send(send, 404, _error(404, "NOT_FOUND", "CachedContent not found"))
            return
        ttl = float(str(body.get("ttl", "3600s")).rstrip("s"))
        expires = self.clock() + ttl
        self.billing.gemini_storage_token_hours += cache["tokens"] * max(expires - cache["expires"], 0.0) / 3600
        cache["expires"] = expires
        self.extensions += 1
        await _send(send, 200, {"name": name, "model": cache["model"]})

    async def _generate(self, send: Send, path: str, body: dict[str, Any], arrival: float, *, stream: bool) -> None:
        cache: dict[str, Any] | None = None
        name = body.get("cachedContent")
        if name:
            cache = self.caches.get(str(name))
            if cache is None or cache["expires"] <= self.clock():
                await _send(send, 403, _error(403, "PERMISSION_DENIED", "CachedContent not found"))
                return
            clash = [k for k in ("system_instruction", "systemInstruction", "tools", "toolConfig") if k in body]
            if clash:
                message = f"CachedContent can not be used with {clash[0]}"
                await _send(send, 400, _error(400, "INVALID_ARGUMENT", message))
                return
        if self.delay:
            await asyncio.sleep(self.delay)
        model = path.rsplit("/", 1)[-1].split(":")[0]
        held = {k: v for k, v in (cache or {}).items() if k in ("systemInstruction", "contents", "tools")}
        usage = self.billing.gemini_usage(model, body, held or None, arrival, self.clock())
        part = self._answer(body, held)
        usage.output = count_tokens(part)
        prompt = usage.uncached_input + usage.cache_read
        metadata: dict[str, Any] = {
            "promptTokenCount": prompt,
            "candidatesTokenCount": usage.output,
            "totalTokenCount": prompt + usage.output,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
        }
        if usage.cache_read:
            metadata["cachedContentTokenCount"] = usage.cache_read
            metadata["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": usage.cache_read}]
        answer = {
            "candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": metadata,
            "modelVersion": model,
        }
        if stream:
            await _send_stream(send, answer)
        else:
            await _send(send, 200, answer)

    def _answer(self, body: dict[str, Any], held: dict[str, Any]) -> dict[str, Any]:
        turn: list[dict[str, Any]] = []  # the newest user turn: every user content since the model's last
        for content in reversed(body.get("contents") or []):
            if content.get("role", "user") != "user":
                break
            turn[:0] = [p for p in content.get("parts", []) if isinstance(p, dict)]
        results = [r for p in turn if isinstance(r := p.get("functionResponse") or p.get("function_response"), dict)]
        text = " ".join(str(p["text"]) for p in turn if "text" in p)
        if results:
            return {
                "text": "Tool said: " + " ".join(json.dumps(r.get("response"), ensure_ascii=False) for r in results)
            }
        if self.call_tools and turn:
            for tool in body.get("tools") or held.get("tools") or []:
                declarations = tool.get("functionDeclarations") or tool.get("function_declarations") or []
                if declarations:
                    return {"functionCall": {"name": declarations[0]["name"], "args": {"input": text}}}
        return {"text": f"Echo: {text}"}


async def _send_stream(send: Send, answer: dict[str, Any]) -> None:
    """``streamGenerateContent?alt=sse``: text in two chunks; the finish reason and the full usage
    come with the last one, as Gemini sends them."""
    [candidate] = answer["candidates"]
    [part] = candidate["content"]["parts"]
    chunks: list[dict[str, Any]] = []
    if "text" in part:
        text = str(part["text"])
        half = len(text) // 2
        first = {"content": {"role": "model", "parts": [{"text": text[:half]}]}, "index": 0}
        prompt_only = {"promptTokenCount": answer["usageMetadata"]["promptTokenCount"]}
        chunks.append({"candidates": [first], "usageMetadata": prompt_only, "modelVersion": answer["modelVersion"]})
        part = {"text": text[half:]}
    last = {**candidate, "content": {"role": "model", "parts": [part]}}
    chunks.append({**answer, "candidates": [last]})
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    for chunk in chunks:
        data = f"data: {json.dumps(chunk)}\r\n\r\n".encode()
        await send({"type": "http.response.body", "body": data, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
