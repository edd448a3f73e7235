"""The layers of a chat request, L0 (system) to L4 (the newest input), with hashes.

A request is seen as parts in the order a provider's prefix cache reads them: tools,
then the system prompt, then messages. Each part has a layer and a digest of its
content (cache markers excluded, so adding ``cache_control`` never changes identity).

Default assignment (``lc_layer_hints``, message index → layer, overrides messages):

- L0: the system prompt (Anthropic ``system``; Responses ``instructions``; OpenAI leading
  system/developer messages or input items).
- L1: tools; messages a template or the client hints as static context or few-shots.
- L2: the conversation before the newest input.
- L3: enhancements (added by the Enhance stage, inside the newest turn).
- L4: the newest input: the trailing messages after the last assistant message (a
  trailing assistant prefill belongs to it too).

The Responses API's ``input`` items are its messages: calls and reasoning items play the
assistant, their outputs the tool (:func:`layercache_asgi.wire.item_role`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from operator import attrgetter
from typing import Any

import orjson

from .._types import Wire
from ..wire._responses import item_role

__all__ = [
    "LAYER_NAMES",
    "Layers",
    "Part",
    "digest",
    "has_markers",
    "is_tool_result",
    "key_digest",
    "minified",
    "part_blocks",
    "part_value",
    "prefix_blocks",
    "stratify",
    "strip_markers",
    "tool_rounds",
    "turn_groups",
]

LAYER_NAMES = ("L0", "L1", "L2", "L3", "L4")
_SYSTEM_ROLES = frozenset({"system", "developer"})


def strip_markers(value: Any) -> Any:
    """``value`` without any ``cache_control`` keys (markers say where to cache, not what)."""
    if isinstance(value, dict):
        return {k: strip_markers(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [strip_markers(v) for v in value]
    return value


def minified(value: Any) -> bytes:
    """``value`` as minified UTF-8 JSON without its markers: what :func:`digest` hashes and a tokenizer reads."""
    try:
        encoded = orjson.dumps(value)  # the bytes json.dumps gives below, several times faster
    except TypeError:  # an integer beyond 64 bits, a float subclass, a key that is not a string
        return json.dumps(strip_markers(value), ensure_ascii=False, separators=(",", ":")).encode()
    if b'"cache_control"' in encoded:  # rare inside one part: only then is the value copied
        return orjson.dumps(strip_markers(value))
    return encoded


def has_markers(value: Any) -> bool:
    """Whether ``value`` may hold a ``cache_control`` key: one C-speed scan instead of a walk in Python."""
    try:
        return b'"cache_control"' in orjson.dumps(value)
    except TypeError:  # what orjson cannot write: the walk decides
        return True


def digest(*values: Any) -> str:
    """The one content hash of the prompt engine: SHA-256 over minified JSON, markers excluded."""
    h = hashlib.sha256()
    for value in values:
        h.update(minified(value))
        h.update(b"\x00")
    return h.hexdigest()


@functools.lru_cache(maxsize=4096, typed=True)
def key_digest(*values: str | int | None) -> str:
    """:func:`digest` of a few short values (tenant, model, layer, a prefix digest): the keys of families
    and sessions, asked several times a request and again next request. Kept by the values themselves,
    so a changed one never gets a stale digest."""
    return digest(*values)


@dataclass(frozen=True)
class Part:
    path: str  # where it is in the body: "tools[2]", "system", "system[0]", "messages[5]"
    layer: int
    digest: str
    blocks: int = 1  # Anthropic-style content blocks in it (what the 20-block lookback counts)


@dataclass(frozen=True)
class Layers:
    """The layer of every part of one request, in the provider's prefix order."""

    wire: Wire
    parts: tuple[Part, ...]
    message_layers: tuple[int, ...]  # the layer of each entry of body["messages"]
    hints: Mapping[int, int] = field(default_factory=dict)
    enhancements: tuple[str, ...] = ()  # the L3 texts the Enhance stage added
    system_hints: Mapping[int, int] = field(default_factory=dict)  # Anthropic system block index → layer
    # What each part was when stratified (references, not copies): later stages may move parts in
    # the body (a Gemini CachedContent takes the system prompt out) while the layers still describe them.
    values: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    def of(self, layer: int) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.layer == layer)

    def messages_in(self, layer: int) -> list[int]:
        return [i for i, layer_ in enumerate(self.message_layers) if layer_ == layer]

    def layer_digest(self, layer: int) -> str:
        if layer == 3:
            return digest(list(self.enhancements))
        return digest([p.digest for p in self.of(layer)])

    @cached_property
    def _boundaries(self) -> tuple[int, ...]:
        ends: list[int] = []  # ends[k]: the first part above layer k, found in one pass
        for i, part in enumerate(self.parts):
            while len(ends) < len(LAYER_NAMES) and part.layer > len(ends):
                ends.append(i)
        return (*ends, *[len(self.parts)] * (len(LAYER_NAMES) - len(ends)))

    @cached_property
    def _keys(self) -> tuple[tuple[str, str], ...]:
        return tuple(map(attrgetter("path", "digest"), self.parts))

    def boundary(self, layer: int) -> int:
        """How many leading parts have a layer ≤ ``layer``: the stable prefix through it."""
        if 0 <= layer < len(self._boundaries):  # asked several times per request by several stages
            return self._boundaries[layer]
        return 0 if layer < 0 else len(self.parts)

    def prefix_digest(self, layer: int) -> str:
        """Digest of the stable prefix through ``layer`` (what a provider could cache there)."""
        return self.head_digest(self.boundary(layer))

    def head_digest(self, end: int) -> str:
        """Digest of the first ``end`` parts (kept: several stages ask for the same prefixes, and the
        parts of a Layers never change)."""
        found = self._heads.get(end)
        if found is None:
            found = self._heads[end] = digest([p.digest for p in self.parts[:end]])
        return found

    @cached_property
    def _heads(self) -> dict[int, str]:
        return {}

    def shared(self, other: Layers, through: int | None = None) -> int:
        """How many leading parts (path and content) this request shares with ``other``; with
        ``through``, within the stable prefix through that layer of each."""
        mine, theirs = self._keys, other._keys
        if through is not None:
            mine, theirs = mine[: self.boundary(through)], theirs[: other.boundary(through)]
        return _common_length(mine, theirs)

    def first_difference(self, other: Layers) -> tuple[int, Part | None]:
        """Index and part (of self) where this request stops matching ``other``; (n, None) if it extends it."""
        common = self.shared(other)
        return common, self.parts[common] if common < min(len(self.parts), len(other.parts)) else None

    def value(self, index: int, body: Mapping[str, Any]) -> Any:
        """The content of part ``index`` as stratified (from ``body`` for layers made without values)."""
        return self.values[index] if self.values else part_value(body, self.parts[index].path)

    def without_values(self) -> Layers:
        """The same layers without the part values: to remember them without keeping the body alive."""
        kept = replace(self, values=())
        kept.__dict__.update({k: self.__dict__[k] for k in ("_keys", "_boundaries") if k in self.__dict__})
        return kept

    def with_hints(self, hints: Mapping[int, int]) -> Layers:
        return Layers(
            self.wire, self.parts, self.message_layers, dict(hints), self.enhancements, self.system_hints, self.values
        )


