"""Where two requests first differ: the block, the byte offset in it, and whether the change looks volatile.

A request is read as Anthropic-style content blocks in prefix order (:func:`prefix_blocks`):
``tools[17]``, ``system[0]``, ``messages[3].content[1]``. Each block is remembered as a
:class:`BlockPrint` (its path, a 64-bit hash and its length in bytes), never its text.
Where a block changed, the byte offset comes from chunk hashes of the previous block
(:class:`ChunkPrint`: at most 256 chunks of 4 bytes each, 64-byte chunks for blocks up to
16 KiB, coarser beyond), so it is exact to the chunk; with ``log_prompts`` the previous text
is kept too (bounded) and the offset is exact to the byte.

A change is named volatile when the differing span of the new block holds a value that
changes by itself: Claude Code's ``x-anthropic-billing-header`` line, a date or time, a
Unix timestamp, a UUID, or a long hex id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._types import Wire
from ..prompt._layers import minified, part_blocks, prefix_blocks

__all__ = [
    "BlockPrint",
    "ChunkPrint",
    "Where",
    "block_texts",
    "chunk_print",
    "first_block_difference",
    "locate",
    "part_texts",
    "prints_of",
]

_MIN_CHUNK = 64
_MAX_CHUNKS = 256
_SNIPPET = 40  # bytes of text shown either side of the offset (log_prompts only)
_WINDOW = 256  # bytes either side of the differing span searched for a volatile value

# Checked in this order; the first that overlaps the differing span names it.
_VOLATILE: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("billing header", re.compile(rb"x-anthropic-billing-header:[^\n]*")),
    ("uuid", re.compile(rb"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")),
    (
        "date",
        re.compile(
            rb"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
            rb"|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
            rb"|\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? +\w+ +\d{1,2},? +\d{4}\b"
            rb"|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* +\d{1,2},? +\d{4}\b"
            rb"|\b\d{1,2} +(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* +\d{4}\b"
        ),
    ),
    ("time", re.compile(rb"\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?[AaPp][Mm])?\b")),
    ("timestamp", re.compile(rb"\b1[5-9]\d{8}(?:\d{3})?\b")),
    (
        "hex id",
        re.compile(
            rb"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{16,}\b|\b(?=[0-9A-F]*[A-F])(?=[0-9A-F]*\d)[0-9A-F]{16,}\b"
        ),
    ),
)


def _hash(data: bytes, size: int) -> bytes:
    return hashlib.blake2b(data, digest_size=size).digest()


@dataclass(frozen=True)
class BlockPrint:
    """One block of a request as remembered: no text."""

    path: str
    digest: str  # 16 hex digits of its content hash
    length: int  # bytes of its text


@dataclass(frozen=True)
class ChunkPrint:
    """Hashes of a block's consecutive ``size``-byte chunks (4 bytes each)."""

    size: int
    hashes: bytes

    def first_difference(self, other: ChunkPrint) -> int | None:
        """Index of the first chunk that differs (or that one side lacks); None when equal."""
        if self.size != other.size:
            return 0
        mine, theirs = self.hashes, other.hashes
        for i in range(0, min(len(mine), len(theirs)), 4):
            if mine[i : i + 4] != theirs[i : i + 4]:
                return i // 4
        return None if len(mine) == len(theirs) else min(len(mine), len(theirs)) // 4


def chunk_print(text: bytes) -> ChunkPrint:
    size = _MIN_CHUNK
    while len(text) > size * _MAX_CHUNKS:
        size *= 2
    return ChunkPrint(size, b"".join(_hash(text[i : i + size], 4) for i in range(0, len(text), size)))


def _text(value: Any) -> bytes:
    """A block's content as bytes: the text of a text block, else its JSON (markers left out)."""
    if isinstance(value, dict) and set(value) <= {"role", "block", "content"}:
        value = value.get("block", value.get("content"))  # prefix_blocks wraps message content
    if isinstance(value, dict) and value.get("type") == "text" and isinstance(value.get("text"), str):
        value = value["text"]
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return minified(value)  # the prompt engine's own bytes of it (orjson; markers left out only where present)


