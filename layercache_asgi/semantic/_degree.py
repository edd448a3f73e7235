"""A lesser degree of a word said as the greater degree of its opposite.

"the *least expensive* way" asks for "the *cheapest*", "*less* crowded" for "*quieter*": before the
guard compares two questions, "least X" / "less X" in one is put as the other's own word when that
word is an opposite of X (WordNet's antonyms or the short list) in the same degree (-est for
"least", -er for "less"), and the other does not lower it too. Anything else stays as written,
so "the least expensive" / "the most expensive" still meet as opposites.
"""

from __future__ import annotations

import re

from ._lexicon import Lexicon
from ._question import Question, parse
from ._relations import OPPOSITES, stem

__all__ = ["LESSER", "by_opposite"]

# The lowering word -> the ending of the degree it says through an opposite.
LESSER = {"least": "est", "less": "er"}


def by_opposite(text: str, question: Question, other: Question, lexicon: Lexicon) -> Question:
    """``question`` (parsed from ``text``) with "least X" put as ``other``'s opposite of X, if it has one."""
    words = question.words
    for i, word in enumerate(words[:-1]):
        ending = LESSER.get(word)
        if ending is None:
            continue
        x = words[i + 1]
        for at, y in enumerate(other.words):
            if not y.endswith(ending) or y in words or (at and other.words[at - 1] in LESSER):
                continue
            if _opposite(x, y, lexicon):
                return parse(re.sub(rf"\b{word}\s+{re.escape(x)}\b", y, text, count=1, flags=re.IGNORECASE))
    return question


def _opposite(x: str, y: str, lexicon: Lexicon) -> bool:
    bx, by = (*lexicon.bases(x), stem(x)), (*lexicon.bases(y), stem(y))
    return any(lexicon.opposite(p, q) or (min(p, q), max(p, q)) in OPPOSITES for p in bx for q in by)