def _common_length(a: tuple[Any, ...], b: tuple[Any, ...]) -> int:
    """Length of the common prefix of two tuples, by slice comparisons (C speed, not a Python loop):
    a turn usually extends the previous one, which the first comparison settles."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        if a[low:high] == b[low:high]:
            return high
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _blocks(message: Any) -> int:
    if not isinstance(message, dict):
        return 1
    content = message.get("content")
    n = len(content) if isinstance(content, list) and content else 1
    return n + len(message.get("tool_calls") or [])


def part_value(body: Mapping[str, Any], path: str) -> Any:
    """The value at a part's ``path`` ("tools[2]", "system", "system[0]", "messages[5]")."""
    name, _, index = path.partition("[")
    value: Any = body.get(name)
    return value[int(index.rstrip("]"))] if index else value


def _role(wire: Wire, message: Any) -> Any:
    if wire == "responses":
        return item_role(message)
    return message.get("role") if isinstance(message, dict) else None


def _messages_of(wire: Wire, body: Mapping[str, Any]) -> list[Any]:
    messages = body.get("input" if wire == "responses" else "messages")
    return messages if isinstance(messages, list) else []


def _default_message_layers(wire: Wire, messages: list[Any]) -> list[int]:
    n = len(messages)
    roles = [_role(wire, m) for m in messages]
    layers = [2] * n
    start = 0
    if wire != "anthropic":
        while start < n and roles[start] in _SYSTEM_ROLES:
            layers[start] = 0
            start += 1
    # A trailing assistant message is a prefill: it belongs to the newest turn.
    end = n - 1 if n and roles[-1] == "assistant" else n
    last_assistant = max((i for i in range(end) if roles[i] == "assistant"), default=start - 1)
    for i in range(max(last_assistant + 1, start), n):
        layers[i] = 4
    return layers


def stratify(
    wire: Wire,
    body: Mapping[str, Any],
    hints: Mapping[int, int] | None = None,
    system_hints: Mapping[int, int] | None = None,
) -> Layers:
    """Assign every part of ``body`` to a layer. ``hints`` (message index → layer) win;
    ``system_hints`` (Anthropic system block index → layer) mark blocks that are not L0,
    such as a template's static context (L1)."""
    system_hints = dict(system_hints or {})
    messages = _messages_of(wire, body)
    message_layers = _default_message_layers(wire, messages)
    for index, layer in (hints or {}).items():
        if 0 <= index < len(messages):
            message_layers[index] = layer
    parts: list[Part] = []
    values: list[Any] = []
    for path, value, layer, blocks in _parts_in_order(wire, body, messages, message_layers, system_hints):
        values.append(value)
        parts.append(Part(path, layer, _digest_one(value), blocks))
    return Layers(wire, tuple(parts), tuple(message_layers), dict(hints or {}), (), system_hints, tuple(values))


