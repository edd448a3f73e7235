"""What the guard asks of single words again and again, remembered per word table.

One lookup judges up to eight candidates, each a comparison of every word one question lacks
against the other's words: on real questions about sixty opposite tests a comparison, each over
every base form of both words, and the same words come back in the next comparison and the next
lookup. Both answers depend only on the words and the table (and the fixed lists in
``_relations.py``), so they are kept for as long as the table is the current one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ._lexicon import Lexicon
from ._relations import OPPOSITES, opposed, stem
from ._spelling import american

__all__ = ["WordMemo", "word_memo"]

_KEPT = 100_000  # entries per table before it starts over (words and word pairs of user questions)
_KEY_CHARS = 80  # longer keys (a pasted hash, a URL as a word) are computed each time, not kept


class WordMemo:
    """A word's forms (its base forms and light stem, and those of its American spelling), whether two words are
    opposites, and a run's collocation forms. Words come from clients' questions: only keys of short words are kept,
    and each table starts over past ``_KEPT`` entries."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._forms: dict[str, frozenset[str]] = {}
        self._opposites: dict[tuple[str, str], bool] = {}
        self._runs: dict[tuple[str, ...], tuple[str, ...]] = {}

    def forms(self, word: str) -> frozenset[str]:
        found = self._forms.get(word)
        if found is None:
            forms = {*self.lexicon.bases(word), stem(word)}
            us = american(word, self.lexicon)  # "colours" is a form of "color"
            if us is not None:
                forms.update((*self.lexicon.bases(us), stem(us)))
            found = _keep(self._forms, word, len(word), frozenset(forms))
        return found

    def opposite(self, x: str, y: str) -> bool:
        """WordNet antonyms (buy / sell), listed opposites (show / hide) or an opposing affix (enable / disable)."""
        found = self._opposites.get((x, y))
        if found is None:
            bx, by = self.forms(x), self.forms(y)
            lexicon = self.lexicon
            found = any(lexicon.opposite(p, q) or (min(p, q), max(p, q)) in OPPOSITES for p in bx for q in by)
            found = _keep(self._opposites, (x, y), len(x) + len(y), found or opposed(stem(x), stem(y)))
        return found

    def run_forms(self, run: tuple[str, ...], compute: Callable[[], tuple[str, ...]]) -> tuple[str, ...]:
        """The forms of a run of words the table has collocations for (``compute`` finds them)."""
        found = self._runs.get(run)
        if found is None:
            found = _keep(self._runs, run, sum(map(len, run)), compute())
        return found


_K = TypeVar("_K")
_V = TypeVar("_V")


def _keep(table: dict[_K, _V], key: _K, chars: int, value: _V) -> _V:
    if chars <= _KEY_CHARS:
        if len(table) > _KEPT:
            table.clear()
        table[key] = value
    return value


_memos: dict[int, WordMemo] = {}  # by id() of its table; the memo holds the table, so the id stays its own


def word_memo(lexicon: Lexicon) -> WordMemo:
    memo = _memos.get(id(lexicon))
    if memo is None:
        _memos.clear()  # one table is current at a time (tests may load others)
        memo = _memos[id(lexicon)] = WordMemo(lexicon)
    return memo
