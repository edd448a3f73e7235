"""Anthropic's cache diagnostics, as :class:`FakeProvider` answers them.

A request with a ``diagnostics`` object gets a fingerprint kept under its answer's ``id``
(hashes and token estimates, like the real API). When ``diagnostics.previous_message_id``
names such an answer, the fingerprints are compared in prefix order (model, tools, system,
messages, then the other prompt-affecting parameters) and the answer carries
``diagnostics: {"cache_miss_reason": {"type": ..., "cache_missed_input_tokens": N}}``, or
``diagnostics: null`` when the new request only appends messages. An unknown id gives
``previous_message_not_found``. Answers to requests without the object carry no
``diagnostics`` key at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ..prompt._layers import digest
from ..wire._sse import format_event

__all__ = ["FakeCacheDiagnostics"]

_OTHER = ("thinking", "tool_choice", "output_config")


@dataclass(frozen=True)
class _Fingerprint:
    model: str
    tools: str
    system: str
    messages: tuple[str, ...]
    other: str
    tokens: tuple[int, int, tuple[int, ...]]  # tools, system, each message


def _fingerprint(body: dict[str, Any], count: Any) -> _Fingerprint:
    messages = body.get("messages") or []
    tools, system = body.get("tools") or [], body.get("system") or ""
    return _Fingerprint(
        model=f"{body.get('model')}/{body.get('speed')}",
        tools=digest(tools),
        system=digest(system),
        messages=tuple(digest(m) for m in messages),
        other=digest({k: body.get(k) for k in _OTHER}),
        tokens=(count(tools) if tools else 0, count(system) if system else 0, tuple(count(m) for m in messages)),
    )


def _reason(new: _Fingerprint, old: _Fingerprint) -> dict[str, Any] | None:
    tools, system, messages = old.tokens
    total = tools + system + sum(messages)
    if new.model != old.model:
        return {"type": "model_changed", "cache_missed_input_tokens": total}
    if new.tools != old.tools:
        return {"type": "tools_changed", "cache_missed_input_tokens": total}
    if new.system != old.system:
        return {"type": "system_changed", "cache_missed_input_tokens": total - tools}
    if new.messages[: len(old.messages)] != old.messages:
        same = _first_difference(new.messages, old.messages)
        return {"type": "messages_changed", "cache_missed_input_tokens": sum(messages[same:])}
    if new.other != old.other:
        return {"type": "unavailable"}
    return None


def _first_difference(new: tuple[str, ...], old: tuple[str, ...]) -> int:
    for i, (a, b) in enumerate(zip(new, old, strict=False)):
        if a != b:
            return i
    return len(new)


@dataclass
class FakeCacheDiagnostics:
    """Fingerprints by answer id. ``place``: where a stream carries the diagnosis (the real API:
    ``message_start``). ``pending``: answer ``cache_miss_reason: null`` (comparison not finished).
    ``supported=False``: refuse the field with a 400, as an endpoint without the feature does."""

    place: Literal["message_start", "message_delta"] = "message_start"
    pending: bool = False
    supported: bool = True
    fingerprints: dict[str, _Fingerprint] = field(default_factory=dict)

    def diagnose(self, body: dict[str, Any], count: Any) -> tuple[bool, Any]:
        """``(asked, value of the answer's diagnostics)``."""
        asked = body.get("diagnostics")
        if not isinstance(asked, dict):
            return False, None
        previous = asked.get("previous_message_id")
        if previous is None:
            return True, None
        old = self.fingerprints.get(str(previous))
        if old is None:
            return True, {"cache_miss_reason": {"type": "previous_message_not_found"}}
        if self.pending:
            return True, {"cache_miss_reason": None}
        reason = _reason(_fingerprint(body, count), old)
        return True, None if reason is None else {"cache_miss_reason": reason}

    def refusal(self, body: dict[str, Any]) -> dict[str, Any] | None:
        if self.supported or "diagnostics" not in body:
            return None
        error = {"type": "invalid_request_error", "message": "diagnostics: Extra inputs are not permitted"}
        return {"type": "error", "error": error}

    def remember(self, message_id: str, body: dict[str, Any], count: Any) -> None:
        self.fingerprints[message_id] = _fingerprint(body, count)

    def into_json(self, doc: dict[str, Any], value: Any) -> dict[str, Any]:
        """The answer with ``diagnostics`` after ``content``, where the real API's schema lists it."""
        out: dict[str, Any] = {}
        for key, item in doc.items():
            out[key] = item
            if key == "content":
                out["diagnostics"] = value
        return out

    def into_events(self, events: list[bytes], value: Any) -> tuple[list[bytes], str]:
        """The stream with the diagnosis on ``message_start``'s message (or on ``message_delta``), and its id."""
        out, message_id = [], ""
        for event in events:
            kind, _, data = event.partition(b"\ndata: ")
            doc = json.loads(data)
            if doc.get("type") == "message_start":
                message_id = str(doc["message"]["id"])
                if self.place == "message_start":
                    doc["message"] = self.into_json(doc["message"], value)
            elif doc.get("type") == "message_delta" and self.place == "message_delta":
                doc["diagnostics"] = value
            else:
                out.append(event)
                continue
            out.append(format_event(json.dumps(doc, separators=(",", ":")), kind.removeprefix(b"event: ").decode()))
        return out, message_id
