"""JSON that keeps the client's numbers: a body goes upstream with ``1e3`` still ``1e3``.

``json.loads`` turns ``1e3`` into ``1000.0`` and ``0.10`` into ``0.1``, and ``json.dumps``
writes them back changed: a tool input the model sees, and the provider's prefix cache
hashes, would differ from what the client sent. Floats whose shortest repr is not their
source spelling are parsed as :class:`JsonFloat` (still a ``float`` for every reader),
and :func:`dumps` writes them back verbatim. Bodies without such numbers, the common
case, take the plain ``json.dumps`` path.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

__all__ = ["JsonFloat", "dumps", "loads"]


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

    NaN and Infinity are refused (``ValueError``).
    """
    kept = False

    def parse_float(text: str) -> float:
        nonlocal kept
        number = float(text)
        if repr(number) == text:
            return number
        kept = True
        return JsonFloat(text)

    value = json.loads(raw, parse_float=parse_float, parse_constant=_reject_constant)
    return value, kept


def dumps(value: Any, *, exact: bool = True) -> bytes:
    """Minified UTF-8 JSON with every :class:`JsonFloat` written as it was received.

    ``exact=False`` (nothing was kept by :func:`loads`) skips the walk over the value.
    """
    if not exact:
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
