"""The guard's word table (synonyms, antonyms, base forms), read from the package's own data.

``data/lexicon.json.gz`` is derived from WordNet 3.0 by ``scripts/build_lexicon.py`` and
shipped in the wheel with WordNet's licence; nothing is downloaded. Reading it takes a few
hundred milliseconds, so it never happens at import: :func:`current_lexicon` starts the load
in a background thread the first time the guard asks and returns an empty table until it
is done (the guard is then as strict as without synonyms). :func:`load_lexicon` loads it
at once, for start-up code, tests and benchmarks. After that every question is a dict or
set lookup.
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass, field
from importlib.resources import files

from ._regional import APART, SAME

__all__ = ["Lexicon", "current_lexicon", "load_lexicon"]

_DATA = ("data", "lexicon.json.gz")

# Regular inflection, per part of speech, as WordNet's own "morphy" undoes it.
_SUFFIXES = (
    ("s", ""),
    ("ses", "s"),
    ("xes", "x"),
    ("zes", "z"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("men", "man"),
    ("ies", "y"),
    ("es", "e"),
    ("es", ""),
    ("ed", "e"),
    ("ed", ""),
    ("ing", "e"),
    ("ing", ""),
    ("er", ""),
    ("est", ""),
    ("er", "e"),
    ("est", "e"),
    ("ly", ""),  # adverb -> adjective: safely -> safe
    ("ily", "y"),
)


@dataclass(frozen=True)
class Lexicon:
    synsets: dict[str, tuple[int, ...]] = field(default_factory=dict)
    words: frozenset[str] = frozenset()
    antonyms: frozenset[tuple[str, str]] = frozenset()
    related: frozenset[tuple[str, str]] = frozenset()
    exceptions: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, tuple[int, ...]] = field(default_factory=dict)
    up: dict[str, tuple[int, ...]] = field(default_factory=dict)
    _bases: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def empty(self) -> bool:
        return not self.words

    def known(self, word: str) -> bool:
        return word in self.words

    def bases(self, word: str) -> tuple[str, ...]:
        """The word and the known base forms it may inflect (running -> run, mice -> mouse)."""
        cached = self._bases.get(word)
        if cached is None:
            if len(self._bases) > _BASES_CACHED:
                self._bases.clear()
            cached = self._bases[word] = self._find_bases(word)
        return cached

    def _find_bases(self, word: str) -> tuple[str, ...]:
        found = [word]
        irregular = self.exceptions.get(word)
        if irregular is not None:
            found.append(irregular)
        for suffix, replacement in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 2:
                base = word[: -len(suffix)] + replacement
                if base in self.words and base not in found:
                    found.append(base)
                if suffix in ("ed", "ing", "er", "est") and len(base) > 2 and base[-1] == base[-2]:
                    base = base[:-1]  # stopped -> stop, bigger -> big
                    if base in self.words and base not in found:
                        found.append(base)
        return tuple(found)

    def synonyms(self, x: str, y: str) -> bool:
        sx, sy = self.synsets.get(x), self.synsets.get(y)
        return bool(sx and sy and not set(sx).isdisjoint(sy))

    def opposite(self, x: str, y: str) -> bool:
        return (min(x, y), max(x, y)) in self.antonyms

    def same_kind(self, x: str, y: str) -> bool:
        """Two words of one kind (Paris / Lyon, dog / cat): related, and not the same thing."""
        kx, ky = self.kinds.get(x), self.kinds.get(y)
        return bool(kx and ky and not set(kx).isdisjoint(ky))

    def hypernym(self, x: str, y: str) -> bool:
        """One word names the other's broader kind of thing or act: drink / consume, say / express."""
        return _meet(self.synsets.get(x), self.up.get(y)) or _meet(self.synsets.get(y), self.up.get(x))

    def derived(self, x: str, y: str) -> bool:
        """A verb and its action noun: install / installation."""
        return (x, y) in self.related or (y, x) in self.related


_BASES_CACHED = 100_000  # words whose base forms are remembered (the guard asks for each word often)
_EMPTY = Lexicon()
_loaded: Lexicon | None = None
_lock = threading.Lock()
_loading: threading.Thread | None = None


def load_lexicon() -> Lexicon:
    """The table, read now if no one has yet (blocking; call off the event loop)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _read()
        return _loaded


def current_lexicon() -> Lexicon:
    """The table if loaded, else an empty one while a background thread reads it."""
    global _loading
    if _loaded is not None:
        return _loaded
    if _loading is None:
        with _lock:
            if _loading is None and _loaded is None:
                _loading = threading.Thread(target=load_lexicon, name="layercache-lexicon", daemon=True)
                _loading.start()
    return _loaded or _EMPTY


def _read() -> Lexicon:
    resource = files("layercache_asgi.semantic").joinpath(*_DATA)
    raw = json.loads(gzip.decompress(resource.read_bytes()))
    synsets = {word: tuple(ids) for word, ids in raw["synsets"].items()}
    kinds = {word: tuple(ids) for word, ids in raw["kinds"].items()}
    words = frozenset(raw["words"].split()) | frozenset(synsets)
    up = {word: tuple(ids) for word, ids in raw["up"].items()}
    _regionally(synsets, kinds, up)
    return Lexicon(
        synsets=synsets,
        words=words | frozenset(word for pair in SAME for word in pair),
        antonyms=frozenset(_pairs(raw["antonyms"])),
        related=frozenset(_pairs(raw["related"])),
        exceptions=dict(_pairs(raw["exceptions"])),
        kinds=kinds,
        up=up,
    )


def _regionally(
    synsets: dict[str, tuple[int, ...]], kinds: dict[str, tuple[int, ...]], up: dict[str, tuple[int, ...]]
) -> None:
    """British and American words (``_regional.py``): each pair in ``SAME`` gets a sense of its own, shared by
    both; each pair in ``APART`` loses the senses it shares and gets a kind of its own (two of one kind)."""
    number = 1 + max((n for table in (synsets, kinds, up) for ids in table.values() for n in ids), default=0)
    for (x, y), apart in [(pair, False) for pair in SAME] + [(pair, True) for pair in APART]:
        if apart:
            shared = set(synsets.get(x, ())) & set(synsets.get(y, ()))
            for word in (x, y):
                synsets[word] = tuple(n for n in synsets.get(word, ()) if n not in shared)
        table = kinds if apart else synsets
        for word in (x, y):
            table[word] = (*table.get(word, ()), number)
        number += 1


def _meet(x: tuple[int, ...] | None, y: tuple[int, ...] | None) -> bool:
    return bool(x and y and not set(x).isdisjoint(y))


def _pairs(text: str) -> list[tuple[str, str]]:
    return [(a, b) for a, _, b in (item.partition("/") for item in text.split())]
