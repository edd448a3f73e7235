"""Words that pair only together with a neighbour: WordNet collocations of two or three words.

"switch off" / "turn off", "get out" / "exit", "last name" / "surname": the lexicon holds
such collocations joined by ``_`` (``scripts/build_lexicon.py``); a run of words around an
unpaired content word, its first or last word inflected back to a base form, is looked up
as one. A compound written as one word is its two words written apart: "workout" / "work out",
"login" / "log in", "setup" / "set up".
"""

from __future__ import annotations

from collections.abc import Callable

from ._lexicon import Lexicon
from ._question import Question
from ._word_memo import word_memo

__all__ = ["pair_collocations", "pair_compounds"]

Bases = Callable[[str], frozenset[str]]


def pair_collocations(
    a: Question,
    b: Question,
    left_a: list[int],
    left_b: list[int],
    lexicon: Lexicon,
    bases: Bases,
    pairs: list[tuple[int, int]],
) -> tuple[list[int], list[int]]:
    """``left_a`` and ``left_b`` without the words a synonymous collocation pairs; the pairs are
    added to ``pairs`` (first word of each run) for the order checks."""
    if not (left_a and left_b):
        return left_a, left_b
    spans_b = _spans(b, left_b, bases, lexicon)
    if not spans_b:
        return left_a, left_b
    for span_a, forms_a in _spans(a, left_a, bases, lexicon):
        for span_b, forms_b in spans_b:
            if len(span_a) + len(span_b) < 3 or not (set(span_a) & set(left_a) and set(span_b) & set(left_b)):
                continue
            if any(lexicon.synonyms(x, y) for x in forms_a for y in forms_b):
                left_a = [i for i in left_a if i not in span_a]
                left_b = [j for j in left_b if j not in span_b]
                pairs.append((span_a[0], span_b[0]))
                break
    return left_a, left_b


def _spans(
    question: Question, left: list[int], bases: Bases, lexicon: Lexicon
) -> list[tuple[tuple[int, ...], tuple[str, ...]]]:
    """Runs of one to three words around the unpaired ones, each with the forms the lexicon has
    synonyms for: the words joined by "_", the first or last inflected back to its base (sending
    back)."""
    words, found, memo = question.words, [], word_memo(lexicon)
    for size in (1, 2, 3):
        # Only the runs that hold an unpaired word, in order (not every run of the question).
        starts = sorted({s for k in left for s in range(max(0, k - size + 1), min(k, len(words) - size) + 1)})
        for start in starts:
            span = tuple(range(start, start + size))
            if any(words[k] in question.names for k in span):
                continue
            run = words[start : start + size]
            # The same runs come back in candidate after candidate.
            known = memo.run_forms(run, lambda: _known_forms(run, bases, lexicon))  # noqa: B023 (called at once)
            if known:
                found.append((span, known))
    return found


def _known_forms(run: tuple[str, ...], bases: Bases, lexicon: Lexicon) -> tuple[str, ...]:
    if len(run) == 1:
        forms = set(bases(run[0]))
    else:
        head, tail, middle = run[0], run[-1], "_".join(run[1:-1])
        forms = {"_".join(x for x in (h, middle, t) if x) for h in (head, *bases(head)) for t in (tail, *bases(tail))}
    return tuple(sorted(form for form in forms if form in lexicon.synsets))


def pair_compounds(
    a: Question, b: Question, left_a: list[int], left_b: list[int], pairs: list[tuple[int, int]]
) -> tuple[list[int], list[int]]:
    """``left_a`` and ``left_b`` without a word of one that two neighbouring words of the other spell."""
    for one, left_one, two, left_two, flip in ((a, left_a, b, left_b, False), (b, left_b, a, left_a, True)):
        for i in list(left_one):
            word = one.words[i]
            for k in range(len(two.words) - 1):
                if not (k in left_two or k + 1 in left_two):
                    continue
                if two.words[k] + two.words[k + 1] in (word, word.removesuffix("s")):
                    left_one.remove(i)
                    left_two[:] = [n for n in left_two if n not in (k, k + 1)]
                    pairs.append((k, i) if flip else (i, k))
                    break
    return left_a, left_b
