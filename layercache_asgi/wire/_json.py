"""JSON that keeps the client's numbers: a body goes upstream with ``1e3`` still ``1e3``.

``json.loads`` turns ``1e3`` into ``1000.0`` and ``0.10`` into ``0.1``, and ``json.dumps``
writes them back changed: a tool input the model sees, and the provider's prefix cache
hashes, would differ from what the client sent. Floats whose shortest repr is not their
source spelling are parsed as :class:`JsonFloat` (still a ``float`` for every reader),
and :func:`dumps` writes them back verbatim. Bodies without such numbers, the common
case, take a fast path through orjson (several times faster than ``json`` on the large bodies
agents send), taken only when it gives exactly what ``json`` would: every float spelled as
orjson and ``repr`` write it, integers within 64 bits; anything else goes the ``json`` way.

:func:`loads` is also where a body is bounded: nesting deeper than :data:`MAX_DEPTH`, text
that is not Unicode (a lone ``\\ud800`` escape) and numbers beyond a double are refused
here, once, so no later stage (hashing, recursion over the body, LiteLLM) meets them.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from typing import Any

import orjson

__all__ = ["MAX_DEPTH", "JsonFloat", "JsonLimitError", "check_unicode", "dumps", "loads"]

# Real chat bodies nest about 15 deep (a tool schema inside a tool inside the body); the
# stages that walk a body recursively stay far below Python's recursion limit at 128.
MAX_DEPTH = 128
# A JSON escape of a UTF-16 surrogate: the only way a body can carry one (raw UTF-8 cannot).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# What separates the scalars left once strings are cut out: they split into numbers, true, false, null.
_SCALARS_APART = bytes.maketrans(b"{}[]:,", b"      ")
_LITERALS = frozenset({b"true", b"false", b"null"})
# Everything but brackets, deleted by bytes.translate: what is left is the nesting.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SQUARE = bytes.maketrans(b"{}", b"[]")


class JsonLimitError(ValueError):
    """Valid JSON that the proxy still refuses: too deep, not Unicode text, a number beyond a double."""


class JsonFloat(float):
    """A float that remembers how the JSON source spelled it."""

    literal: str

    def __new__(cls, literal: str) -> JsonFloat:
        number = super().__new__(cls, literal)
        number.literal = literal
        return number

    def __getnewargs__(self) -> tuple[str]:  # type: ignore[override]
        # copy, deepcopy and pickle rebuild it from its spelling, not from the float.
        return (self.literal,)


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; providers would refuse them with a less clear error.
    raise ValueError(f"{name} is not a valid JSON number")


def loads(raw: bytes | str) -> tuple[Any, bool]:
    """``json.loads`` keeping unusual float spellings; True when there were any.

    NaN and Infinity are refused (``ValueError``); so is what :class:`JsonLimitError` describes.
    """
    if isinstance(raw, bytes):
        fast = _fast_loads(raw)
        if fast is not None:
            return fast, False
    return _exact_loads(raw)


def _fast_loads(raw: bytes) -> Any | None:
    """orjson's parse when it equals ``json``'s and the body is within bounds, else None.

    Strings are cut out first (escapes, then the quoted runs), so the structure and the numbers
    are checked on what is left, a small fraction of an agent's body."""
    unescaped = raw
    if b"\\" in raw:  # one byte is found at memchr speed; the two-byte replaces only run when needed
        unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[::2])
    for scalar in outside.translate(_SCALARS_APART).split():
        digits = scalar.removeprefix(b"-")
        if scalar in _LITERALS or (digits.isdigit() and len(digits) < 19):
            continue  # an integer orjson reads as ``json`` does (19+ digits it reads as a float)
        if not _kept_by_both(scalar):
            return None  # the exact path keeps the spelling (or says why it refuses the number)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # Also a lone surrogate, which orjson refuses: the exact path gives the message clients get.
        return None
    if _depth(outside) > MAX_DEPTH:
        raise JsonLimitError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
    return value


def _kept_by_both(number: bytes) -> bool:
    """Whether orjson and ``repr`` both write this float back as it is spelled (``1.5`` yes, ``1e3`` no)."""
    try:
        value = float(number)
    except ValueError:  # not a number after all: invalid JSON, which the exact path reports
        return False
    return len(number) <= 18 and orjson.dumps(value) == number and repr(value).encode() == number


def _depth(structure: bytes) -> int:
    """How deep the brackets of valid JSON (strings cut out) nest: one innermost level gone per pass."""
    brackets = structure.translate(_SQUARE, _NOT_BRACKETS)
    depth = 0
    while brackets and depth <= MAX_DEPTH:
        brackets = brackets.replace(b"[]", b"")
        depth += 1
    return depth


def _exact_loads(raw: bytes | str) -> tuple[Any, bool]:
    kept = False

    def parse_float(text: str) -> float:
        nonlocal kept
        number = float(text)
        if repr(number) == text and orjson.dumps(number) == text.encode():  # both writers keep it
            return number
        if not math.isfinite(number):
            # 1e999 parses as inf, which no provider accepts and LiteLLM cannot re-serialise.
            raise JsonLimitError(f"the number {text[:40]} is too large")
        kept = True
        return JsonFloat(text)

    try:
        value = json.loads(raw, parse_float=parse_float, parse_constant=_reject_constant)
    except RecursionError:
        # The C scanner recurses per level; whatever depth it gave up at is beyond MAX_DEPTH.
        raise JsonLimitError(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
    if isinstance(raw, str) or raw.count(b"[") + raw.count(b"{") > MAX_DEPTH:
        # Fewer brackets than MAX_DEPTH (strings included) cannot nest deeper: most bodies skip the walk.
        _check_depth(value)
    if isinstance(raw, str) or _SURROGATE_ESCAPE.search(raw):
        check_unicode(value)
    return value, kept


def _check_depth(value: Any) -> None:
    """Refuse nesting beyond MAX_DEPTH, level by level (no recursion: the point is to avoid it)."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise JsonLimitError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
        inner: list[Any] = []
        for item in level:
            inner.extend(v for v in (item.values() if isinstance(item, dict) else item) if isinstance(v, dict | list))
        level = inner


def check_unicode(value: Any) -> None:
    """Refuse strings (keys too) that are not Unicode text: a lone surrogate cannot be encoded or hashed."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                code = ord(item[exc.start])
                raise JsonLimitError(
                    f"the text contains a lone surrogate (\\u{code:04x}), which is not Unicode"
                ) from None


def dumps(value: Any, *, exact: bool = True) -> bytes:
    """Minified UTF-8 JSON with every :class:`JsonFloat` written as it was received.

    ``exact=False`` (nothing was kept by :func:`loads`) skips the walk over the value.
    """
    if not exact:
        try:
            return orjson.dumps(value)  # what json.dumps gives for what loads parses, only faster
        except TypeError:  # an integer beyond 64 bits, a float subclass, a key that is not a string
            return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    literals: list[str] = []
    nonce = uuid.uuid4().hex

    def swap(item: Any) -> Any:
        if isinstance(item, JsonFloat):
            literals.append(item.literal)
            return f"{nonce}:{len(literals) - 1}"
        if isinstance(item, dict):
            return {k: swap(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [swap(v) for v in item]
        return item

    swapped = swap(value)
    text = json.dumps(swapped, ensure_ascii=False, separators=(",", ":"))
    for i, literal in enumerate(literals):
        # The placeholder is a JSON string holding a random nonce: it cannot occur by chance.
        text = text.replace(f'"{nonce}:{i}"', literal, 1)
    return text.encode()