def _digest_one(value: Any) -> str:
    """``digest(value)``: the same hash, for the one value of each part of a request."""
    h = hashlib.sha256(minified(value))
    h.update(b"\x00")
    return h.hexdigest()


def _parts_in_order(
    wire: Wire, body: Mapping[str, Any], messages: list[Any], message_layers: list[int], system_hints: Mapping[int, int]
) -> Iterator[tuple[str, Any, int, int]]:
    """``(path, value, layer, blocks)`` of every part in the provider's prefix order: tools, system, messages."""
    tools = body.get("tools")
    for i, tool in enumerate(tools if isinstance(tools, list) else []):
        yield f"tools[{i}]", tool, 1, 1
    system = body.get("system") if wire == "anthropic" else None
    if isinstance(system, str) and system:
        yield "system", system, 0, 1
    elif isinstance(system, list):
        yield from ((f"system[{i}]", block, system_hints.get(i, 0), 1) for i, block in enumerate(system))
    if wire == "responses":
        if body.get("instructions"):
            yield "instructions", body["instructions"], 0, 1
        if isinstance(body.get("input"), str):  # a bare string is the newest input
            yield "input", body["input"], 4, 1
    key = "input" if wire == "responses" else "messages"
    for i, message in enumerate(messages):
        yield f"{key}[{i}]", message, message_layers[i], _blocks(message)


def is_tool_result(wire: Wire, message: Any) -> bool:
    """An OpenAI ``tool`` (or ``function``) message, or an Anthropic user message holding a ``tool_result``."""
    if not isinstance(message, dict):
        return False
    if wire == "responses":
        return item_role(message) == "tool"
    if wire == "openai":
        return message.get("role") in ("tool", "function")
    content = message.get("content")
    return (
        message.get("role") == "user"
        and isinstance(content, list)
        and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)
    )


def turn_groups(wire: Wire, messages: list[Any], indices: list[int]) -> list[list[int]]:
    """Split message ``indices`` into turns. A turn starts at a user message that is not a tool
    result, so an assistant's tool calls always stay with their results (and, for Responses
    items, reasoning and function calls with their outputs)."""
    groups: list[list[int]] = []
    for i in indices:
        message = messages[i]
        starts = _role(wire, message) == "user" and not is_tool_result(wire, message)
        if starts or not groups:
            groups.append([i])
        else:
            groups[-1].append(i)
    return groups


def tool_rounds(wire: Wire, messages: list[Any], turn: list[int]) -> tuple[list[int], list[list[int]]]:
    """Split one turn into its opening (the user's own messages) and its tool rounds: what the
    assistant sent (thinking, text, calls) with the results that answer it. Dropping whole
    rounds from the front keeps every call with its results and the conversation alternating."""
    opening: list[int] = []
    rounds: list[list[int]] = []
    answered = False  # the current round already has results: what comes next starts a new one
    for i in turn:
        message = messages[i]
        result = is_tool_result(wire, message)
        if not rounds and not result and _role(wire, message) == "user":
            opening.append(i)
        elif not rounds or (answered and not result):
            rounds.append([i])
            answered = result
        else:
            rounds[-1].append(i)
            answered = answered or result
    return opening, rounds


def part_blocks(path: str, value: Any) -> list[tuple[str, Any]]:
    """One part as Anthropic-style content blocks: ``(path, block)``, what the 20-block lookback counts.

    A tool, a system block and the instructions are one block each; a message is one block per
    content block (or one for string content) and one per tool call; a bare string input is none."""
    name, _, index = path.partition("[")
    if name not in ("messages", "input") or not index:
        return [] if path == "input" else [(path, value)]
    if not isinstance(value, dict):
        return []
    content = value.get("content")
    role = value.get("role")
    if isinstance(content, list) and content:
        blocks = [(f"{path}.content[{j}]", {"role": role, "block": b}) for j, b in enumerate(content)]
    else:
        blocks = [(path, {"role": role, "content": content})]
    blocks.extend((f"{path}.tool_calls[{j}]", call) for j, call in enumerate(value.get("tool_calls") or []))
    return blocks


def prefix_blocks(wire: Wire, body: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The request as Anthropic-style content blocks in prefix order: (path, block) (see :func:`part_blocks`)."""
    messages = _messages_of(wire, body)
    parts = _parts_in_order(wire, body, messages, [2] * len(messages), {})
    return [block for path, value, _layer, _blocks in parts for block in part_blocks(path, value)]
