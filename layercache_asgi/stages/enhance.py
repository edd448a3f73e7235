"""Apply the enhancements named in ``lc_enhancements`` at L3: after L2, before L4.

Where the text goes, so the cached prefix (everything through L2) never changes:

- OpenAI wire: at the start of the first user message of the newest turn, in the shape the
  client used (string content stays a string: some OpenAI-compatible servers take no
  arrays); when the newest turn is only tool results, a user message after them.
- Anthropic wire: text blocks in the final user turn, after its ``tool_result`` blocks
  (Anthropic wants those first) and before the user's own content.

Parameters an enhancement sets (``response_format``) never override the client's.
Unknown names, unknown options and contradicting combinations are a 400; an enhancement
that adds nothing says why in ``x-layercache-enhancement-skipped``; one that fails
unexpectedly is skipped with a log line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import structlog

from .._errors import ProxyError
from .._exchange import Exchange, get_exchange
from .._types import ASGIApp, Receive, Scope, Send
from ..enhancements import EnhancementRegistry, default_registry
from ..prompt._facts import layers_of
from ..prompt._layers import Layers, stratify
from ..wire._responses import item_role

__all__ = ["Enhance", "enhancement_registry", "place_l3"]

log = structlog.get_logger("layercache.enhance")


def _as_parts(content: Any) -> list[Any]:
    if isinstance(content, list):
        return content
    return [{"type": "text", "text": content}] if isinstance(content, str) and content else []


def _place_responses(
    body: dict[str, Any], newest: list[int], hints: dict[int, int], texts: list[str]
) -> dict[int, int]:
    """Responses API: ``input_text`` parts before the newest user message's own content."""
    blocks = [{"type": "input_text", "text": t} for t in texts]
    items = body.get("input")
    if isinstance(items, str):  # a bare string input is one user message
        body["input"] = [{"role": "user", "content": [*blocks, {"type": "input_text", "text": items}]}]
        return hints
    items = body.setdefault("input", []) if items is None else items
    users = [i for i in newest if item_role(items[i]) == "user"]
    if users:
        content = items[users[0]].get("content")
        items[users[0]]["content"] = [
            *blocks,
            *([{"type": "input_text", "text": content}] if isinstance(content, str) else content or []),
        ]
    else:
        items.append({"role": "user", "content": blocks})
        hints[len(items) - 1] = 3
    return hints


def place_l3(exchange: Exchange, layers: Layers, texts: list[str]) -> Layers:
    """Insert ``texts`` at L3 in the request body; return the updated layers."""
    request = exchange.request
    messages = request.messages
    blocks = [{"type": "text", "text": t} for t in texts]
    newest = layers.messages_in(4)
    hints = dict(layers.hints)
    if request.wire == "responses":
        hints = _place_responses(request.body, newest, hints, texts)
    elif request.wire == "openai":
        users = [i for i in newest if messages[i].get("role") == "user"]
        if users:
            message = messages[users[0]]
            content = message.get("content")
            if isinstance(content, list):
                message["content"] = [*blocks, *content]
            else:
                message["content"] = "\n\n".join([*texts, content] if content else texts)
        else:
            messages.append({"role": "user", "content": "\n\n".join(texts)})
            hints[len(messages) - 1] = 3
    else:
        users = [i for i in newest if messages[i].get("role") == "user"]
        message = messages[users[-1] if users else -1]
        content = _as_parts(message.get("content"))
        results = 0
        while (
            results < len(content)
            and isinstance(content[results], dict)
            and (content[results].get("type") == "tool_result")
        ):
            results += 1
        message["content"] = [*content[:results], *blocks, *content[results:]]
    updated = stratify(request.wire, request.body, hints, layers.system_hints)
    return dataclasses.replace(updated, enhancements=tuple(texts))


class Enhance:
    def __init__(self, app: ASGIApp, *, registry: EnhancementRegistry | None = None) -> None:
        self.app = app
        self.registry = registry if registry is not None else default_registry()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is not None and exchange.request.ext.lc_enhancements:
            await self._enhance(exchange, layers_of(exchange))
        await self.app(scope, receive, send)

    async def _enhance(self, exchange: Exchange, layers: Layers) -> None:
        specs = exchange.request.ext.lc_enhancements
        try:
            self.registry.check([(spec.name, spec.options) for spec in specs])
        except ValueError as exc:
            raise ProxyError(400, str(exc), param="lc_enhancements") from None
        functions = [(spec, function) for spec in specs if (function := self.registry.get(spec.name)) is not None]
        texts: list[str] = []
        skipped: list[str] = []
        for spec, function in functions:
            try:
                addition = await function(exchange, dict(spec.options))
            except ProxyError:
                raise
            except Exception as exc:
                log.warning("enhancement_failed", enhancement=spec.name, error=type(exc).__name__)
                continue
            if addition.skipped and not addition.text:
                skipped.append(f"{spec.name} ({addition.skipped})")
            if addition.text:
                texts.append(addition.text)
            for key, value in addition.params.items():
                exchange.request.body.setdefault(key, value)
        if skipped:
            exchange.response_headers["x-layercache-enhancement-skipped"] = ", ".join(skipped)
        if texts:
            exchange.layers = place_l3(exchange, layers, texts)
        exchange.enhancements = [spec.name for spec, _ in functions]


def enhancement_registry(stages: Sequence[Any]) -> EnhancementRegistry:
    """The registry the Enhance stage in ``stages`` uses (the built-ins when it has none of its own)."""
    for stage in stages:
        if isinstance(stage, type):
            continue
        cls, _args, kwargs = stage  # starlette.middleware.Middleware
        if isinstance(cls, type) and issubclass(cls, Enhance) and kwargs.get("registry") is not None:
            return kwargs["registry"]  # type: ignore[no-any-return]
    return default_registry()
