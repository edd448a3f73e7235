"""Take one member out of a JSON answer (or of an SSE event's data) without touching any other byte.

Re-serialising the answer would change its spacing, escapes and number formatting; a
client that did not ask for the provider's diagnostics must see the bytes it would have
seen without the proxy, minus that one member.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson

__all__ = ["EventFilter", "remove_member"]

_NOT_FOUND = object()


# One C match each for what a walk over an object's members steps across.
_SPACES = re.compile(rb"[ \t\r\n]*")
_KEY = re.compile(rb'"((?:[^"\\]++|\\.)*+)"[ \t\r\n]*:[ \t\r\n]*', re.DOTALL)  # a key, its colon, the spaces after
_AFTER = re.compile(rb"[ \t\r\n]*(,[ \t\r\n]*)?")  # after a value: spaces, and a comma with its spaces
_SCALAR = re.compile(rb"[^,}\] \t\r\n]*")  # a number, true, false or null


def _skip(text: bytes, i: int) -> int:
    return _SPACES.match(text, i).end()  # type: ignore[union-attr]  # matches the empty string too


_STRUCTURE = re.compile(rb'["{}\[\]]')  # what a walk over a nested value must look at


# A JSON string: runs without quote or backslash, or an escape pair (possessive: no backtracking).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)


def _string_end(text: bytes, i: int) -> int:
    """Index after the string starting at ``text[i] == '"'`` (matched in C: an answer's text can
    be many kilobytes)."""
    match = _STRING.match(text, i)
    if match is None:
        raise ValueError("unterminated string")
    return match.end()


def _value_end(text: bytes, i: int) -> int:
    if text[i] == 0x22:
        return _string_end(text, i)
    if text[i] in b"{[":
        depth = 0
        while (found := _STRUCTURE.search(text, i)) is not None:
            i = found.start()
            c = text[i]
            if c == 0x22:
                i = _string_end(text, i)
                continue
            if c in b"{[":
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise ValueError("unterminated value")
    return _SCALAR.match(text, i).end()  # type: ignore[union-attr]  # matches the empty string too


def _members(text: bytes, i: int) -> Iterator[tuple[int, str, int, int, int]]:
    """``(key start, key, value start, value end, next member start or the closing brace)`` of the object at ``i``."""
    if i >= len(text) or text[i] != 0x7B:
        return
    i = _skip(text, i + 1)
    while i < len(text) and text[i] == 0x22:
        head = _KEY.match(text, i)
        if head is None:
            raise ValueError("expected a key and ':'")
        raw = head.group(1)
        key = json.loads(b'"' + raw + b'"') if b"\\" in raw else raw.decode()  # no escape: the bytes are the key
        start = head.end()
        end = _value_end(text, start)
        tail = _AFTER.match(text, end)
        assert tail is not None  # matches the empty string too
        following = tail.end()
        after = tail.start(1) if tail.lastindex else following
        yield i, key, start, end, following
        if following == after:
            return
        i = following


def remove_member(text: bytes, path: tuple[str, ...]) -> tuple[bytes, Any]:
    """``text`` without the member at ``path`` (keys of nested objects), and the member's value.

    The value is ``_NOT_FOUND`` (test with :func:`found`) and ``text`` unchanged when there is no
    such member or ``text`` is not a JSON object."""
    if len(path) == 1 and len(text) <= _FAST_LIMIT:
        done = _remove_top_level(text, path[0])
        if done is not None:
            return done
    return _remove_walking(text, path)


_FAST_LIMIT = 1 << 16  # bytes: a longer answer is walked (parsing it whole twice would cost more than the walk)
_COLON = re.compile(rb"[ \t\r\n]*:[ \t\r\n]*")


def _remove_top_level(text: bytes, name: str) -> tuple[bytes, Any] | None:
    """The common case, in C: the first occurrence of the key's plain spelling is cut out with its value,
    and kept only if the answer parsed again is the answer without that top-level member (so an
    occurrence in a string or a nested object, or a key spelled with escapes, is never taken).
    None: not decided here, the walk decides."""
    needle = json.dumps(name).encode()
    at = text.find(needle)
    if at < 0:  # absent, unless spelled with escapes: a parse tells
        try:
            doc = orjson.loads(text)
        except ValueError:
            return None
        return (text, _NOT_FOUND) if isinstance(doc, dict) and name not in doc else None
    colon = _COLON.match(text, at + len(needle))
    if colon is None:
        return None
    try:
        end = _value_end(text, colon.end())
        value = orjson.loads(text[colon.end() : end])
        tail = _AFTER.match(text, end)
        assert tail is not None  # matches the empty string too
        if tail.lastindex:  # a member follows: take this one and its comma
            out = text[:at] + text[tail.end() :]
        else:
            before = text[:at].rstrip(b" \t\r\n")
            # The last member: take the comma before it (else the only one).
            out = before[:-1].rstrip(b" \t\r\n") + text[end:] if before.endswith(b",") else text[:at] + text[end:]
        doc, rest = orjson.loads(text), orjson.loads(out)  # several times json's speed; what it refuses is walked
    except (ValueError, IndexError):
        return None
    if not isinstance(doc, dict) or name not in doc or doc.pop(name) != value or rest != doc:
        return None
    return out, value


def _remove_walking(text: bytes, path: tuple[str, ...]) -> tuple[bytes, Any]:
    try:
        i = _skip(text, 0)
        for depth, name in enumerate(path):
            previous_end: int | None = None
            for key_start, key, start, end, following in _members(text, i):
                if key != name:
                    previous_end = end
                    continue
                if depth < len(path) - 1:
                    i = start
                    break
                value = json.loads(text[start:end])
                if following != _skip(text, end):  # a member follows: take this one and its comma
                    return text[:key_start] + text[following:], value
                if previous_end is not None:  # the last member: take the comma before it
                    return text[:previous_end] + text[end:], value
                return text[:key_start] + text[end:], value
            else:
                return text, _NOT_FOUND
    except (ValueError, IndexError):
        pass
    return text, _NOT_FOUND


def found(value: Any) -> bool:
    return value is not _NOT_FOUND


# Where Anthropic's events may carry ``diagnostics``: on the message of message_start (documented),
# and, defensively, on message_delta (top level or its delta).
_EVENT_PATHS = {
    "message_start": (("message", "diagnostics"),),
    "message_delta": (("diagnostics",), ("delta", "diagnostics")),
}


class EventFilter:
    """Passes SSE bytes through event by event; events naming ``diagnostics`` are read (and stripped).

    Only complete events leave (an event split across chunks waits for its end, which a client
    would wait for too); every other byte is relayed as it came.
    """

    def __init__(self, on_value: Callable[[Any], None], *, strip: bool) -> None:
        self.on_value = on_value
        self.strip = strip
        self.pending = b""
        self.events = 0  # complete events passed

    def feed(self, chunk: bytes) -> bytes:
        self.pending += chunk
        lf, crlf = self.pending.rfind(b"\n\n"), self.pending.rfind(b"\r\n\r\n")
        end = max(lf + 2 if lf >= 0 else 0, crlf + 4 if crlf >= 0 else 0)
        if not end:
            return b""
        ready, self.pending = self.pending[:end], self.pending[end:]
        return self._events(ready)

    def flush(self) -> bytes:
        rest, self.pending = self.pending, b""
        return self._events(rest) if rest else b""

    def _events(self, data: bytes) -> bytes:
        self.events += data.count(b"\n\n") + data.count(b"\r\n\r\n")
        if b'"diagnostics"' not in data:
            return data
        return b"".join(self._event(line) for line in data.splitlines(keepends=True))

    def _event(self, line: bytes) -> bytes:
        if not line.startswith(b"data:") or b'"diagnostics"' not in line:
            return line
        body = line[5:]
        lead = len(body) - len(body.lstrip(b" "))
        payload = body[lead:].rstrip(b"\r\n")
        tail = body[lead + len(payload) :]
        try:
            kind = json.loads(payload).get("type")
        except (ValueError, AttributeError):
            return line
        for path in _EVENT_PATHS.get(str(kind), ()):
            stripped, value = remove_member(payload, path)
            if found(value):
                self.on_value(value)
                if self.strip:
                    return b"data:" + body[:lead] + stripped + tail
        return line
