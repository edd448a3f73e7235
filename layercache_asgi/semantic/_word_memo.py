"""What the guard asks of single words again and again, remembered per word table.

One lookup judges up to eight candidates, each a comparison of every word one question lacks
against the other's words: on real questions about sixty opposite tests a comparison, each over
every base form of both words, and the same words come back in the next comparison and the next
lookup. Both answers depend only on the words and the table (and the fixed lists in
``_relations.py``), so they are kept for as long as the table is the current one.
"""

from __future__ import annotations

from ._lexicon import Lexicon
from ._relations import OPPOSITES, opposed, stem

__all__ = ["WordMemo", "word_memo"]

_KEPT = 100_000  # entries per table before it starts over (words and word pairs of user questions)


class WordMemo:
    """A word's forms (its base forms and its light stem) and whether two words are opposites."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._forms: dict[str, frozenset[str]] = {}
        self._opposites: dict[tuple[str, str], bool] = {}
        self.runs = _Bounded()  # a run of one to three words -> its forms the table has collocations for

    def forms(self, word: str) -> frozenset[str]:
        found = self._forms.get(word)
        if found is None:
            if len(self._forms) > _KEPT:
                self._forms.clear()
            found = self._forms[word] = frozenset((*self.lexicon.bases(word), stem(word)))
        return found

    def opposite(self, x: str, y: str) -> bool:
        """WordNet antonyms (buy / sell), listed opposites (show / hide) or an opposing affix (enable / disable)."""
        found = self._opposites.get((x, y))
        if found is None:
            if len(self._opposites) > _KEPT:
                self._opposites.clear()
            bx, by = self.forms(x), self.forms(y)
            lexicon = self.lexicon
            found = any(lexicon.opposite(p, q) or (min(p, q), max(p, q)) in OPPOSITES for p in bx for q in by)
            found = self._opposites[(x, y)] = found or opposed(stem(x), stem(y))
        return found


class _Bounded(dict[tuple[str, ...], tuple[str, ...]]):
    """A dict that starts over past ``_KEPT`` entries."""

    def __setitem__(self, key: tuple[str, ...], value: tuple[str, ...]) -> None:
        if len(self) > _KEPT:
            self.clear()
        super().__setitem__(key, value)


_memos: dict[int, WordMemo] = {}  # by id() of its table; the memo holds the table, so the id stays its own


def word_memo(lexicon: Lexicon) -> WordMemo:
    memo = _memos.get(id(lexicon))
    if memo is None:
        _memos.clear()  # one table is current at a time (tests may load others)
        memo = _memos[id(lexicon)] = WordMemo(lexicon)
    return memo
