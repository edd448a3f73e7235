"""A small bounded mapping that forgets the least recently used entries."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from typing import Generic, TypeVar

__all__ = ["LRU", "text_key"]

K = TypeVar("K")
V = TypeVar("V")


def text_key(text: str) -> bytes:
    """A 16-byte key for a text a client sent: an LRU keyed by it holds no client text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class LRU(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def touch(self, keys: Iterable[K]) -> set[K]:
        """Make the held ``keys`` the most recently used (as :meth:`get` would, one by one); return the others."""
        data, missing = self._data, set()
        for key in keys:
            if key in data:
                data.move_to_end(key)
            else:
                missing.add(key)
        return missing

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self._data.pop(key, None)