def block_texts(wire: Wire, body: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    """``(path, text)`` of every block of the request, in prefix order."""
    return [(path, _text(value)) for path, value in prefix_blocks(wire, body)]


def part_texts(path: str, value: Any) -> list[tuple[str, bytes]]:
    """``(path, text)`` of every block of one part (a tool, a system block, a message)."""
    return [(block_path, _text(block)) for block_path, block in part_blocks(path, value)]


def prints_of(texts: Sequence[tuple[str, bytes]]) -> tuple[BlockPrint, ...]:
    return tuple(BlockPrint(path, _hash(text, 8).hex(), len(text)) for path, text in texts)


def first_block_difference(current: Sequence[BlockPrint], previous: Sequence[BlockPrint]) -> int | None:
    """Index of the first block where ``current`` stops matching ``previous``; None when it extends it."""
    for i, (mine, theirs) in enumerate(zip(current, previous, strict=False)):
        if mine is not theirs and mine != theirs:  # a block reused from the earlier request is the same object
            return i
    return None if len(current) >= len(previous) else len(current)


@dataclass(frozen=True)
class Where:
    """The first differing block and what is known about the change in it."""

    path: str
    offset: int | None  # first differing byte (or chunk start); None when the old block is forgotten
    precision: int  # 1: exact; else the chunk size the offset is rounded down to
    length: int | None  # bytes of the block now (None: the block was removed)
    previous_length: int | None  # bytes of it before (None: the block is new)
    digest: str | None
    previous_digest: str | None
    volatile: str | None = None  # "date", "billing header", ...
    text: str | None = None  # the new text around the offset (log_prompts only)
    previous_text: str | None = None

    def describe(self) -> str:
        """``volatile: date in system[0] at byte 1234``, or ``system[0] at byte 1216 (±64)``."""
        at = "" if self.offset is None else f" at byte {self.offset}"
        if self.offset is not None and self.precision > 1:
            at += f" (±{self.precision})"
        if self.volatile:
            return f"volatile: {self.volatile} in {self.path}{at}"
        return f"{self.path}{at}"


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix (binary search on slice comparisons: C speed, not a Python loop)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _volatile(text: bytes, start: int, end: int) -> tuple[str, int] | None:
    """The first volatile-looking value overlapping ``text[start:end]``, and where it starts."""
    left = max(0, start - _WINDOW)
    window = text[left : end + _WINDOW]  # values are short: no need to scan a whole long block
    for name, pattern in _VOLATILE:
        for match in pattern.finditer(window):
            begin, finish = match.start() + left, match.end() + left
            if begin < max(end, start + 1) and finish > start:
                return name, begin
            if begin >= end:
                break
    return None


def _snippet(text: bytes, offset: int) -> str:
    return text[max(0, offset - _SNIPPET) : offset + _SNIPPET].decode("utf-8", "replace")


def locate(
    current: BlockPrint | None,
    previous: BlockPrint | None,
    text: bytes | None,
    previous_chunks: ChunkPrint | None,
    previous_text: bytes | None,
) -> Where:
    """Where in a changed block the change starts. ``text`` is the block now; ``previous_chunks`` and
    ``previous_text`` (log_prompts) what is remembered of it before, either may be None."""
    known = current or previous
    path = known.path if known is not None else "?"
    offset: int | None = None
    precision = 1
    span_end = 0
    if current is not None and previous is not None and current.path == previous.path and text is not None:
        common = _common_prefix(text, previous_text) if previous_text is not None else None
        if (
            previous_text is not None
            and common is not None
            and (common < len(previous_text) or len(previous_text) == previous.length)
        ):  # the kept text (maybe cut short) shows the first differing byte
            offset, span_end = common, common + _MIN_CHUNK
            if len(previous_text) == previous.length:  # the whole old text: the span ends where they agree again
                suffix = _common_prefix(text[offset:][::-1], previous_text[offset:][::-1])
                span_end = max(offset + 1, len(text) - suffix)
        elif previous_chunks is not None:
            mine = chunk_print(text)
            index = mine.first_difference(previous_chunks)
            if index is not None:
                offset, precision = index * mine.size, mine.size
                span_end = offset + precision
    elif current is not None:
        offset = 0  # a block where the old request had another one, or none: not a value that changed
    volatile = None
    if text is not None and offset is not None and span_end:
        found = _volatile(text, offset, span_end)
        if found is not None:
            volatile, offset, precision = found[0], found[1], 1
    shown = text is not None and previous_text is not None
    return Where(
        path,
        offset,
        precision,
        current.length if current else None,
        previous.length if previous else None,
        current.digest if current else None,
        previous.digest if previous else None,
        volatile,
        _snippet(text, offset or 0) if shown and text is not None else None,
        _snippet(previous_text, offset or 0) if shown and previous_text is not None else None,
    )
